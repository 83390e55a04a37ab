#!/usr/bin/env bash
# pull-events.sh HOST [DEST]: copy a picket's event journal off the box over ssh, while it runs.
#
# Runs `picket events backup -` on HOST, which streams a consistent copy made in one read
# transaction, into DEST/events-HOST-<UTC time>.db (DEST defaults to the current directory).
# The file appears only once complete and recognised as a SQLite database. Extra ssh options
# can be given in PICKET_SSH_OPTS, e.g. PICKET_SSH_OPTS="-p 2222".
set -euo pipefail

die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then die "usage: $0 HOST [DEST]"; fi
host=$1
dest=${2:-.}
[ -d "$dest" ] || die "$dest: not a directory"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="events-${host##*@}-$stamp.db"
out="$dest/$name"
part="$out.partial"
trap 'rm -f "$part"' EXIT

# shellcheck disable=SC2086 # PICKET_SSH_OPTS is a list of options
ssh ${PICKET_SSH_OPTS:-} "$host" picket events backup - >"$part" ||
  die "ssh $host picket events backup - failed; nothing was written"
[ "$(head -c 15 "$part")" = "SQLite format 3" ] ||
  die "$host sent something that is not a SQLite database; nothing was kept"
if command -v sqlite3 >/dev/null; then
  check=$(sqlite3 "$part" 'PRAGMA integrity_check' 2>&1) || true
  [ "$check" = ok ] || die "the copy from $host fails integrity_check: $check"
fi
mv "$part" "$out"
trap - EXIT
printf '%s\n' "$out"
