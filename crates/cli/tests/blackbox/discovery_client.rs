//! Drives io-pim-discovery (a real autoconfig and PACC client) over plain TCP to the server under
//! test, whatever host name its URL carries: the client writes its own HTTP request (with that
//! Host) and parses the answer itself.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use io_pim_discovery::autoconfig::config::DiscoveryAutoconfig;
use io_pim_discovery::coroutine::{DiscoveryCoroutine, DiscoveryCoroutineState, DiscoveryYield};

pub fn drive<C>(mut coroutine: C, server: SocketAddr) -> C::Return
where
    C: DiscoveryCoroutine<Yield = DiscoveryYield>,
{
    let mut stream = TcpStream::connect(server).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut argument: Option<Vec<u8>> = None;
    for _ in 0..10_000 {
        match coroutine.resume(argument.as_deref()) {
            DiscoveryCoroutineState::Complete(result) => return result,
            DiscoveryCoroutineState::Yielded(DiscoveryYield::WantsWrite { bytes, .. }) => {
                stream.write_all(&bytes).expect("write request");
                argument = None;
            }
            DiscoveryCoroutineState::Yielded(DiscoveryYield::WantsRead { .. }) => {
                let mut buffer = vec![0u8; 16 * 1024];
                let n = stream.read(&mut buffer).expect("read answer");
                buffer.truncate(n);
                argument = Some(buffer);
            }
        }
    }
    panic!("the discovery client did not finish");
}

/// Fetches `url` (its host is sent as Host) from `server` with io-pim-discovery's ISP client.
pub fn autoconfig(url: &str, server: SocketAddr) -> Result<DiscoveryAutoconfig, String> {
    let isp =
        io_pim_discovery::autoconfig::isp::DiscoveryIsp::new(url::Url::parse(url).expect("url"));
    drive(isp, server).map_err(|e| format!("{e:?}"))
}
