#!/usr/bin/env bash
# bench-hub.sh [BOXES] [EVENTS]: how fast `picket hub` commits the events of BOXES (10) boxes
# publishing flat out, EVENTS (2000) each, through a real Mosquitto on this host. A benchmark,
# not a test: it prints figures and fails only when the hub journal does not end up with every
# event exactly once.
#
#   scripts/bench-hub.sh                    # 10 boxes × 2000 events
#   PICKET_BIN=target/debug/picket scripts/bench-hub.sh 10 500
#
# Each box's journal is filled first (`picket journal-stress`); then the hub starts, then one
# `picket uplink` per box (inflight 256) publishes its backlog at once. Timed: from the uplinks'
# start to the hub journal holding BOXES × EVENTS rows. Prints events/s committed, events per
# commit (one commit is one fsync of the WAL, synchronous=FULL) and bytes the hub wrote per
# event (/proc/PID/io write_bytes: the WAL and its checkpoints). The goal is >= 2000 events/s.
#
# The binary is target/release/picket, built here, unless PICKET_BIN names one.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

boxes=${1:-10}
events=${2:-2000}
case $boxes$events in '' | *[!0-9]*) die "usage: $0 [BOXES] [EVENTS]" ;; esac
apt_ensure mosquitto

picket=$(bench_picket)
scratch_begin
port=$(free_port)
mosquitto_start "$port" "max_inflight_messages 1000" "max_queued_messages 0"

log "filling $boxes journals with $events events each"
for i in $(seq "$boxes"); do
  mkdir -p "$work/box$i"
  "$picket" journal-stress --quiet --db "$work/box$i/events.db" --count "$events" --batch 500 \
    >/dev/null
  cat >"$work/box$i/picket.toml" <<EOF
[journal]
path = "$work/box$i/events.db"

[uplink]
url = "mqtt://127.0.0.1:$port"
box_id = "box$i"
inflight = 256
state_file = "$work/box$i/cursor"
state_json = "$work/box$i/state.json"
EOF
done

cat >"$work/hub.toml" <<EOF
[journal]
path = "$work/hub.db"
max_events = 10000000
max_bytes = 4294967296

[hub]
url = "mqtt://127.0.0.1:$port"
client_id = "bench-hub"
EOF
RUST_LOG=info "$picket" hub -c "$work/hub.toml" >"$work/hub.log" 2>&1 &
hub=$!
pids+=("$hub")
for _ in $(seq 100); do
  hub_log=$(cat "$work/hub.log")
  if grep -q 'connected to' <<<"$hub_log"; then break; fi
  sleep 0.1
done

count() {
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM origins").fetchone()[0])' "$work/hub.db"
}
want=$((boxes * events))
start=$(date +%s.%N)
for i in $(seq "$boxes"); do
  RUST_LOG=warn "$picket" uplink -c "$work/box$i/picket.toml" >"$work/box$i/uplink.log" 2>&1 &
  pids+=($!)
done
got=0
for _ in $(seq 1200); do
  got=$(count)
  [ "$got" -lt "$want" ] || break
  sleep 0.05
done
end=$(date +%s.%N)
[ "$got" -eq "$want" ] || die "the hub journal has $got of $want events (see $work/hub.log)"
written=$(awk '/^write_bytes/ { print $2 }' "/proc/$hub/io")
kill -TERM "$hub"
wait "$hub" || true
summary=$(grep 'hub: stopped' "$work/hub.log")
commits=$(sed -n 's/.*; \([0-9]*\) commits.*/\1/p' <<<"$summary")
python3 - "$want" "$start" "$end" "$commits" "$written" <<'EOF'
import sys
n, start, end, commits, written = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"events committed:   {n} in {end - start:.2f} s = {n / (end - start):.0f} events/s")
print(f"events per commit:  {n / max(commits, 1):.1f} ({commits} commits, one fsync each)")
print(f"bytes written/event: {written / n:.0f}")
EOF
log "$summary"
