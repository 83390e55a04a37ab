#!/usr/bin/env bash
# The wear budget at full length: what `picket run` writes to its journal's disk in the HIL VM,
# idle and busy, scaled to a day (tests/hil/wear.rs, whose scaled idle run the HIL stage does).
#
#   scripts/wear.sh [MINUTES] [idle|busy|both] [tmpfs|disk]
#
# MINUTES (default 30) is each measured window; the third word says where the metrics textfile
# goes (default tmpfs; `disk`: beside the journal, where node_exporter's default directory would
# be on a card). Each mode is one boot of the arm64 kernel VM (scripts/hil/), through cargo and
# scripts/hil/cargo-runner.sh. Prints one `figure:` line per mode (sectors written to the block
# device, picket's write_bytes, both per day); exits non-zero when a run fails or idle is over
# 5 MB a day with the textfile on tmpfs.
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/hil/lib.sh"
cd "$PICKET_ROOT"

MINUTES=${1:-30}
MODES=${2:-both}
TEXTFILE=${3:-tmpfs}
TEST=wear::idle_picket_writes_at_most_5_mb_a_day_to_its_journal_disk
[ "$MODES" = both ] && MODES="idle busy"

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$PICKET_ROOT/scripts/hil/cargo-runner.sh"
FIGURES=()
RC=0
for mode in $MODES; do
  out=$(mktemp)
  secs=$((MINUTES * 60))
  export HIL_RUN_ARGS="--timeout $((secs + 900)) --env HIL_WEAR=$mode --env HIL_WEAR_S=$secs \
--env HIL_WEAR_TEXTFILE=$TEXTFILE"
  log "wear: $mode for $MINUTES min, textfile on $TEXTFILE"
  rc=0
  cargo test --release --locked --target aarch64-unknown-linux-gnu --test hil -- \
    --ignored --exact "$TEST" --nocapture 2>&1 | tee "$out" || rc=$?
  figure=$(sed -n 's/^figure: //p' "$out")
  FIGURES+=("${figure:-$mode: no figure (exit $rc)}")
  [ "$rc" -eq 0 ] || RC=$rc
  rm -f "$out"
done
log "wear: results"
printf '  %s\n' "${FIGURES[@]}"
exit "$RC"
