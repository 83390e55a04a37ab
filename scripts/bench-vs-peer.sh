#!/usr/bin/env bash
# Picket against its rivals on one clip, model and thread count: the Python peers in
# scripts/peer/ (tflite-runtime 2.14 and ai-edge-litert 2.3.0, each in its own venv), and
# `picket run` with motion gating off and on. Prints frames per CPU-second, wall
# fps and peak RSS side by side, then picket's ratios to each peer.
#
#   scripts/bench-vs-peer.sh [CLIP] [--threads N] [--frames N] [--rounds N] [--runtime R]
#                            [--peers all|litert] [--json FILE]
#
# CLIP (MJPEG) defaults to the cached 20 s demo clip (scripts/make-clip.sh --demo). --frames N
# runs every contender on the clip's first N frames only (0, the default, runs it all).
# --rounds N runs every contender N times, in turn within each round, and reports each one's
# medians (default 1). --runtime R runs picket on `auto` (the default), `litert`, `tflite`, or
# `both` (LiteRT and TF 2.9 side by side, as two more rows). --peers litert leaves out the
# tflite-runtime peer (10x slower, so minutes a round at 2 threads). --json FILE also writes the rows,
# one JSON object a line, each with the frames that runner counted.
# This is a benchmark: it asserts nothing, and its figures depend on the host's load
# (scripts/test.d/65-peer-bench.sh runs a short one and checks only that it is sane).
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

clip="" threads=1 frames=0 json="" rounds=1 runtime=auto peers=all
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) clip=$1; shift ;;
  esac
done
[ -n "$clip" ] || clip=$(demo_clip)
[ -f "$clip" ] || die "no clip at $clip"
model=models/ssd_mobilenetv2_oidv4_int8_u8in.tflite
labels=models/object_detection_oidv4_labelmap.txt

results=$(mktemp)
trap 'rm -f "$results"' EXIT

# The peers: the same script under each runtime's venv.
peer() {
  local runtime=$1 venv=$2
  shift 2
  local dir
  dir=$(venv_ensure "$venv" "$@")
  log "peer $runtime, $threads thread(s)"
  "$dir/bin/python" scripts/peer/peer.py "$clip" --model "$model" --labels "$labels" \
    --runtime "$runtime" --threads "$threads" --max-frames "$frames" >>"$results"
}
case $runtime in
  auto | litert | tflite) runtimes=("$runtime") ;;
  both) runtimes=(litert tflite) ;;
  *) die "--runtime: auto, litert, tflite or both, not $runtime" ;;
esac

