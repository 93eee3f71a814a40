//! The embedded store: one SQLite file in WAL mode with full synchronous commits, so an
//! acknowledged change survives a crash.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use signpost_core::{
    AuthPolicy, Domain, Encryption, ProtocolKind, ProtocolSetting, ProtocolSettings, ServiceAccess,
    Snapshot, User, XmlOverride,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::migrations::{Migration, SQLITE};
use crate::{Result, Store, StoreError};

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database file, creating it and its directory if needed, and migrates it.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::DataDirectory {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let store = Self { pool };
        store.migrate(SQLITE).await?;
        Ok(store)
    }

    async fn migrate(&self, migrations: &[Migration]) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY NOT NULL,
                description TEXT NOT NULL,
                applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
            )",
        )
        .execute(&mut *tx)
        .await?;
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
            sqlx::query("INSERT INTO schema_migrations (version, description) VALUES (?, ?)")
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
    async fn write_transaction(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn bump_version(tx: &mut Transaction<'static, Sqlite>) -> Result<()> {
        sqlx::query("UPDATE store_version SET version = version + 1 WHERE id = 1")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn write_protocols(tx: &mut Transaction<'static, Sqlite>, domain: &Domain) -> Result<()> {
        sqlx::query("DELETE FROM domain_protocols WHERE domain = ?")
            .bind(&domain.name)
            .execute(&mut **tx)
            .await?;
        for kind in ProtocolKind::ALL {
            let setting = domain.protocols.get(kind);
            sqlx::query(
                "INSERT INTO domain_protocols (domain, protocol, enabled, host, port, encryption)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&domain.name)
            .bind(kind.key())
            .bind(setting.enabled)
            .bind(setting.host.as_deref())
            .bind(i64::from(setting.port))
            .bind(setting.encryption.key())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    async fn read_domains(
        conn: &mut sqlx::SqliteConnection,
        name: Option<&str>,
    ) -> Result<Vec<Domain>> {
        let rows = match name {
            Some(name) => {
                sqlx::query("SELECT * FROM domains WHERE name = ?")
                    .bind(name)
                    .fetch_all(&mut *conn)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM domains ORDER BY name")
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
        let protocol_rows = match name {
            Some(name) => {
                sqlx::query("SELECT * FROM domain_protocols WHERE domain = ?")
                    .bind(name)
                    .fetch_all(&mut *conn)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM domain_protocols")
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
        let mut domains = rows
            .iter()
            .map(domain_from_row)
            .collect::<Result<Vec<_>>>()?;
        let index: std::collections::HashMap<String, usize> = domains
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.clone(), i))
            .collect();
        for row in &protocol_rows {
            let domain_name: String = row.try_get("domain")?;
            let Some(&i) = index.get(&domain_name) else {
                continue;
            };
            let kind = ProtocolKind::parse(&row.try_get::<String, _>("protocol")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            *domains[i].protocols.get_mut(kind) = protocol_from_row(row)?;
        }
        Ok(domains)
    }

    async fn read_users(
        conn: &mut sqlx::SqliteConnection,
        domain: Option<&str>,
    ) -> Result<Vec<User>> {
        let rows = match domain {
            Some(domain) => {
                sqlx::query("SELECT * FROM users WHERE domain = ? ORDER BY address")
                    .bind(domain)
                    .fetch_all(&mut *conn)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM users ORDER BY address")
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
        rows.iter().map(user_from_row).collect()
    }
}

fn domain_from_row(row: &SqliteRow) -> Result<Domain> {
    let auth: String = row.try_get("auth_policy")?;
    Ok(Domain {
        name: row.try_get("name")?,
        hostname: row.try_get("hostname")?,
        display_name: row.try_get("display_name")?,
        auth: AuthPolicy::parse(&auth).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        redirect_to: row.try_get("redirect_to")?,
        // Filled from domain_protocols; a domain row without them keeps the defaults.
        protocols: ProtocolSettings::default(),
        desktop_override: XmlOverride {
            enabled: row.try_get("desktop_override_enabled")?,
            text: row.try_get("desktop_override_text")?,
        },
        mobile_override: XmlOverride {
            enabled: row.try_get("mobile_override_enabled")?,
            text: row.try_get("mobile_override_text")?,
        },
    })
}

fn protocol_from_row(row: &SqliteRow) -> Result<ProtocolSetting> {
    let port: i64 = row.try_get("port")?;
    let encryption: String = row.try_get("encryption")?;
    Ok(ProtocolSetting {
        enabled: row.try_get("enabled")?,
        host: row.try_get("host")?,
        port: u16::try_from(port).map_err(|_| StoreError::Corrupt(format!("port {port}")))?,
        encryption: Encryption::parse(&encryption)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

fn user_from_row(row: &SqliteRow) -> Result<User> {
    Ok(User {
        address: row.try_get("address")?,
        password_hash: row.try_get("password_hash")?,
        display_name: row.try_get("display_name")?,
        login_name: row.try_get("login_name")?,
        legacy_dn: row.try_get("legacy_dn")?,
        access: ServiceAccess {
            imap: row.try_get("allow_imap")?,
            pop: row.try_get("allow_pop")?,
            smtp: row.try_get("allow_smtp")?,
            ews: row.try_get("allow_ews")?,
            eas: row.try_get("allow_eas")?,
        },
    })
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

#[async_trait]
impl Store for SqliteStore {
    async fn version(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT version FROM store_version WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn load_snapshot(&self) -> Result<Snapshot> {
        let mut tx = self.pool.begin().await?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM store_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let domains = Self::read_domains(&mut tx, None).await?;
        let users = Self::read_users(&mut tx, None).await?;
        tx.commit().await?;
        Ok(Snapshot::new(version, domains, users))
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

    async fn create_domain(&self, domain: &Domain) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let inserted = sqlx::query(
            "INSERT INTO domains (name, hostname, display_name, auth_policy, redirect_to,
                desktop_override_enabled, desktop_override_text,
                mobile_override_enabled, mobile_override_text)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&domain.name)
        .bind(&domain.hostname)
        .bind(&domain.display_name)
        .bind(domain.auth.key())
        .bind(domain.redirect_to.as_deref())
        .bind(domain.desktop_override.enabled)
        .bind(domain.desktop_override.text.as_deref())
        .bind(domain.mobile_override.enabled)
        .bind(domain.mobile_override.text.as_deref())
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    kind: "domain",
                    name: domain.name.clone(),
                });
            }
            other => other?,
        };
        Self::write_protocols(&mut tx, domain).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_domain(&self, domain: &Domain) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let updated = sqlx::query(
            "UPDATE domains SET hostname = ?, display_name = ?, auth_policy = ?, redirect_to = ?,
                desktop_override_enabled = ?, desktop_override_text = ?,
                mobile_override_enabled = ?, mobile_override_text = ?
             WHERE name = ?",
        )
        .bind(&domain.hostname)
        .bind(&domain.display_name)
        .bind(domain.auth.key())
        .bind(domain.redirect_to.as_deref())
        .bind(domain.desktop_override.enabled)
        .bind(domain.desktop_override.text.as_deref())
        .bind(domain.mobile_override.enabled)
        .bind(domain.mobile_override.text.as_deref())
        .bind(&domain.name)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found("domain", &domain.name));
        }
        Self::write_protocols(&mut tx, domain).await?;
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_domain(&self, name: &str) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let deleted = sqlx::query("DELETE FROM domains WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found("domain", name));
        }
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn users(&self, domain: Option<&str>) -> Result<Vec<User>> {
        let mut conn = self.pool.acquire().await?;
        Self::read_users(&mut conn, domain).await
    }

    async fn user(&self, address: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE address = ?")
            .bind(address)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
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

    async fn create_user(&self, user: &User) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (address, domain, password_hash, display_name, login_name, legacy_dn,
                allow_imap, allow_pop, allow_smtp, allow_ews, allow_eas)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    kind: "user",
                    name: user.address.clone(),
                });
            }
            Err(e) if is_foreign_key_violation(&e) => {
                return Err(StoreError::not_found("domain", user.domain()));
            }
            other => other?,
        };
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_user(&self, user: &User) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = ?, display_name = ?, login_name = ?, legacy_dn = ?,
                allow_imap = ?, allow_pop = ?, allow_smtp = ?, allow_ews = ?, allow_eas = ?
             WHERE address = ?",
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
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, address: &str) -> Result<()> {
        let mut tx = self.write_transaction().await?;
        let deleted = sqlx::query("DELETE FROM users WHERE address = ?")
            .bind(address)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found("user", address));
        }
        Self::bump_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_core::model::ProtocolChange;

    fn user(address: &str) -> User {
        User {
            address: address.into(),
            password_hash: "$argon2id$x".into(),
            display_name: "Jo <&>".into(),
            login_name: Some("jo".into()),
            legacy_dn: None,
            access: ServiceAccess {
                pop: false,
                ..ServiceAccess::ALL
            },
        }
    }

    #[tokio::test]
    async fn round_trips_domains_and_users_and_counts_versions() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).await.unwrap();
        assert_eq!(store.version().await.unwrap(), 0);

        let mut domain = Domain::new("example.com", "mail.example.com").unwrap();
        domain
            .change_protocol(
                ProtocolKind::Imap,
                &ProtocolChange {
                    port: Some(143),
                    encryption: Some(Encryption::Starttls),
                    ..Default::default()
                },
            )
            .unwrap();
        domain.desktop_override = XmlOverride {
            enabled: true,
            text: Some(String::new()),
        };
        store.create_domain(&domain).await.unwrap();
        assert!(matches!(
            store.create_domain(&domain).await,
            Err(StoreError::AlreadyExists { .. })
        ));
        assert_eq!(
            store.domain("example.com").await.unwrap().as_ref(),
            Some(&domain)
        );

        store.create_user(&user("jo@example.com")).await.unwrap();
        assert!(matches!(
            store.create_user(&user("jo@nowhere.org")).await,
            Err(StoreError::NotFound { kind: "domain", .. })
        ));
        assert_eq!(
            store.user("jo@example.com").await.unwrap(),
            Some(user("jo@example.com"))
        );

        let snapshot = store.load_snapshot().await.unwrap();
        assert_eq!(snapshot.version, 2);
        assert_eq!(snapshot.domain("example.com"), Some(&domain));

        store.delete_domain("example.com").await.unwrap();
        assert!(
            store.users(None).await.unwrap().is_empty(),
            "users go with their domain"
        );
        assert!(matches!(
            store.delete_domain("example.com").await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(store.version().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_does_not_remigrate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/s.db");
        {
            let store = SqliteStore::open(&path).await.unwrap();
            store
                .create_domain(&Domain::new("a.example", "mail.a.example").unwrap())
                .await
                .unwrap();
        }
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.domains().await.unwrap().len(), 1);
    }
}
