//! Running servers on this store, and the configuration version each one answers from: a change
//! made elsewhere (the command line, another instance) can wait until every running instance
//! serves it.

use serde::Serialize;
use sqlx::{AnyPool, Row};

use crate::Result;

/// An instance as it registered itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Random, made at start.
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// Unix seconds.
    pub started_at: i64,
    /// When it last said it was alive (Unix seconds).
    pub seen_at: i64,
    /// The configuration version it answers from.
    pub loaded_version: i64,
}

pub async fn register(pool: &AnyPool, instance: &Instance) -> Result<()> {
    sqlx::query(
        "INSERT INTO instances (id, host, pid, started_at, seen_at, loaded_version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at,
             loaded_version = excluded.loaded_version",
    )
    .bind(&instance.id)
    .bind(&instance.host)
    .bind(i64::from(instance.pid))
    .bind(instance.started_at)
    .bind(instance.seen_at)
    .bind(instance.loaded_version)
    .execute(pool)
    .await?;
    Ok(())
}

/// Says `id` is alive at `now` and answers from `loaded_version`; forgets instances silent
/// since `forget_before`.
pub async fn seen(
    pool: &AnyPool,
    id: &str,
    loaded_version: i64,
    now: i64,
    forget_before: i64,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE instances SET seen_at = $1, loaded_version = $2 WHERE id = $3")
        .bind(now)
        .bind(loaded_version)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM instances WHERE seen_at < $1")
        .bind(forget_before)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove(pool: &AnyPool, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn list(pool: &AnyPool) -> Result<Vec<Instance>> {
    let rows = sqlx::query("SELECT * FROM instances ORDER BY started_at, id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let pid: i64 = row.try_get("pid")?;
            Ok(Instance {
                id: row.try_get("id")?,
                host: row.try_get("host")?,
                pid: u32::try_from(pid).unwrap_or(0),
                started_at: row.try_get("started_at")?,
                seen_at: row.try_get("seen_at")?,
                loaded_version: row.try_get("loaded_version")?,
            })
        })
        .collect()
}
