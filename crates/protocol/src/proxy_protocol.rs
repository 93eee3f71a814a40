//! The PROXY protocol (versions 1 and 2, as HAProxy defines them): how a load balancer tells the
//! server behind it who the client is. Only the source address is read.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12 bytes every version 2 header starts with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// A version 1 line is at most 107 bytes, CRLF included.
pub const V1_MAX_LEN: usize = 107;
/// Longest version 2 address block Signpost accepts (TLVs included).
pub const V2_MAX_LEN: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyHeaderError {
    #[error("not a PROXY protocol header")]
    NotProxy,
    #[error("malformed PROXY header: {0}")]
    Malformed(&'static str),
}

/// Parses a version 1 line (`PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n`). `None` is the
/// `UNKNOWN` form: the balancer does not know the client (keep the connection's address).
pub fn parse_v1(line: &[u8]) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let line = line
        .strip_suffix(b"\r\n")
        .ok_or(ProxyHeaderError::Malformed("no CRLF"))?;
    let text = std::str::from_utf8(line).map_err(|_| ProxyHeaderError::Malformed("not ASCII"))?;
    let mut parts = text.split(' ');
    if parts.next() != Some("PROXY") {
        return Err(ProxyHeaderError::NotProxy);
    }
    let family = parts
        .next()
        .ok_or(ProxyHeaderError::Malformed("no family"))?;
    if family == "UNKNOWN" {
        return Ok(None);
    }
    let fields: Vec<&str> = parts.collect();
    let [source, _destination, source_port, _destination_port] = fields[..] else {
        return Err(ProxyHeaderError::Malformed("wrong number of fields"));
    };
    let ip: IpAddr = source
        .parse()
        .map_err(|_| ProxyHeaderError::Malformed("bad source address"))?;
    let matches_family = matches!(
        (family, ip),
        ("TCP4", IpAddr::V4(_)) | ("TCP6", IpAddr::V6(_))
    );
    if !matches_family {
        return Err(ProxyHeaderError::Malformed("address does not match family"));
    }
    let port: u16 = source_port
        .parse()
        .map_err(|_| ProxyHeaderError::Malformed("bad source port"))?;
    Ok(Some(SocketAddr::new(ip, port)))
}

/// From the 16 fixed bytes of a version 2 header, the length of the address block that follows.
pub fn v2_block_length(fixed: &[u8; 16]) -> Result<usize, ProxyHeaderError> {
    if fixed[..12] != V2_SIGNATURE {
        return Err(ProxyHeaderError::NotProxy);
    }
    if fixed[12] >> 4 != 2 {
        return Err(ProxyHeaderError::Malformed("unsupported version"));
    }
    let length = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    if length > V2_MAX_LEN {
        return Err(ProxyHeaderError::Malformed("address block too long"));
    }
    Ok(length)
}

/// Reads the source address of a version 2 header (`None` for LOCAL connections, health checks
/// by the balancer itself, and for families other than TCP over IPv4 or IPv6).
pub fn parse_v2(fixed: &[u8; 16], block: &[u8]) -> Result<Option<SocketAddr>, ProxyHeaderError> {
    let length = v2_block_length(fixed)?;
    if block.len() != length {
        return Err(ProxyHeaderError::Malformed("short address block"));
    }
    match fixed[12] & 0x0F {
        0x0 => return Ok(None),
        0x1 => {}
        _ => return Err(ProxyHeaderError::Malformed("unknown command")),
    }
    match fixed[13] {
        0x11 => {
            if block.len() < 12 {
                return Err(ProxyHeaderError::Malformed("short IPv4 block"));
            }
            let ip = Ipv4Addr::new(block[0], block[1], block[2], block[3]);
            let port = u16::from_be_bytes([block[8], block[9]]);
            Ok(Some(SocketAddr::new(IpAddr::V4(ip), port)))
        }
        0x21 => {
            if block.len() < 36 {
                return Err(ProxyHeaderError::Malformed("short IPv6 block"));
            }
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&block[..16]);
            let port = u16::from_be_bytes([block[32], block[33]]);
            Ok(Some(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(octets)),
                port,
            )))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1() {
        assert_eq!(
            parse_v1(b"PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"),
            Ok(Some("192.0.2.1:56324".parse().unwrap()))
        );
        assert_eq!(
            parse_v1(b"PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"),
            Ok(Some("[2001:db8::1]:1".parse().unwrap()))
        );
        assert_eq!(parse_v1(b"PROXY UNKNOWN\r\n"), Ok(None));
        assert_eq!(
            parse_v1(b"GET / HTTP/1.1\r\n"),
            Err(ProxyHeaderError::NotProxy)
        );
        assert!(parse_v1(b"PROXY TCP4 2001:db8::1 1.2.3.4 1 2\r\n").is_err());
        assert!(parse_v1(b"PROXY TCP4 1.2.3.4 1.2.3.4 99999 2\r\n").is_err());
        assert!(parse_v1(b"PROXY TCP4 1.2.3.4\r\n").is_err());
    }

    #[test]
    fn version_2() {
        let mut fixed = [0u8; 16];
        fixed[..12].copy_from_slice(&V2_SIGNATURE);
        fixed[12] = 0x21;
        fixed[13] = 0x11;
        fixed[15] = 12;
        let block = [192, 0, 2, 1, 198, 51, 100, 1, 0xDC, 0x04, 0x01, 0xBB];
        assert_eq!(v2_block_length(&fixed), Ok(12));
        assert_eq!(
            parse_v2(&fixed, &block),
            Ok(Some("192.0.2.1:56324".parse().unwrap()))
        );
        fixed[12] = 0x20;
        assert_eq!(parse_v2(&fixed, &block), Ok(None), "LOCAL");
        fixed[0] = b'G';
        assert_eq!(v2_block_length(&fixed), Err(ProxyHeaderError::NotProxy));
    }
}
