//! The recent-requests log as a table, for instances that share a store: each instance writes
//! what it answered, and every instance shows them all.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::Result;

/// One discovery request, as the recent-requests log shows it (never a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecentRequest {
    /// Unix seconds.
    pub time: i64,
    pub client_address: String,
    pub user_agent: String,
    pub endpoint: String,
    /// The address asked about, if the request named one.
    pub address: Option<String>,
    /// The domain of that address.
    pub domain: Option<String>,
    pub client: String,
    pub outcome: String,
    pub status: u16,
}

/// Which recent requests to show.
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
pub struct RecentFilter {
    /// Only requests about addresses of this domain.
    pub domain: Option<String>,
    /// Only requests that ended so (answered, challenged, error_answer, unauthorized, rate_limited,
    /// redirected, not_found, bad_request, server_error).
    pub outcome: Option<String>,
    /// At most this many, newest first (default 200).
    pub limit: Option<usize>,
}

fn from_row(row: &AnyRow) -> Result<RecentRequest> {
    let status: i64 = row.try_get("status")?;
    Ok(RecentRequest {
        time: row.try_get("time")?,
        client_address: row.try_get("client_address")?,
        user_agent: row.try_get("user_agent")?,
        endpoint: row.try_get("endpoint")?,
        address: row.try_get("address")?,
        domain: row.try_get("domain")?,
        client: row.try_get("client")?,
        outcome: row.try_get("outcome")?,
        status: u16::try_from(status).unwrap_or(0),
    })
}

/// Appends `requests` (oldest first) and keeps only the newest `keep` rows.
pub async fn record(pool: &AnyPool, requests: &[RecentRequest], keep: usize) -> Result<()> {
    let mut tx = pool.begin().await?;
    for request in requests {
        sqlx::query(
            "INSERT INTO recent_requests (time, client_address, user_agent, endpoint, address,
                domain, client, outcome, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(request.time)
        .bind(&request.client_address)
        .bind(&request.user_agent)
        .bind(&request.endpoint)
        .bind(request.address.as_deref())
        .bind(request.domain.as_deref())
        .bind(&request.client)
        .bind(&request.outcome)
        .bind(i64::from(request.status))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "DELETE FROM recent_requests WHERE id <= (SELECT MAX(id) FROM recent_requests) - $1",
    )
    .bind(i64::try_from(keep).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The newest requests matching `filter`, among those about `domains` (`None`: all, also the
/// ones that named no address).
pub async fn list(
    pool: &AnyPool,
    filter: &RecentFilter,
    domains: Option<&[String]>,
) -> Result<Vec<RecentRequest>> {
    let limit = i64::try_from(filter.limit.unwrap_or(200).min(10_000)).unwrap_or(200);
    let rows = sqlx::query(
        "SELECT * FROM recent_requests
         WHERE ($1 IS NULL OR domain = $1) AND ($2 IS NULL OR outcome = $2)
         ORDER BY id DESC LIMIT $3",
    )
    .bind(filter.domain.as_deref())
    .bind(filter.outcome.as_deref())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut requests = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    if let Some(domains) = domains {
        requests.retain(|r| r.domain.as_ref().is_some_and(|d| domains.contains(d)));
    }
    Ok(requests)
}
