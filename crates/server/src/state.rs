//! What every request handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use signpost_core::Snapshot;

use crate::basic_auth::BasicCredentials;
use crate::config::ServerConfig;
use crate::credential_cache::CredentialCache;
use crate::password_check::PasswordChecker;
use crate::tls::SniResolver;

pub struct AppState {
    /// The configuration answers are computed from; replaced whole when the store changes.
    pub snapshot: ArcSwap<Snapshot>,
    /// The certificates HTTPS handshakes choose from.
    pub certificates: Arc<SniResolver>,
    /// ACME HTTP-01 key authorizations by token, while orders are in progress.
    pub acme_http_challenges: Mutex<HashMap<String, String>>,
    pub credentials: CredentialCache,
    pub passwords: PasswordChecker,
    pub config: ServerConfig,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(config: ServerConfig, snapshot: Snapshot) -> anyhow::Result<Self> {
        Ok(Self {
            snapshot: ArcSwap::from_pointee(snapshot),
            certificates: Arc::new(SniResolver::default()),
            acme_http_challenges: Mutex::new(HashMap::new()),
            credentials: CredentialCache::new(
                config.credential_cache_ttl,
                config.credential_cache_entries,
            ),
            passwords: PasswordChecker::new(config.concurrent_password_checks)?,
            config,
        })
    }

    /// The address of the user these credentials belong to, if the password is right.
    ///
    /// A credential verified recently is answered from memory; otherwise argon2 runs once (on a
    /// blocking thread), also for unknown users, so the two failures look alike.
    pub async fn authenticate(
        &self,
        snapshot: &Snapshot,
        credentials: &BasicCredentials,
        address_hint: Option<&str>,
    ) -> Option<String> {
        let key = self
            .credentials
            .key_for(&credentials.login, &credentials.password);
        let current_hash = |address: &str| snapshot.user(address).map(|u| u.password_hash.clone());
        if let Some(address) = self.credentials.lookup(&key, current_hash) {
            return Some(address);
        }
        let user = snapshot.user_for_login(&credentials.login, address_hint);
        let hash = user.map(|u| u.password_hash.as_str());
        if !self.passwords.verify(hash, &credentials.password).await {
            return None;
        }
        let user = user?;
        self.credentials
            .remember(key, &user.address, &user.password_hash);
        Some(user.address.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_core::{Domain, User, UserChange};

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
        assert_eq!(
            state.authenticate(&snapshot, &good, None).await.as_deref(),
            Some("jo@example.com")
        );
        assert_eq!(state.passwords.computed(), 1);
        for _ in 0..5 {
            assert!(state.authenticate(&snapshot, &good, None).await.is_some());
        }
        assert_eq!(
            state.passwords.computed(),
            1,
            "argon2 ran again for a remembered credential"
        );

        // Failures are never remembered, and unknown users cost a hash like wrong passwords.
        assert!(
            state
                .authenticate(&snapshot, &credentials("jo@example.com", "bad"), None)
                .await
                .is_none()
        );
        assert!(
            state
                .authenticate(&snapshot, &credentials("jo@example.com", "bad"), None)
                .await
                .is_none()
        );
        assert!(
            state
                .authenticate(&snapshot, &credentials("ghost@example.com", "pw"), None)
                .await
                .is_none()
        );
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
        assert!(state.authenticate(&before, &good, None).await.is_some());
        let domain = Domain::new("example.com", "mail.example.com").unwrap();
        let after = Snapshot::new(2, vec![domain], vec![changed]);
        assert!(state.authenticate(&after, &good, None).await.is_none());
        assert!(
            state
                .authenticate(&after, &credentials("jo@example.com", "new"), None)
                .await
                .is_some()
        );
    }
}
