#!/usr/bin/env bash
# One fuzz target, picked by the commit so that every target comes round, fuzzed for 60 s from
# its committed seeds with AFL++ (scripts/fuzz.sh rotate). Every committed seed and crash input
# is also replayed by the host tests (tests/fuzz_replay.rs). Cold, measured in CPU time:
# cargo-afl 0.8 min, AFL++ 0.3 min, the instrumented build of every dependency 7.9 min (all
# cached under $PICKET_CACHE), so about 5 minutes on two idle cores, plus the 60 s; warm:
# picket's own instrumented rebuild (1.2 CPU-minutes) plus the 60 s, about 2.5 minutes.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

bash scripts/fuzz.sh rotate 60
