//! An existing user database (PostfixAdmin's, a Dovecot SQL schema, any other) asked with the
//! administrator's query over a read-only connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use signpost_core::model::{ProtocolKind, SqlSource, sql_access_column};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Column, Executor, Row};
use tracing::warn;

use crate::placeholders::{Subject, sql_parameters};
use crate::{Answer, directory_user};

/// Connections kept per database; a lookup is one short query.
const CONNECTIONS_PER_DATABASE: u32 = 4;
/// Databases kept open at once; more (thousands of domains on thousands of databases) close
/// the least needed by starting afresh.
const MAX_POOLS: usize = 64;

#[derive(Default)]
pub struct Pools {
    by_url: Mutex<HashMap<String, AnyPool>>,
}

/// Which SQL dialect a URL speaks, and how its sessions are made read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    fn of(url: &str) -> Option<(Self, String)> {
        let (scheme, rest) = url.split_once("://")?;
        match scheme {
            "postgres" | "postgresql" => Some((Self::Postgres, url.to_string())),
            "mysql" => Some((Self::MySql, url.to_string())),
            "mariadb" => Some((Self::MySql, format!("mysql://{rest}"))),
            "sqlite" => {
                // Opened read-only: Signpost never writes to a directory.
                let separator = if rest.contains('?') { '&' } else { '?' };
                Some((Self::Sqlite, format!("sqlite://{rest}{separator}mode=ro")))
            }
            _ => None,
        }
    }

    fn read_only_statement(self) -> Option<&'static str> {
        match self {
            Self::Postgres => Some("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
            Self::MySql => Some("SET SESSION TRANSACTION READ ONLY"),
            Self::Sqlite => None,
        }
    }
}

impl Pools {
    fn pool(&self, url: &str) -> Result<(AnyPool, Dialect), String> {
        let (dialect, connect_url) =
            Dialect::of(url).ok_or_else(|| "unsupported database URL".to_string())?;
        let mut pools = self
            .by_url
            .lock()
            .map_err(|_| "the connection list is unusable".to_string())?;
        if let Some(pool) = pools.get(url) {
            return Ok((pool.clone(), dialect));
        }
        sqlx::any::install_default_drivers();
        let read_only = dialect.read_only_statement();
        let pool = AnyPoolOptions::new()
            .max_connections(CONNECTIONS_PER_DATABASE)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(4))
            .idle_timeout(Duration::from_secs(300))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if let Some(statement) = read_only {
                        connection.execute(statement).await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy(&connect_url)
            .map_err(|e| without_secrets(&e.to_string(), url))?;
        if pools.len() >= MAX_POOLS {
            pools.clear();
        }
        pools.insert(url.to_string(), pool.clone());
        Ok((pool, dialect))
    }

    pub async fn look_up(&self, source: &SqlSource, subject: &Subject) -> Answer {
        let (pool, dialect) = match self.pool(&source.url) {
            Ok(found) => found,
            Err(why) => return Answer::Unavailable(why),
        };
        let (text, values) = sql_parameters(&source.query, subject, dialect == Dialect::Postgres);
        // The administrator's own query; every value from a login is a bound parameter.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
        for value in values {
            query = query.bind(value);
        }
        // Two rows at most: one is the user, a second means the query is ambiguous.
        let rows: Result<Vec<AnyRow>, sqlx::Error> = query.fetch(&pool).take(2).try_collect().await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                return Answer::Unavailable(format!(
                    "the user database failed: {}",
                    without_secrets(&e.to_string(), &source.url)
                ));
            }
        };
        match rows.as_slice() {
            [] => Answer::Refused("the query found no such user".into()),
            [row] => user_from_row(row, subject),
            _ => {
                warn!(address = %subject.address, "the user query returned more than one row; refusing the login");
                Answer::Refused(
                    "the query returned more than one row: it must find exactly one user".into(),
                )
            }
        }
    }
}

/// Reads the documented columns by name (ignoring case); absent optional columns change nothing.
fn user_from_row(row: &AnyRow, subject: &Subject) -> Answer {
    let column = |name: &str| {
        row.columns()
            .iter()
            .position(|c| c.name().eq_ignore_ascii_case(name))
    };
    let Some(password_column) = column("password") else {
        return Answer::Unavailable(
            "the query returns no 'password' column (name the hash column AS password)".into(),
        );
    };
    let Some(hash) = text(row, password_column).filter(|h| !h.is_empty()) else {
        return Answer::Refused("the user has no password".into());
    };
    if let Some(index) = column("active")
        && flag(row, index) != Some(true)
    {
        return Answer::Refused("the user is not active".into());
    }
    let mut user = directory_user(subject);
    if let Some(name) = column("display_name").and_then(|i| text(row, i)) {
        user.display_name = name.trim().chars().take(256).collect();
    }
    if let Some(login) = column("login_name").and_then(|i| text(row, i)) {
        let login = login.trim();
        if !login.is_empty() && !login.eq_ignore_ascii_case(&user.address) {
            user.login_name = Some(login.chars().take(256).collect());
        }
    }
    for kind in ProtocolKind::ALL {
        if let Some(index) = column(sql_access_column(kind)) {
            // NULL says nothing: the protocol stays allowed.
            if flag(row, index) == Some(false) {
                user.access.set(kind, false);
            }
        }
    }
    Answer::HashToCheck(user, hash)
}

fn text(row: &AnyRow, index: usize) -> Option<String> {
    if let Ok(value) = row.try_get::<Option<String>, _>(index) {
        return value;
    }
    row.try_get::<Option<Vec<u8>>, _>(index)
        .ok()
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok())
}

/// A yes/no column as databases write them: booleans, 0/1 integers, or text such as `1`, `y`,
/// `yes`, `t`, `true` (PostfixAdmin's `active` is a TINYINT; older schemas use 'Y'/'N').
fn flag(row: &AnyRow, index: usize) -> Option<bool> {
    if let Ok(value) = row.try_get::<Option<bool>, _>(index) {
        return value;
    }
    if let Ok(value) = row.try_get::<Option<i64>, _>(index) {
        return value.map(|v| v != 0);
    }
    if let Ok(value) = row.try_get::<Option<i32>, _>(index) {
        return value.map(|v| v != 0);
    }
    if let Ok(value) = row.try_get::<Option<i16>, _>(index) {
        return value.map(|v| v != 0);
    }
    text(row, index).map(|t| {
        matches!(
            t.trim().to_ascii_lowercase().as_str(),
            "1" | "y" | "yes" | "t" | "true" | "on"
        )
    })
}

/// An error message with the URL's password taken out (drivers sometimes repeat the URL).
fn without_secrets(message: &str, url: &str) -> String {
    let mut cleaned = message.to_string();
    if let Some(password) = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?']).next())
        .and_then(|authority| authority.rsplit_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty())
    {
        cleaned = cleaned.replace(password, signpost_core::model::REDACTED);
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_and_read_only_urls() {
        assert_eq!(
            Dialect::of("sqlite:///var/lib/mail/users.db"),
            Some((
                Dialect::Sqlite,
                "sqlite:///var/lib/mail/users.db?mode=ro".into()
            ))
        );
        assert_eq!(
            Dialect::of("mariadb://u:p@db/postfix").map(|d| d.1),
            Some("mysql://u:p@db/postfix".into())
        );
        assert_eq!(Dialect::of("oracle://x"), None);
        assert_eq!(
            without_secrets(
                "cannot connect to postgres://u:s3cret@db",
                "postgres://u:s3cret@db/x"
            ),
            "cannot connect to postgres://u:********@db"
        );
    }
}
