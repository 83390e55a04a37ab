#!/bin/sh
# The systemd scenario's MQTT part, sourced by scripts/hil/systemd-scenario.sh in the arm64 VM
# while picket.service runs (its helpers: ok, bad, figure, section, wait_for, has, events):
# Debian's Mosquitto, started at boot by its own package; picket-hub.service and
# picket-uplink.service enabled as an owner would, under their shipped units; every event of the
# box's journal on the broker in the documented form (seen by mosquitto_sub) and in the hub
# journal, also across `systemctl restart picket-uplink` and across events journalled while the
# uplink was stopped; the live exposure of both units equal to the offline figures.
# Defines mqtt_all_arrived and unit_pid for the upgrade and purge sections after it.
BOX=$(cat /proc/sys/kernel/hostname)
SUB=/tmp/mqtt-sub.log
HUB_DB=/var/lib/picket-hub/hub.db
CURSOR=/var/lib/picket-uplink/cursor

uprop() { systemctl show -P "$2" "$1"; }
unit_running() { [ "$(uprop "$1" ActiveState)/$(uprop "$1" SubState)" = active/running ]; }
unit_pid() { uprop "$1" MainPID; }
# The event ids, one a line, sorted for comm: of the box's journal, of the messages on
# <prefix>/<box>/events, of the hub journal's rows from this box.
journal_ids() { events | grep -o '"id":[0-9]*' | cut -d: -f2 | sort; }
broker_msgs() { sed -n "s|^picket/$BOX/events ||p" "$SUB"; }
broker_ids() { broker_msgs | grep -o '^{"v":1,"box":"[^"]*","id":[0-9]*' | sed 's/.*://' | sort; }
hub_ids() {
  picket events --db "$HUB_DB" list --box "$BOX" --json --limit 100000 2>/dev/null | tr -d ' \n' |
    grep -o '"box_event":[0-9][0-9]*' | cut -d: -f2 | sort
}
# missing_from IDS_CMD: the box journal's ids that IDS_CMD lacks (empty when all are there).
missing_from() {
  journal_ids >/tmp/ids.journal
  "$1" | sort -u >/tmp/ids.other
  [ -s /tmp/ids.journal ] || echo "(the journal is empty)"
  comm -23 /tmp/ids.journal /tmp/ids.other | tr '\n' ' '
}
on_broker() { [ -z "$(missing_from broker_ids)" ]; }
in_hub() { [ -z "$(missing_from hub_ids)" ]; }
mqtt_all_arrived() { on_broker && in_hub; }
# sandbox UNIT: the main process's NoNewPrivs, Seccomp, CapEff and user, as a figure; ok if in force.
sandbox() {
  p=$(unit_pid "$1")
  st=$(cat "/proc/$p/status")
  nnp=$(echo "$st" | sed -n 's/^NoNewPrivs:\t*//p')
  sc=$(echo "$st" | sed -n 's/^Seccomp:\t*//p')
  cap=$(echo "$st" | sed -n 's/^CapEff:\t*//p')
  figure "$1 main PID $p: NoNewPrivs $nnp, Seccomp $sc, CapEff $cap," \
    "user $(stat -c %U "/proc/$p") group $(stat -c %G "/proc/$p")"
  [ "$nnp" = 1 ] && [ "$sc" = 2 ] && [ "$cap" = 0000000000000000 ] &&
    ok "$1: seccomp filter, no new privileges, no capabilities in force" ||
    bad "$1: the sandbox is not in force"
}
# shipped UNIT: the installed unit is the repository's, with no drop-ins.
shipped() {
  cmp -s "/lib/systemd/system/$1" "$F/$1" && [ -z "$(uprop "$1" DropInPaths)" ] &&
    ok "$1 is the repository's, no drop-ins" || bad "$1 differs from the repository's or has drop-ins"
}

section "Mosquitto: Debian's package, started at boot"
mq=$(systemctl is-active mosquitto)
figure "mosquitto $(dpkg-query -W -f='${Version}' mosquitto): $mq, enabled $(systemctl is-enabled mosquitto)," \
  "main PID $(unit_pid mosquitto.service)"
