#!/usr/bin/env bash
# Regenerates the parity data under tests/data/: the 300x300 inputs made from real media, and
# the raw outputs and golden detections of the Python reference (tflite-runtime 2.14, reference
# kernels, numpy decoding). Run it by hand when the model or the decode algorithm changes, then commit the result.
#
#   scripts/reference/run.sh            inputs + goldens
#   scripts/reference/run.sh --golden   goldens only, from the committed inputs
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../media.sh"
cd "$PICKET_ROOT"

venv=$(venv_ensure reference tflite-runtime==2.14.0 'numpy<2' opencv-python-headless==4.10.0.84)
if [ "${1:-}" != "--golden" ]; then
  media_ensure
  "$venv/bin/python" scripts/reference/make_inputs.py "$MEDIA_DIR" tests/data/inputs
fi
"$venv/bin/python" scripts/reference/golden.py models/ssd_mobilenetv2_oidv4_int8_u8in.tflite \
  models/object_detection_oidv4_labelmap.txt tests/data/inputs tests/data/golden.json \
  tests/data/anchors.json tests/data/raw
log "reference: wrote tests/data/golden.json and tests/data/anchors.json"
