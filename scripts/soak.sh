#!/usr/bin/env bash
# The soak in compressed time: `picket run` fed the committed clips and a clip with long still
# periods (so about half the frames are motion-skipped), looped on stdin as fast as it takes
# them, until --frames frames. The rules fire often (intrusion on the whole view, again every
# second; a line crossing), every rule event carries a snapshot, and the journal is capped at
# its smallest size (1 MiB, 300 events) so it sits at its cap for most of the run.
#
# Every --every frames it samples picket's RSS (and its anonymous and file-backed parts), open
# file descriptors and threads, and the journal's and WAL's sizes, into a CSV; at the end
# scripts/soak_report.py prints the table (figures once the journal has reached its cap) and
# draws the plot.
#
#   scripts/soak.sh [--frames N] [--every N] [--threads N] [--out DIR] [--plot PNG]
#       --frames  frames to run (default 2000000: about 3 hours on a 2-core host at 1 thread)
#       --threads inference threads (default 1)
#       --every   frames between samples (default 10000)
#       --out     work directory (default $PICKET_CACHE/soak): soak.csv, events.db, picket.log
#       --plot    where the PNG goes (default DIR/soak.png)
#
# PICKET_BIN runs that binary instead of building the release one.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

frames=2000000 every=10000 threads=1 out="$PICKET_CACHE/soak" plot=""
while [ $# -gt 0 ]; do
  case $1 in
    --frames) frames=$2 ;;
    --every) every=$2 ;;
    --threads) threads=$2 ;;
    --out) out=$2 ;;
    --plot) plot=$2 ;;
    *) die "unknown argument $1 (see the header of $0)" ;;
  esac
  shift 2
done
[[ $frames =~ ^[0-9]+$ && $every =~ ^[0-9]+$ && $every -gt 0 && $threads =~ ^[1-9][0-9]*$ ]] ||
  die "--frames, --every and --threads are counts"
plot=${plot:-$out/soak.png}
max_bytes=1048576 max_events=300

apt_ensure ffmpeg
bash scripts/bootstrap.sh
picket=${PICKET_BIN:-}
if [ -z "$picket" ]; then
  log "build picket (release)"
  cargo build --release --locked --quiet --bin picket
  picket=$PWD/target/release/picket
fi

rm -rf "$out"
mkdir -p "$out"
# A still view with no one in it (colour bars, 30 s at 10 fps), between the two moving clips.
# The gate runs inference for the first ~10 s of each (the background adapting, tracks
# coasting), and then once per keepalive: about half of all frames are skipped.
still="$out/still.mjpeg"
ffmpeg -nostdin -v error -f lavfi -i "smptebars=s=384x288:r=10" -frames:v 300 \
  -c:v mjpeg -q:v 5 -f mjpeg "$still"
clips=(tests/data/clip/vtest-460-539.mjpeg "$still" tests/data/clip/vtest-000-079.mjpeg "$still")

cat >"$out/soak.toml" <<EOF
# The soak's config (scripts/soak.sh): rules that fire often, snapshots, a small journal cap.
[source]
kind = "file"
path = "$out/clips.fifo"
pacing = "fast"
fps = 10

[model]
threads = $threads

[detector]
classes = ["Person"]

[motion]
enabled = true

[[zones]]
name = "view"
polygon = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]

[[lines]]
name = "midline"
a = [0.5, 0.0]
b = [0.5, 1.0]

[[rules]]
name = "anyone"
kind = "intrusion"
zone = "view"
min_frames = 1
retrigger = "every"
retrigger_s = 1.0

[[rules]]
name = "crossed"
kind = "line_cross"
line = "midline"

[[outputs]]
name = "siren"
kind = "log"

[[alarms]]
rules = ["anyone", "crossed"]
outputs = ["siren"]
pattern = "steady"
hold_s = 1
cooldown_s = 0

[journal]
max_bytes = $max_bytes
max_events = $max_events
batch_interval_ms = 1000

[metrics]
textfile = "$out/metrics.prom"
interval_s = 1.0
log_interval_s = 0.0

[health]
fps_floor = 0.0
EOF
mkfifo "$out/clips.fifo"
"$picket" check --config "$out/soak.toml" >/dev/null

db="$out/events.db"
log "soak: $frames frames, a sample every $every, in $out"
# The clips loop into a named pipe that picket reads as a file: frames are stamped by the
# file's rate (10 fps), so the still periods last as long in frame time however fast it runs.
(while :; do cat "${clips[@]}" || exit 0; done) >"$out/clips.fifo" 2>/dev/null &
feeder=$!
RUST_LOG=warn nice -n 19 "$picket" run --config "$out/soak.toml" --max-frames "$frames" \
  --journal "$db" --state-file "$out/arming.toml" 2>"$out/picket.log" &
pid=$!
trap 'kill "$pid" "$feeder" 2>/dev/null || true' EXIT

csv="$out/soak.csv"
echo "frames,seconds,rss_kib,fds,threads,db_bytes,wal_bytes,inferences,skipped,events,rss_anon_kib,rss_file_kib" >"$csv"
# metric NAME: a counter from the metrics textfile (0 before the first one is written).
metric() {
  local v
  v=$(sed -n "s/^picket_$1_total //p" "$out/metrics.prom" 2>/dev/null || true)
  printf '%s\n' "${v:-0}"
}
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
start=$SECONDS next=$every
while kill -0 "$pid" 2>/dev/null; do
  sleep 0.5
  done_frames=$(metric frames)
  [ "$done_frames" -ge "$next" ] || continue
  status=$(cat "/proc/$pid/status" 2>/dev/null) || break
  rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' <<<"$status")
  anon=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p' <<<"$status")
  file=$(sed -n 's/^RssFile:[[:space:]]*\([0-9]*\) kB/\1/p' <<<"$status")
  threads=$(sed -n 's/^Threads:[[:space:]]*//p' <<<"$status")
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$done_frames" $((SECONDS - start)) "$rss" "$fds" \
    "$threads" "$(size "$db")" "$(size "$db-wal")" "$(metric inferences)" \
    "$(metric inferences_skipped)" "$(metric events)" "$anon" "$file" >>"$csv"
  while [ "$next" -le "$done_frames" ]; do next=$((next + every)); done
done
wait "$pid" || { tail -n 20 "$out/picket.log" >&2; die "picket run failed (log: $out/picket.log)"; }
kill "$feeder" 2>/dev/null || true
trap - EXIT

report=$(venv_ensure soak-report matplotlib==3.11.2)
"$report/bin/python" scripts/soak_report.py "$csv" "$plot" --max-bytes "$max_bytes"
