-- A hub journal's addition to `schema.sql`: where each event came from. Run by the hub on every
-- open; idempotent.

-- One row per event of the hub journal: its box, and its id in the box's journal (NULL for the
-- events the hub raises itself, e.g. `box_offline`). SQLite's UNIQUE treats NULLs as distinct.
CREATE TABLE IF NOT EXISTS origins (
    event_id INTEGER PRIMARY KEY NOT NULL,
    box TEXT NOT NULL,
    box_event INTEGER,
    UNIQUE (box, box_event)
);

-- The ring buffer deletes the oldest events; their origins go in the same transaction. A message
-- delivered again after its event was pruned is written again: delivery never lags the ring by
-- that much while the hub runs.
CREATE TRIGGER IF NOT EXISTS origins_pruned AFTER DELETE ON events
BEGIN
    DELETE FROM origins WHERE event_id = old.id;
END;
