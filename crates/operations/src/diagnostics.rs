//! The DNS records a domain needs, the live check of DNS, TLS and every discovery URL, and the
//! replay of each client's discovery for an address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use signpost_core::dns_records::{self, DnsRecord};
use signpost_diagnostics::Ports;
use signpost_diagnostics::check::CheckResult;
use signpost_diagnostics::probe::{Client, Probe, Report};

use crate::Operations;
use crate::access;
use crate::actor::Actor;
use crate::error::{OpError, OpResult};
use crate::views::ProbeRequest;

/// How checks and probes look at the deployment from outside.
#[derive(Debug, Clone, Default)]
pub struct DiagnosticsSettings {
    /// A DNS server to ask instead of the system's.
    pub resolver: Option<SocketAddr>,
    /// Extra CA certificates to trust.
    pub ca: Vec<PathBuf>,
    pub ports: Ports,
}

impl Operations {
    pub(crate) fn fetcher(&self) -> OpResult<signpost_diagnostics::http::Fetcher> {
        let settings = &self.settings.diagnostics;
        let dns = signpost_diagnostics::dns::Dns::new(settings.resolver)
            .map_err(|e| OpError::failed("cannot set up DNS lookups", e))?;
        let roots = signpost_diagnostics::tls::Roots::load(&settings.ca)
            .map_err(|e| OpError::failed("cannot load the trusted CAs", e))?;
        Ok(signpost_diagnostics::http::Fetcher::new(
            Arc::new(dns),
            roots,
            settings.ports,
        ))
    }

    /// The DNS records a domain needs.
    pub async fn dns_records(&self, actor: &Actor, domain: &str) -> OpResult<Vec<DnsRecord>> {
        let domain = self.domain(actor, domain).await?;
        Ok(dns_records::records(&domain, &self.settings.dns))
    }

    /// Checks DNS, TLS and every discovery URL of a domain, live.
    pub async fn check(&self, actor: &Actor, domain: &str) -> OpResult<Vec<CheckResult>> {
        let domain = self.domain(actor, domain).await?;
        let expected = dns_records::records(&domain, &self.settings.dns);
        let fetcher = self.fetcher()?;
        tracing::info!(actor = %actor.label(), domain = %domain.name, "running the live check");
        Ok(signpost_diagnostics::check::run(
            &domain,
            &expected,
            &self.settings.dns.addresses,
            &fetcher,
        )
        .await)
    }

    /// Replays each client's discovery for an address (the password, if given, is used where
    /// clients would send it, and never stored or logged).
    pub async fn probe(&self, actor: &Actor, request: ProbeRequest) -> OpResult<Report> {
        let address = signpost_core::validate::address("address", &request.address)?;
        access::domain(actor, access::domain_of(&address))?;
        let clients = request.clients.unwrap_or_else(|| Client::ALL.to_vec());
        let fetcher = self.fetcher()?;
        let password = request.password.filter(|p| !p.is_empty());
        let mut probe = Probe::new(&fetcher, &address, password);
        probe.run(&clients, request.connect).await;
        Ok(probe.report)
    }
}
