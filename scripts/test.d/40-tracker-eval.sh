#!/usr/bin/env bash
# The tracker's acceptance gate: picket's tracker against a reference ByteTrack (Roboflow
# `trackers`) on seeded noisy detections made from TUD-Campus, scored by motmetrics. Fails when
# picket's mean IDF1 or MOTA is below the reference's, or its total ID switches above them.
#
# motmetrics 1.4 needs numpy < 2 and `trackers` needs numpy >= 2: two venvs, files between them.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

metrics=$(venv_ensure eval-motmetrics motmetrics==1.4.0 numpy==1.26.4 pandas==3.0.6 scipy==1.17.1)
reference=$(venv_ensure eval-trackers trackers==2.6.1 numpy==2.4.6 supervision==0.31.2)

log "build picket (debug: the evaluation is 20 short sequences)"
cargo build --locked --quiet --bin picket

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$metrics/bin/python" scripts/eval_tracker.py run \
  --picket target/debug/picket --ref-python "$reference/bin/python" --workdir "$work"
