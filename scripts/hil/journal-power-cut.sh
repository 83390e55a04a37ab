#!/usr/bin/env bash
# The journal's power-cut test in the HIL VM: "committed means kept" on a real kernel, a real
# ext4 and a virtio disk (docs/design/journal.md, docs/design/hil.md).
#
#   scripts/hil/journal-power-cut.sh [--run] PICKET [CUTS]
#
# PICKET is the aarch64 picket. Each of the CUTS (default $HIL_CUTS or 3) cuts takes two boots on
# the same disk image:
#   1. `picket journal-stress` appends events with snapshots to $HIL_DISK/journal/events.db and
#      prints each id once its commit has returned, with a random batch size. qemu is killed at a
#      random moment 0 to 2 s after the console shows the writer's 20th new id: a few commits in
#      at least, however slow the machine. The writer spends nearly all its time in commits
#      (fsync), so the cut most likely lands in the middle of one.
#      With --run, the writer is `picket run` itself, on the demo config, watching the committed
#      clip that `picket feed` plays into v4l2loopback; its journal's debug lines
#      (`committed events A to B`) become the ids printed. Its events come a few a second at
#      most under TCG, so the cut falls 0 to 3 s after its 6th new id (past the start-up
#      events).
#   2. `picket events stats --check` must report integrity ok, and the journal's ids are exported.
# The host then asserts that every id printed before the cut (complete console lines only) is in
# the journal, that no id is in the journal twice, and that no id printed in one boot is printed
# again in a later one (a lost event whose id was given to another). Prints the counts of each
# cut and a total line; exits 1 on any failure. With $HIL_STATS set, the summed boot and command
# times of all boots are written there, as run.sh does for one.
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/lib.sh"

# The guest's commands, expanded by the guest's shell ($HIL_DISK is the virtio disk's ext4).
# shellcheck disable=SC2016
{
  DB='"$HIL_DISK/journal/events.db"'
  # The writer, with its batch size as $1: the journal's directory, then ids on the console.
  WRITER='mkdir -p "$HIL_DISK/journal" &&
exec picket journal-stress --db '"$DB"' --batch "$1" --snapshot-every 20'
  # --run's writer: the feeder in the background, picket run's committed ids on the console
  # (and nothing else, so that --kill-on matches an id).
  RUN_WRITER='mkdir -p "$HIL_DISK/journal" &&
picket feed --device "$HIL_LOOPBACK" --fps 1 --loops 0 \
  "$PICKET_ROOT/tests/data/clip/vtest-460-539.mjpeg" >/tmp/feed.log 2>&1 &
until grep -q "^feeding " /tmp/feed.log; do sleep 1; done
RUST_LOG=info,picket::journal=debug picket run --config "$PICKET_ROOT/board/config/demo.toml" \
  --source "$HIL_LOOPBACK" --format mjpeg --size 384x288 --journal '"$DB"' \
  --state-file "$HIL_DISK/journal/arming.toml" 2>&1 |
while read -r l; do
  case $l in *"committed events "*) set -- ${l##*committed events }; seq "$1" "$3" ;; esac
done'
  # The check: integrity, then one `journal-id N` line per event (export's "id" field).
  CHECKER='picket events stats --check --db '"$DB"' || exit 1
picket events export --format jsonl --db '"$DB"' >/tmp/ids.jsonl || exit 1
sed -n '\''s/.*"id":\([0-9][0-9]*\)[,}].*/journal-id \1/p'\'' /tmp/ids.jsonl'
}

