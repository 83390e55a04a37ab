#!/usr/bin/env bash
# The main job, end to end on this machine: bootstrap, build, then `picket run` on 20 s of
# OpenCV's vtest clip with the shipped demo config (a zone on the walkway, a line across it,
# alarms on a `log` output), a summary of the journal, and a few annotated snapshots in
# $PICKET_CACHE/demo/. Also `picket detect` on the shipped still images.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/media.sh"
cd "$PICKET_ROOT"

bash scripts/bootstrap.sh
clip=$(demo_clip)
cargo build --release --locked
picket=./target/release/picket
demo="$PICKET_CACHE/demo"
mkdir -p "$demo"
rm -f "$demo"/events.db* "$demo"/arming.toml "$demo"/event-*.jpg

log "picket check on the example and demo configs"
$picket check --config board/config/example.toml
$picket check --config board/config/demo.toml

log "picket run on $(basename "$clip") (200 frames, 768x576 MJPEG), as fast as it goes"
start=$EPOCHREALTIME
RUST_LOG=${RUST_LOG:-error} $picket run --config board/config/demo.toml --source "$clip" --fast \
  --journal "$demo/events.db" --state-file "$demo/arming.toml" --progress
python3 -c 'import sys; print(f"picket run took {float(sys.argv[2]) - float(sys.argv[1]):.1f} s")' \
  "$start" "$EPOCHREALTIME"

log "the journal: $demo/events.db"
$picket events stats --db "$demo/events.db"
$picket events list --db "$demo/events.db" --limit 40

log "annotated snapshots of the first rule events"
ids=$($picket events list --db "$demo/events.db" --limit 10000 --json | python3 -c '
import json, sys
ev = sorted(json.load(sys.stdin), key=lambda e: e["id"])
print(" ".join([str(e["id"]) for e in ev if e["snapshot_bytes"]][:4]))')
for id in $ids; do
  $picket events show "$id" --db "$demo/events.db" --snapshot "$demo/event-$id.jpg" >/dev/null
  echo "$demo/event-$id.jpg"
done

log "picket detect on the shipped images (boxes drawn into $PICKET_CACHE/demo/detect)"
media_ensure
$picket detect --out "$demo/detect" \
  "$MEDIA_DIR/person.jpg" "$MEDIA_DIR/astronaut.png" "$MEDIA_DIR/dog.jpg" "$MEDIA_DIR/horses.jpg"
