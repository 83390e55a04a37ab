# shellcheck shell=bash
# Shared helpers for picket's scripts: the download cache, pinned fetches, apt and venvs.
# Source it; it defines functions and PICKET_CACHE, and changes nothing else.

set -euo pipefail

PICKET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PICKET_CACHE=${PICKET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/picket}
export PICKET_ROOT PICKET_CACHE

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# check_sha256 FILE SHA: fail loudly if FILE does not have that sha256.
check_sha256() {
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  [ "$got" = "$2" ] || die "$1: sha256 $got, expected $2"
}

# apt_ensure PKG...: install the Debian packages that are not installed yet.
apt_ensure() {
  local missing=() p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# apt_extract PKG DEST: download a Debian package (not install it) and unpack it into DEST once.
apt_extract() {
  local pkg=$1 dest=$2
  [ -f "$dest/.done" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  log "apt: fetching $pkg"
  (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
    { apt-get update -qq && (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null); }
  mkdir -p "$dest"
  dpkg-deb -x "$tmp"/*.deb "$dest"
  rm -rf "$tmp"
  touch "$dest/.done"
}

# venv_ensure NAME REQ...: a Python venv under the cache with exactly these requirements.
# Prints the venv's directory. Re-created when the requirement list changes.
venv_ensure() {
  local name=$1
  shift
  local dir="$PICKET_CACHE/venv/$name" want="$*"
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.reqs" 2>/dev/null)" != "$want" ]; then
    log "venv $name: $want"
    rm -rf "$dir"
    python3 -m venv "$dir" >&2
    "$dir/bin/pip" install -q "$@" >&2
    printf '%s' "$want" >"$dir/.reqs"
  fi
  printf '%s\n' "$dir"
}

# The TFLite C libraries, by flavour and architecture (see scripts/bootstrap.sh).
tflite_dir() { printf '%s/tflite/%s/%s\n' "$PICKET_CACHE" "$1" "$2"; }

# vtest_avi: prints the path of OpenCV's vtest.avi (768x576, 10 fps, 795 frames of campus
# pedestrians), unpacked once from Debian's opencv-doc. Licence: Apache-2.0 AND BSD-3-Clause
# (the package's `Files: *` stanza).
vtest_avi() {
  local dest="$PICKET_CACHE/deb/opencv-doc"
  apt_extract opencv-doc "$dest"
  local f="$dest/usr/share/doc/opencv-doc/examples/data/vtest.avi"
  [ -f "$f" ] || die "opencv-doc has no vtest.avi at $f"
  printf '%s\n' "$f"
}

# demo_clip: prints the path of the demo clip, made once and cached: the first 20 s of vtest.avi
# as MJPEG (concatenated JPEGs, 200 frames at 768x576), the stream a USB webcam sends.
demo_clip() {
  local out="$PICKET_CACHE/media/vtest-20s.mjpeg"
  if [ ! -s "$out" ]; then
    apt_ensure ffmpeg
    local src
    src=$(vtest_avi)
    log "making the demo clip $out"
    mkdir -p "$(dirname "$out")"
    ffmpeg -nostdin -v error -y -i "$src" -t 20 -c:v mjpeg -q:v 5 -f mjpeg "$out.tmp"
    mv "$out.tmp" "$out"
  fi
  printf '%s\n' "$out"
}

# free_port: prints a TCP port on 127.0.0.1 that is free now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# bench_picket: prints the absolute path of the picket binary a benchmark runs: PICKET_BIN if
# set, else target/release/picket, built here first.
bench_picket() {
  local bin=${PICKET_BIN:-}
  if [ -z "$bin" ]; then
    log "cargo build --release"
    (cd "$PICKET_ROOT" && cargo build --release --locked --quiet)
    bin=${CARGO_TARGET_DIR:-$PICKET_ROOT/target}/release/picket
  fi
  [ -x "$bin" ] || die "$bin: not an executable"
  realpath "$bin"
}

# scratch_begin: a temporary directory in `work` and an empty list `pids`; on exit every pid in
# `pids` is killed and waited for and the directory removed (kept when KEEP_WORK is set).
scratch_begin() {
  work=$(mktemp -d)
  pids=()
  trap scratch_end EXIT
}
scratch_end() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}

# mosquitto_start PORT [LINE...]: a throwaway Mosquitto on 127.0.0.1:PORT (anonymous, no
# persistence, plus the given config lines), its config and log in $work, its pid in `pids`;
# returns once it accepts connections.
mosquitto_start() {
  local port=$1
  shift
  {
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port"
    [ "$(id -u)" -ne 0 ] || printf 'user root\n'
    printf '%s\n' "$@"
  } >"$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
  pids+=($!)
  local _
  for _ in $(seq 50); do
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' \
      "$port" 2>/dev/null && return 0
    sleep 0.1
  done
  die "mosquitto did not start on port $port (see $work/mosquitto.log)"
}
