//! Stored certificates: added from files (checked by the caller: the chain parses and the key
//! belongs to it), removed, or marked for an ACME renewal now.

use signpost_core::certificate::{CertificateInfo, CertificateSource, StoredCertificate};

use crate::Operations;
use crate::actor::SystemActor;
use crate::error::{OpError, OpResult};
use crate::views::CertificateView;

fn view(c: &StoredCertificate, now: i64) -> CertificateView {
    CertificateView {
        id: c.id,
        source: c.source,
        days_left: c.info.days_left(now),
        names: c.info.names.clone(),
        issuer: c.info.issuer.clone(),
        not_before: c.info.not_before,
        not_after: c.info.not_after,
        renew_requested: c.renew_requested,
    }
}

/// Whether `wanted` (an id, a name, or a host a name covers) picks this certificate.
fn picks(c: &StoredCertificate, wanted: &str) -> bool {
    wanted.parse::<i64>().is_ok_and(|n| n == c.id)
        || c.info.covers(wanted)
        || c.info.names.iter().any(|n| n == wanted)
}

impl Operations {
    /// The stored certificates `wanted` picks that `keep` keeps.
    async fn picked(
        &self,
        wanted: &str,
        keep: impl Fn(&StoredCertificate) -> bool,
    ) -> OpResult<Vec<StoredCertificate>> {
        Ok(self
            .store
            .certificates()
            .await?
            .into_iter()
            .filter(|c| keep(c) && picks(c, wanted))
            .collect())
    }

    pub async fn certificates(&self, _actor: &SystemActor) -> OpResult<Vec<CertificateView>> {
        let now = crate::unix_now();
        Ok(self
            .store
            .certificates()
            .await?
            .iter()
            .map(|c| view(c, now))
            .collect())
    }

    /// Stores a chain and its key (already checked to belong together); its id.
    pub async fn add_certificate(
        &self,
        actor: &SystemActor,
        source: CertificateSource,
        chain_pem: &str,
        key_pem: &str,
        info: &CertificateInfo,
    ) -> OpResult<i64> {
        if info.not_after < crate::unix_now() {
            return Err(OpError::invalid(
                "cert",
                format!(
                    "the certificate expired {} days ago",
                    -info.days_left(crate::unix_now())
                ),
            ));
        }
        let record = actor.record(
            "certificate.add",
            None,
            &info.names.join(", "),
            format!(
                "{} certificate issued by {}, valid until Unix time {}",
                source.key(),
                info.issuer,
                info.not_after
            ),
        );
        let id = self
            .store
            .add_certificate(source, chain_pem, key_pem, info, &record)
            .await?;
        tracing::info!(actor = %actor.label(), id, names = %info.names.join(","), "certificate stored");
        self.served().await?;
        Ok(id)
    }

    /// Removes every stored certificate `wanted` picks (an id, a name, or a host it covers).
    pub async fn remove_certificates(
        &self,
        actor: &SystemActor,
        wanted: &str,
    ) -> OpResult<Vec<CertificateView>> {
        let now = crate::unix_now();
        let chosen = self.picked(wanted, |_| true).await?;
        if chosen.is_empty() {
            return Err(OpError::NotFound(format!(
                "no stored certificate covers '{wanted}' (see: signpost cert list)"
            )));
        }
        for certificate in &chosen {
            let record = actor.record(
                "certificate.remove",
                None,
                &certificate.info.names.join(", "),
                format!("#{} ({})", certificate.id, certificate.source.key()),
            );
            self.store
                .remove_certificate(certificate.id, &record)
                .await?;
        }
        self.served().await?;
        Ok(chosen.iter().map(|c| view(c, now)).collect())
    }

    /// Marks every ACME certificate `wanted` picks to be ordered again now.
    pub async fn renew_certificates(
        &self,
        actor: &SystemActor,
        wanted: &str,
    ) -> OpResult<Vec<CertificateView>> {
        let now = crate::unix_now();
        let chosen = self
            .picked(wanted, |c| c.source == CertificateSource::Acme)
            .await?;
        if chosen.is_empty() {
            return Err(OpError::NotFound(format!(
                "no ACME certificate covers '{wanted}'; only ACME certificates are renewed by Signpost"
            )));
        }
        for certificate in &chosen {
            let record = actor.record(
                "certificate.renew",
                None,
                &certificate.info.names.join(", "),
                format!("#{}: renewal requested", certificate.id),
            );
            self.store.request_renewal(certificate.id, &record).await?;
        }
        self.served().await?;
        Ok(chosen.iter().map(|c| view(c, now)).collect())
    }
}
