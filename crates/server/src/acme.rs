//! ACME (RFC 8555): certificates for `autodiscover.` and `autoconfig.` names of the domains that
//! ask for them, obtained by HTTP-01 or TLS-ALPN-01 and renewed after two thirds of their
//! lifetime, with backoff after failures. The account and the certificates live in the store, so
//! every instance on the same store serves them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use signpost_core::certificate::{self, CertificateSource, KeyType, StoredCertificate};
use signpost_operations::Actor;
use signpost_store::Store;
use tracing::{debug, info, warn};

use crate::clock;
use crate::config::{AcmeChallenge, AcmeSettings};
use crate::state::SharedState;

/// The first retry after a failure; doubled each time up to a day.
const FIRST_BACKOFF: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

struct Failures {
    attempts: u32,
    next_try: Instant,
}

/// Published HTTP-01 answers are dropped after this long even if an order never ends.
const CHALLENGE_LIFETIME: i64 = 15 * 60;
/// How long instances sharing a store get to load a published answer (they hear of it at once
/// through the store's announcements, or within their poll interval).
const SHARED_CHALLENGE_SETTLE: Duration = Duration::from_millis(2500);

/// How often the wait between checks looks whether the served configuration changed.
const CHANGE_POLL: Duration = Duration::from_millis(250);

pub async fn run(state: SharedState, store: Arc<dyn Store>, settings: AcmeSettings) {
    let mut failures: HashMap<String, Failures> = HashMap::new();
    loop {
        let looked_at = state.snapshot.load().version;
        if let Err(e) = look_over(&state, store.as_ref(), &settings, &mut failures).await {
            warn!(error = %format!("{e:#}"), "ACME: cannot look over certificates");
        }
        state
            .metrics
            .acme_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A failed order is tried again when its backoff ends, even before the next check.
        let retry = failures
            .values()
            .map(|f| f.next_try.saturating_duration_since(Instant::now()))
            .min();
        let wait = retry.map_or(settings.check_interval, |retry| {
            retry.min(settings.check_interval)
        });
        next_look(&state, looked_at, wait).await;
    }
}

/// Waits out `interval` (the check interval, or less when a failed order's backoff ends
/// sooner), or less: a change to the configuration served (`cert renew`, ACME or an ACME name
/// turned on for a domain) is looked at as soon as this instance serves it. Failed orders still
/// wait out their backoff.
async fn next_look(state: &SharedState, looked_at: i64, interval: Duration) {
    let until = tokio::time::Instant::now() + interval;
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(CHANGE_POLL.min(until - tokio::time::Instant::now())).await;
        if state.snapshot.load().version != looked_at {
            debug!("ACME: the configuration changed; looking over certificates now");
            return;
        }
    }
}

