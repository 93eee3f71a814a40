//! Running behind a load balancer or reverse proxy: `X-Forwarded-For/-Proto/-Host` and the PROXY
//! protocol are believed only from configured proxy addresses, and removed from everyone else.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use signpost_protocol::proxy_protocol::{self, V1_MAX_LEN};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::connection::ClientConnection;

/// An IP network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4 clients on a dual-stack socket appear as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let address: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("'{value}' is not an IP address or network"))?;
        let address = canonical(address);
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{value}' has a prefix length outside 0-{max}"))?,
            None => max,
        };
        Ok(Self { address, prefix })
    }
}

impl std::fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

pub fn is_trusted(proxies: &[IpNetwork], ip: IpAddr) -> bool {
    proxies.iter().any(|n| n.contains(ip))
}

const FORWARDED_HEADERS: [&str; 3] = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"];

/// Applies `X-Forwarded-*` when the direct peer is a trusted proxy (to `connection` and the Host
/// header), and removes them in any case, so nothing later can be fooled by a client that sends
/// its own.
pub fn apply_forwarded_headers(
    headers: &mut HeaderMap,
    mut connection: ClientConnection,
    proxies: &[IpNetwork],
) -> ClientConnection {
    if is_trusted(proxies, connection.direct_peer.ip()) {
        if let Some(client) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| client_from_forwarded_for(v, proxies))
        {
            connection.peer = SocketAddr::new(client, 0);
        }
        match headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
        {
            Some(proto) if proto.eq_ignore_ascii_case("https") => connection.secure = true,
            Some(proto) if proto.eq_ignore_ascii_case("http") => connection.secure = false,
            _ => {}
        }
        if let Some(host) = headers
            .get("x-forwarded-host")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| HeaderValue::from_str(v.trim()).ok())
        {
            headers.insert(header::HOST, host);
        }
    }
    for name in FORWARDED_HEADERS {
        headers.remove(name);
    }
    connection
}

/// The client: the right-most address that is not itself a trusted proxy.
fn client_from_forwarded_for(value: &str, proxies: &[IpNetwork]) -> Option<IpAddr> {
    let hops: Vec<IpAddr> = value
        .split(',')
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(proxies, **ip))
        .or_else(|| hops.first())
        .copied()
}

/// Reads a PROXY protocol header (v1 or v2) from the start of a connection, byte-exact so that
/// nothing after it is consumed. `Ok(None)` when the balancer does not know the client.
pub async fn read_proxy_header<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> anyhow::Result<Option<SocketAddr>> {
    tokio::time::timeout(timeout, read_header(stream))
        .await
        .map_err(|_| anyhow::anyhow!("no PROXY header within {timeout:?}"))?
}

async fn read_header<S: AsyncRead + Unpin>(stream: &mut S) -> anyhow::Result<Option<SocketAddr>> {
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await?;
    if first[0] == b'P' {
        let mut line = vec![first[0]];
        while !line.ends_with(b"\r\n") {
            if line.len() >= V1_MAX_LEN {
                anyhow::bail!("PROXY v1 line too long");
            }
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await?;
            line.push(byte[0]);
        }
        return Ok(proxy_protocol::parse_v1(&line)?);
    }
    let mut fixed = [0u8; 16];
    fixed[0] = first[0];
    stream.read_exact(&mut fixed[1..]).await?;
    let length = proxy_protocol::v2_block_length(&fixed)?;
    let mut block = vec![0u8; length];
    stream.read_exact(&mut block).await?;
    Ok(proxy_protocol::parse_v2(&fixed, &block)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_addresses() {
        let net: IpNetwork = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let one: IpNetwork = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6: IpNetwork = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8::5".parse().unwrap()));
        let all: IpNetwork = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
        assert!("nonsense".parse::<IpNetwork>().is_err());
    }

    #[test]
    fn the_client_is_the_last_untrusted_hop() {
        let proxies: Vec<IpNetwork> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_from_forwarded_for("203.0.113.9, 198.51.100.7, 10.0.0.2", &proxies),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(client_from_forwarded_for("garbage", &proxies), None);
    }
}
