#!/usr/bin/env bash
# Cargo runner for aarch64 test binaries in the hardware-in-the-loop VM:
#
#   CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=scripts/hil/cargo-runner.sh \
#     cargo test --target aarch64-unknown-linux-gnu --test hil -- --ignored smoke::
#
# Cargo calls it with the test binary and its arguments, in the package's directory; one cargo
# invocation is one boot, whatever tests it runs. The repository is shared read-only into the
# guest at the same path and the test starts in the same directory, so paths compiled into tests
# (CARGO_MANIFEST_DIR, CARGO_BIN_EXE_picket) resolve.
# Runner options for scripts/hil/run.sh (e.g. `--disk IMG`) go in $HIL_RUN_ARGS; $PICKET_BIN,
# when set, is packed into the VM.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
read -r -a extra <<<"${HIL_RUN_ARGS:-}"
exec bash "$here/run.sh" --share "$root" --cwd "$PWD" "${extra[@]}" -- "$@"
