#!/usr/bin/env bash
# Smoke test of the Python peer (scripts/peer/peer.py) under tflite-runtime: ten frames of the
# committed short clip must give people. The full peer comparison is a benchmark,
# scripts/bench-vs-peer.sh, and is not part of the test suite.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

venv=$(venv_ensure peer-tflite-runtime 'tflite-runtime==2.14.0' 'numpy<2' \
  'opencv-python-headless==4.10.0.84')
out=$("$venv/bin/python" scripts/peer/peer.py tests/data/clip/vtest-460-539.mjpeg \
  --model models/ssd_mobilenetv2_oidv4_int8_u8in.tflite \
  --labels models/object_detection_oidv4_labelmap.txt \
  --runtime tflite-runtime --threads 1 --max-frames 10)
python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["frames"] == 10, r
# Frames 460..469 show five to seven people, some small or overlapping; at the 0.4 threshold
# the int8 model finds three or four a frame (32 in all with the pinned versions).
assert 25 <= r["detections"] <= 45, r
print(f"peer smoke: {r['frames']} frames, {r['detections']} detections")
PY
