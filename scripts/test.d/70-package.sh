#!/usr/bin/env bash
# Test stage: the release and the .deb.
#   - the arm64 release (cargo-zigbuild, glibc 2.27 floor, checked by build-release.sh) and its
#     .deb, whose contents are listed and compared with what the package must hold, and which
#     lintian passes with only the overrides in board/deb/lintian-overrides;
#   - the arm64 package's files run in the arm64 kernel VM of scripts/hil/ when it is available:
#     the model found beside the binary, a gpio-sim line driven through gpiocdev's uapi v1 build;
#   - `systemd-analyze security --offline=true` rates picket.service's exposure at 2.0 or less
#     and picket-uplink.service's and picket-hub.service's at 2.5 or less; the uplink runs as its
#     own user in group picket, the hub as its own, both with Internet sockets but no devices, and
#     the detector keeps PrivateNetwork=yes;
#   - the amd64 build of the same package is deployed with scripts/deploy.sh, over stub ssh and
#     scp, into a throwaway Debian 12 root (debootstrap minbase, cached as a tarball): the users,
#     groups, state directories, conffile and board profile are checked, `picket check` runs
#     there, the uplink stays disabled until a deploy with --uplink enables it, and a purge
#     removes the state, the users and the group.
# The aarch64 unit tests under qemu against both TFLite libraries are scripts/test.d/20-aarch64.sh.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

apt_ensure dpkg-dev lintian debootstrap systemd

fail() { die "package: $*"; }

# --- arm64: build, contents, lintian --------------------------------------------------------
deb=$(bash scripts/build-deb.sh --arch arm64)
log "dpkg-deb --contents $(basename "$deb")"
contents=$(dpkg-deb --contents "$deb")
printf '%s\n' "$contents" | awk '{print $1, $2, $6}'
expect() { # expect MODE OWNER PATH
  printf '%s\n' "$contents" | awk -v m="$1" -v o="$2" -v p="./$3" \
    '$1 == m && $2 == o && $6 == p { found = 1 } END { exit !found }' ||
    fail "$(basename "$deb") lacks $1 $2 $3"
}
expect -rwxr-xr-x root/root usr/bin/picket
expect -rw-r--r-- root/root usr/lib/picket/libtensorflowlite_c.so
expect -rw-r--r-- root/root usr/lib/picket/libLiteRt.so
expect -rw-r--r-- root/root usr/share/picket/models/ssd_mobilenetv2_oidv4_int8_u8in.tflite
expect -rw-r--r-- root/root usr/share/picket/models/object_detection_oidv4_labelmap.txt
expect -rw-r--r-- root/root etc/picket/picket.toml
expect -rw-r--r-- root/root usr/share/picket/picket.toml.default
expect -rw-r--r-- root/root lib/systemd/system/picket.service
expect -rw-r--r-- root/root lib/systemd/system/picket-uplink.service
expect -rw-r--r-- root/root lib/systemd/system/picket-hub.service
expect -rw-r--r-- root/root lib/udev/rules.d/60-picket-gpio.rules
for b in rpi4 rpi5 jetson-nano; do expect -rw-r--r-- root/root "usr/share/picket/board/$b.toml"; done
expect -rw-r--r-- root/root usr/share/doc/picket/copyright
[ "$(dpkg-deb --field "$deb" Architecture)" = arm64 ] || fail "not an arm64 package"
control=$(dpkg-deb --ctrl-tarfile "$deb" | tar -tf -)
grep -qx './conffiles' <<<"$control" || fail "no conffiles"
[ "$(dpkg-deb --info "$deb" conffiles)" = /etc/picket/picket.toml ] || fail "conffiles is wrong"

log "lintian $(basename "$deb")"
# Errors and warnings fail; informational tags are printed. Overrides are in the package.
lintian --fail-on error,warning --display-info --no-tag-display-limit "$deb"

