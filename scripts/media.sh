# shellcheck shell=bash
# Fetches the real media that the demo and the parity inputs use, through the package
# registries, into the cache, pinned by sha256. Source it after lib.sh; it sets MEDIA_DIR.
#
#   person.jpg, dog.jpg, horses.jpg   Debian `darknet`, usr/share/darknet/data/
#   astronaut.png         PyPI `scikit-image` wheel, skimage/data/ (public domain)
#   vtest.avi             Debian `opencv-doc`, usr/share/doc/opencv-doc/examples/data/

MEDIA_DIR="$PICKET_CACHE/media"

media_ensure() {
  mkdir -p "$MEDIA_DIR"
  apt_extract darknet "$PICKET_CACHE/deb/darknet"
  apt_extract opencv-doc "$PICKET_CACHE/deb/opencv-doc"
  local d="$PICKET_CACHE/deb/darknet/usr/share/darknet/data"
  cp -u "$d/person.jpg" "$d/dog.jpg" "$d/horses.jpg" "$MEDIA_DIR/"
  cp -u "$PICKET_CACHE/deb/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$MEDIA_DIR/"
  if [ ! -f "$MEDIA_DIR/astronaut.png" ]; then
    log "pypi: scikit-image wheel (for astronaut.png)"
    local tmp
    tmp=$(mktemp -d)
    pip download -q --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64 \
      --python-version 3.11 -d "$tmp" scikit-image==0.22.0 >/dev/null
    python3 -m zipfile -e "$tmp"/scikit_image-*.whl "$tmp/x"
    cp "$tmp/x/skimage/data/astronaut.png" "$MEDIA_DIR/"
    rm -rf "$tmp"
  fi
  check_sha256 "$MEDIA_DIR/person.jpg" cdcbab947e46110fc2b77784ac54ddbbab2640f1e44cb5e91fc8984a9793a7d1
  check_sha256 "$MEDIA_DIR/dog.jpg" 5a9522051c3cec2bbd2f6323fccba32e8fbf3ddcc2b3e2fd46b04c720bc6f866
  check_sha256 "$MEDIA_DIR/horses.jpg" c8f0a677a1356569e2ce71d2fa88c1030c0ae57ecf5e14170e02d9a86a20dcb4
  check_sha256 "$MEDIA_DIR/astronaut.png" 88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
  check_sha256 "$MEDIA_DIR/vtest.avi" 45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
}
