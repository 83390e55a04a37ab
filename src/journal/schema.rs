//! Recognising, creating and upgrading the journal file.
//!
//! A picket journal is a SQLite file whose `application_id` is [`APPLICATION_ID`] and whose
//! `user_version` is its schema version. A fresh file gets `schema.sql`; an older one gets the
//! numbered upgrades in [`UPGRADES`], each in one transaction with its version bump. Anything
//! else (a text file, a truncated or corrupt database, another program's database) is
//! [`JournalError::Unusable`], and a newer version is [`JournalError::NewerSchema`].

use super::{sql, JournalError};
use rusqlite::{Connection, ErrorCode};
use std::path::Path;

/// `PRAGMA application_id` of a picket journal: "PICK" in ASCII.
pub const APPLICATION_ID: i32 = 0x5049_434B;
/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = include_str!("schema.sql");
/// `UPGRADES[i]` takes schema version `i + 1` to `i + 2`. Empty while there is only version 1.
const UPGRADES: &[&str] = &[];

/// What a file turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Identity {
    /// An empty database: no tables and no application id.
    Empty,
    /// A picket journal at this schema version (never newer than ours).
    Journal(i64),
}

/// Identifies the database behind `conn`. Corruption and foreign files become `Unusable`.
pub fn identify(conn: &Connection, path: &Path) -> Result<Identity, JournalError> {
    let read = || -> rusqlite::Result<(i32, i64, i64)> {
        let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        Ok((app, version, tables))
    };
    let (app, version, tables) = read().map_err(|e| unusable_or(e, path))?;
    if app == 0 && tables == 0 {
        return Ok(Identity::Empty);
    }
    if app != APPLICATION_ID {
        return Err(JournalError::Unusable {
            path: path.to_owned(),
            why: format!("a SQLite database of another program: application_id {app:#x}"),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(JournalError::NewerSchema {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 1 {
        return Err(JournalError::Unusable {
            path: path.to_owned(),
            why: format!("picket's application id but schema version {version}"),
        });
    }
    Ok(Identity::Journal(version))
}

/// `PRAGMA quick_check`; anything but `ok` makes the file `Unusable`.
pub fn quick_check(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let first: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| unusable_or(e, path))?;
    if first == "ok" {
        Ok(())
    } else {
        Err(JournalError::Unusable {
            path: path.to_owned(),
            why: format!("quick_check: {first}"),
        })
    }
}

/// Creates the schema in an empty database, or upgrades an older one, in one transaction each.
pub fn create_or_upgrade(
    conn: &mut Connection,
    identity: &Identity,
    path: &Path,
) -> Result<(), JournalError> {
    let e = sql(path);
    match *identity {
        Identity::Empty => {
            let tx = conn.transaction().map_err(&e)?;
            tx.execute_batch(SCHEMA).map_err(&e)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(&e)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(&e)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('created_ms', ?1), ('created_by', ?2)",
                (now_ms(), concat!("picket ", env!("CARGO_PKG_VERSION"))),
            )
            .map_err(&e)?;
            tx.commit().map_err(&e)?;
            log::info!(
                "journal {}: created (schema {SCHEMA_VERSION})",
                path.display()
            );
        }
        Identity::Journal(v) => {
            for (from, script) in (v..).zip(UPGRADES.iter().skip(v as usize - 1)) {
                let tx = conn.transaction().map_err(&e)?;
                tx.execute_batch(script).map_err(&e)?;
                tx.pragma_update(None, "user_version", from + 1)
                    .map_err(&e)?;
                tx.commit().map_err(&e)?;
                log::info!(
                    "journal {}: upgraded schema {from} → {}",
                    path.display(),
                    from + 1
                );
            }
        }
    }
    Ok(())
}

/// Corruption-class errors mean the file is unusable; anything else (I/O, locking) stays a
/// plain SQLite error, because the file itself may be fine.
pub fn unusable_or(e: rusqlite::Error, path: &Path) -> JournalError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => JournalError::Unusable {
            path: path.to_owned(),
            why: e.to_string(),
        },
        _ => JournalError::Sqlite {
            path: path.to_owned(),
            cause: e,
        },
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_becomes_a_journal_at_the_current_version() {
        let mut c = Connection::open_in_memory().unwrap();
        let p = Path::new(":memory:");
        assert_eq!(identify(&c, p).unwrap(), Identity::Empty);
        create_or_upgrade(&mut c, &Identity::Empty, p).unwrap();
        assert_eq!(identify(&c, p).unwrap(), Identity::Journal(SCHEMA_VERSION));
        quick_check(&c, p).unwrap();
    }

    #[test]
    fn foreign_and_newer_databases_are_refused() {
        let c = Connection::open_in_memory().unwrap();
        let p = Path::new("x.db");
        c.execute_batch("CREATE TABLE t (a)").unwrap();
        let err = identify(&c, p).unwrap_err();
        assert!(matches!(err, JournalError::Unusable { .. }), "{err}");
        assert!(err.to_string().contains("another program"), "{err}");
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = identify(&c, p).unwrap_err();
        assert!(
            matches!(err, JournalError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
            "{err}"
        );
    }
}
