#!/usr/bin/env bash
# Makes the short clips committed for end-to-end tests, from OpenCV's vtest.avi, halved to
# 384x288, as MJPEG; tests/data/clip/README.md records their provenance:
#   tests/data/clip/vtest-460-539.mjpeg  frames 460..539 (8 s at 10 fps), the demo's golden clip
#   tests/data/clip/vtest-000-079.mjpeg  frames 0..79, the small-people (mosaic) test's clip
# Re-running it rewrites the files; the committed copies are the reference, so only do that on
# purpose.
#
#   scripts/make-clip.sh            # (re)make the committed short clips
#   scripts/make-clip.sh --demo     # print the cached 20 s demo clip's path, making it once
source "$(dirname "$0")/lib.sh"

if [ "${1:-}" = "--demo" ]; then
  demo_clip
  exit 0
fi
apt_ensure ffmpeg
src=$(vtest_avi)
for range in "460 539" "0 79"; do
  set -- $range
  out="$PICKET_ROOT/tests/data/clip/vtest-$(printf '%03d-%03d' "$1" "$2").mjpeg"
  ffmpeg -nostdin -v error -y -i "$src" -vf "select='between(n\,$1\,$2)',scale=384:288" \
    -fps_mode passthrough -c:v mjpeg -q:v 5 -f mjpeg "$out"
  log "wrote $out ($(stat -c %s "$out") bytes)"
done
