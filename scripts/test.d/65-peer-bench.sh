#!/usr/bin/env bash
# A short peer comparison: scripts/bench-vs-peer.sh on the first 60 frames of the committed clip,
# with both Python peers and picket with motion gating off and on. It prints the table and
# picket's ratios (frames per CPU-second and peak RSS against each peer) for the log, and asserts
# only that the run is sane: every runner counted the same frames and every figure is positive.
# The figures themselves are not checked: the host is shared and timings are noisy. Then the
# release binary it ran: its hot code first, by a link/hot-text.ld that still names that code.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

frames=60
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
bash scripts/bench-vs-peer.sh tests/data/clip/vtest-460-539.mjpeg --frames "$frames" --json "$rows"
python3 - "$rows" "$frames" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = int(sys.argv[2])
names = sorted(r["runtime"] for r in rows)
assert names == ["litert", "picket gating false", "picket gating true", "tflite-runtime"], names
for r in rows:
    assert r["frames"] == want, f"{r['runtime']} processed {r['frames']} frames, not {want}"
    for k in ("frames_per_cpu_s", "wall_fps", "peak_rss_mib", "cpu_s"):
        assert r[k] > 0, f"{r['runtime']}: {k} = {r[k]}"
print(f"peer bench: {len(rows)} runners, {want} frames each")
PY
sections=$(readelf -SW target/release/picket)
grep -q ' \.text\.hot ' <<<"$sections" || die "target/release/picket has no .text.hot"
python3 scripts/hot_text.py check target/release/picket
