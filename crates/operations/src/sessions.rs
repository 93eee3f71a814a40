//! Administrators signing in: their password checked (and failures limited per client and per
//! name), browser sessions, API tokens. Only hashes of session ids and tokens are stored.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use sha2::{Digest, Sha256};
use signpost_core::admin::Administrator;
use signpost_store::{AdminSession, ApiToken};

use crate::Operations;
use crate::error::{OpError, OpResult};

/// Checks a password against a stored hash, off the async executor and a bounded number at a
/// time (the server's checker); `None` (no such administrator) fails in the same time.
#[async_trait]
pub trait PasswordVerifier: Send + Sync {
    async fn verify(&self, hash: Option<&str>, password: &str) -> bool;
}

/// A session just started: the secret for the cookie (shown once), and what is stored.
pub struct NewSession {
    pub id: String,
    pub session: AdminSession,
}

/// A random secret, URL-safe: session ids, CSRF tokens, API tokens, the setup token.
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How secrets are kept in the store: a stolen database does not give working tokens.
pub fn secret_hash(secret: &str) -> String {
    signpost_core::hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Operations {
    /// Checks a name and password, limited per client and per name; unknown names cost the
    /// same hash as wrong passwords.
    pub async fn sign_in(
        &self,
        name: &str,
        password: &str,
        client: IpAddr,
        verifier: &dyn PasswordVerifier,
    ) -> OpResult<Administrator> {
        let name = name.trim().to_ascii_lowercase();
        if let Some((wait, network)) = self.sign_ins.blocked_for(client, &name).await {
            tracing::warn!(%client, network = network.label(), "administrator sign-in refused for too many recent failures");
            return Err(OpError::Limited(wait));
        }
        let found = self.store.administrator(&name).await?;
        let hash = found.as_ref().map(|a| a.password_hash.as_str());
        if verifier.verify(hash, password).await
            && let Some(administrator) = found
        {
            tracing::info!(administrator = %administrator.name, %client, "administrator signed in");
            self.sign_ins.succeeded(client, &name).await;
            return Ok(administrator);
        }
        let network = self.sign_ins.failed(client, &name).await;
        tracing::warn!(%client, network = network.label(), "administrator sign-in failed");
        Err(OpError::Unauthorized("wrong name or password".to_string()))
    }

    /// A new browser session for `administrator`, lasting `lifetime`.
    pub async fn start_session(
        &self,
        administrator: &Administrator,
        lifetime: Duration,
    ) -> OpResult<NewSession> {
        let id = random_secret();
        let now = crate::unix_now();
        let session = AdminSession {
            id_hash: secret_hash(&id),
            administrator: administrator.name.clone(),
            csrf_token: random_secret(),
            expires_at: now.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)),
        };
        self.store.create_session(&session, now).await?;
        Ok(NewSession { id, session })
    }

    pub async fn end_session(&self, id: &str) -> OpResult<()> {
        Ok(self.store.delete_session(&secret_hash(id)).await?)
    }

    /// The live session `id` names, with its administrator.
    pub async fn session(&self, id: &str) -> OpResult<Option<(AdminSession, Administrator)>> {
        let Some(session) = self
            .store
            .session_by_hash(&secret_hash(id), crate::unix_now())
            .await?
        else {
            return Ok(None);
        };
        let administrator = self.store.administrator(&session.administrator).await?;
        Ok(administrator.map(|a| (session, a)))
    }

    /// The API token `token` is, with its administrator, if it was issued and not revoked.
    pub async fn token_holder(&self, token: &str) -> OpResult<Option<(ApiToken, Administrator)>> {
        let Some(found) = self.store.api_token_by_hash(&secret_hash(token)).await? else {
            return Ok(None);
        };
        let administrator = self.store.administrator(&found.administrator).await?;
        Ok(administrator.map(|a| (found, a)))
    }
}
