#!/usr/bin/env bash
# The long forms of the uplink's fault tests against a real Mosquitto: `picket uplink` SIGKILLed
# at 20 random moments (CI does 5), and the broker SIGKILLed with a consumer connected, ROUNDS
# times. Each run prints the ids that arrived, the duplicates, and what a broker kill lost.
#
#   scripts/uplink-soak.sh [ROUNDS]      # default 5
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

rounds=${1:-5}
apt_ensure mosquitto mosquitto-clients openssl
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run_test NAME PATTERN [ENV=VALUE...]: one test of tests/uplink.rs, its summary lines shown.
run_test() {
  local name=$1 pattern=$2
  shift 2
  if ! env "$@" cargo test --locked --test tests -- --nocapture "uplink::$name" >"$out" 2>&1; then
    cat "$out"
    die "$name failed"
  fi
  grep -E "$pattern|test result" "$out"
}

log "uplink: 20 SIGKILLs of picket uplink"
run_test uplink_killed_at_random_moments_loses_nothing 'uplink kills:|PICKET_UPLINK_SEED' \
  PICKET_UPLINK_KILLS=20

for i in $(seq "$rounds"); do
  log "uplink: broker SIGKILL with the consumer connected, round $i of $rounds"
  run_test a_broker_killed_loses_at_most_what_it_acknowledged_before_the_kill 'broker SIGKILL:'
done
