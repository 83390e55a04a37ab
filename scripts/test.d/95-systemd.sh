#!/usr/bin/env bash
# Test stage: the arm64 .deb under a real systemd (scripts/hil/systemd.sh). A Debian 12 arm64 root
# boots in the kernel VM of scripts/hil/ with systemd as PID 1 (the root is made on the first run
# and cached under $PICKET_CACHE/rootfs), the package is installed with dpkg -i and picket.service
# runs under the shipped unit: READY=1, the sandbox in force, journal levels, safe stop on
# SIGKILL and on stop, the watchdog after SIGSTOP, live exposure equal to the offline one, events
# over a login shell; picket-hub.service and picket-uplink.service against the root's Mosquitto
# (every event on the broker and in the hub journal, across restarts, live exposure); upgrade and
# purge with all three. Each check and figure is printed.
# Skips, saying why, only when the VM cannot run here (as 90-hil.sh); HIL_SKIP=1 skips it on
# purpose.
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/../hil/lib.sh"
cd "$PICKET_ROOT"

skip() {
  log "systemd: SKIPPED: $*"
  exit 0
}
[ "${HIL_SKIP:-}" = 1 ] && skip "HIL_SKIP=1"
command -v qemu-system-aarch64 >/dev/null || apt_ensure qemu-system-arm >/dev/null 2>&1 || true
command -v qemu-system-aarch64 >/dev/null || skip "qemu-system-aarch64 cannot be installed"
bash scripts/hil/setup.sh >/dev/null || skip "no Debian arm64 kernel can be fetched and none is cached"

t0=$(date +%s.%N)
deb=$(bash scripts/build-deb.sh --arch arm64)
log "systemd: the arm64 package in $(elapsed "$t0") s"
bash scripts/hil/systemd.sh "$deb"
