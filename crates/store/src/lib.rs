//! Where Signpost keeps domains and users.
//!
//! Callers use the [`Store`] trait; [`open`] picks the backend from a location. The request path
//! never reads the store directly: it reads a [`signpost_core::Snapshot`] loaded from it.

mod admins;
pub mod audit;
pub mod bulk;
pub mod instances;
pub mod known_networks;
mod migrations;
mod notifications;
pub mod recent;
mod rows;
mod snapshot_read;
mod sql;

use std::path::PathBuf;

use async_trait::async_trait;
use signpost_core::admin::Administrator;
use signpost_core::certificate::{CertificateInfo, CertificateSource, StoredCertificate};
use signpost_core::{Domain, Snapshot, User, UserSource};

pub use audit::{AuditEntry, AuditFilter, AuditRecord};
pub use instances::Instance;
pub use sql::{Backend, SqlStore};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} '{name}' does not exist")]
    NotFound { kind: &'static str, name: String },
    #[error("{kind} '{name}' already exists")]
    AlreadyExists { kind: &'static str, name: String },
    #[error("the store holds a value Signpost cannot read ({0}); was it edited by hand?")]
    Corrupt(String),
    #[error(
        "the store was written by a newer Signpost (schema {found}, this one knows up to {known}); upgrade Signpost"
    )]
    TooNew { found: i64, known: i64 },
    #[error("cannot use the data directory {path}: {source}")]
    DataDirectory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "unsupported database URL '{0}': use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE"
    )]
    UnsupportedUrl(String),
    #[error("{0}")]
    Import(String),
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    /// Said in full by its own message: the driver's error is not kept as a source, so an
    /// error chain does not say it twice.
    #[error("{}", database_said(.0))]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

/// A database error in the words that matter: the server's own message and SQLSTATE when it
/// gave one, the system's reason when the connection failed.
fn database_said(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("the database said: {} (code {code})", db.message()),
            None => format!("the database said: {}", db.message()),
        },
        sqlx::Error::Io(io) => format!("cannot reach the database: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS with the database failed: {tls}"),
        sqlx::Error::PoolTimedOut => {
            "no database connection came free in time (the database is slow or unreachable)"
                .to_string()
        }
        other => format!("database error: {other}"),
    }
}

