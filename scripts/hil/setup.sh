#!/usr/bin/env bash
# Prepares the hardware-in-the-loop VM, idempotently, under $PICKET_CACHE/hil:
#   - Debian's current arm64 kernel and its modules (the version is resolved now, never pinned)
#   - gpio-sim (with irq_sim compiled in) and v4l2loopback, built out of tree for that kernel
#     from Debian's source packages; nothing GPL-derived is kept in the repository
#   - a busybox initramfs whose /init is scripts/hil/init.sh
# Prints the kernel tree's directory; $PICKET_CACHE/hil/current points at it. run.sh boots it.
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/lib.sh"
HIL_SCRIPTS=$(cd "$(dirname "$0")" && pwd)

# Modules the guest loads, in this order, with their parameters. Dependencies come first,
# resolved by modprobe on the host.
GUEST_MODULES=(
  "configfs"
  "virtio_pci"
  "virtio_blk"
  "crc32c_generic"
  "ext4"
  "9pnet_virtio"
  "9p"
  "vivid n_devs=1 node_types=0x1"
  "v4l2loopback devices=1 card_label=picket-loopback"
  "gpio-sim"
)

host_tools() {
  apt_ensure qemu-system-arm cpio kmod e2fsprogs make bc xz-utils gcc libc6-dev \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstdc++6-arm64-cross binutils-aarch64-linux-gnu
}

# resolve_kernel: sets KREL (6.1.0-56-arm64), DEBVER (6.1.192-2) and KDIR. Offline, falls back
# to the tree the last run prepared.
resolve_kernel() {
  arm64_apt_ready
  KREL=$(kernel_release)
  [ -n "$KREL" ] || { apt_update; KREL=$(kernel_release); }
  if [ -z "$KREL" ]; then
    [ -d "$HIL_CURRENT" ] || die "cannot resolve Debian's arm64 kernel and nothing is cached"
    KDIR=$(readlink -f "$HIL_CURRENT")
    log "hil: apt cannot resolve the kernel; using the cached $(basename "$KDIR")"
    KREL=$(cat "$KDIR/release")
    DEBVER=$(cat "$KDIR/debver")
    return 0
  fi
  DEBVER=$(deb_version "linux-image-$KREL:arm64")
  KDIR="$HIL_CACHE/kernel/${KREL}_$DEBVER"
  # A version not built yet is about to be downloaded: make sure the lists are not stale, or
  # the mirror may no longer have it.
  if [ ! -f "$KDIR/initramfs.cpio.gz" ] && [ -z "${APT_FRESH:-}" ]; then
    apt_update
    resolve_kernel
    return 0
  fi
  mkdir -p "$KDIR"
  printf '%s\n' "$KREL" >"$KDIR/release"
  printf '%s\n' "$DEBVER" >"$KDIR/debver"
}

fetch_kernel() {
  deb_extract "linux-image-$KREL:arm64=$DEBVER" "$KDIR/root"
  [ -f "$KDIR/root/boot/vmlinuz-$KREL" ] || die "no vmlinuz-$KREL in the image package"
}

# fetch_headers: the arm64 headers, their common part and the *host* kbuild tools in one tree,
# so that its scripts/ symlinks resolve to programs this machine can run.
fetch_headers() {
  local hdr="$KDIR/hdr" major=${KREL%%-*}
  major=${major%.*}
  deb_extract "linux-headers-$KREL:arm64=$DEBVER" "$hdr"
  deb_extract "linux-headers-${KREL%-arm64}-common=$DEBVER" "$hdr"
  deb_extract "linux-kbuild-$major:$(dpkg --print-architecture)=$DEBVER" "$hdr"
  # The Makefile includes the common tree by its installed absolute path; point it here.
  sed -i "s|^include /usr/src/|include $hdr/usr/src/|" "$hdr/usr/src/linux-headers-$KREL/Makefile"
}

