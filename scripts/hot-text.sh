#!/usr/bin/env bash
# Rewrites link/hot-text.ld, the order of picket's code in the binary (scripts/hot_text.py says
# why): builds the release binary, runs `picket run` on the demo clip under callgrind twice at
# once (LiteRT with motion gating, as `picket run` on a box; TF 2.9 without it, the fallback),
# and writes the functions they executed, hottest first. A few minutes on 2 cores. Run it when
# `scripts/hot_text.py check` (the release build's check) says the script is stale.
#
#   scripts/hot-text.sh [--frames N]     frames of the clip per run (default: all, 200)
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

frames=0
case ${1:-} in
  --frames) frames=$2 ;;
  "") ;;
  *) die "unknown argument $1 (see the header of $0)" ;;
esac
[[ $frames =~ ^[0-9]+$ ]] || die "--frames: a count"
apt_ensure valgrind
cargo build --release --locked -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clip=$(demo_clip)
max=()
[ "$frames" -gt 0 ] && max=(--max-frames "$frames")
printf '[health]\nfps_floor = 0.0\n' >"$work/gated.toml"
printf '[motion]\nenabled = false\n\n[health]\nfps_floor = 0.0\n' >"$work/ungated.toml"

# profile NAME RUNTIME CONFIG: one `picket run` under callgrind, in the background.
profile() {
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$1.%p.cg" \
    ./target/release/picket run --config "$work/$3" --source "$clip" --fast --threads 1 \
    --runtime "$2" --journal "$work/$1.db" --state-file "$work/$1.toml" "${max[@]}" \
    >"$work/$1.log" 2>&1 &
}
log "callgrind: picket run on $clip, LiteRT gated and TF 2.9 ungated"
profile litert litert gated.toml
profile tflite tflite ungated.toml
wait -n || die "a profiled run failed: $(tail -n 5 "$work"/*.log)"
wait -n || die "a profiled run failed: $(tail -n 5 "$work"/*.log)"
python3 scripts/hot_text.py write target/release/picket "$work"/*.cg >"$work/hot-text.ld"
mv "$work/hot-text.ld" link/hot-text.ld
log "link/hot-text.ld: $(grep -c '^    \*(' link/hot-text.ld) patterns; rebuild to link with it"
