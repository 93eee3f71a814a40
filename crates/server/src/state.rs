//! What every request handler shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use axum::body::Bytes;
use signpost_core::Snapshot;

use signpost_directory::{Answer, DirectoryLogin, directory_for};
use tracing::{debug, info, warn};

use crate::basic_auth::BasicCredentials;
use crate::config::ServerConfig;
use crate::credential_cache::{CredentialCache, Proof, Verified};
use crate::memo::Memo;
use crate::metrics::Metrics;
use crate::parsed_pox::ParsedPox;
use crate::password_check::PasswordChecker;
use crate::request_scope::CurrentRequest;
use crate::tls::SniResolver;
use signpost_core::validate::domain_of;
use signpost_store::known_networks::{Accounts, SignInGuard};

pub struct AppState {
    /// The configuration answers are computed from; replaced whole when the store changes.
    pub snapshot: ArcSwap<Snapshot>,
    /// The certificates HTTPS handshakes choose from.
    pub certificates: Arc<SniResolver>,
    /// ACME HTTP-01 key authorizations by token published by any instance (read from the store
    /// at each reload, replaced whole).
    pub acme_http_challenges: Mutex<HashMap<String, String>>,
    /// This instance's own, while its orders are in progress: apart, so a reload that read the
    /// store a moment before a publication cannot drop one the CA is about to ask for.
    pub acme_own_http_challenges: Mutex<HashMap<String, String>>,
    pub credentials: CredentialCache,
    pub passwords: PasswordChecker,
    /// The SQL, LDAP and IMAP directories domains authenticate their users against.
    pub directories: signpost_directory::Directories,
    /// Failed-login limits, with the networks each account signed in from.
    pub sign_ins: SignInGuard,
    pub metrics: Metrics,
    /// POX request bodies already parsed, by their bytes.
    pub pox_requests: Memo<Bytes, Result<Arc<ParsedPox>, Arc<str>>>,
    /// Answers already written, by what decides them (see [`AnswerKey`]).
    pub answers: Memo<AnswerKey, Bytes>,
    /// The last discovery requests, for administrators.
    pub recent: crate::recent::RecentRequests,
    auth_failure_log: Option<Mutex<std::fs::File>>,
    /// When the snapshot was last replaced (Unix seconds), for `/metrics`.
    pub snapshot_loaded_at: AtomicI64,
    /// Whether the store could be read at the last look (`/readyz` says degraded otherwise).
    pub store_up: std::sync::atomic::AtomicBool,
    /// This instance's id in the store's list of running instances.
    pub instance_id: String,
    /// The administration's health checks as gauge samples (`{domain="...",check="..."}` and
    /// 0 pass, 1 warn, 2 fail), for `/metrics`.
    pub health_gauges: ArcSwap<Vec<(String, f64)>>,
    /// Whether a bearer token is an administrator's API token (set by the administration
    /// surface; without it, `/metrics` answers only the networks allowed).
    pub metrics_tokens: std::sync::OnceLock<TokenCheck>,
    /// Held while the snapshot is being reloaded on request (so one reload serves everyone
    /// waiting for it).
    pub reloading: tokio::sync::Mutex<()>,
    pub config: ServerConfig,
}

/// Answers whether a bearer token is an administrator's API token.
pub type TokenCheck = Arc<
    dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
        + Send
        + Sync,
>;

/// The result of checking a client's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The user they belong to.
    Verified(Verified),
    Refused,
    /// Too many recent failures from this client or for this account; try again after this.
    Limited(std::time::Duration),
    /// The domain's directory could not be asked (the reason is for the log).
    Unavailable(String),
}

pub type SharedState = Arc<AppState>;

/// Which answer a remembered body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerKind {
    Desktop,
    MobileSync,
    Autoconfig,
    Profile,
}

/// Everything a remembered answer depends on: the configuration version, which answer, what it
/// is about (an address, or a domain) and who asked (the verified user, if any).
#[derive(Debug, PartialEq, Eq)]
pub struct AnswerKey {
    version: i64,
    kind: AnswerKind,
    subject: String,
    asker: Option<String>,
}

