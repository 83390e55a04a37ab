#!/usr/bin/env bash
# bench-preview.sh [ROUNDS] [LOOPS]: what the live view costs the hot thread. `picket run
# --fast` on the clip looped LOOPS (5) times (80 frames each), in three settings side by side: no `[preview]`, the
# live view on with nobody watching, and on with one `/stream.mjpeg` viewer (curl) at the
# default 2 fps. ROUNDS (3) rounds alternate the settings; each setting's figure is the median
# over rounds of the run's hot-thread time per frame (p50 of the `frame` stage, from the log's
# metrics line). Prints each setting against "off" as a ratio. A benchmark, not a test.
#
#   scripts/bench-preview.sh                 # 3 rounds
#   PICKET_BIN=target/debug/picket scripts/bench-preview.sh 1
#
# The binary is target/release/picket, built here, unless PICKET_BIN names one.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

rounds=${1:-3}
loops=${2:-5}
case $rounds$loops in '' | *[!0-9]*) die "usage: $0 [ROUNDS] [LOOPS]" ;; esac
picket=${PICKET_BIN:-}
if [ -z "$picket" ]; then
  log "cargo build --release"
  cargo build --release --locked --quiet
  picket=target/release/picket
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$loops"); do cat tests/data/clip/vtest-460-539.mjpeg; done >"$work/clip.mjpeg"
# The demo config, its [metrics] replaced by one that logs the timings every second.
base=$(sed '/^\[metrics\]/,/^$/d' board/config/demo.toml)

# run SETTING: one run; prints the frame stage's p50 in ms.
run() {
  local setting=$1 cfg="$work/$1.toml" sock="$work/preview.sock" viewer="" out p50
  printf '%s\n[metrics]\ninterval_s = 1\nlog_interval_s = 1\n' "$base" >"$cfg"
  if [ "$setting" != off ]; then
    printf '\n[preview]\nsocket = "%s"\n' "$sock" >>"$cfg"
  fi
  rm -f "$work/events.db"* "$sock"
  "$picket" run --fast --config "$cfg" --source "$work/clip.mjpeg" \
    --journal "$work/events.db" --state-file "$work/arming.toml" \
    >"$work/$setting.log" 2>&1 &
  local pid=$!
  if [ "$setting" = viewer ]; then
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    curl -s --unix-socket "$sock" http://localhost/stream.mjpeg -o /dev/null &
    viewer=$!
  fi
  wait "$pid" || die "picket run ($setting) failed: $(tail -5 "$work/$setting.log")"
  [ -n "$viewer" ] && { kill "$viewer" 2>/dev/null; wait "$viewer" 2>/dev/null; }
  out=$(cat "$work/$setting.log")
  p50=$(sed -n 's/.* frame \([0-9.]*\)\/[0-9.]*.*/\1/p' <<<"$out")
  p50=${p50##*$'\n'}
  [ -n "$p50" ] || die "no frame timing in the $setting run's log"
  echo "$p50"
}

declare -A all
for r in $(seq "$rounds"); do
  for setting in off idle viewer; do
    ms=$(run "$setting")
    log "round $r: $setting frame p50 $ms ms"
    all[$setting]+="$ms "
  done
done
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
off=$(median "${all[off]}")
for setting in off idle viewer; do
  m=$(median "${all[$setting]}")
  awk -v s="$setting" -v m="$m" -v o="$off" \
    'BEGIN {printf "%-7s frame p50 %.2f ms  (%.3f x off)\n", s, m, m / o}'
done
