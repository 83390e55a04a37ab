#!/usr/bin/env bash
# The main job, end to end on this machine: bootstrap, build, and run picket on the shipped
# model and media.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/media.sh"
cd "$PICKET_ROOT"

bash scripts/bootstrap.sh
cargo build --release --locked
log "picket check on the example config"
./target/release/picket check --config board/config/example.toml

log "picket detect on the shipped images (boxes drawn into $PICKET_CACHE/demo/detect)"
media_ensure
./target/release/picket detect --out "$PICKET_CACHE/demo/detect" \
  "$MEDIA_DIR/person.jpg" "$MEDIA_DIR/astronaut.png" "$MEDIA_DIR/dog.jpg" "$MEDIA_DIR/horses.jpg"
