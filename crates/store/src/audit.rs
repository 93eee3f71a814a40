//! The audit log: who changed what, when and from where. Every audited write of the store takes
//! its [`AuditRecord`] and writes it in the same transaction, so no change goes unrecorded and
//! no record describes a change that did not happen.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::Result;

/// Longest summary kept (a summary of a large change is cut, never the change).
pub const MAX_SUMMARY_CHARS: usize = 2_000;

/// One change, as the operations layer describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditRecord {
    /// Unix seconds.
    pub at: i64,
    /// Who: an administrator's name, `NAME (token TOKEN)`, `cli (OS user)`, `acme`.
    pub actor: String,
    /// administrator, token, cli, acme or setup.
    pub actor_kind: String,
    /// The client's address, or `local` for the command line and the server itself.
    pub origin: String,
    /// What was done, e.g. `domain.add`, `protocol.change`, `user.remove`.
    pub operation: String,
    /// The domain it concerns, if one.
    pub domain: Option<String>,
    /// What it was done to: a domain, an address, `imap of example.com`, a certificate.
    pub target: String,
    /// What changed, before and after, secrets left out.
    pub summary: String,
}

/// A stored record with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditEntry {
    /// Increasing: newer entries have larger ids.
    pub id: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// Which entries to read.
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
pub struct AuditFilter {
    /// Only entries about this domain.
    pub domain: Option<String>,
    /// Only entries at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Only entries older than this id (for paging back).
    pub before: Option<i64>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<usize>,
}

impl AuditFilter {
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

/// Writes `record` in the transaction of the change it describes.
pub async fn insert(tx: &mut Transaction<'static, Any>, record: &AuditRecord) -> Result<()> {
    let summary: String = record.summary.chars().take(MAX_SUMMARY_CHARS).collect();
    sqlx::query(
        "INSERT INTO audit_log (at, actor, actor_kind, origin, operation, domain, target, summary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(record.at)
    .bind(&record.actor)
    .bind(&record.actor_kind)
    .bind(&record.origin)
    .bind(&record.operation)
    .bind(record.domain.as_deref())
    .bind(&record.target)
    .bind(summary)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn from_row(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        record: AuditRecord {
            at: row.try_get("at")?,
            actor: row.try_get("actor")?,
            actor_kind: row.try_get("actor_kind")?,
            origin: row.try_get("origin")?,
            operation: row.try_get("operation")?,
            domain: row.try_get("domain")?,
            target: row.try_get("target")?,
            summary: row.try_get("summary")?,
        },
    })
}

/// Entries matching `filter`, newest first; `domains` limits them to those domains.
pub async fn list(
    pool: &AnyPool,
    filter: &AuditFilter,
    domains: Option<&[String]>,
) -> Result<Vec<AuditEntry>> {
    // Entries of other domains are dropped below; reading more keeps pages full.
    let wanted = filter.limit() * if domains.is_some() { 4 } else { 1 };
    let wanted = i64::try_from(wanted).unwrap_or(1000);
    let since = filter.since.unwrap_or(i64::MIN);
    let before = filter.before.unwrap_or(i64::MAX);
    let rows = match &filter.domain {
        Some(domain) => {
            sqlx::query(
                "SELECT * FROM audit_log WHERE domain = $1 AND at >= $2 AND id < $3
                 ORDER BY id DESC LIMIT $4",
            )
            .bind(domain)
            .bind(since)
            .bind(before)
            .bind(wanted)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT * FROM audit_log WHERE at >= $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            )
            .bind(since)
            .bind(before)
            .bind(wanted)
            .fetch_all(pool)
            .await?
        }
    };
    let mut entries = Vec::new();
    for row in &rows {
        let entry = from_row(row)?;
        let visible = match domains {
            None => true,
            Some(domains) => entry
                .record
                .domain
                .as_ref()
                .is_some_and(|d| domains.contains(d)),
        };
        if visible {
            entries.push(entry);
        }
        if entries.len() == filter.limit() {
            break;
        }
    }
    Ok(entries)
}

/// Removes entries older than `before` (Unix seconds) and all but the newest `keep`; how many.
pub async fn prune(pool: &AnyPool, before: i64, keep: usize) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let old = sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let excess =
        sqlx::query("DELETE FROM audit_log WHERE id <= (SELECT MAX(id) FROM audit_log) - $1")
            .bind(i64::try_from(keep).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?
            .rows_affected();
    tx.commit().await?;
    Ok(old + excess)
}