usage() { sed -n '2,/^# shellcheck/{/^# shellcheck/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

# boot OUT RUN_OPTS... -- CMD...: one run.sh boot on the disk, the console into OUT; adds the
# boot's times to the totals.
boot() {
  local out=$1 rc=0
  shift
  : >"$WORK/stats"
  HIL_STATS=$WORK/stats bash "$(dirname "$0")/run.sh" --disk "$WORK/disk.img" --picket "$PICKET" \
    --timeout 180 "$@" >"$out" || rc=$?
  BOOT_S=$(awk -v a="$BOOT_S" -v b="$(sed -n 's/^boot=//p' "$WORK/stats")" \
    'BEGIN { printf "%.1f", a + b }')
  RUN_S=$(awk -v a="$RUN_S" -v b="$(sed -n 's/^run=//p' "$WORK/stats")" \
    'BEGIN { printf "%.1f", a + b }')
  return "$rc"
}

# fail WHAT FILE: say what failed, show the end of that boot's console, and count it.
fail() {
  log "$NAME: FAILED: $1"
  [ -n "${2:-}" ] && tail -n 20 "$2" | sed 's/^/  | /' >&2
  FAILURES=$((FAILURES + 1))
}

# cut N: one power cut and the boot after it; appends to $WORK/reported, sets NEWEST.
cut() {
  local n=$1 batch ms after on what out=$WORK/cut$1.console check=$WORK/check$1.console
  batch=$((1 + RANDOM % 16))
  ms=$((RANDOM % CUT_MS))
  after=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  # No id before it contains it, so the first console line with it is that id.
  on=$((NEWEST + CUT_IDS))
  what="writer with batch $batch"
  [ ${#RUN_OPTS[@]} -eq 0 ] || what="picket run on the clip"
  log "$NAME $n/$CUTS: $what, cut $after s after id $on"
  if ! boot "$out" "${RUN_OPTS[@]}" --kill-on "$on" --kill-after "$after" -- \
    sh -c "$WRITER" writer "$batch"; then
    fail "cut $n: the power cut did not happen while the writer ran" "$out"
    return 0
  fi
  # Complete lines that are an id and nothing else; run.sh marks a line the cut broke off.
  grep -E '^[0-9]+$' "$out" >"$WORK/reported$n" || true
  if ! boot "$check" -- sh -c "$CHECKER"; then
    fail "cut $n: the boot after the cut: integrity check or export failed" "$check"
    return 0
  fi
  grep -q '^integrity ok$' "$check" || { fail "cut $n: no 'integrity ok'" "$check"; return 0; }
  sed -n 's/^journal-id //p' "$check" | sort >"$WORK/found"
  compare "$n"
}

# compare N: the ids of cut N against the journal after it.
compare() {
  local n=$1 reported found missing dup reused last
  reported=$(wc -l <"$WORK/reported$n")
  found=$(wc -l <"$WORK/found")
  last=$(tail -n1 "$WORK/reported$n")
  NEWEST=$(sort -n "$WORK/found" | tail -n1)
  missing=$(sort "$WORK/reported$n" | comm -23 - "$WORK/found" | wc -l)
  dup=$(uniq -d "$WORK/found" | wc -l)
  reused=$(sort "$WORK/reported" "$WORK/reported$n" | uniq -d | wc -l)
  cat "$WORK/reported$n" >>"$WORK/reported"
  REPORTED=$((REPORTED + reported))
  FOUND=$found
  DONE=$((DONE + 1))
  printf 'cut %s: %s ids reported (last %s), journal holds %s ids (newest %s): ' \
    "$n" "$reported" "${last:-none}" "$found" "${NEWEST:-none}"
  printf '%s missing, %s duplicated, %s reused\n' "$missing" "$dup" "$reused"
  [ "$reported" -gt 0 ] || fail "cut $n: no id reported before the cut" "$WORK/cut$n.console"
  [ "$missing" -eq 0 ] || fail "cut $n: $missing reported ids are not in the journal"
  [ "$dup" -eq 0 ] || fail "cut $n: $dup ids are in the journal twice"
  [ "$reused" -eq 0 ] || fail "cut $n: $reused ids were reported twice (an id reused after a cut)"
}

main() {
  NAME="journal power cut" CUT_IDS=20 CUT_MS=2000 RUN_OPTS=()
  if [ "${1:-}" = --run ]; then
    shift
    NAME="picket run power cut" CUT_IDS=6 CUT_MS=3000 WRITER=$RUN_WRITER
    RUN_OPTS=(--share "$PICKET_ROOT" --env "PICKET_ROOT=$PICKET_ROOT")
  fi
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
  PICKET=$1
  CUTS=${2:-${HIL_CUTS:-3}}
  [ -x "$PICKET" ] || die "no picket at $PICKET"
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  : >"$WORK/reported"
  NEWEST=0 REPORTED=0 FOUND=0 DONE=0 FAILURES=0 BOOT_S=0 RUN_S=0
  local n
  for n in $(seq 1 "$CUTS"); do cut "$n"; done
  echo "$NAME: $DONE of $CUTS cuts checked, $REPORTED ids reported," \
    "$FOUND ids in the journal, $FAILURES failures"
  [ -z "${HIL_STATS:-}" ] || printf 'boot=%s\nrun=%s\n' "$BOOT_S" "$RUN_S" >"$HIL_STATS"
  [ "$FAILURES" -eq 0 ] && [ "$DONE" -eq "$CUTS" ]
}

main "$@"
