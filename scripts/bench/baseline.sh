#!/usr/bin/env bash
# The plain TfLite C API figures to set beside `picket bench` and picket's peak RSS, measured on
# this host at the same time, so the wrapper's overhead is judged against the same machine and
# load. The peak is the runtime's own memory floor (docs/guide/running.md, "Memory").
#   scripts/bench/baseline.sh [THREADS] [XNNPACK: 1 or 0]
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

lib=$(tflite_dir tf29 x86_64)
bin="$PICKET_CACHE/bench/capi"
mkdir -p "$(dirname "$bin")"
if [ ! -x "$bin" ] || [ scripts/bench/capi.c -nt "$bin" ]; then
  cc -O2 -I"$(tflite_dir tf29 include)" scripts/bench/capi.c -L"$lib" -ltensorflowlite_c \
    -Wl,-rpath,"$lib" -o "$bin"
fi
"$bin" models/ssd_mobilenetv2_oidv4_int8_u8in.tflite "${1:-1}" "${2:-1}" 2>/dev/null
