#!/usr/bin/env bash
# One fuzz target, picked by the commit so that every target comes round, fuzzed for 60 s from
# its committed seeds with AFL++ (scripts/fuzz.sh rotate). Every committed seed and crash input
# is also replayed by the host tests (tests/fuzz_replay.rs). Cold (cargo-afl, AFL++ and the
# instrumented build of every dependency, cached under $PICKET_CACHE): about 10 minutes on two
# cores; warm: picket's own instrumented rebuild plus the 60 s, about 3 minutes.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

bash scripts/fuzz.sh rotate 60
