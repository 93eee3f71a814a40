//! The SQL store, one code path for both backends through sqlx's `Any` driver: the embedded
//! SQLite file (WAL mode, full synchronous commits, so an acknowledged change survives a crash)
//! and PostgreSQL for several instances sharing one configuration.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use signpost_core::certificate::{CertificateInfo, CertificateSource, StoredCertificate};
use signpost_core::packed_users::PackedUsersBuilder;
use signpost_core::snapshot::SnapshotBuilder;
use signpost_core::{Domain, ProtocolKind, Snapshot, User, UserSource};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};

use crate::audit::{self, AuditEntry, AuditFilter, AuditRecord};
use crate::bulk::{self, OnProgress};
use crate::instances::{self, Instance};
use crate::known_networks;
use crate::migrations::{Migration, POSTGRES, SQLITE};
use crate::rows;
use crate::{AdminSession, ApiToken, Change, Exclusive, admins};
use crate::{
    EXPORT_FORMAT, EXPORT_VERSION, Export, ExportedAcmeAccount, ExportedCertificate, Result, Store,
    StoreError,
};
use signpost_core::admin::Administrator;

/// How long opening a PostgreSQL store waits for the server to answer a first connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// For PostgreSQL: the URL, for the LISTEN connection and advisory locks.
    url: Option<String>,
    /// For SQLite: the file, for reading a whole snapshot through SQLite's own interface.
    sqlite_path: Option<std::path::PathBuf>,
}

/// `sqlite://` URL of a file path (percent-encoded), creating the file if needed.
/// See [`crate::migrations::LEGACY_SQLITE_STEP_3`]: shifts steps 3 to 5 of an SQLite store made
/// before both backends were numbered alike up by one, and records step 3 as done.
async fn renumber_legacy_sqlite_steps(tx: &mut Transaction<'static, Any>) -> Result<()> {
    let step_3: Option<String> =
        sqlx::query_scalar("SELECT description FROM schema_migrations WHERE version = 3")
            .fetch_optional(&mut **tx)
            .await?;
    if step_3.as_deref() != Some(crate::migrations::LEGACY_SQLITE_STEP_3) {
        return Ok(());
    }
    let highest: i64 = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut **tx)
        .await?;
    // One row at a time from the top, so no two rows ever hold the same number.
    for version in (3..=highest.min(5)).rev() {
        sqlx::query("UPDATE schema_migrations SET version = $1 WHERE version = $2")
            .bind(version + 1)
            .bind(version)
            .execute(&mut **tx)
            .await?;
    }
    let step = &SQLITE[2];
    sqlx::query("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)")
        .bind(step.version)
        .bind(step.description)
        .execute(&mut **tx)
        .await?;
    tracing::info!("renumbered this SQLite store's schema steps to match PostgreSQL's");
    Ok(())
}

