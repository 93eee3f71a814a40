//! Ports for servers that choose their own listening socket (Signpost itself binds port 0 and
//! says which port it got; the Debian servers need a number up front).
//!
//! A number is chosen below the kernel's ephemeral range, so that neither a client connection's
//! own port nor another server's `:0` bind can take it between the choice and the server's bind,
//! and never twice in one process. Another process may still take it: the helpers that start
//! servers try again with new ports when a bind fails (see [`crate::process::start_with_retry`]).

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// The lowest port handed out.
const LOWEST: u32 = 10_000;

/// The first port of the kernel's ephemeral range (where `:0` binds and outgoing connections
/// take their ports from).
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .filter(|&start: &u32| start > LOWEST + 1_000)
        .unwrap_or(32_768)
}

/// The next candidate, starting from a place that differs between processes.
fn next_candidate() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let span = ephemeral_start() - LOWEST;
    let seed = std::process::id().wrapping_mul(7_919) % span;
    let step = NEXT.fetch_add(1, Ordering::Relaxed);
    u16::try_from(LOWEST + (seed + step) % span).unwrap_or(20_000)
}

fn free_on(address: Ipv4Addr, port: u16) -> bool {
    TcpListener::bind((address, port)).is_ok() && UdpSocket::bind((address, port)).is_ok()
}

/// A port free for TCP and UDP on 127.0.0.1.
pub fn free_port() -> u16 {
    free_port_on(&[Ipv4Addr::LOCALHOST])
}

/// A port free for TCP and UDP on every one of `addresses` (servers side by side on 127.0.0.x).
pub fn free_port_on(addresses: &[Ipv4Addr]) -> u16 {
    for _ in 0..10_000 {
        let port = next_candidate();
        if addresses.iter().all(|&a| free_on(a, port)) {
            return port;
        }
    }
    panic!("no free port below {} on {addresses:?}", ephemeral_start());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_below_the_ephemeral_range_and_not_repeated() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: std::collections::BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            ports.len(),
            "a port handed out twice: {ports:?}"
        );
        let start = ephemeral_start();
        assert!(
            ports
                .iter()
                .all(|&p| u32::from(p) >= LOWEST && u32::from(p) < start),
            "expected ports in {LOWEST}..{start}, got {ports:?}"
        );
    }
}