async fn look_over(
    state: &SharedState,
    store: &dyn Store,
    settings: &AcmeSettings,
    failures: &mut HashMap<String, Failures>,
) -> anyhow::Result<()> {
    let snapshot = state.snapshot.load_full();
    let mut domains: Vec<_> = snapshot.domains().filter(|d| d.acme.enabled).collect();
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    let keys: &[KeyType] = if settings.rsa {
        &[KeyType::Ecdsa, KeyType::Rsa]
    } else {
        &[KeyType::Ecdsa]
    };
    if domains.is_empty() {
        return Ok(());
    }
    // Read once per look: a look happens at every change served, and most need no order.
    let mut certificates = store.certificates().await?;
    for domain in domains {
        let names = domain.acme_names();
        for &key in keys {
            let attempt = format!("{} {}", domain.name, key.label());
            if failures
                .get(&attempt)
                .is_some_and(|f| Instant::now() < f.next_try)
            {
                continue;
            }
            if needs_order(&names, key, &certificates, clock::now()).is_none() {
                continue;
            }
            // One instance orders at a time; the others see its certificate in the store.
            let Some(_exclusive) = store.try_exclusive("acme-orders").await? else {
                debug!(domain = %domain.name, "ACME: another instance is ordering; looking again later");
                return Ok(());
            };
            // Again under the lock: another instance may have just ordered it.
            certificates = store.certificates().await?;
            let Some(reason) = needs_order(&names, key, &certificates, clock::now()) else {
                continue;
            };
            info!(domain = %domain.name, names = %names.join(","), key = key.label(), reason, "ACME: ordering a certificate");
            match order(state, store, settings, &names, key).await {
                Ok(id) => {
                    failures.remove(&attempt);
                    info!(domain = %domain.name, id, key = key.label(), "ACME: certificate issued and stored");
                    retire_superseded(store, &names, key, id).await;
                }
                Err(e) => {
                    let failure = failures.entry(attempt).or_insert(Failures {
                        attempts: 0,
                        next_try: Instant::now(),
                    });
                    failure.attempts += 1;
                    let backoff = FIRST_BACKOFF
                        .saturating_mul(1 << failure.attempts.min(16).saturating_sub(1))
                        .min(MAX_BACKOFF);
                    failure.next_try = Instant::now() + backoff;
                    warn!(
                        domain = %domain.name,
                        key = key.label(),
                        attempts = failure.attempts,
                        retry_in_seconds = backoff.as_secs(),
                        error = %format!("{e:#}"),
                        "ACME: order failed"
                    );
                }
            }
        }
    }
    Ok(())
}

/// Why `names` need a new certificate with a `key` key now, if they do.
pub fn needs_order(
    names: &[String],
    key: KeyType,
    certificates: &[StoredCertificate],
    now: i64,
) -> Option<&'static str> {
    let newest = certificates
        .iter()
        .filter(|c| c.source == CertificateSource::Acme && c.info.key_type == key)
        .filter(|c| names.iter().all(|n| c.info.covers(n)))
        .max_by_key(|c| c.info.not_after);
    let Some(newest) = newest else {
        return Some("no certificate yet");
    };
    if newest.renew_requested {
        return Some("renewal requested");
    }
    let lifetime = newest.info.not_after - newest.info.not_before;
    if now >= newest.info.not_before + lifetime * 2 / 3 {
        return Some("two thirds of its lifetime have passed");
    }
    None
}

/// Removes older ACME certificates for exactly the same names and kind of key once a new one is
/// stored.
async fn retire_superseded(store: &dyn Store, names: &[String], key: KeyType, keep: i64) {
    let Ok(certificates) = store.certificates().await else {
        return;
    };
    for old in certificates {
        let same_names =
            old.info.names.len() == names.len() && names.iter().all(|n| old.info.names.contains(n));
        if old.id == keep
            || old.source != CertificateSource::Acme
            || old.info.key_type != key
            || !same_names
        {
            continue;
        }
        let record = Actor::acme().record(
            "certificate.remove",
            None,
            &old.info.names.join(", "),
            format!("#{} superseded by #{keep}", old.id),
        );
        if let Err(e) = store.remove_certificate(old.id, &record).await {
            warn!(id = old.id, error = %e, "ACME: could not remove a superseded certificate");
        }
    }
}