fn sqlite_url(path: &Path) -> String {
    let mut url = String::from("sqlite://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/._-~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url.push_str("?mode=rwc");
    url
}

impl SqlStore {
    /// Opens the SQLite file, creating it and its directory if needed, and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::DataDirectory {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let path = std::path::absolute(path).map_err(|source| StoreError::DataDirectory {
            path: path.to_path_buf(),
            source,
        })?;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    connection
                        .execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    Ok(())
                })
            })
            .connect(&sqlite_url(&path))
            .await?;
        let store = Self {
            pool,
            backend: Backend::Sqlite,
            url: None,
            sqlite_path: Some(path.clone()),
        };
        store.migrate(SQLITE).await?;
        Ok(store)
    }

    /// Connects to PostgreSQL and migrates the database.
    pub async fn open_postgres(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        // One connection first, on its own: the pool would retry a refused connection until its
        // timeout and then say only that it timed out; this says why, at once.
        {
            use sqlx::Connection;
            let first = tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect(url))
                .await
                .map_err(|_| {
                    StoreError::Unreachable(format!(
                        "no answer from the database server within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    ))
                })??;
            let _ = first.close().await;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let store = Self {
            pool,
            backend: Backend::Postgres,
            url: Some(url.to_string()),
            sqlite_path: None,
        };
        store.migrate(POSTGRES).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self, migrations: &[Migration]) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        if self.backend == Backend::Postgres {
            // Instances starting together migrate one after the other.
            sqlx::query("SELECT pg_advisory_xact_lock(7291001)")
                .execute(&mut *tx)
                .await?;
        }
        // Created only when missing: PostgreSQL answers IF NOT EXISTS on an existing table with
        // a notice, which would be logged at every start.
        let exists: bool = match self.backend {
            Backend::Postgres => {
                sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
                    .fetch_one(&mut *tx)
                    .await?
            }
            Backend::Sqlite => false,
        };
        if !exists {
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY NOT NULL,
                    description TEXT NOT NULL,
                    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
                )",
            )
            .execute(&mut *tx)
            .await?;
        }
        if self.backend == Backend::Sqlite {
            renumber_legacy_sqlite_steps(&mut tx).await?;
        }
        let applied: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(&mut *tx)
                .await?;
        let known = migrations.last().map(|m| m.version).unwrap_or(0);
        if applied > known {
            return Err(StoreError::TooNew {
                found: applied,
                known,
            });
        }
        for migration in migrations.iter().filter(|m| m.version > applied) {
            sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sql))
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)")
                .bind(migration.version)
                .bind(migration.description)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front, so two writers queue on the busy timeout
    /// instead of failing when a read lock cannot be upgraded.
    async fn write_transaction(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            // Writers serialise on the store_version row each write bumps.
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Reads that must see one consistent state (a snapshot, an export).
    async fn read_transaction(&self) -> Result<Transaction<'static, Any>> {
        begin_read(&self.pool, self.backend).await
    }

    async fn read_user_sources(
        conn: &mut sqlx::AnyConnection,
        domain: Option<&str>,
    ) -> Result<Vec<(String, UserSource)>> {
        let rows: Vec<(String, String)> = match domain {
            Some(name) => {
                sqlx::query_as("SELECT domain, settings FROM user_sources WHERE domain = $1")
                    .bind(name)
                    .fetch_all(&mut *conn)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT domain, settings FROM user_sources ORDER BY domain")
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
        rows.into_iter()
            .map(|(domain, settings)| {
                let source = serde_json::from_str(&settings)
                    .map_err(|e| StoreError::Corrupt(format!("user source of {domain}: {e}")))?;
                Ok((domain, source))
            })
            .collect()
    }

    async fn write_user_source(
        tx: &mut Transaction<'static, Any>,
        domain: &str,
        source: &UserSource,
    ) -> Result<()> {
        sqlx::query("DELETE FROM user_sources WHERE domain = $1")
            .bind(domain)
            .execute(&mut **tx)
            .await?;
        if !source.is_builtin() {
            let settings = serde_json::to_string(source)
                .map_err(|e| StoreError::Corrupt(format!("user source of {domain}: {e}")))?;
            sqlx::query("INSERT INTO user_sources (domain, settings) VALUES ($1, $2)")
                .bind(domain)
                .bind(settings)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn bump_version(tx: &mut Transaction<'static, Any>) -> Result<()> {
        sqlx::query("UPDATE store_version SET version = version + 1 WHERE id = 1")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn insert_domain(tx: &mut Transaction<'static, Any>, domain: &Domain) -> Result<()> {
        Self::refuse_alias_clash(tx, domain).await?;
        let query = sqlx::query(
            "INSERT INTO domains (name, hostname, display_name, short_name, auth_policy,
                redirect_to, desktop_override_enabled, desktop_override_text,
                mobile_override_enabled, mobile_override_text, webmail_url, caldav_url,
                carddav_url, apple_account, oauth2_issuer, oauth2_scope, oauth2_auth_url,
                oauth2_token_url, acme_enabled, acme_hostname, acme_pacc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19, $20, $21)",
        );
        match bind_domain_row(query, domain).execute(&mut **tx).await {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    kind: "domain",
                    name: domain.name.clone(),
                });
            }
            other => other?,
        };
        Self::write_domain_parts(tx, domain).await
    }

    async fn insert_user(tx: &mut Transaction<'static, Any>, user: &User) -> Result<()> {
        let inserted = sqlx::query(
            "INSERT INTO users (address, domain, password_hash, display_name, login_name, legacy_dn,
                allow_imap, allow_pop, allow_smtp, allow_ews, allow_eas)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&user.address)
        .bind(user.domain())
        .bind(&user.password_hash)
        .bind(&user.display_name)
        .bind(user.login_name.as_deref())
        .bind(user.legacy_dn.as_deref())
        .bind(user.access.imap)
        .bind(user.access.pop)
        .bind(user.access.smtp)
        .bind(user.access.ews)
        .bind(user.access.eas)
        .execute(&mut **tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists {
                kind: "user",
                name: user.address.clone(),
            }),
            Err(e) if is_foreign_key_violation(&e) => {
                Err(StoreError::not_found("domain", user.domain()))
            }
            other => other.map(|_| ()).map_err(Into::into),
        }
    }

    async fn insert_certificate(
        tx: &mut Transaction<'static, Any>,
        source: CertificateSource,
        chain_pem: &str,
        key_pem: &str,
        info: &CertificateInfo,
        renew_requested: bool,
    ) -> Result<i64> {
        // The same certificate added again replaces the old row (a renewed key, say).
        sqlx::query("DELETE FROM certificates WHERE issuer = $1 AND serial = $2")
            .bind(&info.issuer)
            .bind(&info.serial)
            .execute(&mut **tx)
            .await?;
        Ok(sqlx::query_scalar(
            "INSERT INTO certificates (source, chain_pem, key_pem, names, not_before, not_after,
                issuer, subject, serial, renew_requested, added_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(source.key())
        .bind(chain_pem)
        .bind(key_pem)
        .bind(info.names.join(","))
        .bind(info.not_before)
        .bind(info.not_after)
        .bind(&info.issuer)
        .bind(&info.subject)
        .bind(&info.serial)
        .bind(renew_requested)
        .bind(unix_now())
        .fetch_one(&mut **tx)
        .await?)
    }

    /// Writes everything about a domain except its own row: aliases, protocols, endpoints and
    /// documentation links (replacing what was there).
    async fn write_domain_parts(tx: &mut Transaction<'static, Any>, domain: &Domain) -> Result<()> {
        for table in [
            "DELETE FROM domain_aliases WHERE domain = $1",
            "DELETE FROM domain_protocols WHERE domain = $1",
            "DELETE FROM domain_endpoints WHERE domain = $1",
            "DELETE FROM domain_documentation WHERE domain = $1",
        ] {
            sqlx::query(table)
                .bind(&domain.name)
                .execute(&mut **tx)
                .await?;
        }
        for alias in &domain.aliases {
            let taken: Option<String> =
                sqlx::query_scalar("SELECT name FROM domains WHERE name = $1")
                    .bind(alias)
                    .fetch_optional(&mut **tx)
                    .await?;
            if taken.is_some() {
                return Err(StoreError::AlreadyExists {
                    kind: "domain",
                    name: alias.clone(),
                });
            }
            let inserted =
                sqlx::query("INSERT INTO domain_aliases (alias, domain) VALUES ($1, $2)")
                    .bind(alias)
                    .bind(&domain.name)
                    .execute(&mut **tx)
                    .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::AlreadyExists {
                        kind: "alias",
                        name: alias.clone(),
                    });
                }
                other => other?,
            };
        }
        for kind in ProtocolKind::ALL {
            let setting = domain.protocols.get(kind);
            sqlx::query(
                "INSERT INTO domain_protocols (domain, protocol, enabled) VALUES ($1, $2, $3)",
            )
            .bind(&domain.name)
            .bind(kind.key())
            .bind(setting.enabled)
            .execute(&mut **tx)
            .await?;
            for (position, endpoint) in setting.endpoints().enumerate() {
                sqlx::query(
                    "INSERT INTO domain_endpoints
                        (domain, protocol, position, host, port, encryption, username, authentication)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&domain.name)
                .bind(kind.key())
                .bind(position as i64)
                .bind(endpoint.host.as_deref())
                .bind(i64::from(endpoint.port))
                .bind(endpoint.encryption.key())
                .bind(endpoint.username.as_deref())
                .bind(
                    endpoint
                        .authentication
                        .iter()
                        .map(|m| m.key())
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .execute(&mut **tx)
                .await?;
            }
        }
        for (position, doc) in domain.documentation.iter().enumerate() {
            let descriptions = serde_json::to_string(&doc.descriptions)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO domain_documentation (domain, position, url, descriptions)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&domain.name)
            .bind(position as i64)
            .bind(&doc.url)
            .bind(descriptions)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// A domain name must not already be someone's alias.
    async fn refuse_alias_clash(tx: &mut Transaction<'static, Any>, domain: &Domain) -> Result<()> {
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT domain FROM domain_aliases WHERE alias = $1 AND domain <> $1",
        )
        .bind(&domain.name)
        .fetch_optional(&mut **tx)
        .await?;
        match owner {
            Some(owner) => Err(StoreError::AlreadyExists {
                kind: "alias",
                name: format!("{} (of {owner})", domain.name),
            }),
            None => Ok(()),
        }
    }

    async fn read_domains(
        conn: &mut sqlx::AnyConnection,
        name: Option<&str>,
    ) -> Result<Vec<Domain>> {
        // With a name, every query is limited to that domain; without, all rows are read.
        let filter = name.unwrap_or("");
        let all = name.is_none();
        let mut domains = rows::DomainsBuilder::default();
        let part = |columns: &str, table: &str, order: &str| {
            format!("SELECT {columns} FROM {table} WHERE $1 OR domain = $2 ORDER BY {order}")
        };
        for_each_row(
            conn,
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM domains WHERE $1 OR name = $2 ORDER BY name",
                rows::DOMAIN_COLUMNS
            )))
            .bind(all)
            .bind(filter),
            |row| domains.domain(row),
        )
        .await?;
        for_each_row(
            conn,
            sqlx::query(sqlx::AssertSqlSafe(part(
                rows::ALIAS_COLUMNS,
                "domain_aliases",
                "alias",
            )))
            .bind(all)
            .bind(filter),
            |row| domains.alias(row),
        )
        .await?;
        for_each_row(
            conn,
            sqlx::query(sqlx::AssertSqlSafe(part(
                rows::PROTOCOL_COLUMNS,
                "domain_protocols",
                "domain, protocol",
            )))
            .bind(all)
            .bind(filter),
            |row| domains.protocol(row),
        )
        .await?;
        for_each_row(
            conn,
            sqlx::query(sqlx::AssertSqlSafe(part(
                rows::ENDPOINT_COLUMNS,
                "domain_endpoints",
                "domain, protocol, position",
            )))
            .bind(all)
            .bind(filter),
            |row| domains.endpoint(row),
        )
        .await?;
        for_each_row(
            conn,
            sqlx::query(sqlx::AssertSqlSafe(part(
                rows::DOCUMENTATION_COLUMNS,
                "domain_documentation",
                "domain, position",
            )))
            .bind(all)
            .bind(filter),
            |row| domains.documentation(row),
        )
        .await?;
        Ok(domains.finish())
    }

    /// Every user straight into `snapshot`: columns by position, strings borrowed from the row
    /// and packed once (a million users load in about a second).
    async fn read_users_into(conn: &mut sqlx::AnyConnection) -> Result<PackedUsersBuilder> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *conn)
            .await?;
        let mut users = PackedUsersBuilder::with_capacity(usize::try_from(count).unwrap_or(0));
        for_each_row(
            conn,
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM users",
                rows::USER_COLUMNS
            ))),
            |row| {
                users.push(rows::user(row)?);
                Ok(())
            },
        )
        .await?;
        Ok(users)
    }

    async fn read_users(conn: &mut sqlx::AnyConnection, domain: Option<&str>) -> Result<Vec<User>> {
        let query = match domain {
            Some(domain) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM users WHERE domain = $1 ORDER BY address",
                rows::USER_COLUMNS
            )))
            .bind(domain),
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM users ORDER BY address",
                rows::USER_COLUMNS
            ))),
        };
        let mut users = Vec::new();
        for_each_row(conn, query, |row| {
            users.push(user_from_row(row)?);
            Ok(())
        })
        .await?;
        Ok(users)
    }
}