impl AppState {
    pub fn new(config: ServerConfig, snapshot: Snapshot) -> anyhow::Result<Self> {
        let auth_failure_log = match &config.auth_failure_log {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?,
            )),
            None => None,
        };
        Ok(Self {
            sign_ins: SignInGuard::new(Accounts::Clients, config.auth_limits),
            // Real requests are a few hundred bytes and answers a few KiB; the budgets bound
            // what strangers can make the memos hold.
            pox_requests: Memo::new(
                config.answer_memo_entries,
                config.answer_memo_entries.saturating_mul(1024),
            ),
            answers: Memo::new(
                config.answer_memo_entries,
                config.answer_memo_entries.saturating_mul(4 * 1024),
            ),
            metrics: Metrics::default(),
            recent: crate::recent::RecentRequests::new(config.recent_requests),
            auth_failure_log,
            snapshot_loaded_at: AtomicI64::new(crate::clock::now()),
            store_up: std::sync::atomic::AtomicBool::new(true),
            instance_id: signpost_core::hex(&rand::random::<[u8; 8]>()),
            health_gauges: ArcSwap::from_pointee(Vec::new()),
            metrics_tokens: std::sync::OnceLock::new(),
            reloading: tokio::sync::Mutex::new(()),
            snapshot: ArcSwap::from_pointee(snapshot),
            certificates: Arc::new(SniResolver::default()),
            acme_http_challenges: Mutex::new(HashMap::new()),
            acme_own_http_challenges: Mutex::new(HashMap::new()),
            credentials: CredentialCache::new(
                config.credential_cache_ttl,
                config.credential_cache_entries,
            ),
            passwords: PasswordChecker::new(
                config.concurrent_password_checks,
                config.allow_weak_password_schemes,
            )?,
            directories: signpost_directory::Directories::with_system_defaults()?,
            config,
        })
    }

    /// The answer `compute` gives, remembered: the same question about the same configuration
    /// is answered from memory next time. Errors are not remembered.
    pub fn answer_once<E>(
        &self,
        version: i64,
        kind: AnswerKind,
        subject: &str,
        asker: Option<&str>,
        compute: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let hash = self.answers.hash_of(&(version, kind, subject, asker));
        let matches = |key: &AnswerKey| {
            key.version == version
                && key.kind == kind
                && key.subject == subject
                && key.asker.as_deref() == asker
        };
        if let Some(body) = self.answers.get(hash, matches) {
            return Ok(body);
        }
        let body = compute()?;
        let key = AnswerKey {
            version,
            kind,
            subject: subject.to_string(),
            asker: asker.map(str::to_string),
        };
        let weight = body.len() + subject.len() + 64;
        self.answers.insert(hash, key, body.clone(), weight);
        Ok(body)
    }

    /// [`Self::answer_once`] for an answer about `asker`, except that answers for directory users
    /// are computed each time: their details can change without the configuration changing.
    pub fn answer_for<E>(
        &self,
        version: i64,
        kind: AnswerKind,
        subject: &str,
        asker: Option<&Verified>,
        compute: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        match asker {
            Some(verified) if verified.is_from_directory() => compute(),
            _ => self.answer_once(
                version,
                kind,
                subject,
                asker.map(Verified::address),
                compute,
            ),
        }
    }

    /// Replaces the snapshot answers are computed from, unless a newer one is already served
    /// (two reloads finishing out of order never go back in time).
    pub fn replace_snapshot(&self, snapshot: Snapshot) {
        let new = Arc::new(snapshot);
        self.snapshot.rcu(|current| {
            if new.version >= current.version {
                new.clone()
            } else {
                current.clone()
            }
        });
        self.snapshot_loaded_at
            .store(crate::clock::now(), Ordering::Relaxed);
        crate::freed_memory::give_back();
    }

    /// Checks `credentials` from `client`.
    ///
    /// A credential verified recently is answered from memory. Otherwise a domain with a
    /// directory asks it; built-in users are checked with argon2 once (on a blocking thread),
    /// also when unknown, so the two failures look alike. Clients and accounts with too many
    /// recent failures are refused before any hashing or directory question.
    pub async fn authenticate(
        &self,
        snapshot: &Snapshot,
        credentials: &BasicCredentials,
        address_hint: Option<&str>,
        client: IpAddr,
    ) -> AuthOutcome {
        // A bare login name stands for a user of the domain asked about: remembered per domain,
        // apart from the address it may resemble (a NUL, which no login contains, between).
        let login_in_domain;
        let keyed_login = match address_hint {
            Some(hint) if !credentials.login.contains('@') => {
                login_in_domain = format!("{}\0{}", credentials.login, domain_of(hint));
                login_in_domain.as_str()
            }
            _ => credentials.login.as_str(),
        };
        let key = self.credentials.key_for(keyed_login, &credentials.password);
        let still_current = |verified: &Verified, proof: &Proof| match (verified, proof) {
            (Verified::Builtin(address), Proof::Hash(hash)) => {
                snapshot
                    .user(address)
                    .is_some_and(|u| u.password_hash == hash.as_str())
                    && snapshot.user_source(domain_of(address)).is_none()
            }
            (Verified::Directory(user), Proof::Source(source)) => snapshot
                .user_source(user.domain())
                .is_some_and(|current| **current == **source),
            _ => false,
        };
        if let Some(verified) = self.credentials.lookup(&key, still_current) {
            self.metrics
                .remembered_logins
                .fetch_add(1, Ordering::Relaxed);
            return AuthOutcome::Verified(verified);
        }
        if let Some((wait, network)) = self.sign_ins.blocked_for(client, &credentials.login).await {
            self.metrics.rate_limited(network);
            debug!(id = %CurrentRequest, %client, network = network.label(), "login refused for too many recent failures");
            return AuthOutcome::Limited(wait);
        }
        if let Some(found) = directory_for(snapshot, &credentials.login, address_hint) {
            return self
                .authenticate_in_directory(found, credentials, key, client)
                .await;
        }
        // A built-in record left in a domain that now uses a directory does not count.
        let user = snapshot
            .user_for_login(&credentials.login, address_hint)
            .filter(|u| snapshot.user_source(u.domain()).is_none());
        let hash = user.map(|u| u.password_hash);
        let flight = (key, hash.map(str::to_string));
        let matched = self
            .passwords
            .verify_once(flight, hash, &credentials.password)
            .await;
        match user {
            Some(user) if matched => {
                let verified = Verified::Builtin(user.address.to_string());
                self.sign_ins.succeeded(client, &credentials.login).await;
                self.credentials.remember(
                    key,
                    verified.clone(),
                    Proof::Hash(user.password_hash.to_string()),
                );
                AuthOutcome::Verified(verified)
            }
            // Unknown users cost the same hash as wrong passwords (checked above against a
            // dummy hash); every request counts as an attempt, also those that waited.
            _ => {
                self.record_failure(&credentials.login, client).await;
                AuthOutcome::Refused
            }
        }
    }

    async fn authenticate_in_directory(
        &self,
        found: DirectoryLogin<'_>,
        credentials: &BasicCredentials,
        key: [u8; 32],
        client: IpAddr,
    ) -> AuthOutcome {
        let DirectoryLogin {
            domain,
            source,
            subject,
        } = found;
        let answer = self
            .directories
            .authenticate(
                source,
                domain,
                &subject,
                &credentials.password,
                Some(client),
            )
            .await;
        let user = match answer {
            Answer::Verified(user) => user,
            Answer::HashToCheck(user, hash) => {
                if self
                    .passwords
                    .verify(Some(&hash), &credentials.password)
                    .await
                {
                    user
                } else {
                    debug!(id = %CurrentRequest, address = %subject.address, "the directory's password hash does not match");
                    self.record_failure(&credentials.login, client).await;
                    return AuthOutcome::Refused;
                }
            }
            Answer::Refused(why) => {
                debug!(id = %CurrentRequest, address = %subject.address, %why, "the directory refused the login");
                if matches!(**source, signpost_core::UserSource::Sql(_)) {
                    // Unknown users cost the same hash as wrong passwords.
                    self.passwords.verify(None, &credentials.password).await;
                }
                self.record_failure(&credentials.login, client).await;
                return AuthOutcome::Refused;
            }
            Answer::Unavailable(why) => {
                self.metrics
                    .directory_unavailable
                    .fetch_add(1, Ordering::Relaxed);
                warn!(id = %CurrentRequest, domain = %domain.name, source = source.kind(), %why, "the user directory is unavailable; the client was told to try again later");
                return AuthOutcome::Unavailable(why);
            }
        };
        let verified = Verified::Directory(Arc::new(user));
        self.sign_ins.succeeded(client, &credentials.login).await;
        self.credentials
            .remember(key, verified.clone(), Proof::Source(source.clone()));
        AuthOutcome::Verified(verified)
    }

    async fn record_failure(&self, login: &str, client: IpAddr) {
        let network = self.sign_ins.failed(client, login).await;
        self.metrics.auth_failure(network);
        info!(id = %CurrentRequest, login = %printable_login(login), %client, network = network.label(), "autodiscover login failed");
        if let Some(log) = &self.auth_failure_log {
            let line = format!(
                "{} signpost: authentication failure for \"{}\" from {client}\n",
                rfc3339_now(),
                printable_login(login)
            );
            if let Ok(mut file) = log.lock() {
                let _ = std::io::Write::write_all(&mut *file, line.as_bytes());
            }
        }
    }
}

