#!/usr/bin/env bash
# Makes, once, the Debian 12 arm64 root that the systemd scenario (scripts/hil/systemd.sh) boots
# with systemd as PID 1, and prints the path of its ext4 image, cached under
# $PICKET_CACHE/rootfs. Later runs copy the image (sparse) in a second.
#
# The root is lean: minbase, systemd, udev (device groups, the package's rule), dbus, the
# package's dependencies, and Debian's Mosquitto with its clients (the broker the uplink publishes
# to and the hub reads, started at boot by its own package). It is made without binfmt or qemu-user: `debootstrap --foreign` unpacks
# it on this machine, `mke2fs -d` turns the tree into an image, and the second stage runs inside
# the arm64 kernel VM itself (scripts/hil/systemd-stage2.sh), which also adds the scenario's unit
# and users.
# The cache key is the package list, the second stage's script and the unit's file: change one,
# and the next run builds a new root.
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/lib.sh"
HIL_SCRIPTS=$(cd "$(dirname "$0")" && pwd)

INCLUDE=systemd,systemd-sysv,udev,dbus,libstdc++6,libgcc-s1,adduser,mosquitto,mosquitto-clients
MIRROR=${PICKET_DEBIAN_MIRROR:-http://deb.debian.org/debian}

key=$({ echo "$INCLUDE"; cat "$HIL_SCRIPTS/systemd-stage2.sh" "$HIL_SCRIPTS/hil-scenario.service"; } |
  sha256sum | cut -c1-12)
image="$PICKET_CACHE/rootfs/bookworm-systemd-arm64-$key.img"
if [ -s "$image" ]; then
  printf '%s\n' "$image"
  exit 0
fi

apt_ensure debootstrap e2fsprogs
t0=$(date +%s.%N)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "hil: debootstrap --foreign bookworm arm64 (minbase + $INCLUDE)"
debootstrap --foreign --arch=arm64 --variant=minbase --include="$INCLUDE" \
  bookworm "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap --foreign failed"; }
install -m 0644 "$HIL_SCRIPTS/hil-scenario.service" "$work/root/etc/systemd/system/"
# Under TCG every fsync is dear: dpkg skips them while the root is made (the file goes after).
echo force-unsafe-io >"$work/root/etc/dpkg/dpkg.cfg.d/hil-unsafe-io"
log "hil: first stage in $(elapsed "$t0") s; making the image"
mkdir -p "$(dirname "$image")"
truncate -s "${HIL_ROOT_SIZE:-2G}" "$work/root.img"
mke2fs -q -t ext4 -F -L picket-root -d "$work/root" "$work/root.img"
log "hil: second stage in the arm64 VM"
bash "$HIL_SCRIPTS/run.sh" --disk "$work/root.img" --timeout "${HIL_ROOT_TIMEOUT:-2400}" \
  --file "$HIL_SCRIPTS/systemd-stage2.sh:/hil/files/stage2.sh" -- sh /hil/files/stage2.sh >&2 ||
  die "the second stage failed in the VM (its output is above)"
rm -f "$PICKET_CACHE"/rootfs/bookworm-systemd-arm64-*.img
cp --sparse=always "$work/root.img" "$image.part"
mv "$image.part" "$image"
log "hil: Debian 12 arm64 systemd root made in $(elapsed "$t0") s ($(du -h "$image" | cut -f1))"
printf '%s\n' "$image"
