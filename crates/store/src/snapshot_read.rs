//! Reading a whole snapshot fast at start, when a store holds a hundred thousand domains and a
//! million users: rows through each database's own interface, strings borrowed from the row and
//! copied once into the snapshot. sqlx's `Any` rows copy every value first and take about ten
//! times as long (a million users: 4 s instead of 0.4).

use std::path::PathBuf;

use signpost_core::packed_users::PackedUsersBuilder;
use signpost_core::{Domain, UserSource};

use crate::rows::{self, DomainsBuilder};
use crate::{Result, StoreError};

/// What a snapshot is built from, all read at one version.
pub struct SnapshotRows {
    pub version: i64,
    pub domains: Vec<Domain>,
    pub users: PackedUsersBuilder,
    pub user_sources: Vec<(String, UserSource)>,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Every row of `sql` handed to `each`.
fn each_row(
    connection: &rusqlite::Connection,
    sql: &str,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<()>,
) -> Result<()> {
    let mut statement = connection.prepare(sql).map_err(corrupt)?;
    let mut rows = statement.query([]).map_err(corrupt)?;
    while let Some(row) = rows.next().map_err(corrupt)? {
        each(row)?;
    }
    Ok(())
}

/// The whole snapshot of the SQLite store at `path`, in one read transaction (on a blocking
/// thread: SQLite's interface is synchronous).
pub async fn sqlite(path: PathBuf) -> Result<SnapshotRows> {
    tokio::task::spawn_blocking(move || sqlite_now(&path))
        .await
        .map_err(|e| StoreError::Corrupt(format!("reading the snapshot: {e}")))?
}

fn sqlite_now(path: &std::path::Path) -> Result<SnapshotRows> {
    use rusqlite::OpenFlags;
    let mut connection = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(corrupt)?;
    connection
        .busy_timeout(std::time::Duration::from_secs(10))
        .map_err(corrupt)?;
    let tx = connection.transaction().map_err(corrupt)?;
    let version: i64 = tx
        .query_row("SELECT version FROM store_version WHERE id = 1", [], |r| {
            r.get(0)
        })
        .map_err(corrupt)?;
    let mut domains = DomainsBuilder::default();
    each_row(
        &tx,
        &format!("SELECT {} FROM domains", rows::DOMAIN_COLUMNS),
        |row| domains.domain(row),
    )?;
    each_row(
        &tx,
        &format!(
            "SELECT {} FROM domain_aliases ORDER BY alias",
            rows::ALIAS_COLUMNS
        ),
        |row| domains.alias(row),
    )?;
    each_row(
        &tx,
        &format!("SELECT {} FROM domain_protocols", rows::PROTOCOL_COLUMNS),
        |row| domains.protocol(row),
    )?;
    each_row(
        &tx,
        &format!(
            "SELECT {} FROM domain_endpoints ORDER BY domain, protocol, position",
            rows::ENDPOINT_COLUMNS
        ),
        |row| domains.endpoint(row),
    )?;
    each_row(
        &tx,
        &format!(
            "SELECT {} FROM domain_documentation ORDER BY domain, position",
            rows::DOCUMENTATION_COLUMNS
        ),
        |row| domains.documentation(row),
    )?;
    let count: i64 = tx
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .map_err(corrupt)?;
    let mut users = PackedUsersBuilder::with_capacity(usize::try_from(count).unwrap_or(0));
    // In address order straight from the primary key: no sorting afterwards.
    each_row(
        &tx,
        &format!("SELECT {} FROM users ORDER BY address", rows::USER_COLUMNS),
        |row| {
            users.push(rows::user(row)?);
            Ok(())
        },
    )?;
    let mut user_sources = Vec::new();
    each_row(
        &tx,
        "SELECT domain, settings FROM user_sources ORDER BY domain",
        |row| {
            use rows::Columns;
            let domain = row.text(0)?.to_string();
            let source = serde_json::from_str(row.text(1)?)
                .map_err(|e| StoreError::Corrupt(format!("user source of {domain}: {e}")))?;
            user_sources.push((domain, source));
            Ok(())
        },
    )?;
    tx.finish().map_err(corrupt)?;
    Ok(SnapshotRows {
        version,
        domains: domains.finish(),
        users,
        user_sources,
    })
}

/// Every user of the PostgreSQL database at `url` (its own driver: values are read in place),
/// with the version read in the same transaction.
pub async fn postgres_users(url: &str) -> Result<(i64, PackedUsersBuilder)> {
    use futures_util::TryStreamExt;
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(url).await?;
    let mut tx = connection
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let version: i64 = sqlx::query_scalar("SELECT version FROM store_version WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    let mut users = PackedUsersBuilder::with_capacity(usize::try_from(count).unwrap_or(0));
    {
        let sql = format!("SELECT {} FROM users", rows::USER_COLUMNS);
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            users.push(rows::user(&row)?);
        }
    }
    tx.commit().await?;
    Ok((version, users))
}
