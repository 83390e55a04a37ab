#!/usr/bin/env bash
# aarch64: every unit test of the workspace's libraries, the parity tests and the bad-model tests
# (whose TFLite messages cross the C va_list ABI) under qemu-aarch64 (the cargo runner in
# .cargo/config.toml), once with each aarch64 TfLite C API library:
#   - TF 2.9, the one the binary links against and finds through its RUNPATH;
#   - LiteRT 2.0.3 (TF 2.21), swapped in at run time through LD_LIBRARY_PATH, as on a board
#     that ships it instead. The XNNPACK options layout differs between the two.
# LiteRT 2.3's aarch64 libLiteRt.so is not run here: under qemu-user (7.2) it crashes with
# SIGSEGV while compiling the model, and so does the plain C program on its API
# (scripts/bench/litert.c), so the stage builds without it (PICKET_LITERT_DIR names no
# library), and `auto` falls back to TF 2.9 as on a board without LiteRT. The HIL stage runs it
# in the arm64 kernel VM, where it works (90-hil.sh).
# PICKET_EXPECT_TFLITE_VERSION makes the tests check which library actually loaded, so a swap
# that silently did not happen fails.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

target=aarch64-unknown-linux-gnu
sysroot=/usr/aarch64-linux-gnu
export PICKET_LITERT_DIR=$PICKET_CACHE/tflite/none
litert=$(tflite_dir litert aarch64)

# The LiteRT library's own NEEDED libraries must resolve in the cross sysroot, or the swap
# would fail at load time for a reason that has nothing to do with picket.
missing=$(qemu-aarch64 -L "$sysroot" "$sysroot/lib/ld-linux-aarch64.so.1" --list \
  "$litert/libtensorflowlite_c.so" 2>&1 | grep 'not found' || true)
[ -z "$missing" ] || die "LiteRT's libraries do not resolve under $sysroot: $missing"

run() {
  cargo test --locked --target "$target" --workspace --lib
  cargo test --locked --target "$target" -p picket-runtime --test errors
  cargo test --locked --target "$target" --test tests -- detect_parity:: detect_errors::
}

log "aarch64 (qemu): TF 2.9, linked"
(unset LD_LIBRARY_PATH QEMU_SET_ENV; PICKET_EXPECT_TFLITE_VERSION=2.9. run)

# LD_LIBRARY_PATH would reach qemu itself, a host program, as well as the guest. QEMU_SET_ENV
# sets it in the guest only; its loader then searches the -L sysroot prefix first and falls
# back to the real path, where the library is.
log "aarch64 (qemu): LiteRT 2.0.3, through LD_LIBRARY_PATH"
(QEMU_SET_ENV="LD_LIBRARY_PATH=$litert" PICKET_EXPECT_TFLITE_VERSION=2.21. run)
log "aarch64: ok with both libraries"
