#!/usr/bin/env bash
# Makes the short clip committed for end-to-end tests, tests/data/clip/vtest-460-539.mjpeg:
# frames 460..539 of OpenCV's vtest.avi (8 s at 10 fps, people walking through the middle of
# the frame), halved to 384x288, as MJPEG. tests/data/clip/README.md records the provenance.
# Re-running it rewrites the file; the committed copy is the reference, so only do that on purpose.
#
#   scripts/make-clip.sh            # (re)make the committed short clip
#   scripts/make-clip.sh --demo     # print the cached 20 s demo clip's path, making it once
source "$(dirname "$0")/lib.sh"

if [ "${1:-}" = "--demo" ]; then
  demo_clip
  exit 0
fi
apt_ensure ffmpeg
src=$(vtest_avi)
out="$PICKET_ROOT/tests/data/clip/vtest-460-539.mjpeg"
ffmpeg -nostdin -v error -y -i "$src" -vf "select='between(n\,460\,539)',scale=384:288" \
  -fps_mode passthrough -c:v mjpeg -q:v 5 -f mjpeg "$out"
log "wrote $out ($(stat -c %s "$out") bytes)"
