//! Where a request came from: put in each request's extensions by the listener (after a trusted
//! proxy's word), read by everything that needs the client's address or the scheme.

use std::net::SocketAddr;

/// Where a request came from, put in each request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientConnection {
    /// The client, as far as Signpost can tell (a trusted proxy's word included).
    pub peer: SocketAddr,
    /// The TCP peer itself.
    pub direct_peer: SocketAddr,
    /// Whether the client's connection is TLS (so absolute links can say https).
    pub secure: bool,
    /// Whether it came to a listener of the administration surface alone (never a discovery
    /// name, so the only place HSTS may be sent).
    pub admin_only: bool,
}
