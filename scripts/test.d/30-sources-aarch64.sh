#!/usr/bin/env bash
# The image and frame-source tests on aarch64 under qemu-user, where the resize runs the code
# the compiler vectorised for NEON: correctness against the references, and zero allocations
# per frame. Release mode, because the debug JPEG decoder is slow under emulation; assertions
# stay on. (qemu-user cannot run V4L2 ioctls; tests/hil/v4l2.rs runs in the kernel VM.)
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

target=aarch64-unknown-linux-gnu
# Built without LiteRT 2.3, as 20-aarch64.sh is: its aarch64 library crashes under qemu-user, and
# `auto` would pick it for the tiled detector's test.
export PICKET_LITERT_DIR=$PICKET_CACHE/tflite/none
log "sources: image and source tests on $target (qemu-user)"
cargo test --locked --release --target "$target" -p picket-image
cargo test --locked --release --target "$target" --test tests -- no_alloc:: sources::
cargo test --locked --release --target "$target" --lib -- source::