async fn account(store: &dyn Store, settings: &AcmeSettings) -> anyhow::Result<Account> {
    let builder = || -> anyhow::Result<_> {
        Ok(match &settings.directory_ca {
            Some(ca) => Account::builder_with_root(ca).with_context(|| {
                format!("cannot use {} as the ACME directory's CA", ca.display())
            })?,
            None => Account::builder()?,
        })
    };
    if let Some(saved) = store.acme_account(&settings.directory_url).await? {
        let credentials: AccountCredentials =
            serde_json::from_str(&saved).context("stored ACME account credentials")?;
        return Ok(builder()?.from_credentials(credentials).await?);
    }
    let contact = settings
        .contact_email
        .as_ref()
        .map(|e| format!("mailto:{e}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    info!(directory = %settings.directory_url, "ACME: creating an account (agreeing to the CA's terms of service)");
    let (account, credentials) = builder()?
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            settings.directory_url.clone(),
            None,
        )
        .await
        .context("creating the ACME account")?;
    store
        .save_acme_account(
            &settings.directory_url,
            &serde_json::to_string(&credentials)?,
        )
        .await?;
    Ok(account)
}

/// What was published for an order's challenges, removed when the order ends either way.
#[derive(Default)]
struct Published {
    tokens: Vec<String>,
    names: Vec<String>,
}

async fn order(
    state: &SharedState,
    store: &dyn Store,
    settings: &AcmeSettings,
    names: &[String],
    key: KeyType,
) -> anyhow::Result<i64> {
    let account = account(store, settings).await?;
    let mut published = Published::default();
    let result = order_with(state, store, settings, &account, names, key, &mut published).await;
    if let Ok(mut challenges) = state.acme_own_http_challenges.lock() {
        for token in &published.tokens {
            challenges.remove(token);
        }
    }
    for token in &published.tokens {
        if let Err(e) = store.withdraw_acme_challenge(token).await {
            warn!(error = %e, "ACME: cannot withdraw a published challenge; it expires by itself");
        }
    }
    for name in &published.names {
        state.certificates.clear_acme_challenge(name);
    }
    result
}

async fn order_with(
    state: &SharedState,
    store: &dyn Store,
    settings: &AcmeSettings,
    account: &Account,
    names: &[String],
    key: KeyType,
    published: &mut Published,
) -> anyhow::Result<i64> {
    let identifiers: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .context("creating the order")?;
    let wanted = match settings.challenge {
        AcmeChallenge::Http01 => ChallengeType::Http01,
        AcmeChallenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
    };
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => bail!("authorization is {other:?}"),
        }
        let mut challenge = authorization
            .challenge(wanted.clone())
            .ok_or_else(|| anyhow!("the CA offers no {wanted:?} challenge"))?;
        let key_authorization = challenge.key_authorization();
        match settings.challenge {
            AcmeChallenge::Http01 => {
                let token = challenge.token.clone();
                let answer = key_authorization.as_str().to_string();
                if let Ok(mut challenges) = state.acme_own_http_challenges.lock() {
                    challenges.insert(token.clone(), answer.clone());
                }
                published.tokens.push(token.clone());
                store
                    .publish_acme_challenge(&token, &answer, clock::now() + CHALLENGE_LIFETIME)
                    .await
                    .context("publishing the challenge to the other instances")?;
                if store.is_shared() {
                    // The CA may reach any instance: give them time to load the answer.
                    tokio::time::sleep(SHARED_CHALLENGE_SETTLE).await;
                }
            }
            AcmeChallenge::TlsAlpn01 => {
                let name = challenge.identifier().to_string();
                let key = alpn_certificate(&name, key_authorization.digest().as_ref())?;
                state.certificates.set_acme_challenge(&name, Arc::new(key));
                published.names.push(name);
            }
        }
        challenge
            .set_ready()
            .await
            .context("answering the challenge")?;
    }
    let status = order
        .poll_ready(&RetryPolicy::new().timeout(Duration::from_secs(90)))
        .await
        .context("waiting for validation")?;
    if status != OrderStatus::Ready {
        bail!(
            "the order is {status:?} after validation (check DNS for every name and that the challenge port reaches Signpost)"
        );
    }
    let key_pem = match key {
        KeyType::Rsa => {
            let (csr, key_pem) = rsa_request(names).await?;
            order
                .finalize_csr(&csr)
                .await
                .context("finalizing the order")?;
            key_pem
        }
        // instant-acme makes an ECDSA P-256 key and its request.
        _ => order.finalize().await.context("finalizing the order")?,
    };
    let chain_pem = order
        .poll_certificate(&RetryPolicy::new())
        .await
        .context("downloading the certificate")?;
    let chain = certificate::chain_from_pem(chain_pem.as_bytes())?;
    let info = certificate::inspect(chain[0].as_ref())?;
    let record = Actor::acme().record(
        "certificate.add",
        None,
        &info.names.join(", "),
        format!(
            "obtained by ACME from {}, valid until Unix time {}",
            info.issuer, info.not_after
        ),
    );
    Ok(store
        .add_certificate(
            CertificateSource::Acme,
            &chain_pem,
            &key_pem,
            &info,
            &record,
        )
        .await?)
}