impl StoreError {
    fn not_found(kind: &'static str, name: &str) -> Self {
        Self::NotFound {
            kind,
            name: name.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Persistence of the configuration. Every write is atomic and bumps [`Store::version`]; every
/// write of the configuration or of who may change it takes the [`AuditRecord`] that describes
/// it and stores it in the same transaction.
#[async_trait]
pub trait Store: Send + Sync {
    /// A counter that changes whenever anything in the store changes.
    async fn version(&self) -> Result<i64>;
    /// Everything, read in one consistent transaction.
    async fn load_snapshot(&self) -> Result<Snapshot>;

    async fn domains(&self) -> Result<Vec<Domain>>;
    async fn domain(&self, name: &str) -> Result<Option<Domain>>;
    /// Fails with [`StoreError::AlreadyExists`] if the name is taken.
    async fn create_domain(&self, domain: &Domain, audit: &AuditRecord) -> Result<()>;
    /// Replaces a domain's settings; fails with [`StoreError::NotFound`] if it does not exist.
    async fn save_domain(&self, domain: &Domain, audit: &AuditRecord) -> Result<()>;
    /// Removes a domain and its users.
    async fn delete_domain(&self, name: &str, audit: &AuditRecord) -> Result<()>;

    /// Users of one domain, or of all domains, ordered by address.
    async fn users(&self, domain: Option<&str>) -> Result<Vec<User>>;
    async fn user(&self, address: &str) -> Result<Option<User>>;
    /// One page of a domain's users ordered by address: those whose address or display name
    /// contains `search` (ignoring case; empty matches all), from `offset`, at most `limit`; and
    /// how many match in all.
    async fn users_page(
        &self,
        domain: &str,
        search: &str,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<User>, u64)>;
    /// How many users each domain has (domains without users are absent).
    async fn user_counts(&self) -> Result<std::collections::HashMap<String, u64>>;
    /// Fails if the address is taken or its domain is not hosted.
    async fn create_user(&self, user: &User, audit: &AuditRecord) -> Result<()>;
    /// Creates all of `users` in one transaction: all of them, or none if any fails.
    async fn create_users(&self, users: &[User], audit: &AuditRecord) -> Result<()>;
    async fn save_user(&self, user: &User, audit: &AuditRecord) -> Result<()>;
    async fn delete_user(&self, address: &str, audit: &AuditRecord) -> Result<()>;

    /// Domains whose users live in a directory, with its settings (secrets included).
    async fn user_sources(&self) -> Result<Vec<(String, UserSource)>>;
    /// A domain's user source (built-in when none was set).
    async fn user_source(&self, domain: &str) -> Result<UserSource>;
    /// Sets a domain's user source; [`UserSource::Builtin`] removes the directory.
    async fn set_user_source(
        &self,
        domain: &str,
        source: &UserSource,
        audit: &AuditRecord,
    ) -> Result<()>;

    /// Every stored certificate, oldest first.
    async fn certificates(&self) -> Result<Vec<StoredCertificate>>;
    /// Stores a chain and its key (replacing the same certificate stored before); returns its id.
    async fn add_certificate(
        &self,
        source: CertificateSource,
        chain_pem: &str,
        key_pem: &str,
        info: &CertificateInfo,
        audit: &AuditRecord,
    ) -> Result<i64>;
    async fn remove_certificate(&self, id: i64, audit: &AuditRecord) -> Result<()>;
    /// Marks an ACME certificate to be ordered again now.
    async fn request_renewal(&self, id: i64, audit: &AuditRecord) -> Result<()>;
    /// The ACME account credentials (JSON) for a CA directory.
    async fn acme_account(&self, directory_url: &str) -> Result<Option<String>>;
    async fn save_acme_account(&self, directory_url: &str, credentials: &str) -> Result<()>;

    /// Everything, read in one transaction.
    async fn export(&self) -> Result<Export>;
    /// Writes everything in `export` in one transaction: all of it or nothing. Into a store that
    /// already holds domains only with `replace`, which removes what was there first.
    /// `progress` hears how the domains and users are coming along.
    async fn import(
        &self,
        export: &Export,
        replace: bool,
        audit: &AuditRecord,
        progress: Option<bulk::OnProgress<'_>>,
    ) -> Result<()>;
    /// A consistent copy of the whole store, taken while it is in use, written to `path`.
    async fn backup(&self, path: &std::path::Path) -> Result<()>;
    /// Checks the store's own integrity; `Err` names what is wrong.
    async fn verify(&self) -> Result<()>;

    /// Administrators, by name. Administrator writes do not change [`Store::version`].
    async fn administrators(&self) -> Result<Vec<Administrator>>;
    async fn administrator(&self, name: &str) -> Result<Option<Administrator>>;
    /// Fails with [`StoreError::AlreadyExists`] if the name is taken.
    async fn create_administrator(
        &self,
        administrator: &Administrator,
        audit: &AuditRecord,
    ) -> Result<()>;
    async fn save_administrator(
        &self,
        administrator: &Administrator,
        audit: &AuditRecord,
    ) -> Result<()>;
    /// Removes an administrator with their tokens and sessions.
    async fn delete_administrator(&self, name: &str, audit: &AuditRecord) -> Result<()>;

    /// Stores a new token (by its hash); fails if the administrator already has one so named.
    async fn create_api_token(&self, token: &ApiToken, audit: &AuditRecord) -> Result<()>;
    /// Tokens of one administrator, or of all, without their hashes' meaning.
    async fn api_tokens(&self, administrator: Option<&str>) -> Result<Vec<ApiToken>>;
    async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    async fn delete_api_token(
        &self,
        administrator: &str,
        name: &str,
        audit: &AuditRecord,
    ) -> Result<()>;

    /// Stores a session and forgets every one expired by `now` (Unix seconds).
    async fn create_session(&self, session: &AdminSession, now: i64) -> Result<()>;
    /// The session with this id hash, if it has not expired by `now` (Unix seconds).
    async fn session_by_hash(&self, id_hash: &str, now: i64) -> Result<Option<AdminSession>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;

    /// The audit log, newest first; `domains` limits it to entries about those domains.
    async fn audit_log(
        &self,
        filter: &AuditFilter,
        domains: Option<&[String]>,
    ) -> Result<Vec<AuditEntry>>;
    /// Removes audit entries older than `before` (Unix seconds) and all but the newest `keep`;
    /// how many went.
    async fn prune_audit_log(&self, before: i64, keep: usize) -> Result<u64>;

    /// Records a running instance (or updates its record).
    async fn register_instance(&self, instance: &Instance) -> Result<()>;
    /// Says instance `id` is alive at `now` and answers from `loaded_version`; forgets
    /// instances silent since `forget_before`.
    async fn instance_seen(
        &self,
        id: &str,
        loaded_version: i64,
        now: i64,
        forget_before: i64,
    ) -> Result<()>;
    async fn remove_instance(&self, id: &str) -> Result<()>;
    /// Every instance that registered and was not forgotten.
    async fn instances(&self) -> Result<Vec<Instance>>;

    /// Whether `account` (a digest) signed in from `network` (a digest) at `since` or later.
    async fn is_known_network(&self, account: &str, network: &str, since: i64) -> Result<bool>;
    /// Records a successful sign-in of `account` from `network` at `now` (digests), keeping
    /// each account's newest networks and forgetting those unused for 30 days.
    async fn remember_network(&self, account: &str, network: &str, now: i64) -> Result<()>;

    /// Whether several instances may share this store (they then coordinate through it).
    fn is_shared(&self) -> bool {
        false
    }

    /// Announcements of changes written by anyone, if the backend sends them (PostgreSQL's
    /// LISTEN/NOTIFY); without them, callers poll [`Store::version`].
    async fn watch_changes(&self) -> Option<tokio::sync::mpsc::Receiver<Change>> {
        None
    }

    /// Work only one instance may do at a time (ordering certificates): `Some` guard if this
    /// instance got it, `None` if another instance holds it. Dropping the guard releases it.
    async fn try_exclusive(&self, name: &str) -> Result<Option<Exclusive>>;

    /// HTTP-01 answers published by any instance and not expired at `now`.
    async fn acme_challenges(&self, now: i64) -> Result<Vec<(String, String)>>;
    /// Publishes an HTTP-01 answer to every instance (bumps [`Store::version`]).
    async fn publish_acme_challenge(
        &self,
        token: &str,
        key_authorization: &str,
        expires_at: i64,
    ) -> Result<()>;
    /// Withdraws an HTTP-01 answer once its order is over.
    async fn withdraw_acme_challenge(&self, token: &str) -> Result<()>;

    /// Appends to the shared recent-requests log (oldest first), keeping its newest `keep` rows.
    async fn record_requests(&self, requests: &[recent::RecentRequest], keep: usize) -> Result<()>;
    /// The shared recent-requests log, newest first; `domains` limits it to those domains.
    async fn recent_requests(
        &self,
        filter: &recent::RecentFilter,
        domains: Option<&[String]>,
    ) -> Result<Vec<recent::RecentRequest>>;
}

/// A change announced by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The store is at this version now.
    Version(i64),
    /// The announcements were interrupted (a reconnect): changes may have been missed.
    Resync,
}

/// Holds work that only one instance may do at a time; released when dropped.
pub struct Exclusive {
    /// PostgreSQL: the connection holding the advisory lock, closed (not pooled) when dropped,
    /// which ends the lock with its session.
    _connection: Option<sqlx::pool::PoolConnection<sqlx::Any>>,
}

/// An API token as stored: its SHA-256 hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ApiToken {
    pub administrator: String,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A browser session of an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSession {
    /// SHA-256 of the session id in the cookie.
    pub id_hash: String,
    pub administrator: String,
    /// The token every form and unsafe request of this session must carry.
    pub csrf_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The whole configuration, as `signpost export` writes it and `signpost import` reads it.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Export {
    /// `signpost-export`, so another JSON file is not taken for one.
    pub format: String,
    pub version: u32,
    pub domains: Vec<Domain>,
    /// With their password hashes.
    pub users: Vec<User>,
    /// With their private keys.
    pub certificates: Vec<ExportedCertificate>,
    pub acme_accounts: Vec<ExportedAcmeAccount>,
    /// With their password hashes (absent in exports from before administrators existed).
    #[serde(default)]
    pub administrators: Vec<ExportedAdministrator>,
    /// API tokens, as their hashes.
    #[serde(default)]
    pub api_tokens: Vec<ExportedApiToken>,
    /// Domains' user sources, with their secrets (absent in exports from before them).
    #[serde(default)]
    pub user_sources: Vec<ExportedUserSource>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ExportedUserSource {
    pub domain: String,
    pub source: UserSource,
}

impl Export {
    /// The same content in one order whatever the backend's collation: for comparing stores.
    pub fn canonical(mut self) -> Self {
        self.domains.sort_by(|a, b| a.name.cmp(&b.name));
        for domain in &mut self.domains {
            domain.aliases.sort();
        }
        self.users.sort_by(|a, b| a.address.cmp(&b.address));
        self.certificates
            .sort_by(|a, b| (&a.chain_pem, &a.key_pem).cmp(&(&b.chain_pem, &b.key_pem)));
        self.acme_accounts
            .sort_by(|a, b| a.directory_url.cmp(&b.directory_url));
        self.administrators.sort_by(|a, b| a.name.cmp(&b.name));
        self.user_sources.sort_by(|a, b| a.domain.cmp(&b.domain));
        self.api_tokens
            .sort_by(|a, b| (&a.administrator, &a.name).cmp(&(&b.administrator, &b.name)));
        self
    }

    /// SHA-256 (hex) of the canonical content: equal for stores holding the same things.
    pub fn checksum(&self) -> String {
        use sha2::Digest;
        let canonical = self.clone().canonical();
        let json = serde_json::to_vec(&canonical).unwrap_or_default();
        signpost_core::hex(&sha2::Sha256::digest(&json))
    }
}

#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ExportedAdministrator {
    pub name: String,
    pub password_hash: String,
    pub role: signpost_core::admin::AdminRole,
}

#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ExportedApiToken {
    pub administrator: String,
    pub name: String,
    pub token_hash: String,
    pub created_at: i64,
}

pub const EXPORT_FORMAT: &str = "signpost-export";
pub const EXPORT_VERSION: u32 = 1;

#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ExportedCertificate {
    pub source: CertificateSource,
    pub chain_pem: String,
    pub key_pem: String,
    pub renew_requested: bool,
}

#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ExportedAcmeAccount {
    pub directory_url: String,
    /// instant-acme's credentials JSON.
    pub credentials: String,
}

