#!/bin/sh
# /init of the hardware-in-the-loop VM (busybox, arm64). It brings up the real devices that the
# HIL tests use, exports where they are (the contract in tests/hil/vm.rs), runs the command
# that scripts/hil/run.sh packed into /hil/cmd.sh, prints its exit code as a marker that run.sh
# parses, and powers off. Kernel messages and the command's output share the serial console.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# tracefs: the HIL tests read gpiolib's trace events (tests/hil/wire.rs).
mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /tmp /run /dev/shm /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm

say() { echo "hil-init: $*"; }

# Modules, in the dependency order that setup.sh resolved on the host (one `insmod` per line).
load_modules() {
  while read -r ko args; do
    # shellcheck disable=SC2086 # module parameters are separate words
    insmod "/lib/modules/hil/$ko" $args || say "insmod $ko failed"
  done </lib/modules/hil/load.list
}

# The video nodes, found by driver name rather than by number.
find_video() {
  for d in /sys/class/video4linux/video*; do
    [ -e "$d/name" ] || continue
    case "$(cat "$d/name")" in
      *"$1"*) echo "/dev/${d##*/}"; return 0 ;;
    esac
  done
  return 1
}

# gpio-sim bank0: 8 lines, the named ones are the appliance's wiring (see tests/hil/vm.rs).
setup_gpio_sim() {
  mount -t configfs none /sys/kernel/config
  c=/sys/kernel/config/gpio-sim/hil
  mkdir -p "$c/bank0"
  echo 8 >"$c/bank0/num_lines"
  n=0
  for name in RELAY KEYSWITCH TAMPER HEALTHY; do
    mkdir -p "$c/bank0/line$n"
    echo "$name" >"$c/bank0/line$n/name"
    n=$((n + 1))
  done
  echo 1 >"$c/live"
  chip=$(cat "$c/bank0/chip_name")
  HIL_GPIOCHIP="/dev/$chip"
  HIL_GPIOSIM_SYSFS="/sys/devices/platform/$(cat "$c/dev_name")/$chip"
  export HIL_GPIOCHIP HIL_GPIOSIM_SYSFS
}

# The virtio disk (/dev/vda, ext4 made by run.sh) survives a power cut: journal replay on mount.
mount_disk() {
  [ -b /dev/vda ] || { say "no virtio disk"; return 0; }
  mkdir -p /mnt/disk
  if mount -t ext4 /dev/vda /mnt/disk; then
    mkdir -p /mnt/disk/hil
    export HIL_DISK=/mnt/disk/hil
  else
    say "cannot mount /dev/vda"
  fi
}

# Host directories that run.sh --share exported over virtio-9p, read-only, at their host paths.
mount_shares() {
  [ -f /hil/shares ] || return 0
  while read -r tag dir; do
    mkdir -p "$dir"
    mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 "$tag" "$dir" ||
      say "cannot mount the shared $dir"
  done </hil/shares
}

load_modules
mount_shares
setup_gpio_sim
mount_disk
HIL_VIVID=$(find_video vivid) && export HIL_VIVID
HIL_LOOPBACK=$(find_video loopback) && export HIL_LOOPBACK
export PATH=/hil/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/tmp
export LD_LIBRARY_PATH=/lib:/hil/lib:/lib/arm-linux-gnueabihf
say "vivid=${HIL_VIVID:-none} loopback=${HIL_LOOPBACK:-none}" \
  "gpiochip=${HIL_GPIOCHIP:-none} disk=${HIL_DISK:-none}"

# With hil.systemd on the kernel command line (run.sh --systemd), the virtio disk is a Debian root
# (scripts/hil/systemd-root.sh): the packed /hil and the devices' places go onto it, and systemd
# becomes PID 1 there. Its unit hil-scenario.service runs /hil/cmd.sh and prints the markers.
boot_systemd() {
  r=/mnt/disk
  [ -x "$r/lib/systemd/systemd" ] || { say "hil.systemd: no systemd on the disk"; return 0; }
  rm -rf "$r/hil" && cp -a /hil "$r/hil"
  {
    echo "HIL_GPIOCHIP=${HIL_GPIOCHIP:-}"
    echo "HIL_GPIOSIM_SYSFS=${HIL_GPIOSIM_SYSFS:-}"
    echo "HIL_VIVID=${HIL_VIVID:-}"
    echo "HIL_LOOPBACK=${HIL_LOOPBACK:-}"
  } >"$r/hil/env"
  for m in /dev /proc /sys /run; do mount -o move "$m" "$r$m"; done
  exec switch_root "$r" /lib/systemd/systemd
}
case " $(cat /proc/cmdline) " in
  *" hil.systemd "*) boot_systemd ;;
esac

cd /hil 2>/dev/null || cd /
echo "@@HIL ready uptime=$(cut -d' ' -f1 /proc/uptime)@@"
if [ -f /hil/cmd.sh ]; then
  sh /hil/cmd.sh
  rc=$?
else
  say "no command packed"
  rc=127
fi
sync
echo "@@HIL exit=$rc uptime=$(cut -d' ' -f1 /proc/uptime)@@"
[ -n "${HIL_DISK:-}" ] && umount /mnt/disk
poweroff -f
