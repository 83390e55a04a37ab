#!/usr/bin/env bash
# The live view and zone editor in a real browser (issue 17's acceptance): `picket run` on the
# committed clip with [preview] on a Unix socket, and tests/browser/zone-editor.mjs driving
# headless Chromium (Debian's `chromium`) with playwright-core through a TCP -> Unix-socket
# bridge, as an owner's browser reaches the view through `ssh -L`. One browser session of at
# most 60 s: the stream is not blank, a polygon drawn by clicks gives TOML `picket check`
# accepts, a bow tie drawn by clicks is refused with `picket check`'s message.
# Cost: cold about 1 min (apt-get update and chromium about 50 s, npm ci about 3 s; picket is
# built already by the host tests); warm about 6 s, of which the browser session is about 4 s.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

apt_ensure chromium
# playwright-core, pinned by tests/browser/package-lock.json, installed once per lock file.
lock=$(sha256sum tests/browser/package-lock.json | cut -c1-12)
modules="$PICKET_CACHE/npm/browser-$lock"
if [ ! -f "$modules/node_modules/playwright-core/package.json" ]; then
  log "npm ci playwright-core into $modules"
  rm -rf "$modules"
  mkdir -p "$modules"
  cp tests/browser/package.json tests/browser/package-lock.json "$modules/"
  (cd "$modules" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi

log "build picket"
cargo build --locked --quiet --bin picket
picket=$(realpath "${CARGO_TARGET_DIR:-target}/debug/picket")

scratch_begin
sock="$work/preview.sock"
# One frame a second: the clip's 80 frames keep the stream alive for 80 s, past the session.
cat >"$work/picket.toml" <<TOML
[source]
kind = "file"
path = "$PICKET_ROOT/tests/data/clip/vtest-460-539.mjpeg"
pacing = "realtime"
fps = 1

[preview]
socket = "$sock"
fps = 1
TOML
"$picket" run --config "$work/picket.toml" --journal "$work/events.db" \
  --state-file "$work/arming.toml" 2>"$work/picket.log" &
pids+=($!)
for _ in $(seq 600); do
  [ -S "$sock" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/picket.log" >&2; die "picket run stopped"; }
  sleep 0.1
done
[ -S "$sock" ] || { cat "$work/picket.log" >&2; die "no socket at $sock after 60 s"; }

PICKET_NODE_MODULES="$modules" timeout 120 \
  node tests/browser/zone-editor.mjs "$sock" "$picket" "$work/picket.toml" "$work" ||
  { cat "$work/picket.log" >&2; die "the browser test failed (KEEP_WORK=1 keeps $work)"; }
