#!/usr/bin/env bash
# The main job, end to end on this machine: bootstrap, build, and run picket on the shipped
# model and media.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

bash scripts/bootstrap.sh
cargo build --release --locked
log "picket check on the example config"
./target/release/picket check --config board/config/example.toml
