#!/bin/sh
# The systemd scenario, inside the arm64 VM: Debian 12 with systemd as PID 1 (scripts/hil/systemd.sh
# boots it). As an owner would, it installs picket's .deb with dpkg -i, writes a config for the
# fed clip (v4l2loopback) and a gpio-sim relay, and starts picket.service under the shipped,
# unmodified unit; then, against the VM's Mosquitto, picket-hub.service and picket-uplink.service
# (scripts/hil/systemd-mqtt.sh, sourced), and upgrades and purges the package with all three. Each check prints `check ok: ...` or `check FAILED: ...`, and each measured
# figure `figure: ...`; the exit code is the number of failed checks.
# Files (scripts/hil/systemd.sh packs them in /hil/files): picket-old.deb, picket-new.deb (the
# same build, a newer version), clip.mjpeg, the repository's picket.service,
# picket-uplink.service and picket-hub.service, exposure.UNIT (systemd-analyze security
# --offline=true's figure for each), mqtt.sh.
F=/hil/files
FAILS=0
UNIT=picket.service
RELAY="$HIL_GPIOSIM_SYSFS/sim_gpio0"

ok() { echo "check ok: $*"; }
bad() {
  echo "check FAILED: $*"
  FAILS=$((FAILS + 1))
}
figure() { echo "figure: $*"; }
# has TEXT PART: TEXT contains PART.
has() {
  case $1 in *"$2"*) return 0 ;; esac
  return 1
}
# events: the journal's events as compact JSON (no spaces), for has.
events() { picket events list --json --limit 100000 2>&1 | tr -d ' \n'; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# since T0: milliseconds since T0 (from ms).
since() { echo $(($(ms) - $1)); }
prop() { systemctl show -P "$1" "$UNIT"; }
relay() { cat "$RELAY/value"; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds; fails after SECONDS.
wait_for() {
  n=$(($1 * 5))
  shift
  while [ "$n" -gt 0 ]; do
    "$@" && return 0
    sleep 0.2
    n=$((n - 1))
  done
  return 1
}
is_running() { [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; }
relay_is() { [ "$(relay)" = "$1" ]; }
journal_since() { journalctl -u "$UNIT" -o cat --no-pager --since "@$1"; }

section() { echo "== $*"; }
# jmono SINCE PATTERN: the monotonic time (s) of the unit's first journal line since SINCE
# (epoch s) that matches PATTERN.
jmono() {
  journalctl -u "$UNIT" -o short-monotonic --no-pager --since "@$1" |
    awk -v pat="$2" '{ line = $0; sub(/^\[ *[0-9.]*\] [^ ]* [^ ]*: /, "", line) } line ~ pat {
      match($0, /^\[ *[0-9.]+\]/); t = substr($0, RSTART, RLENGTH); gsub(/[][ ]/, "", t)
      print t; exit }'
}
# delta_ms A B: B - A in milliseconds (A, B in seconds); 999999 when either is unknown.
delta_ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print 999999; else printf "%d", (b - a) * 1000 }'; }

section "systemd as PID 1"
pid1=$(cat /proc/1/comm)
state=$(systemctl is-system-running)
figure "PID 1 is $pid1, system $state, up $(cut -d' ' -f1 /proc/uptime) s"
[ "$pid1" = systemd ] && ok "PID 1 is systemd" || bad "PID 1 is $pid1"

section "dpkg -i, as the admin would with sudo"
t0=$(ms)
if SUDO_USER=admin dpkg -i "$F/picket-old.deb" >/tmp/dpkg.log 2>&1; then
  ok "dpkg -i picket-old.deb ($(since "$t0") ms)"
else
  cat /tmp/dpkg.log
  bad "dpkg -i picket-old.deb"
fi
cmp -s /lib/systemd/system/$UNIT "$F/picket.service" && [ -z "$(prop DropInPaths)" ] &&
  ok "the unit is the repository's, no drop-ins" || bad "the installed unit differs or has drop-ins"
[ "$(systemctl is-enabled $UNIT)" = enabled ] && ok "picket.service enabled by the package" ||
  bad "picket.service is $(systemctl is-enabled $UNIT)"

section "config: the fed clip through v4l2loopback, the relay on gpio-sim"
echo pull-down >"$RELAY/pull"
cat >/etc/picket/picket.toml <<EOF
# Edited on the box: the VM's loopback camera and gpio-sim relay.
[source]
kind = "v4l2"
device = "$HIL_LOOPBACK"
format = "mjpeg"
width = 384
height = 288
fps = 10
timeout_ms = 10000

[model]
threads = 2

[detector]
classes = ["Person"]
threshold = 0.4
tiles = "1x1"

[[zones]]
name = "frame"
polygon = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

[[rules]]
name = "someone"
kind = "intrusion"
zone = "frame"
min_frames = 2

[[outputs]]
name = "relay"
kind = "gpiocdev"
line = "RELAY"
max_on_s = 600

[[alarms]]
rules = ["someone"]
outputs = ["relay"]
pattern = "steady"
hold_s = 600
cooldown_s = 1

[health]
fps_floor = 0.0

[uplink]
url = "mqtt://127.0.0.1:1883"
EOF
picket feed --device "$HIL_LOOPBACK" --fps 1 --loops 0 "$F/clip.mjpeg" >/tmp/feed.log 2>&1 &
FEEDER=$!
wait_for 30 grep -q '^feeding ' /tmp/feed.log && ok "feeding the clip into $HIL_LOOPBACK" ||
  bad "picket feed did not start: $(cat /tmp/feed.log)"

section "systemctl start picket: Type=notify, the shipped sandbox"
t0=$(ms)
t0s=$(date +%s)
if systemctl start $UNIT; then
  ok "systemctl start returned ($(since "$t0") ms: READY=1 after the first frame)"
else
  bad "systemctl start failed"
  systemctl status --no-pager $UNIT
  journalctl -u $UNIT --no-pager -o short-monotonic
fi
systemctl status --no-pager $UNIT | sed -n '1,4p'
is_running && ok "active (running)" || bad "not active (running): $(prop ActiveState)/$(prop SubState)"
ready_ms=$((($(prop ActiveEnterTimestampMonotonic) - $(prop ExecMainStartTimestampMonotonic)) / 1000))
figure "READY=1 ${ready_ms} ms after ExecStart (Type=notify: active only once it arrives)"
[ "$(prop NotifyAccess)" = main ] && [ "$(prop Type)" = notify ] && [ "$ready_ms" -gt 0 ] &&
  ok "READY=1 from the main process" || bad "no READY=1 seen"
pid=$(prop MainPID)
if [ "$pid" = 0 ]; then
  bad "picket ended right after READY=1 (restarts: $(prop NRestarts))"
  journalctl -u $UNIT -o short-monotonic --no-pager -n 40
  wait_for 120 is_running
  pid=$(prop MainPID)
fi
status=$(cat "/proc/$pid/status")
nnp=$(echo "$status" | sed -n 's/^NoNewPrivs:\t*//p')
seccomp=$(echo "$status" | sed -n 's/^Seccomp:\t*//p')
capeff=$(echo "$status" | sed -n 's/^CapEff:\t*//p')
figure "main PID $pid: NoNewPrivs $nnp, Seccomp $seccomp, CapEff $capeff, user $(stat -c %U "/proc/$pid")"
[ "$nnp" = 1 ] && [ "$seccomp" = 2 ] && [ "$capeff" = 0000000000000000 ] &&
  ok "seccomp filter, no new privileges, no capabilities in force" || bad "the sandbox is not in force"
nets=$(cat "/proc/$pid/net/dev" | sed -n '3,$p' | awk '{print $1}' | tr -d ':' | tr '\n' ' ')
[ "$nets" = "lo " ] && ok "PrivateNetwork: only lo" || bad "network devices seen: $nets"
for p in PrivateNetwork ProtectSystem MemoryDenyWriteExecute DevicePolicy WatchdogUSec \
  SystemCallErrorNumber RestrictAddressFamilies CapabilityBoundingSet; do
  figure "$p=$(prop $p)"
done

section "events journalled, the relay on"
t0=$(ms)
if wait_for 240 relay_is 1; then
  ok "the relay went on ($(since "$t0") ms after READY=1)"
else
  bad "the relay never went on"
fi
events=$(events)
kinds=$(echo "$events" | grep -o '"kind":"[a-z_]*"' | sed 's/.*"\([a-z_]*\)"$/\1/' | sort | uniq -c |
  tr -s ' \n' ' ')
figure "journal: $kinds"
for k in started intrusion alarm_on; do
  has "$events" "\"kind\":\"$k\"" && ok "a $k event is journalled" || bad "no $k event"
done

section "picket events list over a login shell"
out=$(su -l admin -c 'picket events list' 2>&1)
rc=$?
n=$(echo "$out" | grep -c intrusion)
figure "admin (groups: $(id -nG admin)): exit $rc, $n intrusion lines"
[ "$rc" = 0 ] && [ "$n" -gt 0 ] && ok "admin in group picket reads the events" ||
  bad "admin cannot read the events: $out"
out=$(su -l guest -c 'picket events list' 2>&1)
rc=$?
figure "guest (groups: $(id -nG guest)): exit $rc: $out"
[ "$rc" != 0 ] && has "$out" "Permission denied" && ok "guest outside group picket is refused" ||
  bad "guest was not refused"

section "journalctl -u picket: picket's lines at their levels"
systemctl kill -s HUP --kill-whom=main $UNIT
sleep 3
sed -i 's/"someone"/"anyone"/' /etc/picket/picket.toml
systemctl kill -s HUP --kill-whom=main $UNIT
sleep 3
sed -i 's/"anyone"/"someone"/' /etc/picket/picket.toml
# PRIORITY of each line of picket's own, with the level name it printed.
levels=$(journalctl _SYSTEMD_UNIT=$UNIT _COMM=picket -o export --no-pager |
  awk -F= '/^PRIORITY=/ {p=$2} /^MESSAGE=/ {split($2, w, " "); print p, w[1]}' | sort | uniq -c |
  tr -s ' \n' ' ')
figure "journal priority/level counts: $levels"
wrong=$(journalctl _SYSTEMD_UNIT=$UNIT _COMM=picket -o export --no-pager |
  awk -F= '/^PRIORITY=/ {p=$2} /^MESSAGE=/ {split($2, w, " ");
    want = (w[1] == "ERROR") ? 3 : (w[1] == "WARN") ? 4 : (w[1] == "INFO") ? 6 : (w[1] == "DEBUG" || w[1] == "TRACE") ? 7 : p;
    if (p != want) print p, $2}')
info=$(journalctl _SYSTEMD_UNIT=$UNIT _COMM=picket -p info..info -o cat --no-pager | grep -c 'SIGHUP: zones and rules reloaded')
err=$(journalctl _SYSTEMD_UNIT=$UNIT _COMM=picket -p err..err -o cat --no-pager | grep -c 'SIGHUP: keeping the current')
figure "SIGHUP reloaded at priority 6: $info line(s); SIGHUP refused at priority 3: $err line(s)"
[ -z "$wrong" ] && [ "$info" -ge 1 ] && [ "$err" -ge 1 ] && ok "picket's lines carry their levels" ||
  bad "lines at the wrong level: $wrong"

section "safe stop: systemctl kill -s SIGKILL (ExecStopPost)"
# gpio-sim resets a released line to its pull (here down), so the line reads 0 once picket is
# dead whoever drove it; on a Pi a released pin keeps its level and only ExecStopPost turns the
# relay off. So the time that counts is the journal's, from the death to ExecStopPost's line.
relay_is 1 || wait_for 120 relay_is 1
figure "relay before the kill: $(relay)"
t0s=$(date +%s)
t0=$(ms)
systemctl kill -s SIGKILL $UNIT
wait_for 10 relay_is 0
low_ms=$(since "$t0")
has_post() { [ -n "$(jmono "$t0s" '^output relay: off')" ]; }
wait_for 60 has_post
died=$(jmono "$t0s" 'Main process exited, code=killed')
post=$(jmono "$t0s" '^output relay: off')
figure "picket killed at ${died:-?} s (journal); ExecStopPost's 'output relay: off' at ${post:-?} s," \
  "$(delta_ms "$died" "$post") ms after the death; the line read 0 ${low_ms} ms after systemctl kill began"
# The target is 1 s on a board. Under TCG a process start (the loader mapping the TFLite
# library) alone takes about a second, so the VM's bound is $HIL_STOP_POST_MS (3 s); the figure
# says where it stands against both.
t0=$(ms)
picket --version >/dev/null
start_ms=$(since "$t0")
post_ms=$(delta_ms "$died" "$post")
bound=${HIL_STOP_POST_MS:-3000}
figure "ExecStopPost off ${post_ms} ms after the death (board target 1000 ms, VM bound ${bound} ms);" \
  "one picket process start here: ${start_ms} ms"
[ -n "$died" ] && [ -n "$post" ] && [ "$post_ms" -le "$bound" ] &&
  ok "SIGKILL: ExecStopPost drove the relay off within ${bound} ms of the death" ||
  bad "SIGKILL: ExecStopPost did not drive the relay off within ${bound} ms"
wait_for 120 is_running && ok "restarted after SIGKILL (Restart=on-failure)" || bad "no restart after SIGKILL"

section "safe stop: systemctl stop"
wait_for 240 relay_is 1 || bad "the relay did not go on again"
t0s=$(date +%s)
t0=$(ms)
systemctl stop $UNIT &
stopper=$!
wait_for 20 relay_is 0
low_ms=$(since "$t0")
wait "$stopper"
stopping=$(jmono "$t0s" 'Stopping picket.service')
exited=$(jmono "$t0s" 'Deactivated successfully|Main process exited')
post=$(jmono "$t0s" '^output relay: off')
figure "stop began at ${stopping:-?} s; picket exited $(delta_ms "$stopping" "$exited") ms later," \
  "ExecStopPost's 'output relay: off' $(delta_ms "$stopping" "$post") ms later; the line read 0" \
  "${low_ms} ms after systemctl stop began; result $(prop Result)"
[ "$(prop Result)" = success ] && [ -n "$post" ] && [ "$(delta_ms "$stopping" "$exited")" -le 15000 ] &&
  ok "stop: clean exit (Result=success), then ExecStopPost" || bad "stop: result $(prop Result)"
has "$(events)" '"kind":"stopped"' && ok "a stopped event is journalled" || bad "no stopped event"

section "watchdog: SIGSTOP the main process"
systemctl start $UNIT || bad "systemctl start failed"
n0=$(prop NRestarts)
pid=$(prop MainPID)
t0=$(ms)
t0s=$(date +%s)
kill -STOP "$pid"
restarted() { [ "$(prop NRestarts)" -gt "$n0" ]; }
wait_for 60 restarted
wd_ms=$(since "$t0")
wdsec=$(sed -n 's/^WatchdogSec=//p' /lib/systemd/system/$UNIT)
figure "watchdog restart ${wd_ms} ms after SIGSTOP (WatchdogSec=${wdsec}, RestartSec=2)"
wait_for 120 is_running && up_ms=$(since "$t0") || up_ms=never
figure "active (running) again ${up_ms} ms after SIGSTOP"
wdlog=$(journalctl -u $UNIT --since "@$t0s" -o cat --no-pager | grep -c 'Watchdog timeout')
[ "$wd_ms" -le $(((wdsec + 5) * 1000)) ] && [ "$wdlog" -ge 1 ] &&
  ok "watchdog restart within WatchdogSec + 5 s, journalled" || bad "watchdog: $wd_ms ms, $wdlog journal lines"

section "systemd-analyze security, live and offline"
live=$(systemd-analyze security --no-pager $UNIT | sed -n "s/.*Overall exposure level for $UNIT: \([0-9.]*\).*/\1/p")
offline=$(cat "$F/exposure.$UNIT")
figure "exposure live $live, offline $offline"
[ -n "$live" ] && [ "$live" = "$offline" ] && ok "live exposure equals the offline figure" ||
  bad "live exposure $live, offline $offline"

. "$F/mqtt.sh"

section "upgrade: dpkg -i a newer build"
echo '# kept across the upgrade' >>/etc/picket/picket.toml
sum=$(md5sum /etc/picket/picket.toml)
before=$(events | grep -o '"id":' | grep -c .)
pid=$(prop MainPID)
up_pid=$(unit_pid picket-uplink.service)
hub_pid=$(unit_pid picket-hub.service)
t0=$(ms)
if SUDO_USER=admin dpkg -i "$F/picket-new.deb" </dev/null >/tmp/dpkg.log 2>&1; then
  ok "dpkg -i picket-new.deb ($(since "$t0") ms): $(dpkg-query -W picket)"
else
  cat /tmp/dpkg.log
  bad "dpkg -i picket-new.deb"
fi
[ "$(md5sum /etc/picket/picket.toml)" = "$sum" ] && ok "the edited picket.toml is kept" ||
  bad "the edited picket.toml changed"
wait_for 120 is_running
after=$(events | grep -o '"id":' | grep -c .)
figure "main PID $pid -> $(prop MainPID); events before $before, after $after"
[ "$(prop MainPID)" != "$pid" ] && is_running && ok "the upgrade restarted picket" ||
  bad "picket was not restarted by the upgrade"
[ "$after" -ge "$before" ] && [ "$before" -gt 0 ] && ok "the journal is kept" || bad "journal lost events"
for u in picket-uplink.service:$up_pid picket-hub.service:$hub_pid; do
  wait_for 60 unit_running "${u%:*}"
  figure "${u%:*}: main PID ${u#*:} -> $(unit_pid "${u%:*}"), $(systemctl is-enabled "${u%:*}")"
  [ "$(unit_pid "${u%:*}")" != "${u#*:}" ] && unit_running "${u%:*}" &&
    [ "$(systemctl is-enabled "${u%:*}")" = enabled ] &&
    ok "the upgrade restarted ${u%:*}, still enabled" || bad "${u%:*} not restarted or not enabled"
done
t0=$(ms)
wait_for 120 mqtt_all_arrived &&
  ok "after the upgrade, every journal event on the broker and in the hub ($(since "$t0") ms)" ||
  bad "after the upgrade, missing on the broker: $(missing_from broker_ids); in the hub: $(missing_from hub_ids)"

section "purge"
dpkg --purge picket >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; bad "dpkg --purge"; }
kill "$FEEDER" "$SUBSCRIBER" 2>/dev/null
left=""
W=/etc/systemd/system/multi-user.target.wants
for p in /var/lib/picket /var/lib/picket-uplink /var/lib/picket-hub /etc/picket/picket.toml \
  /usr/bin/picket /lib/systemd/system/picket.service /lib/systemd/system/picket-uplink.service \
  /lib/systemd/system/picket-hub.service $W/picket.service $W/picket-uplink.service \
  $W/picket-hub.service; do
  [ -e "$p" ] || [ -L "$p" ] && left="$left $p"
done
for u in picket picket-uplink picket-hub; do
  getent passwd $u >/dev/null && left="$left user:$u"
done
for g in picket picket-hub; do
  getent group $g >/dev/null && left="$left group:$g"
done
figure "after purge, left:${left:- nothing}; unit: $(systemctl is-enabled $UNIT 2>&1)"
figure "after purge, the owner's /etc/picket/hub.toml: $(ls /etc/picket/hub.toml 2>&1)"
[ -z "$left" ] && ok "purge removed the journals, state, units' links, users, groups, conffile" ||
  bad "purge left$left"
[ "$(systemctl is-active mosquitto)" = active ] && ok "mosquitto stays active" || bad "mosquitto stopped"
getent group gpio >/dev/null && ok "group gpio stays" || bad "purge removed group gpio"

section "picket's warnings and errors, and the unit's restarts, over the whole scenario"
journalctl -u $UNIT -p warning -o short-monotonic --no-pager
[ "$FAILS" -eq 0 ] || journalctl -u $UNIT -o short-monotonic --no-pager -n 80
echo "systemd scenario: $FAILS failed"
exit "$FAILS"
