//! A write transaction of the caller's own on the store's file: for rows that must commit together
//! with events (API tokens and their `TokenCreated`/`TokenRevoked` audit events, crates/auth).
//!
//! It takes the same two locks as an append, in the same order: this process's writer queue (so it
//! waits in line with the store's appends, seals and imports instead of in SQLite's busy handler),
//! then SQLite's write lock (`BEGIN IMMEDIATE`). Events appended through it are numbered while that
//! lock is held, exactly as [`EventStore::append`](crate::EventStore::append) numbers them, so $all
//! stays gap-free and in commit order.

use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::{SqliteEventStore, append};
use crate::{AppendResult, ExpectedVersion, NewEvent, StoreError};

/// An open write transaction (see the module docs). Dropping it without [`SqliteWrite::commit`]
/// rolls back everything written through it, events included.
pub struct SqliteWrite {
    tx: Transaction<'static, Sqlite>,
    store: SqliteEventStore,
    /// Whether an append wrote events (then subscribers are woken after the commit).
    appended: bool,
    // Declared last so it is released after the transaction has been rolled back on drop.
    _writer: OwnedMutexGuard<()>,
}

impl std::fmt::Debug for SqliteWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWrite")
            .field("appended", &self.appended)
            .finish()
    }
}

impl SqliteEventStore {
    /// Opens a write transaction holding the writer queue and SQLite's write lock: the caller's
    /// own statements ([`SqliteWrite::conn`]) and appends ([`SqliteWrite::append`]) commit
    /// together or not at all.
    pub async fn begin_write(&self) -> Result<SqliteWrite, StoreError> {
        let writer = self.shared.writer.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(SqliteWrite {
            tx,
            store: self.clone(),
            appended: false,
            _writer: writer,
        })
    }
}

impl SqliteWrite {
    /// The transaction's connection, for the caller's own statements.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// Appends inside this transaction, with the checks, hash chain and retry rules of
    /// [`EventStore::append`](crate::EventStore::append). The events are visible to others only
    /// after [`SqliteWrite::commit`].
    pub async fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let prepared = append::prepare(stream, events)?;
        let result = append::append_in(&mut self.tx, stream, expected, &prepared).await?;
        if !result.replayed {
            self.appended = true;
        }
        Ok(result)
    }

    /// Commits, then wakes this process's subscribers if events were appended.
    pub async fn commit(self) -> Result<(), StoreError> {
        let SqliteWrite {
            tx,
            store,
            appended,
            _writer,
        } = self;
        tx.commit().await?;
        // The queue is released only after the commit, as in `append`.
        drop(_writer);
        if appended {
            store.wake_subscribers();
        }
        Ok(())
    }
}
