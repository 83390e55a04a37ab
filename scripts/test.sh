#!/usr/bin/env bash
# The whole test suite, as CI runs it: bootstrap, the shell lint, formatting, lints, docs, the
# workspace's host tests, then each stage in scripts/test.d/ in name order (cross-arch tests,
# evaluations, hardware-in-the-loop).
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

bash scripts/bootstrap.sh

log "shell lint: no pipe into grep -q or head under pipefail"
bash scripts/lint-shell.sh --self-test
bash scripts/lint-shell.sh
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
log "cargo test (host)"
cargo test --workspace --locked

for stage in scripts/test.d/*.sh; do
  [ -e "$stage" ] || continue
  log "stage $(basename "$stage")"
  bash "$stage"
done
log "all tests passed"
