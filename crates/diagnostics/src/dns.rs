//! DNS lookups, through the system's resolver or a given name server.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

/// An SRV record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    /// Without the trailing dot; `.` stays `.`.
    pub target: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DnsError {
    #[error("no such record")]
    NotFound,
    #[error("lookup failed: {0}")]
    Failed(String),
}

pub struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    /// The system's resolver, or the name server at `server` (UDP and TCP).
    pub fn new(server: Option<SocketAddr>) -> anyhow::Result<Self> {
        let provider = TokioRuntimeProvider::default();
        let builder = match server {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let config = ResolverConfig::from_parts(
                    None,
                    Vec::new(),
                    vec![NameServerConfig::new(server.ip(), true, vec![udp, tcp])],
                );
                TokioResolver::builder_with_config(config, provider)
            }
            None => TokioResolver::builder(provider)?,
        };
        let mut builder = builder;
        // Checks must see changes at once, not an answer cached a minute ago.
        builder.options_mut().cache_size = 0;
        // A name server that does not answer within two seconds is a finding, not something to
        // wait minutes on: a check makes a few dozen lookups one after another.
        builder.options_mut().timeout = std::time::Duration::from_secs(2);
        builder.options_mut().attempts = 1;
        Ok(Self {
            resolver: builder.build()?,
        })
    }

    fn classify(error: impl std::fmt::Display) -> DnsError {
        let text = error.to_string();
        if text.contains("no record") || text.contains("NXDomain") || text.contains("no records") {
            DnsError::NotFound
        } else {
            DnsError::Failed(text)
        }
    }

    /// A and AAAA addresses of `name`, CNAMEs followed.
    pub async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        let found = self
            .resolver
            .lookup_ip(name)
            .await
            .map_err(Self::classify)?;
        let addresses: Vec<IpAddr> = found.iter().collect();
        if addresses.is_empty() {
            return Err(DnsError::NotFound);
        }
        Ok(addresses)
    }

    /// The CNAME target of `name`, if it is an alias.
    pub async fn cname(&self, name: &str) -> Option<String> {
        let found = self.resolver.lookup(name, RecordType::CNAME).await.ok()?;
        found
            .answers()
            .iter()
            .find_map(|record| match &record.data {
                RData::CNAME(target) => Some(target.0.to_utf8().trim_end_matches('.').to_string()),
                _ => None,
            })
    }

    pub async fn srv(&self, name: &str) -> Result<Vec<Srv>, DnsError> {
        let found = self
            .resolver
            .lookup(name, RecordType::SRV)
            .await
            .map_err(Self::classify)?;
        let records: Vec<Srv> = found
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::SRV(srv) => {
                    let target = srv.target.to_utf8();
                    let target = if target == "." {
                        target
                    } else {
                        target.trim_end_matches('.').to_string()
                    };
                    Some(Srv {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target,
                    })
                }
                _ => None,
            })
            .collect();
        if records.is_empty() {
            return Err(DnsError::NotFound);
        }
        Ok(records)
    }

    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let found = self
            .resolver
            .lookup(name, RecordType::TXT)
            .await
            .map_err(Self::classify)?;
        let records: Vec<String> = found
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).to_string())
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        if records.is_empty() {
            return Err(DnsError::NotFound);
        }
        Ok(records)
    }
}
