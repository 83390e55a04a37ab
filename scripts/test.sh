#!/usr/bin/env bash
# The whole test suite, as CI runs it: bootstrap, the shell lint, formatting, lints, docs, the
# workspace's host tests, then each stage in scripts/test.d/ in name order (cross-arch tests,
# evaluations, hardware-in-the-loop).
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

# disk: what is free on the build's filesystem, which other work shares, and what this run holds
# in target/ and the cache; so a full disk shows as such before a compiler reports it mid-stage.
disk() {
  local free held
  free=$(df -B1M --output=avail "$PICKET_ROOT")
  held=$(du -smc "${CARGO_TARGET_DIR:-target}" "$PICKET_CACHE" 2>/dev/null || true)
  held=${held##*$'\n'}
  log "disk: ${free##*$'\n'} MiB free; target/ and the cache hold ${held%%[[:space:]]*} MiB"
}

disk
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
  disk
done
log "all tests passed"
