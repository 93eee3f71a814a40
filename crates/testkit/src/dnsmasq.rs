//! dnsmasq (Debian's `dnsmasq-base`) as an authoritative DNS server on 127.0.0.1: it answers
//! only from the records it is given, and says NXDOMAIN for every other name of its zones.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::process::{Running, StartFailure, start_with_retry};
use crate::tools::{self, Tool};

pub struct Dnsmasq {
    _process: Running,
    pub address: SocketAddr,
}

impl Dnsmasq {
    /// Serves `records` (dnsmasq options such as `--host-record=...`) for `zones`.
    pub fn start(dir: &Path, zones: &[&str], records: &[String]) -> Self {
        tools::require(Tool::Dnsmasq);
        start_with_retry("dnsmasq", || {
            let port = crate::ports::free_port();
            let mut command = tools::command(Tool::Dnsmasq, "dnsmasq");
            command.args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--conf-file=/dev/null",
                "--cache-size=0",
            ]);
            if tools::is_root() {
                command.arg("--user=root");
            }
            command.arg(format!("--port={port}"));
            for zone in zones {
                command.arg(format!("--local=/{zone}/"));
            }
            command.args(records);
            let mut process = Running::spawn("dnsmasq", &mut command, &dir.join("dnsmasq"));
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            wait_for_answers(&mut process, address)?;
            Ok(Self {
                _process: process,
                address,
            })
        })
    }
}

/// Waits until the server answers a query (for anything; a refusal is an answer).
fn wait_for_answers(process: &mut Running, server: SocketAddr) -> Result<(), StartFailure> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    let mut query = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["probe", "invalid"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    let deadline = Instant::now() + crate::process::START_LIMIT;
    let mut buffer = [0u8; 512];
    loop {
        let _ = socket.send_to(&query, server);
        if socket.recv_from(&mut buffer).is_ok() {
            return Ok(());
        }
        process.check_alive(&format!("answering on {server}"), deadline)?;
    }
}

/// dnsmasq options for records as `signpost dns --format json` prints them, every name pointed
/// at `ip` instead of the address in the record; `skip(name, type)` leaves a record out.
pub fn records_as_options(
    records: &serde_json::Value,
    ip: &str,
    skip: impl Fn(&str, &str) -> bool,
) -> Vec<String> {
    let mut options = Vec::new();
    let field = |record: &serde_json::Value, key: &str| -> String {
        record[key]
            .as_str()
            .unwrap_or_else(|| panic!("a DNS record without \"{key}\": {record}"))
            .to_string()
    };
    for record in records.as_array().expect("a JSON array of records") {
        let name = field(record, "name").trim_end_matches('.').to_string();
        let kind = field(record, "type");
        let value = field(record, "value");
        if skip(&name, &kind) {
            continue;
        }
        match kind.as_str() {
            "A" | "AAAA" | "CNAME" => options.push(format!("--host-record={name},{ip}")),
            "SRV" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                assert_eq!(parts.len(), 4, "an SRV value of four parts: {value}");
                if parts[3] == "." {
                    options.push(format!("--srv-host={name}"));
                } else {
                    options.push(format!(
                        "--srv-host={name},{},{},{},{}",
                        parts[3].trim_end_matches('.'),
                        parts[2],
                        parts[0],
                        parts[1]
                    ));
                }
            }
            "TXT" => options.push(format!("--txt-record={name},{}", value.trim_matches('"'))),
            _ => {}
        }
    }
    options
}