[ "$mq" = active ] && ok "mosquitto.service is active" || bad "mosquitto.service is $mq"
# A subscriber from before the first event is published (QoS 1, -d to see its SUBACK; line
# buffered, or its debug lines wait in the buffer for the next message).
stdbuf -oL mosquitto_sub -d -h 127.0.0.1 -q 1 -v -t "picket/$BOX/events" >"$SUB" 2>&1 &
SUBSCRIBER=$!
wait_for 20 grep -q 'received SUBACK' "$SUB" && ok "mosquitto_sub subscribed to picket/$BOX/events" ||
  bad "mosquitto_sub did not subscribe: $(cat "$SUB")"

section "picket-hub.service, enabled as on a hub machine"
shipped picket-hub.service
cat >/etc/picket/hub.toml <<'EOF'
# The hub on the box itself, reading the box's own Mosquitto.
[journal]
path = "/var/lib/picket-hub/hub.db"

[hub]
url = "mqtt://127.0.0.1:1883"
EOF
t0=$(ms)
systemctl enable --now picket-hub.service 2>/dev/null || bad "systemctl enable --now picket-hub failed"
wait_for 60 unit_running picket-hub.service &&
  ok "picket-hub active (running) ($(since "$t0") ms)" ||
  bad "picket-hub is $(uprop picket-hub.service ActiveState)/$(uprop picket-hub.service SubState)"
systemctl status --no-pager picket-hub.service | sed -n '1,4p'
sandbox picket-hub.service

section "picket-uplink.service, enabled once [uplink] is configured (no state_file line)"
shipped picket-uplink.service
[ ! -e "$CURSOR" ] && ok "no cursor before the first start" || bad "$CURSOR exists before the uplink ran"
t0=$(ms)
t0s=$(date +%s)
systemctl enable --now picket-uplink.service 2>/dev/null || bad "systemctl enable --now picket-uplink failed"
wait_for 60 unit_running picket-uplink.service &&
  ok "picket-uplink active (running) ($(since "$t0") ms)" ||
  bad "picket-uplink is $(uprop picket-uplink.service ActiveState)/$(uprop picket-uplink.service SubState)"
systemctl status --no-pager picket-uplink.service | sed -n '1,4p'
sandbox picket-uplink.service
for p in PrivateDevices PrivateUsers ProtectSystem RestrictAddressFamilies SystemCallErrorNumber \
  StateDirectory; do
  figure "picket-uplink $p=$(uprop picket-uplink.service $p)"
done

section "every journalled event on the broker, in the documented form"
t0=$(ms)
wait_for 120 on_broker && ok "every journal event reached the broker ($(since "$t0") ms)" ||
  bad "events missing on the broker: $(missing_from broker_ids)"
first=$(journalctl -u picket-uplink.service --since "@$t0s" -o cat --no-pager |
  grep -m1 'no state_file\|uplink: .* → ')
figure "uplink's start: $first"
total=$(broker_msgs | grep -c .)
# The form of docs/guide/uplink.md: exactly these fields, in this order, on one line.
form='^\{"v":1,"box":"'"$BOX"'","id":[0-9]+,"kind":"[a-z_]+","ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z","clock_synced":(true|false),"place":(null|"[^"]*"),"track":(null|[0-9]+),"score":(null|[0-9.e-]+),"direction":(null|"[a-z_]+"),"detail":\{.*\},"snapshot":null\}$'
good=$(broker_msgs | grep -cE "$form")
figure "picket/$BOX/events: $total messages, $good of the documented form, ids $(broker_ids | sort -n | sed -n '1p;$p' | tr '\n' ' ')"
[ "$total" -gt 0 ] && [ "$good" = "$total" ] && ok "every message has the documented topic and fields" ||
  bad "messages not of the documented form: $(broker_msgs | grep -vE "$form" | sed -n 1p)"
intr=$(broker_msgs | grep -m1 '"kind":"intrusion"')
figure "an intrusion on the broker: $intr"
has "$intr" '"place":"frame"' && has "$intr" '"rule":"someone"' &&
  ok "the intrusion carries its zone and rule" || bad "no intrusion with place frame and rule someone"
