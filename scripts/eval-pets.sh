#!/usr/bin/env bash
# Scores detector, tracker and line counts on PETS09-S2L1 (OpenCV's vtest.avi) against the
# MOTChallenge labels of its frames 1-400, as docs/design/detection.md reports them.
#
# Usage: scripts/eval-pets.sh GT [STEP...]
#   GT     the labels, MOTChallenge gt.txt of frames 1-400 (never committed: CC BY-NC-SA)
#   STEP   detect, sweep, pr, lines, mot (default: all of them)
# Env: PICKET_BIN (else a release build here), ROUNDS (timing rounds, default 3),
#      PR_PNG (default docs/detection-pr.png), KEEP_WORK.
# Frames 1-200 tune, 201-400 report. Picket reads MJPEG or JPEG, not AVI: the clip is
# converted first with ffmpeg, as scripts/lib.sh's demo_clip does. Runs under nice: it is an
# evaluation, not a benchmark of the machine.
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 GT [detect|sweep|pr|lines|mot ...]"
gt=$(realpath "$1")
shift
[ -f "$gt" ] || die "$gt: no such labels file"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(detect sweep pr lines mot)

apt_ensure ffmpeg
bin=$(bench_picket)
py=$(venv_ensure eval-pets motmetrics==1.4.0 numpy==1.26.4 pandas==3.0.6 scipy==1.17.1 \
  matplotlib==3.11.2)
scratch_begin
avi=$(vtest_avi)

# MOT frame n is the clip's frame n-1. JPEG frames for the detector, MJPEG clips for `run`.
log "converting frames 1-400 of $avi"
for half in 1-200 201-400; do
  lo=${half%-*}
  mkdir -p "$work/frames-$half"
  ffmpeg -nostdin -v error -i "$avi" -vf "trim=start_frame=$((lo - 1)):end_frame=$((lo + 199))" \
    -q:v 5 -start_number "$lo" "$work/frames-$half/%04d.jpg"
  cat "$work/frames-$half"/*.jpg >"$work/clip-$half.mjpeg"
done
cat "$work/clip-1-200.mjpeg" "$work/clip-201-400.mjpeg" >"$work/clip-1-400.mjpeg"

nice -n 10 "$py/bin/python" "$PICKET_ROOT/scripts/eval_pets.py" --picket "$bin" --gt "$gt" \
  --work "$work" --rounds "${ROUNDS:-3}" --png "${PR_PNG:-$PICKET_ROOT/docs/detection-pr.png}" \
  "${steps[@]}"
