//! The domain's own IMAP server as the judge of passwords, for setups where nothing else is
//! reachable: a login over TLS, and optionally a POP3 login to learn whether POP is allowed.

use signpost_core::Domain;
use signpost_core::model::{Encryption, ImapSource, ProtocolKind, expand_pattern};
use signpost_diagnostics::dns::Dns;
use signpost_diagnostics::mail::{self, Credentials, MailProtocol, Security};
use signpost_diagnostics::tls::Roots;

use crate::placeholders::Subject;
use crate::{Answer, directory_user};

pub async fn authenticate(
    source: &ImapSource,
    domain: &Domain,
    subject: &Subject,
    password: &str,
    origin: Option<std::net::IpAddr>,
    (dns, roots): (&Dns, &Roots),
) -> Answer {
    let credentials = Credentials {
        user: &subject.login,
        password,
        origin,
    };
    let imap = server(source, domain, ProtocolKind::Imap, &subject.address);
    if let Err(failure) =
        mail::log_in(MailProtocol::Imap, imap.as_tuple(), dns, roots, credentials).await
    {
        return refusal_or_outage("IMAP", &imap, failure);
    }
    // The name the server just took is the one clients should use.
    let mut user = directory_user(subject, None, Some(&subject.login));
    if source.check_pop && domain.protocols.pop.enabled {
        let pop = server(source, domain, ProtocolKind::Pop, &subject.address);
        match mail::log_in(MailProtocol::Pop3, pop.as_tuple(), dns, roots, credentials).await {
            Ok(()) => {}
            Err(failure) if failure.refused => user.access.pop = false,
            Err(failure) => return refusal_or_outage("POP3", &pop, failure),
        }
    }
    Answer::Verified(user)
}

struct Server {
    host: String,
    port: u16,
    security: Security,
}

impl Server {
    fn as_tuple(&self) -> (&str, u16, Security) {
        (&self.host, self.port, self.security)
    }
}

/// The server to log in to for `kind`: the domain's own endpoint, with the source's overrides
/// for it (`host`, `port`, `encryption` for IMAP; `pop_host` (else `host`), `pop_port`,
/// `pop_encryption` for POP3).
fn server(source: &ImapSource, domain: &Domain, kind: ProtocolKind, address: &str) -> Server {
    let endpoint = &domain.protocols.get(kind).primary;
    let (host, port, encryption) = match kind {
        ProtocolKind::Pop => (
            source.pop_host.as_ref().or(source.host.as_ref()),
            source.pop_port,
            source.pop_encryption,
        ),
        _ => (source.host.as_ref(), source.port, source.encryption),
    };
    let host = match host {
        Some(host) => host.clone(),
        None => expand_pattern(domain.host_of(endpoint), address).into_owned(),
    };
    let port = port.unwrap_or(endpoint.port);
    let encryption = encryption.unwrap_or(endpoint.encryption);
    let security = match encryption {
        Encryption::Ssl => Security::Ssl,
        Encryption::Starttls => Security::Starttls,
        Encryption::None => Security::Plain,
    };
    Server {
        host,
        port,
        security,
    }
}

fn refusal_or_outage(protocol: &str, server: &Server, failure: mail::Failure) -> Answer {
    let message = format!(
        "{protocol} {}:{}: {}",
        server.host, server.port, failure.message
    );
    if failure.refused {
        Answer::Refused(message)
    } else {
        Answer::Unavailable(message)
    }
}