/// Where the store lives: a database URL if given, else `signpost.db` in the data directory.
#[derive(Debug, Clone)]
pub enum Location {
    SqliteFile(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Location {
    pub fn resolve(data_dir: &std::path::Path, database_url: Option<&str>) -> Result<Self> {
        match database_url {
            None => Ok(Self::SqliteFile(data_dir.join("signpost.db"))),
            Some(url) => {
                if let Some(path) = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                {
                    Ok(Self::SqliteFile(PathBuf::from(path)))
                } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                    Ok(Self::Postgres(url.to_string()))
                } else {
                    Err(StoreError::UnsupportedUrl(url.to_string()))
                }
            }
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SqliteFile(path) => write!(f, "sqlite://{}", path.display()),
            // Never the password.
            Self::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// Opens (creating and migrating if needed) the store at `location`.
pub async fn open(location: &Location) -> Result<Box<dyn Store>> {
    match location {
        Location::SqliteFile(path) => Ok(Box::new(SqlStore::open_sqlite(path).await?)),
        Location::Postgres(url) => Ok(Box::new(SqlStore::open_postgres(url).await?)),
    }
}

/// A database URL as it may be shown: `postgres://user:***@host/db`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// Writes `bytes` to `path` readable by its owner only (it holds password hashes and private
/// keys), through a `.partial` file renamed into place: never a half-written file where a good
/// one was expected.
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let failed = |source| StoreError::DataDirectory {
        path: path.to_path_buf(),
        source,
    };
    let partial = path.with_extension("partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&partial).map_err(failed)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    std::fs::rename(&partial, path).map_err(failed)
}
