#!/usr/bin/env bash
# build-deb.sh [--arch arm64|amd64] [--tflite tf29|litert] [--out DIR]: the picket .deb.
#
# Takes the release tree that scripts/build-release.sh makes (glibc 2.27 floor, stripped,
# RUNPATH $ORIGIN/../lib/picket) and stages it as a Debian package with `dpkg-deb --build`:
#
#   /usr/bin/picket                                 the binary
#   /usr/lib/picket/libtensorflowlite_c.so          the chosen TFLite C library
#   /usr/lib/picket/libLiteRt.so                    LiteRT 2.3.0, used where it loads
#   /usr/share/picket/models/                       the shipped model, labels, their README
#   /usr/share/picket/board/                        board profiles and WIRING.md
#   /usr/share/picket/picket.toml.default           the default config as shipped
#   /etc/picket/picket.toml                         the config (a conffile)
#   /lib/systemd/system/picket.service              the hardened unit
#   /lib/systemd/system/picket-uplink.service       the MQTT uplink's unit (shipped disabled)
#   /lib/systemd/system/picket-hub.service          the hub's unit, for a hub machine (disabled)
#   /lib/udev/rules.d/60-picket-gpio.rules          /dev/gpiochip* to group gpio
#   /usr/share/doc/picket/                          README, copyright, changelog
#
# and the maintainer scripts in board/deb/. arm64 is the product; amd64 is the same package
# for a PC, which the tests install into a throwaway root. Prints the .deb's path.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

usage() { die "usage: $0 [--arch arm64|amd64] [--tflite tf29|litert] [--out DIR]"; }

arch=arm64
flavour=tf29
out="$PICKET_ROOT/target/dist"
while [ $# -gt 0 ]; do
  case $1 in
    --arch) arch=${2:-}; shift 2 || usage ;;
    --tflite) flavour=${2:-}; shift 2 || usage ;;
    --out) out=${2:-}; shift 2 || usage ;;
    *) usage ;;
  esac
done
case $arch in
  arm64) target=aarch64-unknown-linux-gnu ;;
  amd64) target=x86_64-unknown-linux-gnu ;;
  *) usage ;;
esac
case $flavour in
  tf29) glibc=2.27 tflite_name="2.9" ;;
  litert) glibc=2.30 tflite_name="LiteRT 2.0.3 (TF 2.21)" ;;
  *) usage ;;
esac
[ "$arch" = amd64 ] && glibc=2.29 # the x86_64 TF 2.9 library's own floor

tarball=$(bash scripts/build-release.sh "$target" --tflite "$flavour" --out "$out")
rel=${tarball%.tar.gz}
read -r version _ _ <"$rel/.release"

pkg="$out/deb-$arch-$flavour"
rm -rf "$pkg"
d="$pkg/root"
install -d -m 0755 "$d/DEBIAN" "$d/usr/bin" "$d/usr/lib/picket" "$d/usr/share/picket" \
  "$d/etc/picket" "$d/lib/systemd/system" "$d/lib/udev/rules.d" "$d/usr/share/doc/picket" \
  "$d/usr/share/lintian/overrides"
install -m 0755 "$rel/bin/picket" "$d/usr/bin/picket"
install -m 0644 "$rel/lib/picket/libtensorflowlite_c.so" "$rel/lib/picket/libLiteRt.so" \
  "$d/usr/lib/picket/"
cp -r "$rel/share/picket/models" "$rel/share/picket/board" "$d/usr/share/picket/"
install -m 0644 "$rel/etc/picket/picket.toml" "$d/etc/picket/picket.toml"
install -m 0644 "$rel/etc/picket/picket.toml" "$d/usr/share/picket/picket.toml.default"
install -m 0644 board/deb/picket.service board/deb/picket-uplink.service \
    board/deb/picket-hub.service "$d/lib/systemd/system/"
install -m 0644 board/deb/60-picket-gpio.rules "$d/lib/udev/rules.d/"
install -m 0644 board/deb/copyright "$d/usr/share/doc/picket/copyright"
install -m 0644 "$rel/README.md" "$d/usr/share/doc/picket/README.md"
gzip -9n <board/deb/changelog >"$d/usr/share/doc/picket/changelog.gz"
chmod 0644 "$d/usr/share/doc/picket/changelog.gz"
install -m 0644 board/deb/lintian-overrides "$d/usr/share/lintian/overrides/picket"
find "$d/usr/share/picket" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +

install -m 0755 board/deb/postinst board/deb/prerm board/deb/postrm "$d/DEBIAN/"
echo /etc/picket/picket.toml >"$d/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$d" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  -e "s/@GLIBC@/$glibc/" -e "s/@TFLITE@/$tflite_name/" board/deb/control.in >"$d/DEBIAN/control"
(cd "$d" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
  sort -z | xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$d/DEBIAN/md5sums" "$d/DEBIAN/conffiles" "$d/DEBIAN/control"

deb="$out/picket_${version}_${arch}.deb"
[ "$flavour" = tf29 ] || deb="$out/picket_${version}_${arch}-$flavour.deb"
dpkg-deb --root-owner-group -Zxz --build "$d" "$deb" >/dev/null
log "package $(basename "$deb"): $(stat -c %s "$deb") bytes"
printf '%s\n' "$deb"