# fetch_kernel_source: three files from linux-source-<major>, streamed out of the package's
# tarball without keeping the 140 MB archive.
fetch_kernel_source() {
  local src="$KDIR/src" major=${KREL%%-*} tmp
  major=${major%.*}
  [ -f "$src/.done" ] && return 0
  tmp=$(mktemp -d)
  log "apt: fetching linux-source-$major (for gpio-sim and irq_sim)"
  (cd "$tmp" && apt-get download -qq "linux-source-$major=$DEBVER" >/dev/null 2>&1) ||
    (cd "$tmp" && apt-get download -qq "linux-source-$major" >/dev/null)
  mkdir -p "$src"
  dpkg-deb --fsys-tarfile "$tmp"/*.deb |
    tar -xO "./usr/src/linux-source-$major.tar.xz" |
    tar -xJ -C "$src" --strip-components=1 \
      "linux-source-$major/drivers/gpio/gpio-sim.c" \
      "linux-source-$major/drivers/gpio/gpiolib.h" \
      "linux-source-$major/kernel/irq/irq_sim.c"
  rm -rf "$tmp"
  touch "$src/.done"
}

# kbuild DIR: build the out-of-tree module in DIR against the arm64 headers.
kbuild() {
  make -s -C "$KDIR/hdr/usr/src/linux-headers-$KREL" M="$1" \
    ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules >"$1/build.log" 2>&1 ||
    { cat "$1/build.log" >&2; die "module build failed in $1"; }
}

# build_gpio_sim: CONFIG_GPIO_SIM and CONFIG_IRQ_SIM are off in Debian's kernel, so irq_sim is
# compiled into the module. irq_to_desc() is not exported to modules; generic_handle_irq() does
# the same dispatch through an exported symbol.
build_gpio_sim() {
  local b="$KDIR/build/gpio-sim"
  [ -f "$b/gpio-sim.ko" ] && return 0
  log "hil: building gpio-sim for $KREL"
  rm -rf "$b" && mkdir -p "$b"
  cp "$KDIR/src/drivers/gpio/gpio-sim.c" "$b/gpio-sim-main.c"
  cp "$KDIR/src/drivers/gpio/gpiolib.h" "$b/"
  sed 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' \
    "$KDIR/src/kernel/irq/irq_sim.c" >"$b/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum)' "$b/irq_sim.c" || die "irq_sim.c: the expected line changed"
  printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' >"$b/Kbuild"
  kbuild "$b"
}

build_v4l2loopback() {
  local b="$KDIR/build/v4l2loopback"
  [ -f "$b/v4l2loopback.ko" ] && return 0
  log "hil: building v4l2loopback for $KREL"
  deb_extract v4l2loopback-dkms "$KDIR/v4l2loopback-dkms"
  rm -rf "$b" && mkdir -p "$b"
  cp "$KDIR"/v4l2loopback-dkms/usr/src/v4l2loopback-*/*.[ch] "$b/"
  printf 'obj-m := v4l2loopback.o\n' >"$b/Kbuild"
  kbuild "$b"
}

install_modules() {
  local extra="$KDIR/root/lib/modules/$KREL/extra"
  mkdir -p "$extra"
  cp "$KDIR/build/gpio-sim/gpio-sim.ko" "$KDIR/build/v4l2loopback/v4l2loopback.ko" "$extra/"
  depmod -b "$KDIR/root" "$KREL"
}

# stage_modules DIR: copy the guest's modules flat into DIR with load.list, in load order.
stage_modules() {
  local dir=$1 entry name args ko
  local -A seen=()
  mkdir -p "$dir"
  : >"$dir/load.list"
  for entry in "${GUEST_MODULES[@]}"; do
    read -r name args <<<"$entry"
    while read -r verb ko _; do
      [ "$verb" = insmod ] || continue
      [ -n "${seen[$ko]:-}" ] && continue
      seen[$ko]=1
      cp "$ko" "$dir/"
      if [ "$(basename "$ko" .ko)" = "${name//_/-}" ] || [ "$(basename "$ko" .ko)" = "$name" ]; then
        printf '%s %s\n' "$(basename "$ko")" "$args" >>"$dir/load.list"
      else
        printf '%s\n' "$(basename "$ko")" >>"$dir/load.list"
      fi
    done < <(modprobe -d "$KDIR/root" -S "$KREL" --show-depends "$name")
  done
}

make_initramfs() {
  local out="$KDIR/initramfs.cpio.gz"
  if [ -f "$out" ] && [ "$out" -nt "$HIL_SCRIPTS/init.sh" ] && [ "$out" -nt "$0" ]; then
    return 0
  fi
  log "hil: making the initramfs"
  deb_extract busybox-static:arm64 "$KDIR/busybox"
  local stage
  stage=$(mktemp -d)
  mkdir -p "$stage"/{bin,dev,proc,sys,mnt,tmp,lib/modules}
  cp "$KDIR/busybox/bin/busybox" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  install -m 0755 "$HIL_SCRIPTS/init.sh" "$stage/init"
  stage_modules "$stage/lib/modules/hil"
  (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$stage"
}

# prune_old: drop the trees of kernels the mirror has moved on from (about 450 MB each).
prune_old() {
  local d
  for d in "$HIL_CACHE"/kernel/*/; do
    d=${d%/}
    [ "$d" = "$KDIR" ] && continue
    log "hil: removing the old kernel tree $(basename "$d")"
    rm -rf "$d"
  done
}

main() {
  local t0
  t0=$(date +%s.%N)
  host_tools
  resolve_kernel
  fetch_kernel
  fetch_headers
  fetch_kernel_source
  build_gpio_sim
  build_v4l2loopback
  install_modules
  make_initramfs
  ln -sfn "$KDIR" "$HIL_CURRENT"
  prune_old
  log "hil: $KREL ($DEBVER) ready in $(elapsed "$t0") s"
  printf '%s\n' "$KDIR"
}

main "$@"
