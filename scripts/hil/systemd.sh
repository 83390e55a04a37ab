#!/usr/bin/env bash
# The package under a real systemd: boots the Debian 12 arm64 root (scripts/hil/systemd-root.sh,
# made once and cached) in the arm64 kernel VM with systemd as PID 1, vivid, v4l2loopback and
# gpio-sim loaded, and runs scripts/hil/systemd-scenario.sh there: dpkg -i of the arm64 .deb,
# picket.service started under the shipped unit, READY=1, the sandbox, journal levels, safe stop
# on SIGKILL and on stop, the watchdog, live exposure, events over a login shell; then
# picket-hub.service and picket-uplink.service against the root's Mosquitto (every event on the
# broker and in the hub journal, across restarts); upgrade, purge.
#
#   scripts/hil/systemd.sh DEB
#
# DEB is the arm64 package (scripts/build-deb.sh --arch arm64). The upgrade installs the same
# build repacked with a newer version. Prints the scenario's checks and figures; exits non-zero
# if any check failed. With $HIL_STATS set, boot and run times are written there (see run.sh).
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/lib.sh"
HIL_SCRIPTS=$(cd "$(dirname "$0")" && pwd)

[ $# -eq 1 ] && [ -f "$1" ] || die "usage: $0 PICKET_ARM64_DEB"
deb=$(readlink -f "$1")
[ "$(dpkg-deb --field "$deb" Architecture)" = arm64 ] || die "$deb is not an arm64 package"

t0=$(date +%s.%N)
image=$(bash "$HIL_SCRIPTS/systemd-root.sh")
log "hil: the systemd root is ready ($(elapsed "$t0") s)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files="$work/files"
mkdir -p "$files"
cp "$deb" "$files/picket-old.deb"
# The newer build: the same files, the version one step up, as an upgrade would bring.
dpkg-deb -R "$deb" "$work/new"
version=$(dpkg-deb --field "$deb" Version)
sed -i "s/^Version: .*/Version: $version+1/" "$work/new/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$work/new" "$files/picket-new.deb" >/dev/null
dpkg --compare-versions "$version+1" gt "$version" || die "cannot make a newer version of $version"
cp "$PICKET_ROOT/tests/data/clip/vtest-460-539.mjpeg" "$files/clip.mjpeg"
cp "$HIL_SCRIPTS/systemd-scenario.sh" "$files/scenario.sh"
cp "$HIL_SCRIPTS/systemd-mqtt.sh" "$files/mqtt.sh"
# Each unit as the repository has it, and its offline exposure as scripts/test.d/70-package.sh
# measures it, for the scenario to compare with the installed unit and the live figure.
for unit in picket.service picket-uplink.service picket-hub.service; do
  cp "$PICKET_ROOT/board/deb/$unit" "$files/"
  report=$(systemd-analyze security --offline=true "$PICKET_ROOT/board/deb/$unit" 2>/dev/null)
  sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p" <<<"$report" \
    >"$files/exposure.$unit"
  [ -s "$files/exposure.$unit" ] || die "systemd-analyze printed no offline exposure for $unit"
done

cp --sparse=always "$image" "$work/root.img"
packed=()
for f in "$files"/*; do packed+=(--file "$f"); done
rc=0
bash "$HIL_SCRIPTS/run.sh" --systemd --disk "$work/root.img" --timeout "${HIL_SYSTEMD_TIMEOUT:-1500}" \
  "${packed[@]}" -- sh /hil/files/scenario.sh | tee "$work/console" || rc=$?
console=$(tr -d '\r' <"$work/console")
summary=$(grep -E '^(check (ok|FAILED)|figure): ' <<<"$console" || true)
log "hil: systemd scenario results"
printf '%s\n' "$summary"
log "hil: systemd scenario in $(elapsed "$t0") s, exit $rc"
grep -q '^systemd scenario: 0 failed' <<<"$console" || [ "$rc" -ne 0 ] || rc=1
exit "$rc"
