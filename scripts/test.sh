#!/usr/bin/env bash
# The whole test suite, as CI runs it: bootstrap, formatting, lints, host tests, then each stage
# in scripts/test.d/ in name order (cross-arch tests, evaluations, hardware-in-the-loop).
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

bash scripts/bootstrap.sh

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
log "cargo test (host)"
cargo test --locked

for stage in scripts/test.d/*.sh; do
  [ -e "$stage" ] || continue
  log "stage $(basename "$stage")"
  bash "$stage"
done
log "all tests passed"