/// A transaction that reads one consistent state of the store.
async fn begin_read(pool: &AnyPool, backend: Backend) -> Result<Transaction<'static, Any>> {
    Ok(match backend {
        Backend::Sqlite => pool.begin().await?,
        Backend::Postgres => {
            pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?
        }
    })
}

async fn read_version(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT version FROM store_version WHERE id = 1")
            .fetch_one(conn)
            .await?,
    )
}

/// Hands each row of `query` to `each` as it arrives, holding one at a time: a snapshot of a
/// million users is read without a million rows in memory besides the users themselves.
async fn for_each_row(
    conn: &mut sqlx::AnyConnection,
    query: AnyQuery<'_>,
    mut each: impl FnMut(&AnyRow) -> Result<()>,
) -> Result<()> {
    use futures_util::TryStreamExt;
    let mut rows = query.fetch(conn);
    while let Some(row) = rows.try_next().await? {
        each(&row)?;
    }
    Ok(())
}

/// A stable 64-bit advisory lock key for a name (FNV-1a: the same in every instance and release).
fn lock_key(name: &str) -> i64 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// A yes/no column: BOOLEAN in PostgreSQL, 0/1 in SQLite (told apart by the value's type,
/// without a failed decode per row).
fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    use sqlx::{TypeInfo, ValueRef};
    let is_bool = row
        .try_get_raw(column)
        .is_ok_and(|raw| raw.type_info().name() == "BOOLEAN");
    if is_bool {
        Ok(row.try_get::<bool, _>(column)?)
    } else {
        Ok(row.try_get::<i64, _>(column)? != 0)
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(rows::user(row)?.to_user())
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

/// Binds the 21 columns of a domain row, in table order, as `$1`..`$21`.
fn bind_domain_row<'q>(query: AnyQuery<'q>, domain: &'q Domain) -> AnyQuery<'q> {
    let oauth2 = domain.oauth2.as_ref();
    query
        .bind(&domain.name)
        .bind(&domain.hostname)
        .bind(&domain.display_name)
        .bind(&domain.short_name)
        .bind(domain.auth.key())
        .bind(domain.redirect_to.as_deref())
        .bind(domain.desktop_override.enabled)
        .bind(domain.desktop_override.text.as_deref())
        .bind(domain.mobile_override.enabled)
        .bind(domain.mobile_override.text.as_deref())
        .bind(domain.webmail_url.as_deref())
        .bind(domain.caldav_url.as_deref())
        .bind(domain.carddav_url.as_deref())
        .bind(domain.apple_account.key())
        .bind(oauth2.map(|o| o.issuer.as_str()))
        .bind(oauth2.map(|o| o.scope.as_str()))
        .bind(oauth2.map(|o| o.auth_url.as_str()))
        .bind(oauth2.map(|o| o.token_url.as_str()))
        .bind(domain.acme.enabled)
        .bind(domain.acme.hostname)
        .bind(domain.acme.pacc)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn certificate_from_row(row: &AnyRow) -> Result<StoredCertificate> {
    let source: String = row.try_get("source")?;
    let names: String = row.try_get("names")?;
    let chain_pem: String = row.try_get("chain_pem")?;
    Ok(StoredCertificate {
        id: row.try_get("id")?,
        source: CertificateSource::parse(&source)
            .ok_or_else(|| corrupt(format!("certificate source '{source}'")))?,
        key_pem: row.try_get("key_pem")?,
        info: CertificateInfo {
            names: names
                .split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect(),
            not_before: row.try_get("not_before")?,
            not_after: row.try_get("not_after")?,
            issuer: row.try_get("issuer")?,
            subject: row.try_get("subject")?,
            serial: row.try_get("serial")?,
            key_type: signpost_core::certificate::key_type_of_chain(&chain_pem),
        },
        chain_pem,
        renew_requested: flag(row, "renew_requested")?,
    })
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

#[async_trait]
impl Store for SqlStore {
    async fn version(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT version FROM store_version WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn load_snapshot(&self) -> Result<Snapshot> {
        if let Some(path) = &self.sqlite_path {
            let read = crate::snapshot_read::sqlite(path.clone()).await?;
            return Ok(
                SnapshotBuilder::from_parts(read.version, read.domains, read.users)
                    .build()
                    .with_user_sources(read.user_sources),
            );
        }
        // PostgreSQL: the users are read on a connection and a task of their own while the
        // domains are read here, so both cores work. Every write changes the version, so two
        // reads that saw the same version saw the same store; if a write came between them,
        // they are read again.
        if let Some(url) = self.url.clone() {
            for _ in 0..3 {
                let url = url.clone();
                let users =
                    tokio::spawn(async move { crate::snapshot_read::postgres_users(&url).await });
                let mut tx = self.read_transaction().await?;
                let version = read_version(&mut tx).await?;
                let domains = Self::read_domains(&mut tx, None).await?;
                let sources = Self::read_user_sources(&mut tx, None).await?;
                tx.commit().await?;
                let (users_version, users) = users
                    .await
                    .map_err(|e| StoreError::Corrupt(format!("reading the users: {e}")))??;
                if users_version == version {
                    return Ok(SnapshotBuilder::from_parts(version, domains, users)
                        .build()
                        .with_user_sources(sources));
                }
            }
        }
        // The store keeps changing: one transaction, one connection.
        let mut tx = self.read_transaction().await?;
        let version = read_version(&mut tx).await?;
        let domains = Self::read_domains(&mut tx, None).await?;
        let users = Self::read_users_into(&mut tx).await?;
        let sources = Self::read_user_sources(&mut tx, None).await?;
        tx.commit().await?;
        Ok(SnapshotBuilder::from_parts(version, domains, users)
            .build()
            .with_user_sources(sources))
    }

    async fn domains(&self) -> Result<Vec<Domain>> {
        let mut tx = self.pool.begin().await?;
        let domains = Self::read_domains(&mut tx, None).await?;
        tx.commit().await?;
        Ok(domains)
    }

    async fn domain(&self, name: &str) -> Result<Option<Domain>> {
        let mut tx = self.pool.begin().await?;
        let domain = Self::read_domains(&mut tx, Some(name)).await?.pop();
        tx.commit().await?;
        Ok(domain)
    }

    async fn create_domain(&self, domain: &Domain, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        Self::insert_domain(&mut tx, domain).await?;
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_domain(&self, domain: &Domain, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let query = sqlx::query(
            "UPDATE domains SET name = $1, hostname = $2, display_name = $3, short_name = $4,
                auth_policy = $5, redirect_to = $6, desktop_override_enabled = $7,
                desktop_override_text = $8, mobile_override_enabled = $9,
                mobile_override_text = $10, webmail_url = $11, caldav_url = $12,
                carddav_url = $13, apple_account = $14, oauth2_issuer = $15, oauth2_scope = $16,
                oauth2_auth_url = $17, oauth2_token_url = $18, acme_enabled = $19,
                acme_hostname = $20, acme_pacc = $21
             WHERE name = $1",
        );
        let updated = bind_domain_row(query, domain).execute(&mut *tx).await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found("domain", &domain.name));
        }
        Self::write_domain_parts(&mut tx, domain).await?;
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_domain(&self, name: &str, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let deleted = sqlx::query("DELETE FROM domains WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found("domain", name));
        }
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn users(&self, domain: Option<&str>) -> Result<Vec<User>> {
        let mut conn = self.pool.acquire().await?;
        Self::read_users(&mut conn, domain).await
    }

    async fn user(&self, address: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM users WHERE address = $1",
            rows::USER_COLUMNS
        )))
        .bind(address)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn users_page(
        &self,
        domain: &str,
        search: &str,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<User>, u64)> {
        // LIKE's own characters in what a person typed are matched as themselves.
        let escaped: String = search
            .trim()
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        // Without a search, the index on (domain, address) counts and pages; a search reads
        // the domain's rows once.
        let matching = if escaped.is_empty() {
            "FROM users WHERE domain = $1 AND $2 = '%%'"
        } else {
            "FROM users WHERE domain = $1
             AND (LOWER(address) LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\')"
        };
        let mut tx = self.read_transaction().await?;
        let total: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {matching}")))
                .bind(domain)
                .bind(&pattern)
                .fetch_one(&mut *tx)
                .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} {matching} ORDER BY address LIMIT $3 OFFSET $4",
            rows::USER_COLUMNS
        )))
        .bind(domain)
        .bind(&pattern)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let users = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
        Ok((users, u64::try_from(total).unwrap_or(0)))
    }

    async fn user_counts(&self) -> Result<std::collections::HashMap<String, u64>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT domain, COUNT(*) FROM users GROUP BY domain")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(domain, n)| (domain, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn create_user(&self, user: &User, audit: &AuditRecord) -> Result<()> {
        self.create_users(std::slice::from_ref(user), audit).await
    }

    async fn create_users(&self, users: &[User], audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        for user in users {
            Self::insert_user(&mut tx, user).await?;
        }
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_user(&self, user: &User, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1, display_name = $2, login_name = $3, legacy_dn = $4,
                allow_imap = $5, allow_pop = $6, allow_smtp = $7, allow_ews = $8, allow_eas = $9
             WHERE address = $10",
        )
        .bind(&user.password_hash)
        .bind(&user.display_name)
        .bind(user.login_name.as_deref())
        .bind(user.legacy_dn.as_deref())
        .bind(user.access.imap)
        .bind(user.access.pop)
        .bind(user.access.smtp)
        .bind(user.access.ews)
        .bind(user.access.eas)
        .bind(&user.address)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found("user", &user.address));
        }
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, address: &str, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let deleted = sqlx::query("DELETE FROM users WHERE address = $1")
            .bind(address)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found("user", address));
        }
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn certificates(&self) -> Result<Vec<StoredCertificate>> {
        let rows = sqlx::query("SELECT * FROM certificates ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(certificate_from_row).collect()
    }

    async fn add_certificate(
        &self,
        source: CertificateSource,
        chain_pem: &str,
        key_pem: &str,
        info: &CertificateInfo,
        audit: &AuditRecord,
    ) -> Result<i64> {
        let mut tx = self.write_transaction().await?;
        let id = Self::insert_certificate(&mut tx, source, chain_pem, key_pem, info, false).await?;
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn remove_certificate(&self, id: i64, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let deleted = sqlx::query("DELETE FROM certificates WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found("certificate", &id.to_string()));
        }
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn request_renewal(&self, id: i64, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let updated = sqlx::query("UPDATE certificates SET renew_requested = 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found("certificate", &id.to_string()));
        }
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn acme_account(&self, directory_url: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT credentials FROM acme_accounts WHERE directory_url = $1")
                .bind(directory_url)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn save_acme_account(&self, directory_url: &str, credentials: &str) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        sqlx::query(
            "INSERT INTO acme_accounts (directory_url, credentials) VALUES ($1, $2)
             ON CONFLICT (directory_url) DO UPDATE SET credentials = excluded.credentials",
        )
        .bind(directory_url)
        .bind(credentials)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_sources(&self) -> Result<Vec<(String, UserSource)>> {
        let mut conn = self.pool.acquire().await?;
        Self::read_user_sources(&mut conn, None).await
    }

    async fn user_source(&self, domain: &str) -> Result<UserSource> {
        let mut conn = self.pool.acquire().await?;
        Ok(Self::read_user_sources(&mut conn, Some(domain))
            .await?
            .pop()
            .map(|(_, source)| source)
            .unwrap_or_default())
    }

    async fn set_user_source(
        &self,
        domain: &str,
        source: &UserSource,
        audit: &AuditRecord,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domains WHERE name = $1")
            .bind(domain)
            .fetch_one(&mut *tx)
            .await?;
        if exists == 0 {
            return Err(StoreError::not_found("domain", domain));
        }
        Self::write_user_source(&mut tx, domain, source).await?;
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn export(&self) -> Result<Export> {
        let mut tx = self.read_transaction().await?;
        let domains = Self::read_domains(&mut tx, None).await?;
        let users = Self::read_users(&mut tx, None).await?;
        let user_sources = Self::read_user_sources(&mut tx, None)
            .await?
            .into_iter()
            .map(|(domain, source)| crate::ExportedUserSource { domain, source })
            .collect();
        let certificates = sqlx::query("SELECT * FROM certificates ORDER BY id")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                certificate_from_row(row).map(|c| ExportedCertificate {
                    source: c.source,
                    chain_pem: c.chain_pem,
                    key_pem: c.key_pem,
                    renew_requested: c.renew_requested,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let acme_accounts: Vec<(String, String)> = sqlx::query_as(
            "SELECT directory_url, credentials FROM acme_accounts ORDER BY directory_url",
        )
        .fetch_all(&mut *tx)
        .await?;
        let administrators = sqlx::query("SELECT * FROM administrators ORDER BY name")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(admins::administrator_from_row)
            .collect::<Result<Vec<_>>>()?;
        let api_tokens = sqlx::query("SELECT * FROM api_tokens ORDER BY administrator, name")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(admins::token_from_row)
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Export {
            format: EXPORT_FORMAT.to_string(),
            version: EXPORT_VERSION,
            domains,
            users,
            certificates,
            administrators: administrators
                .into_iter()
                .map(|a| crate::ExportedAdministrator {
                    name: a.name,
                    password_hash: a.password_hash,
                    role: a.role,
                })
                .collect(),
            api_tokens: api_tokens
                .into_iter()
                .map(|t| crate::ExportedApiToken {
                    administrator: t.administrator,
                    name: t.name,
                    token_hash: t.token_hash,
                    created_at: t.created_at,
                })
                .collect(),
            user_sources,
            acme_accounts: acme_accounts
                .into_iter()
                .map(|(directory_url, credentials)| ExportedAcmeAccount {
                    directory_url,
                    credentials,
                })
                .collect(),
        })
    }

    async fn import(
        &self,
        export: &Export,
        replace: bool,
        audit: &AuditRecord,
        progress: Option<OnProgress<'_>>,
    ) -> Result<()> {
        if export.format != EXPORT_FORMAT || export.version != EXPORT_VERSION {
            return Err(StoreError::Import(format!(
                "not a Signpost export of version {EXPORT_VERSION} (format '{}', version {})",
                export.format, export.version
            )));
        }
        let mut tx = self.write_transaction().await?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domains")
            .fetch_one(&mut *tx)
            .await?;
        if existing > 0 && !replace {
            return Err(StoreError::Import(format!(
                "the store already holds {existing} domain(s); import into an empty store, or use --replace"
            )));
        }
        for table in [
            "DELETE FROM domains",
            "DELETE FROM certificates",
            "DELETE FROM acme_accounts",
        ] {
            sqlx::query(table).execute(&mut *tx).await?;
        }
        bulk::check(&export.domains, &export.users)?;
        bulk::insert_domains(&mut tx, self.backend, &export.domains, progress).await?;
        bulk::insert_users(&mut tx, self.backend, &export.users, progress).await?;
        for exported in &export.user_sources {
            Self::write_user_source(&mut tx, &exported.domain, &exported.source).await?;
        }
        for certificate in &export.certificates {
            let chain =
                signpost_core::certificate::chain_from_pem(certificate.chain_pem.as_bytes())
                    .map_err(|e| StoreError::Import(format!("certificate: {e}")))?;
            let info = signpost_core::certificate::inspect(chain[0].as_ref())
                .map_err(|e| StoreError::Import(format!("certificate: {e}")))?;
            Self::insert_certificate(
                &mut tx,
                certificate.source,
                &certificate.chain_pem,
                &certificate.key_pem,
                &info,
                certificate.renew_requested,
            )
            .await?;
        }
        for account in &export.acme_accounts {
            sqlx::query("INSERT INTO acme_accounts (directory_url, credentials) VALUES ($1, $2)")
                .bind(&account.directory_url)
                .bind(&account.credentials)
                .execute(&mut *tx)
                .await?;
        }
        // Exports from before administrators existed leave the administrators as they are.
        if !export.administrators.is_empty() {
            sqlx::query("DELETE FROM administrators")
                .execute(&mut *tx)
                .await?;
            for administrator in &export.administrators {
                admins::insert_administrator(
                    &mut *tx,
                    &Administrator {
                        name: administrator.name.clone(),
                        password_hash: administrator.password_hash.clone(),
                        role: administrator.role.clone(),
                    },
                )
                .await?;
            }
            for token in &export.api_tokens {
                admins::insert_api_token(
                    &mut *tx,
                    &ApiToken {
                        administrator: token.administrator.clone(),
                        name: token.name.clone(),
                        token_hash: token.token_hash.clone(),
                        created_at: token.created_at,
                    },
                )
                .await?;
            }
        }
        audit::insert(&mut tx, audit).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn backup(&self, path: &std::path::Path) -> Result<()> {
        if path.exists() {
            return Err(StoreError::Import(format!(
                "{} already exists; choose a new file",
                path.display()
            )));
        }
        match self.backend {
            Backend::Sqlite => {
                let target = path.to_str().ok_or_else(|| {
                    StoreError::Import(format!("{} is not a UTF-8 path", path.display()))
                })?;
                // VACUUM INTO reads one consistent snapshot while writers go on.
                sqlx::query("VACUUM INTO $1")
                    .bind(target)
                    .execute(&self.pool)
                    .await?;
            }
            Backend::Postgres => {
                // A whole export (read in one transaction) that `signpost import` restores;
                // pg_dump remains the tool for the database as such.
                let export = self.export().await?;
                let json = serde_json::to_vec_pretty(&export).map_err(corrupt)?;
                crate::write_private_file(path, &json)?;
            }
        }
        Ok(())
    }

    async fn verify(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let findings: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(&self.pool)
                    .await?;
                if findings != ["ok"] {
                    return Err(StoreError::Corrupt(findings.join("; ")));
                }
            }
            Backend::Postgres => {
                // PostgreSQL keeps its own pages whole; what can go wrong here is the content.
                let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM store_version")
                    .fetch_one(&self.pool)
                    .await?;
                if versions != 1 {
                    return Err(StoreError::Corrupt(format!(
                        "store_version has {versions} rows instead of 1"
                    )));
                }
            }
        }
        // Every row must read back as a valid value.
        self.export().await.map(|_| ())
    }

    async fn administrators(&self) -> Result<Vec<Administrator>> {
        admins::administrators(&self.pool).await
    }

    async fn administrator(&self, name: &str) -> Result<Option<Administrator>> {
        admins::administrator(&self.pool, name).await
    }

    async fn create_administrator(
        &self,
        administrator: &Administrator,
        audit: &AuditRecord,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        admins::insert_administrator(&mut *tx, administrator).await?;
        audit::insert(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    async fn save_administrator(
        &self,
        administrator: &Administrator,
        audit: &AuditRecord,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        admins::save_administrator(&mut *tx, administrator).await?;
        audit::insert(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    async fn delete_administrator(&self, name: &str, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        admins::delete_administrator(&mut *tx, name).await?;
        audit::insert(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    async fn create_api_token(&self, token: &ApiToken, audit: &AuditRecord) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        admins::insert_api_token(&mut *tx, token).await?;
        audit::insert(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    async fn api_tokens(&self, administrator: Option<&str>) -> Result<Vec<ApiToken>> {
        admins::api_tokens(&self.pool, administrator).await
    }

    async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        admins::api_token_by_hash(&self.pool, token_hash).await
    }

    async fn delete_api_token(
        &self,
        administrator: &str,
        name: &str,
        audit: &AuditRecord,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        admins::delete_api_token(&mut *tx, administrator, name).await?;
        audit::insert(&mut tx, audit).await?;
        Ok(tx.commit().await?)
    }

    async fn create_session(&self, session: &AdminSession, now: i64) -> Result<()> {
        admins::create_session(&self.pool, session, now).await
    }

    async fn session_by_hash(&self, id_hash: &str, now: i64) -> Result<Option<AdminSession>> {
        admins::session_by_hash(&self.pool, id_hash, now).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        admins::delete_session(&self.pool, id_hash).await
    }

    async fn audit_log(
        &self,
        filter: &AuditFilter,
        domains: Option<&[String]>,
    ) -> Result<Vec<AuditEntry>> {
        audit::list(&self.pool, filter, domains).await
    }

    async fn prune_audit_log(&self, before: i64, keep: usize) -> Result<u64> {
        audit::prune(&self.pool, before, keep).await
    }

    async fn register_instance(&self, instance: &Instance) -> Result<()> {
        instances::register(&self.pool, instance).await
    }

    async fn instance_seen(
        &self,
        id: &str,
        loaded_version: i64,
        now: i64,
        forget_before: i64,
    ) -> Result<()> {
        instances::seen(&self.pool, id, loaded_version, now, forget_before).await
    }

    async fn remove_instance(&self, id: &str) -> Result<()> {
        instances::remove(&self.pool, id).await
    }

    async fn instances(&self) -> Result<Vec<Instance>> {
        instances::list(&self.pool).await
    }

    async fn is_known_network(&self, account: &str, network: &str, since: i64) -> Result<bool> {
        known_networks::is_known(&self.pool, account, network, since).await
    }

    async fn remember_network(&self, account: &str, network: &str, now: i64) -> Result<()> {
        known_networks::remember(&self.pool, account, network, now).await
    }

    fn is_shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    async fn watch_changes(&self) -> Option<tokio::sync::mpsc::Receiver<Change>> {
        let url = self.url.clone()?;
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        tokio::spawn(crate::notifications::listen(url, sender));
        Some(receiver)
    }

    async fn try_exclusive(&self, name: &str) -> Result<Option<Exclusive>> {
        match self.backend {
            // One machine: nobody else to coordinate with.
            Backend::Sqlite => Ok(Some(Exclusive { _connection: None })),
            Backend::Postgres => {
                let mut connection = self.pool.acquire().await?;
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(lock_key(name))
                    .fetch_one(&mut *connection)
                    .await?;
                if !got {
                    return Ok(None);
                }
                // Closed rather than pooled when dropped: the lock ends with the session.
                connection.close_on_drop();
                Ok(Some(Exclusive {
                    _connection: Some(connection),
                }))
            }
        }
    }

    async fn acme_challenges(&self, now: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT token, key_authorization FROM acme_challenges WHERE expires_at > $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn publish_acme_challenge(
        &self,
        token: &str,
        key_authorization: &str,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        sqlx::query("DELETE FROM acme_challenges WHERE expires_at <= $1")
            .bind(unix_now())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO acme_challenges (token, key_authorization, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (token) DO UPDATE SET key_authorization = excluded.key_authorization,
                expires_at = excluded.expires_at",
        )
        .bind(token)
        .bind(key_authorization)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_requests(
        &self,
        requests: &[crate::recent::RecentRequest],
        keep: usize,
    ) -> Result<()> {
        crate::recent::record(&self.pool, requests, keep).await
    }

    async fn recent_requests(
        &self,
        filter: &crate::recent::RecentFilter,
        domains: Option<&[String]>,
    ) -> Result<Vec<crate::recent::RecentRequest>> {
        crate::recent::list(&self.pool, filter, domains).await
    }

    async fn withdraw_acme_challenge(&self, token: &str) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        sqlx::query("DELETE FROM acme_challenges WHERE token = $1")
            .bind(token)
            .execute(&mut *tx)
            .await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
