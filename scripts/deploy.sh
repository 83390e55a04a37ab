#!/usr/bin/env bash
# deploy.sh USER@HOST [--board rpi4|rpi5|jetson-nano] [--tflite tf29|litert] [--deb FILE]
#           [--uplink]:
# put picket on a board over ssh and (re)start it.
#
# 1. builds the arm64 .deb (scripts/build-deb.sh), unless --deb names one already built;
# 2. copies it over with scp and installs it with `sudo dpkg -i`, keeping an edited config
#    (--force-confold); sudo's SUDO_USER puts the deploying user in group picket, so
#    `ssh HOST picket events list` reads the journal from the next login on;
# 3. with --board, installs that board profile as /etc/picket/picket.toml, but only while the
#    config there is still the package's default: an edited config is never overwritten;
# 4. checks the config, enables and restarts picket.service, then shows `systemctl status` and
#    the last log lines. Exits non-zero if the install, the check or the restart failed;
# 5. with --uplink, also enables and restarts picket-uplink.service (the MQTT uplink, shipped
#    disabled), which needs an [uplink] section in the config. Without it the uplink's unit is
#    left as it is: enabled if it was, disabled otherwise.
#
# The remote user needs sudo without a password prompt (as Pi OS's first user has), because the
# commands run without a terminal; on a Jetson, add a sudoers rule or deploy as root. Extra
# options for both ssh and scp go in PICKET_SSH_OPTS, e.g. "-o Port=2222 -i ~/.ssh/pi" (not -p:
# scp reads that as "preserve times").
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

usage() {
  die "usage: $0 USER@HOST [--board rpi4|rpi5|jetson-nano] [--tflite tf29|litert] [--deb FILE] [--uplink]"
}

[ $# -ge 1 ] || usage
host=$1
shift
board=""
flavour=tf29
deb=""
uplink=0
while [ $# -gt 0 ]; do
  case $1 in
    --board) board=${2:-}; shift 2 || usage ;;
    --tflite) flavour=${2:-}; shift 2 || usage ;;
    --deb) deb=${2:-}; shift 2 || usage ;;
    --uplink) uplink=1; shift ;;
    *) usage ;;
  esac
done
case $host in -*) usage ;; esac
if [ -n "$board" ]; then
  [ -f "board/$board.toml" ] || die "no board profile board/$board.toml"
  case $flavour/$board in
    litert/jetson-nano) die "JetPack 4's glibc is 2.27; LiteRT needs 2.30: use --tflite tf29" ;;
  esac
fi

if [ -z "$deb" ]; then
  deb=$(bash scripts/build-deb.sh --arch arm64 --tflite "$flavour")
fi
[ -f "$deb" ] || die "$deb: no such package"

# The remote commands are built here on purpose, with the values quoted for the remote shell.
# shellcheck disable=SC2086,SC2029 # PICKET_SSH_OPTS is a list of options
remote() { ssh ${PICKET_SSH_OPTS:-} "$host" "$@"; }
remote_deb="/tmp/$(basename "$deb")"

log "copy $(basename "$deb") to $host"
# shellcheck disable=SC2086
scp -q ${PICKET_SSH_OPTS:-} "$deb" "$host:$remote_deb"

log "install on $host"
remote "sudo dpkg --force-confold -i '$remote_deb'; rc=\$?; rm -f '$remote_deb'; exit \$rc" ||
  die "dpkg -i failed on $host"

if [ -n "$board" ]; then
  log "board profile $board"
  remote "set -e
    cfg=/etc/picket/picket.toml
    profile=/usr/share/picket/board/$board.toml
    if cmp -s \"\$cfg\" \"\$profile\"; then
      echo \"\$cfg is already the $board profile\"
    elif cmp -s \"\$cfg\" /usr/share/picket/picket.toml.default; then
      sudo cp \"\$profile\" \"\$cfg\"
      echo \"\$cfg: now the $board profile\"
    else
      echo \"\$cfg has been edited: left as it is (the profile is \$profile)\"
    fi"
fi

log "check the config and restart picket on $host"
rc=0
remote "sudo picket check --config /etc/picket/picket.toml &&
  sudo systemctl enable --quiet picket.service &&
  sudo systemctl restart picket.service" || rc=$?
sleep "${PICKET_DEPLOY_SETTLE_S:-3}"
remote "systemctl status --no-pager --lines=0 picket.service;
  journalctl -u picket.service -n 20 --no-pager" || true
[ "$rc" -eq 0 ] || die "picket did not start on $host (see above)"
log "picket is running on $host"

if [ "$uplink" = 1 ]; then
  log "enable and restart picket-uplink on $host"
  rc=0
  remote "sudo systemctl enable --quiet picket-uplink.service &&
    sudo systemctl restart picket-uplink.service" || rc=$?
  sleep "${PICKET_DEPLOY_SETTLE_S:-3}"
  remote "systemctl status --no-pager --lines=0 picket-uplink.service;
    journalctl -u picket-uplink.service -n 20 --no-pager" || true
  [ "$rc" -eq 0 ] || die "picket-uplink did not start on $host (see above)"
  log "picket-uplink is running on $host"
fi
