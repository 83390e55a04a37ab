#!/usr/bin/env bash
# bench-uplink-latency.sh [ALARMS]: how long an alarm_on event takes from its commit in the
# journal to its message at an MQTT subscriber, through `picket uplink` and a real Mosquitto on
# this host. A benchmark, not a test: it prints figures and fails only when something is lost.
#
#   scripts/bench-uplink-latency.sh          # 200 alarm_on events (1000 events in all)
#   PICKET_BIN=target/debug/picket scripts/bench-uplink-latency.sh 50
#
# It starts its own Mosquitto on 127.0.0.1 at a free port, a QoS 1 subscriber (mosquitto_sub,
# stamping each message's arrival with its clock, `%U`) and `picket uplink` on a fresh journal,
# then commits events one at a time, INTERVAL_MS (37) apart so that commits fall at every phase
# of the uplink's 50 ms journal poll, with `picket journal-stress --timestamps`, which prints
# when each commit returned. Every fifth event is an alarm_on (the sample events cycle through
# five kinds). Latency = arrival - commit, on one clock. Prints p50, p95 and max for the alarm_on
# events and for all of them; the goal is p95 <= 300 ms for alarm_on.
#
# The binary is target/release/picket, built here, unless PICKET_BIN names one.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

alarms=${1:-200}
interval_ms=${INTERVAL_MS:-37}
case $alarms in '' | *[!0-9]*) die "usage: $0 [ALARMS]" ;; esac
apt_ensure mosquitto mosquitto-clients

picket=$(bench_picket)
scratch_begin
port=$(free_port)
mosquitto_start "$port"

# The subscriber, line-buffered so that nothing waits in stdio: `ARRIVAL TOPIC PAYLOAD`.
stdbuf -oL mosquitto_sub -p "$port" -q 1 -i bench-subscriber -t 'picket/bench/#' \
  -F '%U %t %p' >"$work/arrivals.txt" 2>"$work/sub.log" &
pids+=($!)
ready=0
for _ in $(seq 50); do
  mosquitto_pub -p "$port" -t picket/bench/probe -m probe
  arrivals=$(cat "$work/arrivals.txt")
  if grep -q ' picket/bench/probe probe$' <<<"$arrivals"; then ready=1 && break; fi
  sleep 0.1
done
[ "$ready" = 1 ] || die "the subscriber never received its probe (see $work/sub.log)"

cat >"$work/picket.toml" <<EOF
[journal]
path = "$work/events.db"

[uplink]
url = "mqtt://127.0.0.1:$port"
box_id = "bench"
state_file = "$work/cursor"
EOF
# A first event, so that the uplink finds the journal and connects before the measurement.
"$picket" journal-stress --db "$work/events.db" --count 1 --batch 1 >/dev/null 2>&1
RUST_LOG=info "$picket" uplink --config "$work/picket.toml" 2>"$work/uplink.log" &
pids+=($!)
warm=0
for _ in $(seq 100); do
  arrivals=$(cat "$work/arrivals.txt")
  if grep -q ' picket/bench/events ' <<<"$arrivals"; then warm=1 && break; fi
  sleep 0.1
done
[ "$warm" = 1 ] || die "the uplink published nothing (see its log: $(cat "$work/uplink.log"))"

count=$((alarms * 5))
log "commit $count events, one at a time, ${interval_ms} ms apart ($alarms alarm_on)"
RUST_LOG=warn "$picket" journal-stress --db "$work/events.db" --count "$count" --batch 1 \
  --interval-ms "$interval_ms" --timestamps >"$work/commits.txt"

# Wait for the last committed id at the subscriber (at most 30 s).
last=$(tail -n1 "$work/commits.txt")
last=${last%% *}
for _ in $(seq 300); do
  arrivals=$(cat "$work/arrivals.txt")
  if grep -q "\"id\":$last," <<<"$arrivals"; then break; fi
  sleep 0.1
done

python3 - "$work/commits.txt" "$work/arrivals.txt" "$alarms" <<'EOF'
import json, math, sys

commits = {}
for line in open(sys.argv[1]):
    i, t, kind = line.split()
    commits[int(i)] = (float(t), kind)
first = {}
dups = 0
for line in open(sys.argv[2]):
    at, topic, payload = line.rstrip("\n").split(" ", 2)
    if not topic.endswith("/events"):
        continue
    i = json.loads(payload)["id"]
    if i not in commits:
        continue  # the warm-up event
    if i in first:
        dups += 1
    else:
        first[i] = float(at)
missing = sorted(set(commits) - set(first))

def pct(xs, q):
    return xs[max(0, math.ceil(q * len(xs)) - 1)]

def show(label, ids):
    ms = sorted((first[i] - commits[i][0]) * 1e3 for i in ids if i in first)
    print(f"{label}: n={len(ms)}  p50 {pct(ms, .5):.1f} ms  p95 {pct(ms, .95):.1f} ms  "
          f"max {ms[-1]:.1f} ms  min {ms[0]:.1f} ms")
    return pct(ms, .95)

alarm_ids = [i for i, (_, k) in commits.items() if k == "alarm_on"]
p95 = show("alarm_on commit -> subscriber", alarm_ids)
show("all events commit -> subscriber", list(commits))
print(f"events {len(commits)}, arrived {len(first)}, missing {len(missing)}, duplicates {dups}")
print(f"goal p95 <= 300 ms for alarm_on: {'met' if p95 <= 300 else 'NOT met'}")
if missing:
    print(f"missing ids: {missing[:20]}", file=sys.stderr)
    sys.exit(1)
EOF
