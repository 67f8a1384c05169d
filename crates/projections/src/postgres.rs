//! Every SQL statement of the projector runtime (checkpoints go through eventstore's functions).
//!
//! Locks, all PostgreSQL advisory locks keyed by a hash of the projection's name:
//! - *leader* (session level): held by the one runner that applies a projection; the others stand
//!   by. Losing the connection loses the lock and the open batch transaction together.
//! - *swap* (transaction level): every batch transaction takes it shared, a rebuild's swap takes it
//!   exclusive, so a swap never interleaves with a batch.
//! - *rebuild* (session level): one rebuild of a projection at a time.

use eventstore::Position;
use eventstore::postgres::load_checkpoint;
use sqlx::{AssertSqlSafe, PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::RuntimeError;
use crate::backend::BatchStatus;
use crate::status::{Lag, ProjectionStatus};

/// The channel a runner notifies (payload: the projection's name) after each committed batch.
pub const CHANNEL: &str = "taizhang_projections";

/// The schema the read models live in.
pub const REPORTING: &str = "reporting";

/// Lag counts stop at this many events, so measuring a far-behind projection stays cheap.
pub const LAG_COUNT_CAP: i64 = 1_000_000;

/// The projection's checkpoint name in `eventstore.checkpoints`.
pub fn checkpoint_name(projection: &str) -> String {
    format!("projection:{projection}")
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum LockKind {
    Leader,
    Swap,
    Rebuild,
}

/// A stable 64-bit key (FNV-1a) for an advisory lock: the same in every process and release.
pub(crate) fn lock_key(kind: LockKind, projection: &str) -> i64 {
    let purpose = match kind {
        LockKind::Leader => "leader",
        LockKind::Swap => "swap",
        LockKind::Rebuild => "rebuild",
    };
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("taizhang.projection.{purpose}:{projection}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Names end up in schema names and lock keys: keep them to lower_snake_case.
pub(crate) fn validate_name(name: &str) -> Result<(), RuntimeError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 40;
    if ok {
        Ok(())
    } else {
        Err(RuntimeError::InvalidName(name.to_owned()))
    }
}

pub(crate) fn commit_i64(position: Position) -> Result<i64, RuntimeError> {
    i64::try_from(position.commit)
        .map_err(|_| RuntimeError::PositionRange(format!("commit {}", position.commit)))
}

pub(crate) fn position_from(commit: i64, prepare: i64) -> Result<Position, RuntimeError> {
    let commit = u64::try_from(commit)
        .map_err(|_| RuntimeError::PositionRange(format!("commit {commit}")))?;
    Ok(Position::new(commit, prepare))
}

/// A position from two nullable columns (None unless both are set).
fn optional_position(
    row: &sqlx::postgres::PgRow,
    commit: &str,
    prepare: &str,
) -> Result<Option<Position>, RuntimeError> {
    match (
        row.try_get::<Option<i64>, _>(commit)?,
        row.try_get::<Option<i64>, _>(prepare)?,
    ) {
        (Some(c), Some(p)) => Ok(Some(position_from(c, p)?)),
        _ => Ok(None),
    }
}

pub(crate) async fn try_session_lock(
    conn: &mut PgConnection,
    key: i64,
) -> Result<bool, RuntimeError> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(conn)
        .await?)
}

pub(crate) async fn session_unlock(conn: &mut PgConnection, key: i64) -> Result<(), RuntimeError> {
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn backend_pid(conn: &mut PgConnection) -> Result<i32, RuntimeError> {
    Ok(sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await?)
}

/// First statements of a batch transaction: wait out a swap in progress (shared swap lock), then
/// return the stored checkpoint, row-locked so a second writer of it would queue behind us.
pub(crate) async fn begin_batch(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<Position, RuntimeError> {
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
        .bind(lock_key(LockKind::Swap, projection))
        .execute(&mut *conn)
        .await?;
    locked_checkpoint(conn, projection).await
}

/// The stored checkpoint, row-locked for the rest of the transaction (START when none).
pub(crate) async fn locked_checkpoint(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<Position, RuntimeError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT commit_pos, prepare_pos FROM eventstore.checkpoints WHERE name = $1 FOR UPDATE",
    )
    .bind(checkpoint_name(projection))
    .fetch_optional(conn)
    .await?;
    match row {
        Some((commit, prepare)) => position_from(commit, prepare),
        None => Ok(Position::START),
    }
}

/// The checkpoint as stored now (START when none), outside any transaction.
pub(crate) async fn checkpoint(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<Position, RuntimeError> {
    Ok(load_checkpoint(conn, &checkpoint_name(projection))
        .await?
        .unwrap_or(Position::START))
}

/// Points unqualified table names at `schema` for the rest of the transaction.
pub(crate) async fn set_search_path(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(), RuntimeError> {
    // set_config takes a bind parameter, unlike SET; the quotes make it one identifier.
    sqlx::query("SELECT set_config('search_path', $1, true)")
        .bind(format!("\"{schema}\""))
        .execute(conn)
        .await?;
    Ok(())
}

/// Tells waiters (see [`crate::wait_for`]) that the projection's checkpoint moved; delivered at commit.
pub(crate) async fn notify(conn: &mut PgConnection, projection: &str) -> Result<(), RuntimeError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(projection)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that `holder` leads the projection (creating the status row) and returns its state.
pub(crate) async fn claim_status(
    conn: &mut PgConnection,
    projection: &str,
    holder: &str,
    position: Position,
) -> Result<String, RuntimeError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO reporting.projection_status AS s \
             (projection, state, position_commit, position_prepare, holder, updated_at) \
         VALUES ($1, 'running', $2, $3, $4, now()) \
         ON CONFLICT (projection) DO UPDATE SET holder = excluded.holder, updated_at = now() \
         RETURNING s.state",
    )
    .bind(projection)
    .bind(commit_i64(position)?)
    .bind(position.prepare)
    .bind(holder)
    .fetch_one(conn)
    .await?)
}

pub(crate) async fn state(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<Option<String>, RuntimeError> {
    Ok(
        sqlx::query_scalar("SELECT state FROM reporting.projection_status WHERE projection = $1")
            .bind(projection)
            .fetch_optional(conn)
            .await?,
    )
}

pub(crate) async fn record_batch(
    conn: &mut PgConnection,
    projection: &str,
    holder: &str,
    batch: &BatchStatus,
) -> Result<(), RuntimeError> {
    // A rebuild in progress owns the state column until it swaps; a batch leaves it alone.
    sqlx::query(
        "INSERT INTO reporting.projection_status AS s \
             (projection, state, position_commit, position_prepare, events_applied, last_event_at, \
              lag_events, lag_seconds, holder, updated_at) \
         VALUES ($1, 'running', $2, $3, $4, $5, coalesce($6, 0), coalesce($7, 0), $8, now()) \
         ON CONFLICT (projection) DO UPDATE SET \
             state = CASE WHEN s.state = 'rebuilding' THEN s.state ELSE 'running' END, \
             position_commit = excluded.position_commit, \
             position_prepare = excluded.position_prepare, \
             events_applied = s.events_applied + excluded.events_applied, \
             last_event_at = excluded.last_event_at, \
             lag_events = coalesce($6, s.lag_events), \
             lag_seconds = coalesce($7, s.lag_seconds), \
             holder = excluded.holder, \
             updated_at = now()",
    )
    .bind(projection)
    .bind(commit_i64(batch.position)?)
    .bind(batch.position.prepare)
    .bind(i64::try_from(batch.events).unwrap_or(i64::MAX))
    .bind(batch.last_event_at)
    .bind(batch.lag.map(|l| l.events))
    .bind(batch.lag.map(|l| l.seconds))
    .bind(holder)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn record_lag(
    conn: &mut PgConnection,
    projection: &str,
    lag: Lag,
) -> Result<(), RuntimeError> {
    sqlx::query(
        "UPDATE reporting.projection_status \
         SET lag_events = $2, lag_seconds = $3, updated_at = now() WHERE projection = $1",
    )
    .bind(projection)
    .bind(lag.events)
    .bind(lag.seconds)
    .execute(conn)
    .await?;
    Ok(())
}

/// Events after `from` in $all (capped at [`LAG_COUNT_CAP`]) and the age of the first of them.
pub(crate) async fn measure_lag(
    conn: &mut PgConnection,
    from: Position,
) -> Result<Lag, RuntimeError> {
    let row = sqlx::query(
        "SELECT \
           (SELECT count(*) FROM (SELECT 1 FROM eventstore.events \
              WHERE (tx_id, position) > ($1::bigint::text::xid8, $2) LIMIT $3) t) AS events, \
           (SELECT extract(epoch FROM clock_timestamp() - recorded_at)::float8 \
              FROM eventstore.events WHERE (tx_id, position) > ($1::bigint::text::xid8, $2) \
              ORDER BY tx_id, position LIMIT 1) AS seconds",
    )
    .bind(commit_i64(from)?)
    .bind(from.prepare)
    .bind(LAG_COUNT_CAP)
    .fetch_one(conn)
    .await?;
    let seconds: Option<f64> = row.try_get("seconds")?;
    Ok(Lag {
        events: row.try_get("events")?,
        seconds: seconds.unwrap_or(0.0).max(0.0),
    })
}

pub(crate) async fn mark_halted(
    conn: &mut PgConnection,
    projection: &str,
    message: &str,
    event: Option<(Uuid, Position)>,
) -> Result<(), RuntimeError> {
    let (id, commit, prepare) = match event {
        Some((id, position)) => (
            Some(id),
            Some(commit_i64(position)?),
            Some(position.prepare),
        ),
        None => (None, None, None),
    };
    sqlx::query(
        "INSERT INTO reporting.projection_status AS s \
             (projection, state, error, error_event_id, error_position_commit, error_position_prepare, updated_at) \
         VALUES ($1, 'halted', $2, $3, $4, $5, now()) \
         ON CONFLICT (projection) DO UPDATE SET state = 'halted', error = excluded.error, \
             error_event_id = excluded.error_event_id, \
             error_position_commit = excluded.error_position_commit, \
             error_position_prepare = excluded.error_position_prepare, updated_at = now()",
    )
    .bind(projection)
    .bind(message)
    .bind(id)
    .bind(commit)
    .bind(prepare)
    .execute(conn)
    .await?;
    Ok(())
}

/// Clears a halt: the runner retries from its checkpoint. False when the projection was not halted.
pub(crate) async fn resume(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<bool, RuntimeError> {
    let done = sqlx::query(
        "UPDATE reporting.projection_status SET state = 'running', error = NULL, \
             error_event_id = NULL, error_position_commit = NULL, error_position_prepare = NULL, \
             updated_at = now() \
         WHERE projection = $1 AND state = 'halted'",
    )
    .bind(projection)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn statuses(
    conn: &mut PgConnection,
) -> Result<Vec<ProjectionStatus>, RuntimeError> {
    let rows = sqlx::query(
        "SELECT projection, state, position_commit, position_prepare, events_applied, \
                last_event_at, lag_events, lag_seconds, error, error_event_id, \
                error_position_commit, error_position_prepare, holder, updated_at \
         FROM reporting.projection_status ORDER BY projection",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let error_position =
                optional_position(r, "error_position_commit", "error_position_prepare")?;
            Ok(ProjectionStatus {
                projection: r.try_get("projection")?,
                state: r.try_get("state")?,
                position: position_from(
                    r.try_get("position_commit")?,
                    r.try_get("position_prepare")?,
                )?,
                events_applied: r.try_get("events_applied")?,
                last_event_at: r.try_get("last_event_at")?,
                lag: Lag {
                    events: r.try_get("lag_events")?,
                    seconds: r.try_get("lag_seconds")?,
                },
                error: r.try_get("error")?,
                error_event_id: r.try_get("error_event_id")?,
                error_position,
                holder: r.try_get("holder")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
}

/// A projection's checkpoint and state, for waiters.
pub(crate) struct Progress {
    pub name: String,
    pub checkpoint: Option<Position>,
    pub state: Option<String>,
}

/// Checkpoint and state of each named projection (every projection with a status row when
/// `names` is empty).
pub(crate) async fn progress_of(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<Vec<Progress>, RuntimeError> {
    let rows = sqlx::query(
        "WITH wanted AS ( \
             SELECT unnest($1::text[]) AS name WHERE cardinality($1::text[]) > 0 \
             UNION ALL \
             SELECT projection FROM reporting.projection_status WHERE cardinality($1::text[]) = 0) \
         SELECT w.name, c.commit_pos, c.prepare_pos, s.state FROM wanted w \
         LEFT JOIN eventstore.checkpoints c ON c.name = 'projection:' || w.name \
         LEFT JOIN reporting.projection_status s ON s.projection = w.name",
    )
    .bind(names)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Progress {
                name: r.try_get("name")?,
                checkpoint: optional_position(r, "commit_pos", "prepare_pos")?,
                state: r.try_get("state")?,
            })
        })
        .collect()
}

// ---- rebuild ----

async fn execute_dynamic(conn: &mut PgConnection, sql: String) -> Result<(), RuntimeError> {
    sqlx::query(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// Generates a DDL statement server-side with `format()`, so identifiers and literals are quoted
/// by PostgreSQL itself.
async fn ddl(
    conn: &mut PgConnection,
    template: &'static str,
    args: &[&str],
) -> Result<String, RuntimeError> {
    let mut query = sqlx::query_scalar::<_, String>(template);
    for arg in args {
        query = query.bind(*arg);
    }
    Ok(query.fetch_one(conn).await?)
}

pub(crate) async fn drop_schema(conn: &mut PgConnection, schema: &str) -> Result<(), RuntimeError> {
    let sql = ddl(
        conn,
        "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)",
        &[schema],
    )
    .await?;
    execute_dynamic(conn, sql).await
}

/// Creates `schema` with an empty copy of each of `tables` (columns, defaults, constraints,
/// indexes, comments, grants); [`add_foreign_keys`] adds the foreign keys later.
pub(crate) async fn create_fresh_tables(
    conn: &mut PgConnection,
    schema: &str,
    tables: &[&str],
) -> Result<(), RuntimeError> {
    drop_schema(conn, schema).await?;
    let sql = ddl(
        conn,
        "SELECT format('CREATE SCHEMA %I', $1::text)",
        &[schema],
    )
    .await?;
    execute_dynamic(conn, sql).await?;
    for table in tables {
        let statements: Vec<String> = sqlx::query_scalar(
            "SELECT unnest(ARRAY[ \
                 format('CREATE TABLE %I.%I (LIKE reporting.%I INCLUDING ALL)', $1::text, $2::text, $2::text), \
                 format('COMMENT ON TABLE %I.%I IS %L', $1::text, $2::text, \
                        obj_description(format('reporting.%I', $2::text)::regclass, 'pg_class')), \
                 format('GRANT SELECT ON %I.%I TO taizhang_analytics', $1::text, $2::text), \
                 format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO taizhang_service', $1::text, $2::text)])",
        )
        .bind(schema)
        .bind(*table)
        .fetch_all(&mut *conn)
        .await?;
        for statement in statements {
            execute_dynamic(conn, statement).await?;
        }
        // LIKE names the copied indexes by the default rule; give them the original names (BI
        // tools and migrations may refer to them). Pairs are matched by definition.
        let renames: Vec<String> = sqlx::query_scalar(
            "WITH defs AS ( \
                 SELECT n.nspname AS schema, i.relname AS name, \
                        regexp_replace(pg_get_indexdef(i.oid), '^(CREATE (UNIQUE )?INDEX) \\S+ ON \\S+', '\\1 ON') AS def \
                 FROM pg_index x \
                 JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_class t ON t.oid = x.indrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE t.relname = $2 AND n.nspname IN ('reporting', $1)), \
             numbered AS ( \
                 SELECT *, row_number() OVER (PARTITION BY schema, def ORDER BY name) AS ord FROM defs) \
             SELECT format('ALTER INDEX %I.%I RENAME TO %I', $1::text, f.name, o.name) \
             FROM numbered o JOIN numbered f USING (def, ord) \
             WHERE o.schema = 'reporting' AND f.schema = $1 AND o.name <> f.name",
        )
        .bind(schema)
        .bind(*table)
        .fetch_all(&mut *conn)
        .await?;
        for statement in renames {
            execute_dynamic(conn, statement).await?;
        }
    }
    Ok(())
}

/// Adds to the fresh copies in `schema` the foreign keys of the originals; references within the
/// set point at the copies, others keep pointing at `reporting`. A rebuild adds them after the
/// replay: one validating scan per key is far cheaper than a check per inserted row.
pub(crate) async fn add_foreign_keys(
    conn: &mut PgConnection,
    schema: &str,
    tables: &[&str],
) -> Result<(), RuntimeError> {
    // Foreign keys are never copied by LIKE. With an empty search_path pg_get_constraintdef
    // schema-qualifies the referenced table, which lets us repoint references within the set.
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("SELECT set_config('search_path', '', true)")
        .execute(&mut *tx)
        .await?;
    let keys: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, con.conname::text, ref.relname::text, pg_get_constraintdef(con.oid) \
         FROM pg_constraint con \
         JOIN pg_class cl ON cl.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         JOIN pg_class ref ON ref.oid = con.confrelid \
         JOIN pg_namespace rn ON rn.oid = ref.relnamespace \
         WHERE con.contype = 'f' AND n.nspname = 'reporting' AND cl.relname = ANY($1) \
         ORDER BY cl.relname, con.conname",
    )
    .bind(tables)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for (table, constraint, referenced, definition) in keys {
        let definition = if tables.contains(&referenced.as_str()) {
            definition.replace(
                &format!("REFERENCES reporting.{referenced}("),
                &format!("REFERENCES {schema}.{referenced}("),
            )
        } else {
            definition
        };
        let sql = ddl(
            conn,
            "SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1::text, $2::text, $3::text, $4::text)",
            &[schema, &table, &constraint, &definition],
        )
        .await?;
        execute_dynamic(conn, sql).await?;
    }
    Ok(())
}

/// Refreshes the planner's statistics of `tables` in `schema`.
pub(crate) async fn analyze(
    conn: &mut PgConnection,
    schema: &str,
    tables: &[&str],
) -> Result<(), RuntimeError> {
    let sql: String = sqlx::query_scalar(
        "SELECT 'ANALYZE ' || string_agg(format('%I.%I', $1::text, t), ', ') FROM unnest($2::text[]) t",
    )
    .bind(schema)
    .bind(tables)
    .fetch_one(&mut *conn)
    .await?;
    execute_dynamic(conn, sql).await
}

/// A foreign key from a table outside the rebuilt set to one inside it: dropped before the old
/// tables go and added back (validated) once the new ones are in place.
pub(crate) struct OutsideKey {
    drop: String,
    add: String,
}

/// Inside the swap transaction: replaces `reporting.<t>` by `<schema>.<t>` for each table.
pub(crate) async fn swap_tables(
    conn: &mut PgConnection,
    schema: &str,
    tables: &[&str],
) -> Result<(), RuntimeError> {
    sqlx::query("SELECT set_config('search_path', '', true)")
        .execute(&mut *conn)
        .await?;
    let outside: Vec<(String, String)> = sqlx::query_as(
        "SELECT format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, cl.relname, con.conname), \
                format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, cl.relname, con.conname, \
                       pg_get_constraintdef(con.oid)) \
         FROM pg_constraint con \
         JOIN pg_class cl ON cl.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         JOIN pg_class ref ON ref.oid = con.confrelid \
         JOIN pg_namespace rn ON rn.oid = ref.relnamespace \
         WHERE con.contype = 'f' AND rn.nspname = 'reporting' AND ref.relname = ANY($1) \
           AND NOT (n.nspname = 'reporting' AND cl.relname = ANY($1)) \
           AND n.nspname <> $2",
    )
    .bind(tables)
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?;
    let outside: Vec<OutsideKey> = outside
        .into_iter()
        .map(|(drop, add)| OutsideKey { drop, add })
        .collect();
    for key in &outside {
        execute_dynamic(conn, key.drop.clone()).await?;
    }
    // DROP TABLE of the whole set at once: foreign keys among them need no ordering.
    let drop: String = sqlx::query_scalar(
        "SELECT 'DROP TABLE ' || string_agg(format('reporting.%I', t), ', ') FROM unnest($1::text[]) t",
    )
    .bind(tables)
    .fetch_one(&mut *conn)
    .await?;
    execute_dynamic(conn, drop).await?;
    for table in tables {
        let sql = ddl(
            conn,
            "SELECT format('ALTER TABLE %I.%I SET SCHEMA reporting', $1::text, $2::text)",
            &[schema, table],
        )
        .await?;
        execute_dynamic(conn, sql).await?;
    }
    for key in outside {
        execute_dynamic(conn, key.add).await?;
    }
    Ok(())
}

/// Marks a rebuild in progress; returns the state to restore if it fails.
pub(crate) async fn set_rebuilding(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<Option<String>, RuntimeError> {
    let previous = state(conn, projection).await?;
    sqlx::query(
        "INSERT INTO reporting.projection_status (projection, state, updated_at) \
         VALUES ($1, 'rebuilding', now()) \
         ON CONFLICT (projection) DO UPDATE SET state = 'rebuilding', updated_at = now()",
    )
    .bind(projection)
    .execute(conn)
    .await?;
    Ok(previous)
}

pub(crate) async fn restore_state(
    conn: &mut PgConnection,
    projection: &str,
    previous: Option<&str>,
) -> Result<(), RuntimeError> {
    sqlx::query(
        "UPDATE reporting.projection_status SET state = coalesce($2, 'running'), updated_at = now() \
         WHERE projection = $1 AND state = 'rebuilding'",
    )
    .bind(projection)
    .bind(previous)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inside the swap transaction: the status of a freshly rebuilt projection.
pub(crate) async fn record_rebuilt(
    conn: &mut PgConnection,
    projection: &str,
    position: Position,
    events: u64,
    last_event_at: Option<OffsetDateTime>,
) -> Result<(), RuntimeError> {
    sqlx::query(
        "INSERT INTO reporting.projection_status AS s \
             (projection, state, position_commit, position_prepare, events_applied, last_event_at, updated_at) \
         VALUES ($1, 'running', $2, $3, $4, $5, now()) \
         ON CONFLICT (projection) DO UPDATE SET state = 'running', \
             position_commit = excluded.position_commit, position_prepare = excluded.position_prepare, \
             events_applied = excluded.events_applied, last_event_at = excluded.last_event_at, \
             lag_events = 0, lag_seconds = 0, error = NULL, error_event_id = NULL, \
             error_position_commit = NULL, error_position_prepare = NULL, updated_at = now()",
    )
    .bind(projection)
    .bind(commit_i64(position)?)
    .bind(position.prepare)
    .bind(i64::try_from(events).unwrap_or(i64::MAX))
    .bind(last_event_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn exclusive_swap_lock(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<(), RuntimeError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_key(LockKind::Swap, projection))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        // Other processes (and other releases) must derive the same keys from the same names.
        assert_eq!(
            lock_key(LockKind::Leader, "ledger"),
            lock_key(LockKind::Leader, "ledger")
        );
        let keys = [
            lock_key(LockKind::Leader, "ledger"),
            lock_key(LockKind::Swap, "ledger"),
            lock_key(LockKind::Rebuild, "ledger"),
            lock_key(LockKind::Leader, "timeline"),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            lock_key(LockKind::Leader, "ledger"),
            fnv("taizhang.projection.leader:ledger")
        );
    }

    fn fnv(text: &str) -> i64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash as i64
    }

    #[test]
    fn names_are_lower_snake_case() {
        for good in ["ledger", "timeline", "bench_simple", "a1"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Ledger",
            "1abc",
            "led-ger",
            "a b",
            "x\"; DROP",
            &"a".repeat(41),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn positions_round_trip_and_refuse_overflow() {
        let p = Position::new(42, 7);
        assert_eq!(position_from(commit_i64(p).unwrap(), 7).unwrap(), p);
        assert!(commit_i64(Position::new(u64::MAX, 0)).is_err());
        assert!(position_from(-1, 0).is_err());
    }
}
