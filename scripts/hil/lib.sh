# shellcheck shell=bash
# Shared helpers for the hardware-in-the-loop VM scripts in scripts/hil/: where the cache lives,
# which Debian arm64 kernel is current, and how to fetch Debian packages for another
# architecture. Source it after scripts/lib.sh; it defines functions and variables only.

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

HIL_CACHE="$PICKET_CACHE/hil"
# The kernel tree that setup.sh built last; run.sh boots it without asking apt.
HIL_CURRENT="$HIL_CACHE/current"
export HIL_CACHE HIL_CURRENT

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# arm64_apt_ready: make apt know the arm64 package lists, so that the kernel, headers and
# busybox for the guest can be downloaded (never installed) on an amd64 host.
arm64_apt_ready() {
  [ "$(dpkg --print-architecture)" = arm64 ] && return 0
  local foreign
  foreign=$(dpkg --print-foreign-architectures)
  grep -qx arm64 <<<"$foreign" && return 0
  log "apt: adding the arm64 architecture (package lists only; nothing arm64 is installed)"
  as_root dpkg --add-architecture arm64
  apt_update
}

# apt_update: refresh the package lists once per run; offline, carry on with what is there.
apt_update() {
  [ -n "${APT_FRESH:-}" ] && return 0
  APT_FRESH=1
  as_root apt-get update -qq || log "apt-get update failed; using the package lists as they are"
}

# kernel_release: the release of Debian's current arm64 kernel, e.g. 6.1.0-56-arm64. Resolved from
# the linux-image-arm64 metapackage every time, because the mirror drops old versions.
kernel_release() {
  local deps
  deps=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null || true)
  sed -n 's/^ *Depends: linux-image-\(.*-arm64\)\(:arm64\)\{0,1\}$/\1/p' <<<"$deps" | sed -n 1p
}

# deb_version PKG: the candidate version apt would download.
deb_version() {
  local policy
  policy=$(apt-cache policy "$1" 2>/dev/null || true)
  sed -n 's/^ *Candidate: //p' <<<"$policy" | sed -n 1p
}

# deb_extract PKG DEST: download PKG (any architecture, e.g. foo:arm64 or foo=1.2) and unpack it
# into DEST, which may already hold other packages. Marked done per package.
deb_extract() {
  local pkg=$1 dest=$2 stamp
  stamp="$dest/.done-$(printf '%s' "$pkg" | tr -c 'A-Za-z0-9._-' _)"
  [ -f "$stamp" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  log "apt: fetching $pkg"
  (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
    { as_root apt-get update -qq && (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null); }
  mkdir -p "$dest"
  dpkg-deb -x "$tmp"/*.deb "$dest"
  rm -rf "$tmp"
  touch "$stamp"
}

# elapsed START: seconds since START (from `date +%s.%N`), one decimal.
elapsed() {
  awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