# --- arm64: the package's tree on a real arm64 kernel ---------------------------------------
# The VM of scripts/hil/ (busybox, no dpkg) gets the package's /usr unpacked; the binary there
# must find its model through ../share/picket/models and drive a gpio-sim line by name through
# gpiocdev (built with uapi v1). Skipped when the VM cannot run here (see 90-hil.sh).
if [ "${HIL_SKIP:-}" != 1 ] && command -v qemu-system-aarch64 >/dev/null &&
  bash scripts/hil/setup.sh >/dev/null 2>&1; then
  log "the arm64 package's files in the kernel VM"
  tree="$(dirname "$deb")/deb-arm64-tf29/root"
  hil_cfg=$(mktemp)
  printf '[[outputs]]\nname = "siren"\nkind = "gpiocdev"\nline = "RELAY"\n' >"$hil_cfg"
  vm_out=$(bash scripts/hil/run.sh --picket "$tree/usr/bin/picket" --file "$tree/usr:/hil/usr" \
    --file tests/data/inputs/person.png:/hil/files/person.png --file "$hil_cfg:/hil/files/hil.toml" \
    --timeout 240 -- sh -c 'cd /hil && /hil/usr/bin/picket --version &&
      /hil/usr/bin/picket outputs test siren --seconds 1 --config /hil/files/hil.toml &&
      /hil/usr/bin/picket detect /hil/files/person.png && {
        /hil/usr/bin/picket outputs test siren --inject-panic --config /hil/files/hil.toml
        echo "inject-panic: exit $?"; }' 2>&1) ||
    { printf '%s\n' "$vm_out"; fail "the arm64 package's picket failed in the VM"; }
  rm -f "$hil_cfg"
  grep -q 'output siren: safe' <<<"$vm_out" || fail "outputs test did not finish in the VM"
  grep -q 'Person ' <<<"$vm_out" || fail "picket detect found no person in the VM"
  grep -qx 'inject-panic: exit 2' <<<"$vm_out" || fail "the arm64 release accepts --inject-panic"
  grep -E 'output siren|Person |hil: boot' <<<"$vm_out"
else
  log "the arm64 package in the kernel VM: SKIPPED (no VM here, or HIL_SKIP=1)"
fi

# --- the units' exposure ---------------------------------------------------------------------
# unit_check UNIT MAX: systemd-analyze rates UNIT's exposure at MAX or less and verifies it.
unit_check() {
  local unit=$1 max=$2 report exposure complaints
  report=$(systemd-analyze security --offline=true "board/deb/$unit" 2>/dev/null)
  exposure=$(sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p" <<<"$report")
  [ -n "$exposure" ] || fail "systemd-analyze printed no exposure level for $unit"
  log "systemd-analyze security --offline=true $unit: exposure $exposure"
  awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }' ||
    fail "$unit: exposure $exposure is above $max"
  complaints=$(systemd-analyze verify --man=no "board/deb/$unit" 2>&1 |
    grep -v -e 'picket: No such file' -e 'is not executable' -e 'Command /usr/bin/picket' || true)
  [ -z "$complaints" ] || fail "systemd-analyze verify complains about $unit: $complaints"
  printf '%s\n' "$exposure"
}
exposure=$(unit_check picket.service 2.0)
uplink_exposure=$(unit_check picket-uplink.service 2.5)
hub_exposure=$(unit_check picket-hub.service 2.5)
# unit_has UNIT LINE: UNIT carries LINE exactly; unit_lacks UNIT PREFIX: no line starts so.
unit_has() { grep -qxF "$2" "board/deb/$1" || fail "$1 lacks $2"; }
unit_lacks() { ! grep -q "^$2" "board/deb/$1" || fail "$1 has $2"; }
unit_has picket.service PrivateNetwork=yes
unit_has picket.service RuntimeDirectory=picket
unit_has picket.service ReadWritePaths=-/var/lib/picket-uplink
unit_has picket-uplink.service User=picket-uplink
unit_has picket-uplink.service Group=picket
unit_has picket-uplink.service 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'
unit_has picket-uplink.service PrivateDevices=yes
unit_has picket-uplink.service DevicePolicy=closed
unit_has picket-uplink.service StateDirectory=picket-uplink
unit_lacks picket-uplink.service DeviceAllow=
unit_lacks picket-uplink.service SupplementaryGroups=
unit_has picket-hub.service User=picket-hub
unit_has picket-hub.service 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
unit_has picket-hub.service PrivateDevices=yes
unit_lacks picket-hub.service DeviceAllow=

# --- amd64: deploy into a throwaway Debian root ---------------------------------------------
# debootstrap once, then a tarball in the cache: later runs unpack it in a few seconds.
rootfs_tar="$PICKET_CACHE/rootfs/bookworm-minbase-amd64.tar.gz"
if [ ! -s "$rootfs_tar" ]; then
  log "debootstrap bookworm (minbase), cached as $rootfs_tar"
  tmp=$(mktemp -d)
  debootstrap --variant=minbase --include=adduser,init-system-helpers,libstdc++6 \
    bookworm "$tmp/root" http://deb.debian.org/debian >/dev/null
  mkdir -p "$(dirname "$rootfs_tar")"
  tar -C "$tmp/root" -czf "$rootfs_tar.part" .
  mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$tmp"
fi

work=$(mktemp -d)
root="$work/root"
# The loader expands $ORIGIN through /proc/self/exe, so the root needs /proc, as a board has.
cleanup() {
  if mountpoint -q "$root/proc"; then umount "$root/proc" || return 0; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$root"
tar -C "$root" -xzf "$rootfs_tar"
mount -t proc proc "$root/proc"
# The box's admin, who deploys; sudo, systemctl and journalctl are stand-ins that log.
chroot "$root" adduser --quiet --disabled-password --gecos "" admin
mkdir -p "$root/usr/local/bin"
cat >"$root/usr/local/bin/sudo" <<'EOF'
#!/bin/sh
# test stand-in: run the command as root, as sudo would for user admin
SUDO_USER=admin exec "$@"
EOF
for tool in systemctl journalctl; do
  printf '#!/bin/sh\necho "%s $*" >>/var/log/stand-ins.log\n' "$tool" >"$root/usr/local/bin/$tool"
done
chmod 0755 "$root"/usr/local/bin/*

# Stub ssh and scp: "the host" is the throwaway root.
stubs="$work/bin"
mkdir "$stubs"
cat >"$stubs/ssh" <<EOF
#!/bin/sh
# test stand-in for ssh: run the remote command in the throwaway root
while [ "\${1#-}" != "\$1" ]; do shift; done
shift
exec chroot '$root' /bin/sh -c "\$*"
EOF
cat >"$stubs/scp" <<EOF
#!/bin/sh
# test stand-in for scp: copy SRC into the throwaway root at HOST:PATH's PATH
while [ "\${1#-}" != "\$1" ]; do shift; done
exec cp "\$1" '$root'"\${2#*:}"
EOF
chmod 0755 "$stubs/ssh" "$stubs/scp"

amd64=$(bash scripts/build-deb.sh --arch amd64)
log "deploy.sh (stub ssh) into a throwaway Debian 12 root"
PATH="$stubs:$PATH" PICKET_DEPLOY_SETTLE_S=0 \
  bash scripts/deploy.sh admin@box --board rpi4 --deb "$amd64"

in_root() { chroot "$root" /bin/sh -c "$*"; }
log "check the installed package"
ids=$(in_root 'id picket')
grep -q '(video)' <<<"$ids" || fail "picket is not in group video"
grep -q '(gpio)' <<<"$ids" || fail "picket is not in group gpio"
ids=$(in_root 'id admin')
grep -q '(picket)' <<<"$ids" || fail "SUDO_USER admin is not in group picket"
passwd=$(in_root 'getent passwd picket')
grep -q ':/var/lib/picket:/usr/sbin/nologin$' <<<"$passwd" || fail "picket's home or shell is wrong"
[ "$(in_root 'stat -c "%a %U %G" /var/lib/picket')" = "750 picket picket" ] ||
  fail "/var/lib/picket is not 0750 picket:picket"
[ "$(in_root 'stat -c "%a %U" /usr/bin/picket /usr/lib/picket/libtensorflowlite_c.so')" = \
  "$(printf '755 root\n644 root')" ] || fail "wrong modes on the binary or the library"
cmp -s "$root/etc/picket/picket.toml" board/rpi4.toml || fail "--board rpi4 did not apply"
# shellcheck disable=SC2016 # ${Conffiles} is dpkg-query's, expanded by neither shell
grep -q '^/etc/picket/picket.toml ' <(in_root 'dpkg-query -W -f="\${Conffiles}\n" picket' |
  sed 's/^ //') || fail "/etc/picket/picket.toml is not a registered conffile"
version=$(in_root 'picket --version')
grep -q '^picket ' <<<"$version" || fail "the installed picket does not run"
in_root 'picket check --config /etc/picket/picket.toml' >/dev/null
# The test hooks (the `test-hooks` feature) are not in the shipped binary: clap refuses them.
for hook in --inject-panic --hold; do
  out=$(in_root "picket outputs test siren $hook --config /etc/picket/picket.toml 2>&1; echo exit \$?")
  grep -q "unexpected argument '$hook'" <<<"$out" && grep -qx 'exit 2' <<<"$out" ||
    fail "the installed picket does not refuse $hook: $out"
done
grep -q 'systemctl restart picket.service' "$root/var/log/stand-ins.log" ||
  fail "deploy.sh did not restart the service"
ids=$(in_root 'id -gn picket-uplink')
[ "$ids" = picket ] || fail "picket-uplink's group is $ids, not picket"
passwd=$(in_root 'getent passwd picket-uplink')
grep -q ':/var/lib/picket-uplink:/usr/sbin/nologin$' <<<"$passwd" ||
  fail "picket-uplink's home or shell is wrong"
[ "$(in_root 'stat -c "%a %U %G" /var/lib/picket-uplink')" = "770 picket-uplink picket" ] ||
  fail "/var/lib/picket-uplink is not 0770 picket-uplink:picket"
# Shipped disabled: neither postinst nor a deploy without --uplink enables it.
in_root 'test ! -e /etc/systemd/system/multi-user.target.wants/picket-uplink.service' ||
  fail "the package enabled picket-uplink.service"
in_root 'test ! -e /etc/systemd/system/multi-user.target.wants/picket-hub.service' ||
  fail "the package enabled picket-hub.service"
stand_ins=$(cat "$root/var/log/stand-ins.log")
! grep -q 'picket-uplink' <<<"$stand_ins" || fail "deploy.sh without --uplink touched picket-uplink"

log "deploy again with --uplink: idempotent, an edited config is kept, the uplink enabled"
echo '# edited on the box' >>"$root/etc/picket/picket.toml"
again=$(PATH="$stubs:$PATH" PICKET_DEPLOY_SETTLE_S=0 \
  bash scripts/deploy.sh admin@box --board rpi4 --deb "$amd64" --uplink 2>&1)
grep -q 'has been edited' <<<"$again" || fail "a second deploy did not report the edited config"
[ "$(tail -n1 "$root/etc/picket/picket.toml")" = '# edited on the box' ] || fail "the edit was lost"
stand_ins=$(cat "$root/var/log/stand-ins.log")
grep -q 'systemctl enable --quiet picket-uplink.service' <<<"$stand_ins" ||
  fail "deploy.sh --uplink did not enable picket-uplink.service"
grep -q 'systemctl restart picket-uplink.service' <<<"$stand_ins" ||
  fail "deploy.sh --uplink did not restart picket-uplink.service"

log "purge"
in_root 'dpkg --purge picket' >/dev/null
in_root 'test ! -e /var/lib/picket' || fail "purge left /var/lib/picket"
in_root 'test ! -e /var/lib/picket-uplink' || fail "purge left /var/lib/picket-uplink"
in_root '! getent passwd picket && ! getent passwd picket-uplink && ! getent group picket' \
  >/dev/null || fail "purge left the picket or picket-uplink user, or the picket group"
in_root '! getent passwd picket-hub && ! getent group picket-hub' >/dev/null ||
  fail "purge left the picket-hub user or group"
in_root 'getent group gpio' >/dev/null || fail "purge removed group gpio"
in_root 'test ! -e /etc/picket/picket.toml' || fail "purge left the conffile"
log "package: ok (exposure picket $exposure, picket-uplink $uplink_exposure, picket-hub $hub_exposure)"
