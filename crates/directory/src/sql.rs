//! An existing user database (PostfixAdmin's, a Dovecot SQL schema, any other) asked with the
//! administrator's query over a read-only connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use signpost_core::model::{ProtocolKind, REDACTED, SqlSource, sql_access_column, url_password};
use sqlx::any::AnyRow;
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::pool::PoolOptions;
use sqlx::{AnyPool, Column, Database, Executor, Row};
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
    by_url: Mutex<HashMap<String, Pool>>,
}

/// MySQL and MariaDB, and PostgreSQL, get their own drivers: sqlx's `Any` cannot read MySQL's
/// TINYINT columns (PostfixAdmin's `active`) nor PostgreSQL's `char(n)` (Dovecot's example
/// schema's `active 'Y'/'N'`).
#[derive(Clone)]
enum Pool {
    Any(AnyPool),
    MySql(MySqlPool),
    Postgres(sqlx::PgPool),
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
    fn pool(&self, url: &str) -> Result<(Pool, Dialect), String> {
        let (dialect, connect_url) =
            Dialect::of(url).ok_or_else(|| "unsupported database URL".to_string())?;
        let mut pools = self
            .by_url
            .lock()
            .map_err(|_| "the connection list is unusable".to_string())?;
        if let Some(pool) = pools.get(url) {
            return Ok((pool.clone(), dialect));
        }
        let read_only = dialect.read_only_statement();
        let pool = match dialect {
            Dialect::MySql => read_only_pool(&connect_url, read_only).map(Pool::MySql),
            Dialect::Postgres => read_only_pool(&connect_url, read_only).map(Pool::Postgres),
            Dialect::Sqlite => {
                sqlx::any::install_default_drivers();
                read_only_pool(&connect_url, read_only).map(Pool::Any)
            }
        }
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
        let found = match &pool {
            Pool::Any(pool) => first_two(pool, text, values)
                .await
                .map(|rows| one_user(&rows, subject)),
            Pool::MySql(pool) => first_two(pool, text, values)
                .await
                .map(|rows| one_user(&rows, subject)),
            Pool::Postgres(pool) => first_two(pool, text, values)
                .await
                .map(|rows| one_user(&rows, subject)),
        };
        found.unwrap_or_else(|e| {
            Answer::Unavailable(format!(
                "the user database failed: {}",
                without_secrets(&e.to_string(), &source.url)
            ))
        })
    }
}

/// A pool that opens connections only when asked, each made read-only by `statement` first.
fn read_only_pool<DB: Database>(
    url: &str,
    statement: Option<&'static str>,
) -> Result<sqlx::Pool<DB>, sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    PoolOptions::<DB>::new()
        .max_connections(CONNECTIONS_PER_DATABASE)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(4))
        .idle_timeout(Duration::from_secs(300))
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if let Some(statement) = statement {
                    connection.execute(statement).await?;
                }
                Ok(())
            })
        })
        .connect_lazy(url)
}

/// The administrator's query with the login's values bound, read up to two rows: one is the
/// user, a second means the query is ambiguous.
async fn first_two<DB: Database>(
    pool: &sqlx::Pool<DB>,
    text: String,
    values: Vec<String>,
) -> Result<Vec<DB::Row>, sqlx::Error>
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c sqlx::Pool<DB>: Executor<'c, Database = DB>,
{
    // Every value from a login is a bound parameter, never part of the text.
    let mut query = sqlx::query::<DB>(sqlx::AssertSqlSafe(text));
    for value in values {
        query = query.bind(value);
    }
    query.fetch(pool).take(2).try_collect().await
}

fn one_user<R: Cells>(rows: &[R], subject: &Subject) -> Answer {
    match rows {
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

/// Reading a row's cells by what they mean, whatever the driver.
trait Cells {
    fn column(&self, name: &str) -> Option<usize>;
    fn text(&self, index: usize) -> Option<String>;
    fn integer(&self, index: usize) -> Option<Option<i64>>;
    fn boolean(&self, index: usize) -> Option<Option<bool>>;

    /// A yes/no column as databases write them: booleans, 0/1 integers, or text such as `1`,
    /// `y`, `yes`, `t`, `true` (PostfixAdmin's `active` is a TINYINT; older schemas use 'Y'/'N').
    fn flag(&self, index: usize) -> Option<bool> {
        if let Some(value) = self.boolean(index) {
            return value;
        }
        if let Some(value) = self.integer(index) {
            return value.map(|v| v != 0);
        }
        self.text(index).map(|t| {
            matches!(
                t.trim().to_ascii_lowercase().as_str(),
                "1" | "y" | "yes" | "t" | "true" | "on"
            )
        })
    }
}

/// The same decoding for each driver's row type; integers are tried in every width the driver
/// may report.
macro_rules! cells_for {
    ($row:ty, [$($int:ty),*]) => {
        impl Cells for $row {
            fn column(&self, name: &str) -> Option<usize> {
                self.columns()
                    .iter()
                    .position(|c| c.name().eq_ignore_ascii_case(name))
            }

            fn text(&self, index: usize) -> Option<String> {
                if let Ok(value) = self.try_get::<Option<String>, _>(index) {
                    return value;
                }
                self.try_get::<Option<Vec<u8>>, _>(index)
                    .ok()
                    .flatten()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
            }

            fn integer(&self, index: usize) -> Option<Option<i64>> {
                $(
                    if let Ok(value) = self.try_get::<Option<$int>, _>(index) {
                        return Some(value.and_then(|v| i64::try_from(v).ok()));
                    }
                )*
                None
            }

            fn boolean(&self, index: usize) -> Option<Option<bool>> {
                self.try_get::<Option<bool>, _>(index).ok()
            }
        }
    };
}

cells_for!(AnyRow, [i64, i32, i16]);
cells_for!(MySqlRow, [i64, i32, i16, i8, u64, u32, u16, u8]);
cells_for!(sqlx::postgres::PgRow, [i64, i32, i16]);

/// Reads the documented columns by name (ignoring case); absent optional columns change nothing.
fn user_from_row<R: Cells>(row: &R, subject: &Subject) -> Answer {
    let Some(password_column) = row.column("password") else {
        return Answer::Unavailable(
            "the query returns no 'password' column (name the hash column AS password)".into(),
        );
    };
    let Some(hash) = row.text(password_column).filter(|h| !h.is_empty()) else {
        return Answer::Refused("the user has no password".into());
    };
    if let Some(index) = row.column("active")
        && row.flag(index) != Some(true)
    {
        return Answer::Refused("the user is not active".into());
    }
    let text_of = |column| row.column(column).and_then(|i| row.text(i));
    let mut user = directory_user(
        subject,
        text_of("display_name").as_deref(),
        text_of("login_name").as_deref(),
    );
    for kind in ProtocolKind::ALL {
        // NULL says nothing: the protocol stays allowed.
        if let Some(index) = row.column(sql_access_column(kind))
            && row.flag(index) == Some(false)
        {
            user.access.set(kind, false);
        }
    }
    Answer::HashToCheck(user, hash)
}

/// An error message with the URL's password taken out (drivers sometimes repeat the URL).
fn without_secrets(message: &str, url: &str) -> String {
    match url_password(url).filter(|p| !p.is_empty()) {
        Some(password) => message.replace(password, REDACTED),
        None => message.to_string(),
    }
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
