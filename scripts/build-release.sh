#!/usr/bin/env bash
# build-release.sh TARGET [--tflite tf29|litert] [--out DIR]: one release tarball for a board.
#
# Builds picket with cargo-zigbuild (Zig from PyPI `ziglang`) against glibc 2.27, so that JetPack 4/5
# and Pi OS Bullseye/Bookworm run it, with gpiocdev's uapi v1 for the Jetson Nano's 4.9 kernel.
# Strips it, then refuses it if `objdump -T` shows a symbol needing a glibc newer than 2.27, or if
# its RUNPATH is not exactly `$ORIGIN:$ORIGIN/../lib/picket`. The tarball holds a /usr-like tree:
#
#   bin/picket                          stripped, RUNPATH $ORIGIN:$ORIGIN/../lib/picket
#   lib/picket/libtensorflowlite_c.so   TF 2.9 (tf29, the default) or LiteRT 2.0.3 (litert)
#   lib/picket/libLiteRt.so             LiteRT 2.3.0's CompiledModel API, opened at run time
#                                       where it loads (x86_64; aarch64 with glibc >= 2.34),
#                                       else picket runs on libtensorflowlite_c.so
#   share/picket/models/                the shipped model, its labels and their README
#   share/picket/board/                 the board profiles and the wiring guide
#   etc/picket/picket.toml              the default config (board/config/example.toml)
#   README.md                           what is where, and how to run it
#
# TARGET: aarch64-unknown-linux-gnu (the boards) or x86_64-unknown-linux-gnu (a PC, for testing
# the package). armv7 is not supported: see the README. Prints the tarball's path; the unpacked
# tree stays beside it for scripts/build-deb.sh. Output: DIR, by default target/dist.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

GLIBC_FLOOR=2.27
ZIGBUILD_REQS=(cargo-zigbuild==0.24.1 ziglang==0.15.2)

usage() { die "usage: $0 aarch64-unknown-linux-gnu|x86_64-unknown-linux-gnu [--tflite tf29|litert] [--out DIR]"; }

[ $# -ge 1 ] || usage
target=$1
shift
flavour=tf29
out="$PICKET_ROOT/target/dist"
while [ $# -gt 0 ]; do
  case $1 in
    --tflite) flavour=${2:-}; shift 2 || usage ;;
    --out) out=${2:-}; shift 2 || usage ;;
    *) usage ;;
  esac
done
case $flavour in tf29 | litert) ;; *) usage ;; esac
case $target in
  aarch64-unknown-linux-gnu) arch=aarch64 deb_arch=arm64 objdump=aarch64-linux-gnu-objdump
    strip=aarch64-linux-gnu-strip readelf=aarch64-linux-gnu-readelf ;;
  x86_64-unknown-linux-gnu) arch=x86_64 deb_arch=amd64 objdump=objdump strip=strip readelf=readelf ;;
  armv7-unknown-linux-gnueabihf)
    die "armv7 is not supported: no package registry ships a TFLite C library for armhf (README, 'armv7')" ;;
  *) usage ;;
esac
lib="$(tflite_dir "$flavour" "$arch")/libtensorflowlite_c.so"
[ -f "$lib" ] || die "$lib: missing (scripts/bootstrap.sh fetches it; LiteRT is aarch64 only)"
litert="$(tflite_dir litert-2.3 "$arch")/libLiteRt.so"
[ -f "$litert" ] || die "$litert: missing (scripts/bootstrap.sh fetches it)"

apt_ensure binutils-aarch64-linux-gnu python3-venv
zig_venv=$(venv_ensure zigbuild "${ZIGBUILD_REQS[@]}")
targets=$(rustup target list --installed)
grep -qx "$target" <<<"$targets" || rustup target add "$target"

# The first `version = ` line is the appliance's own ([workspace.package] names none).
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
# A target directory of its own: the zig-linked objects would otherwise displace the ones the
# test stages build with Debian's cross linker, and each would rebuild the other's.
export CARGO_TARGET_DIR="$PICKET_ROOT/target/zig"
log "cargo zigbuild $target.$GLIBC_FLOOR (release, uapi_v1)"
# The binary always links against the TF 2.9 library (PICKET_TFLITE_DIR defaults to its cache);
# LiteRT exports the same C API and is swapped in at run time under the same name.
PATH="$zig_venv/bin:$PATH" PICKET_RELEASE=1 \
  cargo zigbuild --release --locked --bin picket --features uapi_v1 \
  --target "$target.$GLIBC_FLOOR"
built="$CARGO_TARGET_DIR/$target/release/picket"

name="picket-$version-$arch-$flavour"
stage="$out/$name"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib/picket" "$stage/share/picket/models" \
  "$stage/share/picket/board" "$stage/etc/picket"
"$strip" --remove-section=.comment -o "$stage/bin/picket" "$built"
install -m 0644 "$lib" "$stage/lib/picket/libtensorflowlite_c.so"
install -m 0644 "$litert" "$stage/lib/picket/libLiteRt.so"
install -m 0644 models/*.tflite models/*.txt models/README.md "$stage/share/picket/models/"
install -m 0644 board/*.toml board/WIRING.md "$stage/share/picket/board/"
install -m 0644 board/config/example.toml "$stage/etc/picket/picket.toml"
install -m 0644 board/release-README.md "$stage/README.md"
printf '%s %s %s\n' "$version" "$deb_arch" "$flavour" >"$stage/.release"

# The glibc floor: no dynamic symbol may need a newer version than GLIBC_FLOOR.
newest=$("$objdump" -T "$stage/bin/picket" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' |
  sort -uV | tail -1)
[ "$(printf '%s\n%s\n' "$newest" "$GLIBC_FLOOR" | sort -V | tail -1)" = "$GLIBC_FLOOR" ] ||
  die "$built needs GLIBC_$newest, above the floor $GLIBC_FLOOR"
# shellcheck disable=SC2016 # the literal $ORIGIN
want_runpath='$ORIGIN:$ORIGIN/../lib/picket'
dynamic=$("$readelf" -d "$stage/bin/picket")
runpath=$(sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p' <<<"$dynamic")
[ "$runpath" = "$want_runpath" ] || die "RUNPATH is '$runpath', expected '$want_runpath'"
grep -q 'NEEDED.*\[libtensorflowlite_c.so\]' <<<"$dynamic" ||
  die "the binary does not link libtensorflowlite_c.so"
# The code `picket run` executes comes first (link/hot-text.ld; the peer-bench stage checks that
# the script still names it, on the host's release binary, which keeps its symbols).
# A `.text.hot` under 1 MiB means the script's patterns missed (they name v0-mangled symbols).
sections=$("$readelf" -SW "$stage/bin/picket")
hot=$(sed -n 's/.* \.text\.hot  *PROGBITS  *[0-9a-f]*  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p' <<<"$sections")
hot=$((16#${hot:-0}))
[ "$hot" -ge 1048576 ] || die "the binary's .text.hot holds $hot bytes (link/hot-text.ld)"

tar -C "$out" --owner=0 --group=0 --sort=name -czf "$out/$name.tar.gz" "$name"
log "release $name: newest glibc symbol GLIBC_$newest; binary $(stat -c %s "$stage/bin/picket") bytes stripped, $hot of hot text"
printf '%s\n' "$out/$name.tar.gz"
