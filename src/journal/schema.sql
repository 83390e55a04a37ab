-- The journal's schema, version 1: what a fresh journal is created with.
--
-- The file is identified by `PRAGMA application_id` (0x5049434B, "PICK") and versioned by
-- `PRAGMA user_version`; both are set by `schema.rs` in the same transaction as this script, so a
-- file is either a complete journal or no journal at all. Later versions add numbered upgrade
-- scripts beside this one (`upgrade-2.sql` takes version 1 to 2, and so on) and change this file
-- to match what the upgrades produce.

-- Facts about the journal itself, e.g. when it was created and the caps it is pruned to.
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value
) WITHOUT ROWID;

-- One row per event. AUTOINCREMENT so that an id is never reused, even after the newest rows
-- were pruned; ids are contiguous because only the oldest rows are ever deleted.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,           -- wall clock, ms since the Unix epoch
    mono_ms INTEGER NOT NULL,         -- ms since picket started; immune to clock steps
    clock_synced INTEGER NOT NULL CHECK (clock_synced IN (0, 1)),
    kind TEXT NOT NULL,               -- EventKind::as_str
    place TEXT NOT NULL DEFAULT '',   -- zone, line or output name; '' when none
    track_id INTEGER,
    score REAL,
    bbox_x0 REAL,                     -- normalised frame coordinates; all four or none
    bbox_y0 REAL,
    bbox_x1 REAL,
    bbox_y1 REAL,
    direction TEXT,                   -- Direction::as_str, for line crossings
    detail TEXT                       -- a JSON object, or NULL
);

-- `events list --since/--until` and `stats` per day.
CREATE INDEX events_ts ON events (ts_ms);

-- Snapshot JPEGs, apart from the events so that listing never reads them. The key is the
-- event's id; the ring buffer deletes a snapshot in the same transaction as its event.
CREATE TABLE snapshots (
    event_id INTEGER PRIMARY KEY NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    jpeg BLOB NOT NULL
);