# Picket: `picket run` on the same clip, as fast as it goes, journal in a temporary directory.
# Its CPU time and peak RSS come from the kernel's accounting of the finished child
# (getrusage RUSAGE_CHILDREN), so it is measured the same way as the peers measure themselves.
# The peers time their frame loop, after their start-up (imports, model load, XNNPACK's weight
# packing, opening the clip); picket's start-up is measured by a run of one frame just before,
# and its loop is the difference: (frames - 1) / (CPU of the whole run - CPU of the one-frame
# run). cpu_total_s is the whole run, start-up included. The frame count is picket's own, from
# its closing log line.
picket_run() {
  local gating=$1 rt=$2 dir max=()
  dir=$(mktemp -d)
  [ "$frames" -gt 0 ] && max=(--max-frames "$frames")
  # The peers run the model once a frame on the whole frame; so does picket here (`tiles =
  # "1x1"`), so that both do the same work. The built-in `auto` tiles a 640×480 clip in two
  # (docs/design/detection.md), twice the inferences.
  printf '[motion]\nenabled = %s\n\n[health]\nfps_floor = 0.0\n\n[detector]\ntiles = "1x1"\n' \
    "$gating" >"$dir/picket.toml"
  log "picket $rt, motion gating $gating, $threads thread(s)"
  python3 - "$gating $rt" "$threads" "$dir" ./target/release/picket run \
    --config "$dir/picket.toml" --source "$clip" --fast --threads "$threads" \
    --runtime "$rt" --state-file "$dir/arming.toml" -- "${max[@]}" >>"$results" <<'EOF'
import json, os, re, resource, subprocess, sys, time
gating, threads, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
split = sys.argv.index("--")
cmd, max_frames = sys.argv[4:split], sys.argv[split + 1:]

def run(extra, journal):
    """Runs picket; returns (frames, wall seconds, CPU seconds of this run)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd + ["--journal", f"{tmp}/{journal}"] + extra,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, RUST_LOG="info"))
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"picket failed ({r.returncode}):\n{r.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"stopped: (\d+) frames", r.stderr)
    if not m:
        sys.exit(f"picket's log has no `stopped:` line:\n{r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return int(m.group(1)), wall, cpu

_, _, startup = run(["--max-frames", "1"], "startup.db")
frames, wall, cpu = run(max_frames, "events.db")
loop = max(cpu - startup, 1e-3)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
g, rt = gating.split()
name = f"picket gating {g}" if rt == "auto" else f"picket {rt} gating {g}"
print(json.dumps(dict(runtime=name, threads=threads, frames=frames,
    wall_s=round(wall, 3), wall_fps=round(frames / wall, 2), cpu_s=round(loop, 3),
    cpu_total_s=round(cpu, 3), frames_per_cpu_s=round((frames - 1) / loop, 2),
    peak_rss_mib=round(ru.ru_maxrss / 1024, 1), detections=None, tracks=None)))
EOF
  rm -rf "$dir"
}
cargo build --release --locked -q
for ((round = 1; round <= rounds; round++)); do
  [ "$rounds" -eq 1 ] || log "round $round of $rounds"
  [ "$peers" = litert ] || peer tflite-runtime peer-tflite-runtime 'tflite-runtime==2.14.0' \
    'numpy<2' 'opencv-python-headless==4.10.0.84'
  peer litert peer-litert 'ai-edge-litert==2.3.0' 'numpy==2.4.6' 'opencv-python-headless==4.10.0.84'
  for rt in "${runtimes[@]}"; do
    picket_run false "$rt"
    picket_run true "$rt"
  done
done
[ -z "$json" ] || cp "$results" "$json"

python3 - "$results" "$clip" <<'EOF'
import json, sys
import statistics
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# One row per runner: the median of each figure over its rounds.
rows, rounds = [], {}
for r in runs:
    rounds.setdefault(r["runtime"], []).append(r)
for name, rs in rounds.items():
    row = dict(rs[0])
    for k in ("wall_fps", "cpu_s", "cpu_total_s", "frames_per_cpu_s", "peak_rss_mib"):
        row[k] = round(statistics.median(x[k] for x in rs), 2)
    rows.append(row)
n = len(next(iter(rounds.values())))
print(f"\nclip {sys.argv[2]}, {rows[0]['frames']} frames, {rows[0]['threads']} thread(s),"
      f" medians of {n} round(s)\n")
head = ("runner", "frames/CPU-s", "wall fps", "peak RSS MiB", "CPU-s (total)", "detections")
print("{:<22} {:>13} {:>9} {:>13} {:>14} {:>11}".format(*head))
for r in rows:
    print("{:<22} {:>13} {:>9} {:>13} {:>14} {:>11}".format(
        r["runtime"], r["frames_per_cpu_s"], r["wall_fps"], r["peak_rss_mib"],
        f"{r['cpu_s']} ({r['cpu_total_s']})", "-" if r["detections"] is None else r["detections"]))
peers = [r for r in rows if not r["runtime"].startswith("picket")]
print("\nframes/CPU-s: each one's frame loop, start-up left out (the peers time their loop;"
      " picket's start-up is a one-frame run's CPU); CPU-s (total): the whole process")
for p in (r for r in rows if r["runtime"].startswith("picket")):
    for q in peers:
        whole = (p["frames"] / p["cpu_total_s"]) / (q["frames"] / q["cpu_total_s"])
        print(f"{p['runtime']} / {q['runtime']}: frames/CPU-s x{p['frames_per_cpu_s'] / q['frames_per_cpu_s']:.2f}"
              f" (whole process x{whole:.2f}), peak RSS x{p['peak_rss_mib'] / q['peak_rss_mib']:.2f}")
EOF