figure "cursor: $(stat -c '%U:%G %a' "$CURSOR" 2>&1), $(tr '\n' ' ' <"$CURSOR" 2>&1)"
[ "$(stat -c %U "$CURSOR")" = picket-uplink ] && ok "the default state_file $CURSOR is the uplink's" ||
  bad "no cursor at $CURSOR"

section "the hub journal holds the box's events"
t0=$(ms)
wait_for 120 in_hub && ok "every journal event is in the hub journal ($(since "$t0") ms)" ||
  bad "events missing in the hub journal: $(missing_from hub_ids)"
rows=$(hub_ids | grep -c .)
uniq=$(hub_ids | sort -u | grep -c .)
figure "hub journal: $rows rows from $BOX, $uniq distinct box events"
[ "$rows" = "$uniq" ] && ok "each box event once in the hub journal" || bad "duplicates in the hub journal"
echo "picket events --db $HUB_DB boxes:"
picket events --db "$HUB_DB" boxes
echo "picket events --db $HUB_DB list --box $BOX --limit 5:"
picket events --db "$HUB_DB" list --box "$BOX" --limit 5
boxes=$(picket events --db "$HUB_DB" boxes 2>&1)
has "$boxes" "$BOX" && has "$boxes" online && ok "picket events boxes shows $BOX online" ||
  bad "picket events boxes: $boxes"

section "systemctl restart picket-uplink: on from its cursor"
acked=$(sed -n 's/^acked_through *= *//p' "$CURSOR")
before=$(broker_msgs | grep -c .)
t0s=$(date +%s)
systemctl restart picket-uplink.service || bad "systemctl restart picket-uplink failed"
# resumed_from: the event the uplink's start line (once it has the journal) says it goes on from.
resumed_from() {
  journalctl -u picket-uplink.service --since "@$t0s" -o cat --no-pager |
    sed -n 's/.*from journal event \([0-9]*\).*/\1/p' | tail -n 1
}
has_resumed() { [ -n "$(resumed_from)" ]; }
wait_for 60 unit_running picket-uplink.service
wait_for 60 has_resumed
resumed=$(resumed_from)
fresh=$(journalctl -u picket-uplink.service --since "@$t0s" -o cat --no-pager | grep -c 'no state_file')
figure "cursor acked_through ${acked:-?} before the restart; the uplink went on from event ${resumed:-?}"
# The cursor never goes back (the stop stores it too), so the uplink goes on after it, not from 1.
[ -n "$resumed" ] && [ -n "$acked" ] && [ "$resumed" -gt 1 ] && [ "$resumed" -ge $((acked + 1)) ] &&
  [ "$fresh" = 0 ] && ok "the cursor survived the restart" || bad "the uplink did not go on from its cursor"

section "events journalled while the uplink is stopped arrive once it is back"
systemctl stop picket-uplink.service
t0=$(ms)
systemctl restart picket.service || bad "systemctl restart picket failed"
wait_for 120 is_running
sleep 2
down=$(journal_ids | sort -n | tail -n 1)
systemctl start picket-uplink.service || bad "systemctl start picket-uplink failed"
wait_for 120 mqtt_all_arrived &&
  ok "journal events 1..$down on the broker and in the hub ($(since "$t0") ms)" ||
  bad "missing on the broker: $(missing_from broker_ids); in the hub: $(missing_from hub_ids)"
after=$(broker_msgs | grep -c .)
figure "broker messages: $before before the restarts, $after after;" \
  "$(broker_ids | uniq -d | grep -c .) ids more than once (at least once)"

section "systemd-analyze security picket-uplink and picket-hub, live and offline"
for u in picket-uplink.service picket-hub.service; do
  live=$(systemd-analyze security --no-pager "$u" | sed -n "s/.*Overall exposure level for $u: \([0-9.]*\).*/\1/p")
  offline=$(cat "$F/exposure.$u")
  figure "$u: exposure live $live, offline $offline"
  [ -n "$live" ] && [ "$live" = "$offline" ] && ok "$u: live exposure equals the offline figure" ||
    bad "$u: live exposure $live, offline $offline"
done
