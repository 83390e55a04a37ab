#!/usr/bin/env bash
# Fetches Google's fp16 original of the shipped detector (SSD MobileNetV2, Open Images v4,
# Apache-2.0) from the npm package that carries it, checks its sha256, and prints its path.
#
# The package packs assets into one file: bytes 0-183 of objectron_solution_packed_assets.data
# are the label map, and the rest is the .tflite. The int8 model in models/ was quantized from it
# (see models/README.md).
source "$(dirname "$0")/lib.sh"

dest="$PICKET_CACHE/models/ssd_mobilenetv2_oidv4_fp16.tflite"
sha=d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6
if [ ! -f "$dest" ]; then
  log "npm: @mediapipe/objectron@0.4.1675468480"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack -q @mediapipe/objectron@0.4.1675468480 >/dev/null 2>&1)
  tar -xzf "$tmp"/mediapipe-objectron-0.4.1675468480.tgz -C "$tmp"
  mkdir -p "$(dirname "$dest")"
  tail -c +185 "$tmp/package/objectron_solution_packed_assets.data" >"$tmp/model.tflite"
  check_sha256 "$tmp/model.tflite" "$sha"
  mv "$tmp/model.tflite" "$dest"
fi
check_sha256 "$dest" "$sha"
printf '%s\n' "$dest"
