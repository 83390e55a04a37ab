#!/usr/bin/env bash
# The optional GPIO back ends compile and pass the lints: rppal (Raspberry Pi, feature `rpi`)
# cannot run off a Pi, and gpiocdev's uapi v1 is for the Jetson Nano's 4.9 kernel.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

log "cargo clippy --features rpi,uapi_v1"
cargo clippy --all-targets --locked --features rpi,uapi_v1 -- -D warnings