/// A login name as it may appear in logs: nothing an attacker could use to forge another line
/// or another address for fail2ban to read.
fn printable_login(login: &str) -> String {
    login
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._+-".contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

fn rfc3339_now() -> String {
    time_format(crate::clock::now())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (civil-from-days, no calendar crate needed).
pub fn time_format(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_core::{Domain, User, UserChange};

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(time_format(0), "1970-01-01T00:00:00Z");
        assert_eq!(time_format(1_795_808_329), "2026-11-27T19:38:49Z");
        assert_eq!(printable_login("a\"b from 1.2.3.4\n"), "a?b?from?1.2.3.4?");
    }

    #[tokio::test]
    async fn failures_are_limited_before_any_hash() {
        let user = User::new("jo@example.com", "pw", &UserChange::default()).unwrap();
        let domain = Domain::new("example.com", "mail.example.com").unwrap();
        let config = ServerConfig {
            auth_limits: signpost_core::auth_limiter::LimiterSettings {
                per_client: 2,
                ..Default::default()
            },
            ..ServerConfig::default()
        };
        let state = AppState::new(config, Snapshot::new(1, vec![domain], vec![user])).unwrap();
        let snapshot = state.snapshot.load_full();
        for _ in 0..2 {
            let refused = state
                .authenticate(&snapshot, &credentials("jo@example.com", "bad"), None, IP)
                .await;
            assert_eq!(refused, AuthOutcome::Refused);
        }
        let hashes = state.passwords.computed();
        let limited = state
            .authenticate(&snapshot, &credentials("jo@example.com", "pw"), None, IP)
            .await;
        assert!(matches!(limited, AuthOutcome::Limited(_)), "{limited:?}");
        assert_eq!(
            state.passwords.computed(),
            hashes,
            "no argon2 for a blocked client"
        );
        let elsewhere = state
            .authenticate(
                &snapshot,
                &credentials("jo@example.com", "pw"),
                None,
                "192.0.2.2".parse().unwrap(),
            )
            .await;
        assert_eq!(
            elsewhere,
            AuthOutcome::Verified(Verified::Builtin("jo@example.com".into()))
        );
    }

    fn state_with(users: Vec<User>) -> AppState {
        let domain = Domain::new("example.com", "mail.example.com").unwrap();
        AppState::new(
            ServerConfig::default(),
            Snapshot::new(1, vec![domain], users),
        )
        .unwrap()
    }

    fn credentials(login: &str, password: &str) -> BasicCredentials {
        BasicCredentials {
            login: login.into(),
            password: password.into(),
        }
    }

    #[tokio::test]
    async fn a_remembered_credential_costs_no_second_hash() {
        let user = User::new("jo@example.com", "pw", &UserChange::default()).unwrap();
        let state = state_with(vec![user]);
        let snapshot = state.snapshot.load_full();
        let good = credentials("jo@example.com", "pw");
        let verified = AuthOutcome::Verified(Verified::Builtin("jo@example.com".into()));
        assert_eq!(
            state.authenticate(&snapshot, &good, None, IP).await,
            verified
        );
        assert_eq!(state.passwords.computed(), 1);
        for _ in 0..5 {
            assert_eq!(
                state.authenticate(&snapshot, &good, None, IP).await,
                verified
            );
        }
        assert_eq!(
            state.passwords.computed(),
            1,
            "argon2 ran again for a remembered credential"
        );

        // Failures are never remembered, and unknown users cost a hash like wrong passwords.
        for wrong in [
            credentials("jo@example.com", "bad"),
            credentials("jo@example.com", "bad"),
            credentials("ghost@example.com", "pw"),
        ] {
            assert_eq!(
                state.authenticate(&snapshot, &wrong, None, IP).await,
                AuthOutcome::Refused
            );
        }
        assert_eq!(state.passwords.computed(), 4);
    }

    #[tokio::test]
    async fn a_new_password_hash_invalidates_the_remembered_credential() {
        let user = User::new("jo@example.com", "pw", &UserChange::default()).unwrap();
        let mut changed = user.clone();
        changed.set_password("new").unwrap();
        let state = state_with(vec![user]);
        let good = credentials("jo@example.com", "pw");
        let before = state.snapshot.load_full();
        assert!(matches!(
            state.authenticate(&before, &good, None, IP).await,
            AuthOutcome::Verified(_)
        ));
        let domain = Domain::new("example.com", "mail.example.com").unwrap();
        let after = Snapshot::new(2, vec![domain], vec![changed]);
        assert_eq!(
            state.authenticate(&after, &good, None, IP).await,
            AuthOutcome::Refused
        );
        let new = credentials("jo@example.com", "new");
        assert!(matches!(
            state.authenticate(&after, &new, None, IP).await,
            AuthOutcome::Verified(_)
        ));
    }
}
