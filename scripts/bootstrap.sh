#!/usr/bin/env bash
# Installs what building and testing picket needs, idempotently, and fetches the TFLite C
# libraries through the package registries, pinned by sha256. Downloads are cached under
# ${XDG_CACHE_HOME:-$HOME/.cache}/picket so fresh clones reuse them.
#
#   tf29/x86_64/libtensorflowlite_c.so    TF 2.9, npm tfjs-tflite-node@0.0.2 (links and tests here)
#   tf29/aarch64/libtensorflowlite_c.so   TF 2.9, same package (glibc >= 2.27: JetPack 4 and up)
#   litert/aarch64/libtensorflowlite_c.so LiteRT 2.0.3 (TF 2.21), PyPI ai-edge-litert wheel,
#                                         its libLiteRtRuntimeCApi.so under our library's name
#   litert-2.3/<arch>/libLiteRt.so        LiteRT 2.3.0's CompiledModel C API, PyPI ai-edge-litert
#                                         wheels, x86_64 and aarch64 (opened at run time: the
#                                         default runtime wherever it loads)
source "$(dirname "$0")/lib.sh"

apt_ensure gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user binutils-aarch64-linux-gnu \
  ca-certificates python3-venv
# libclang: bindgen generates the V4L2 bindings (v4l2-sys-mit) from the kernel headers.
apt_ensure libclang-dev
# The uplink's tests run a real MQTT broker, and make a test CA with openssl.
apt_ensure mosquitto mosquitto-clients openssl

if command -v rustup >/dev/null; then
  targets=$(rustup target list --installed)
  grep -qx aarch64-unknown-linux-gnu <<<"$targets" || rustup target add aarch64-unknown-linux-gnu
  components=$(rustup component list --installed)
  grep -q '^clippy' <<<"$components" || rustup component add clippy
  grep -q '^rustfmt' <<<"$components" || rustup component add rustfmt
fi

fetch_tf29() {
  local x86 arm
  x86=$(tflite_dir tf29 x86_64)
  arm=$(tflite_dir tf29 aarch64)
  [ -f "$x86/libtensorflowlite_c.so" ] && [ -f "$arm/libtensorflowlite_c.so" ] && return 0
  log "tflite: npm tfjs-tflite-node@0.0.2"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack -q tfjs-tflite-node@0.0.2 >/dev/null 2>&1)
  check_sha256 "$tmp/tfjs-tflite-node-0.0.2.tgz" \
    3be1632328a76a2475e5b6833253763c802c859433becb4d879ee1860e3b5284
  tar -xzf "$tmp/tfjs-tflite-node-0.0.2.tgz" -C "$tmp"
  check_sha256 "$tmp/package/cc_deps/linux_amd64/libtensorflowlite_c.so" \
    dc89b4cd86d956516570bd483668e6dd98907f49901d0567dedc69a29a56b7f7
  check_sha256 "$tmp/package/cc_deps/linux_arm64/libtensorflowlite_c.so" \
    ec0dee4fb3418e680d010248ac1e304d9656cc5c8de54caaf91d666712e2f633
  mkdir -p "$x86" "$arm"
  cp "$tmp/package/cc_deps/linux_amd64/libtensorflowlite_c.so" "$x86/"
  cp "$tmp/package/cc_deps/linux_arm64/libtensorflowlite_c.so" "$arm/"
  # The C API headers, for reference when the struct layouts need checking.
  cp -r "$tmp/package/cc_deps/include" "$(tflite_dir tf29 include)"
  rm -rf "$tmp"
}

fetch_litert() {
  local arm
  arm=$(tflite_dir litert aarch64)
  [ -f "$arm/libtensorflowlite_c.so" ] && return 0
  log "tflite: PyPI ai-edge-litert==2.0.3 (aarch64 wheel)"
  local tmp
  tmp=$(mktemp -d)
  pip download -q --no-deps --only-binary=:all: --platform manylinux_2_27_aarch64 \
    --python-version 3.11 -d "$tmp" ai-edge-litert==2.0.3 >/dev/null
  python3 -m zipfile -e "$tmp"/ai_edge_litert-2.0.3-*.whl "$tmp/x"
  check_sha256 "$tmp/x/ai_edge_litert/libLiteRtRuntimeCApi.so" \
    ef2b76075498716283012cff4fe3bd85cfdf71125aebc86a4965d7657814866b
  mkdir -p "$arm"
  cp "$tmp/x/ai_edge_litert/libLiteRtRuntimeCApi.so" "$arm/libtensorflowlite_c.so"
  rm -rf "$tmp"
}

# fetch_litert23 ARCH SHA256: LiteRT 2.3.0's libLiteRt.so from the manylinux_2_27 wheel.
fetch_litert23() {
  local arch=$1 sha=$2 dir tmp
  dir=$(tflite_dir litert-2.3 "$arch")
  [ -f "$dir/libLiteRt.so" ] && return 0
  log "litert: PyPI ai-edge-litert==2.3.0 ($arch wheel)"
  tmp=$(mktemp -d)
  pip download -q --no-deps --only-binary=:all: --platform "manylinux_2_27_$arch" \
    --python-version 3.11 -d "$tmp" ai-edge-litert==2.3.0 >/dev/null
  python3 -m zipfile -e "$tmp"/ai_edge_litert-2.3.0-*.whl "$tmp/x"
  check_sha256 "$tmp/x/ai_edge_litert/libLiteRt.so" "$sha"
  mkdir -p "$dir"
  cp "$tmp/x/ai_edge_litert/libLiteRt.so" "$dir/"
  rm -rf "$tmp"
}

fetch_tf29
fetch_litert
fetch_litert23 x86_64 eec47eb35e2924b3166015887e652a58edc9af823ae38e02bf83bef2548300bb
fetch_litert23 aarch64 b57687dc234d2b8b0598aef5a9c961ed24263df8f8b3f56adbee1cff618e544b
log "bootstrap: ok (cache $PICKET_CACHE)"
