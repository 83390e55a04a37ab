#!/usr/bin/env bash
# MJPEG 640x480 and 1280x720 to the detector's 300x300 RGB input: picket before (decoded whole,
# then resized) and after (decoded at reduced size to planes, resized, converted last), beside
# OpenCV (cv2.imdecode with IMREAD_REDUCED_COLOR_2 where it applies, cv2.resize), one thread
# each. `planes1` is picket's planar path forced to full size (not what it runs; see
# crates/image/benches/mjpeg.rs); `zune` is the zune-jpeg crate (whole frame to RGB, allocating)
# with picket's RGB resize. ROUNDS alternating rounds (default 5), each the median thread CPU
# time of 51 calls per contender (time preempted by other work does not count); prints the median of the rounds and the ratios to OpenCV (below 1.0 =
# faster).
#
#   scripts/bench-mjpeg.sh [ROUNDS] [--turbojpeg]
#
# --turbojpeg also runs the `turbojpeg` crate (libjpeg-turbo 3's scaled decode to planes, then
# picket's planar resizer; scripts/bench/turbojpeg-probe, built with cmake and nasm) in each
# round. A benchmark: it asserts nothing. The OpenCV venv is the ai-edge-litert peer's
# (scripts/bench-vs-peer.sh), made on first use.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

rounds=5 turbo=""
while [ $# -gt 0 ]; do
  case $1 in
    --turbojpeg) turbo=1; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) rounds=$1; shift ;;
  esac
done
venv=$(venv_ensure peer-litert 'ai-edge-litert==2.3.0' 'numpy==2.4.6' \
  'opencv-python-headless==4.10.0.84')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bench() { cargo bench -q -p picket-image --bench mjpeg -- "$@"; }
log "building the benchmark"
bench write "$work/frames"
probe=""
if [ -n "$turbo" ]; then
  log "building the turbojpeg probe"
  apt_ensure cmake nasm
  export CARGO_TARGET_DIR="$PICKET_CACHE/turbojpeg-probe/target"
  (cd scripts/bench/turbojpeg-probe && cargo build -q --release)
  probe="$CARGO_TARGET_DIR/release/turbojpeg-probe"
  unset CARGO_TARGET_DIR
fi
for r in $(seq "$rounds"); do
  log "round $r of $rounds"
  bench measure "$work/frames" >>"$work/results"
  "$venv/bin/python" scripts/bench/mjpeg_opencv.py "$work/frames" >>"$work/results"
  [ -z "$probe" ] || "$probe" "$work/frames" >>"$work/results"
done

python3 - "$work/results" "$rounds" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    case, who, ms = line.split()
    rows.setdefault((case, who), []).append(float(ms))
print(f"MJPEG -> 300x300 RGB, median of {sys.argv[2]} alternating rounds (ms)")
print(f"{'frame':<10}{'before':>9}{'after':>9}{'planes1':>9}{'zune':>9}{'opencv':>9}"
      f"{'before/cv':>11}{'after/cv':>10}{'planes1/cv':>12}{'zune/cv':>9}")
for case in ("640x480", "1280x720"):
    b, a, p, z, o = (statistics.median(rows[(case, w)])
                     for w in ("before", "after", "planes1", "zune", "opencv"))
    print(f"{case:<10}{b:9.3f}{a:9.3f}{p:9.3f}{z:9.3f}{o:9.3f}"
          f"{b / o:10.2f}x{a / o:9.2f}x{p / o:11.2f}x{z / o:8.2f}x")
for case in ("640x480", "1280x720"):
    if (case, "turbojpeg") in rows:
        t, o = (statistics.median(rows[(case, w)]) for w in ("turbojpeg", "opencv"))
        print(f"{case:<10} turbojpeg crate + picket's planar resize {t:.3f} ms, {t / o:.2f}x opencv")
PY