/// A new 2048-bit RSA key (PEM) and a certificate request for `names` signed with it (DER).
async fn rsa_request(names: &[String]) -> anyhow::Result<(Vec<u8>, String)> {
    use rsa::pkcs8::EncodePrivateKey;
    let names = names.to_vec();
    tokio::task::spawn_blocking(move || {
        let private = rsa::RsaPrivateKey::new(&mut SystemRandom, 2048)
            .map_err(|e| anyhow!("generating an RSA key: {e}"))?;
        let der = private
            .to_pkcs8_der()
            .map_err(|e| anyhow!("encoding the RSA key: {e}"))?;
        let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes()),
            &rcgen::PKCS_RSA_SHA256,
        )?;
        let mut params = rcgen::CertificateParams::new(names)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        let request = params.serialize_request(&key)?;
        Ok((request.der().to_vec(), key.serialize_pem()))
    })
    .await
    .context("the RSA key task")?
}

/// The operating system's randomness, for the `rsa` crate's generator interface.
struct SystemRandom;

impl rsa::rand_core::RngCore for SystemRandom {
    fn next_u32(&mut self) -> u32 {
        rand::random()
    }

    fn next_u64(&mut self) -> u64 {
        rand::random()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::fill(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for SystemRandom {}

/// The self-signed certificate that answers a TLS-ALPN-01 challenge (RFC 8737) for `name`.
fn alpn_certificate(name: &str, digest: &[u8]) -> anyhow::Result<rustls::sign::CertifiedKey> {
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()])?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let key = rcgen::KeyPair::generate()?;
    let certificate = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
        .map_err(|e| anyhow!("challenge key: {e}"))?;
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
    Ok(rustls::sign::CertifiedKey::new(
        vec![certificate.der().clone()],
        signing_key,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_core::certificate::CertificateInfo;

    fn acme(names: &[&str], not_before: i64, not_after: i64, renew: bool) -> StoredCertificate {
        StoredCertificate {
            id: 1,
            source: CertificateSource::Acme,
            chain_pem: String::new(),
            key_pem: String::new(),
            info: CertificateInfo {
                names: names.iter().map(|n| n.to_string()).collect(),
                not_before,
                not_after,
                issuer: "CN=Test".into(),
                subject: String::new(),
                serial: "01".into(),
                key_type: signpost_core::certificate::KeyType::Ecdsa,
            },
            renew_requested: renew,
        }
    }

    #[test]
    fn orders_when_missing_due_or_requested() {
        let names = vec![
            "autodiscover.example.com".to_string(),
            "autoconfig.example.com".to_string(),
        ];
        let both = ["autodiscover.example.com", "autoconfig.example.com"];
        assert_eq!(
            needs_order(&names, KeyType::Ecdsa, &[], 0),
            Some("no certificate yet")
        );
        let partial = acme(&["autodiscover.example.com"], 0, 90, false);
        assert_eq!(
            needs_order(&names, KeyType::Ecdsa, &[partial], 10),
            Some("no certificate yet")
        );
        let fresh = acme(&both, 0, 90, false);
        assert_eq!(
            needs_order(&names, KeyType::Ecdsa, std::slice::from_ref(&fresh), 59),
            None
        );
        assert_eq!(
            needs_order(&names, KeyType::Ecdsa, &[fresh], 60),
            Some("two thirds of its lifetime have passed")
        );
        let requested = acme(&both, 0, 90, true);
        assert_eq!(
            needs_order(&names, KeyType::Ecdsa, &[requested], 1),
            Some("renewal requested")
        );
        let mut file = acme(&both, 0, 90, false);
        file.source = CertificateSource::File;
        assert_eq!(
            needs_order(&names, KeyType::Ecdsa, &[file], 1),
            Some("no certificate yet"),
            "ACME domains get ACME certificates"
        );
    }
}
