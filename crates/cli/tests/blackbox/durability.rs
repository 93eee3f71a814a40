//! Nothing acknowledged is lost: SIGKILL in the middle of a storm of writes, consistent backups
//! of a store in use, an exact export/import round trip, graceful shutdown, and systemd's
//! readiness notification.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::harness::*;
use crate::pki::TestCa;

signpost_testkit::tests![
    every_acknowledged_write_survives_sigkill,
    backups_are_consistent_and_exports_round_trip_exactly,
    sigterm_lets_requests_in_flight_finish,
    systemd_is_told_when_the_server_is_ready,
];

fn every_acknowledged_write_survives_sigkill() {
    let sp = Signpost::new().with_example_domain();
    let mut server = sp.serve();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let data = sp.data();
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                for n in 0..25 {
                    let address = format!("user{worker}-{n}@example.com");
                    let mut child = Command::new(env!("CARGO_BIN_EXE_signpost"))
                        .arg("--data")
                        .arg(&data)
                        .args(["user", "add", &address, "--password-stdin"])
                        .stdin(Stdio::piped())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("signpost user add");
                    let _ = child.stdin.take().expect("stdin").write_all(b"pw\n");
                    if n % 7 == 3 {
                        // Killed mid-write: acknowledged or not, the store must stay whole.
                        std::thread::sleep(Duration::from_millis(5 + n as u64));
                        let _ = child.kill();
                    }
                    if child.wait().is_ok_and(|s| s.success()) {
                        acknowledged.lock().unwrap().push(address);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    server.kill();
    for worker in workers {
        worker.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 50,
        "only {} writes acknowledged",
        acknowledged.len()
    );

    let status = sp.ok(&["status", "--verify", "--format", "json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["verified"], true);
    let listed: serde_json::Value =
        serde_json::from_str(&sp.ok(&["user", "list", "--format", "json"])).unwrap();
    let present: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["address"].as_str().unwrap())
        .collect();
    for address in &acknowledged {
        assert!(
            present.contains(&address.as_str()),
            "{address} was acknowledged but is gone"
        );
    }
    // A restarted server answers from all of it.
    let server = sp.serve();
    assert_eq!(
        server.config_version() as i64,
        status["version"].as_i64().unwrap()
    );
}

fn backups_are_consistent_and_exports_round_trip_exactly() {
    let sp = Signpost::new();
    sp.ok(&[
        "import",
        "ispdb",
        workspace_root()
            .join("testdata/ispdb/gmx.net.xml")
            .to_str()
            .unwrap(),
    ]);
    sp.add_user(
        "john@gmx.net",
        "secret",
        &["--display-name", "John <Doe>", "--deny", "pop"],
    );
    let ca = TestCa::new(sp.dir.path(), "Export CA");
    sp.add_cert(&ca.issue(sp.dir.path(), "mail", &["imap.gmx.net"], -1, 30));
    let _server = sp.serve();

    let exported = sp.ok(&["export"]);
    let file = sp.dir.path().join("export.json");
    sp.ok(&["export", "--output", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), exported);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "hashes and keys are the owner's only");

    let other = Signpost::new();
    other.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(
        other.ok(&["export"]),
        exported,
        "export, import, export: the same bytes"
    );
    let err = other.fails(&["import", file.to_str().unwrap()]);
    assert!(
        err.contains("already holds 1 domain(s)") && err.contains("--replace"),
        "{err}"
    );
    other.ok_with_stdin(&["import", "--replace", "-"], &exported);
    assert_eq!(other.ok(&["export"]), exported);
    let err = other.run(&["import", "-"], "{\"format\":\"something else\"}");
    assert!(!err.status.success());

    // An online backup while a server runs on the store.
    let backup = sp.dir.path().join("backup.db");
    sp.ok(&["backup", backup.to_str().unwrap()]);
    let restored = Command::new(env!("CARGO_BIN_EXE_signpost"))
        .args([
            "--database",
            &format!("sqlite://{}", backup.display()),
            "export",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(restored.stdout).unwrap(), exported);
    let err = sp.fails(&["backup", backup.to_str().unwrap()]);
    assert!(err.contains("already exists"), "{err}");
}

fn sigterm_lets_requests_in_flight_finish() {
    let sp = Signpost::new().with_example_domain();
    let mut server = sp.serve();
    let body = pox_request("a@example.com", OUTLOOK_SCHEMA);
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{first}", body.len()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.pid().to_string())
        .status();
    server.wait_until(
        "the server to say it is shutting down",
        |s| s.log().contains("shutting down"),
        |&said| said,
    );
    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the request in flight was answered: {answer}"
    );
    let status = server.terminate(10).expect("the server exits");
    assert!(status.success(), "{status:?}");
    assert!(
        TcpStream::connect(server.addr).is_err(),
        "no new connections after SIGTERM"
    );
}

fn systemd_is_told_when_the_server_is_ready() {
    let sp = Signpost::new().with_example_domain();
    let socket_path = sp.dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(signpost_testkit::process::START_LIMIT))
        .unwrap();
    let mut child = sp
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .env("NOTIFY_SOCKET", &socket_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buffer = [0u8; 512];
    let n = socket.recv(&mut buffer).expect("a notification");
    let message = String::from_utf8_lossy(&buffer[..n]).to_string();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let stopping = socket
        .recv(&mut buffer)
        .map(|n| String::from_utf8_lossy(&buffer[..n]).to_string());
    let _ = child.wait();
    assert!(message.contains("READY=1"), "{message}");
    assert!(message.contains("STATUS="), "{message}");
    assert!(stopping.unwrap_or_default().contains("STOPPING=1"));
}
