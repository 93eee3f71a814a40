//! `bench-hot-path [ITERATIONS [CASE]]`: each answer Signpost gives, computed in memory many times on
//! one thread, with the time and heap allocations each one costs. No sockets and no load
//! generator, so the numbers show Signpost's own work; `bench/run` measures it over HTTP.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use base64::Engine;
use signpost_core::{
    AuthPolicy, Domain, DomainChange, ProtocolChange, ProtocolKind, Snapshot, User, UserChange,
};
use signpost_server::{InProcess, ServerConfig};

/// Counts allocations, to show what each answer asks of the allocator.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// With `BENCH_TRACE_ALLOCATIONS=1`, one answer per case prints where each allocation comes from.
static TRACING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

thread_local! {
    static IN_TRACE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The first frame in Signpost's own code (or the request stack) that led to an allocation.
fn trace_allocation() {
    if !TRACING.load(Ordering::Relaxed) || IN_TRACE.with(|t| t.replace(true)) {
        return;
    }
    let trace = std::backtrace::Backtrace::force_capture().to_string();
    let frames: Vec<&str> = trace
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("at ") && l.contains(": "))
        .map(|l| l.split_once(": ").map(|(_, f)| f).unwrap_or(l))
        .filter(|f| {
            !f.contains("alloc::")
                && !f.contains("trace_allocation")
                && !f.contains("Counting")
                && !f.contains("backtrace")
        })
        .take(3)
        .collect();
    eprintln!("  alloc: {}", frames.join("  <  "));
    IN_TRACE.with(|t| t.set(false));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        trace_allocation();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        trace_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Each case runs this many times; the fastest round is reported.
const ROUNDS: u32 = 5;

const ADDRESS: &str = "john@example.com";
const PASSWORD: &str = "correct horse battery staple";

fn pox(schema: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/{schema}/requestschema/2006\"><Request><EMailAddress>{ADDRESS}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/{schema}/responseschema/{}</AcceptableResponseSchema></Request></Autodiscover>",
        if schema == "outlook" { "2006a" } else { "2006" }
    )
}

struct Case {
    name: &'static str,
    method: &'static str,
    uri: String,
    body: String,
    basic: bool,
    expect: &'static str,
    /// Whether the server may answer from remembered answers.
    memo: bool,
}

fn request(case: &Case) -> hyper::Request<Body> {
    let mut builder = hyper::Request::builder()
        .method(case.method)
        .uri(&case.uri)
        .header("host", "autodiscover.example.com");
    if !case.body.is_empty() {
        builder = builder.header("content-type", "text/xml; charset=utf-8");
    }
    if case.basic {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{ADDRESS}:{PASSWORD}"));
        builder = builder.header("authorization", format!("Basic {token}"));
    }
    builder
        .body(Body::from(case.body.clone()))
        .expect("a valid request")
}

fn snapshot() -> anyhow::Result<Snapshot> {
    let mut domain = Domain::new("example.com", "mail.example.com")?;
    domain.apply(&DomainChange {
        display_name: Some("Example Mail".into()),
        auth: Some(AuthPolicy::Optional),
        ..DomainChange::default()
    })?;
    let on = ProtocolChange {
        enabled: Some(true),
        ..ProtocolChange::default()
    };
    domain.change_protocol(ProtocolKind::Eas, &on)?;
    domain.change_protocol(ProtocolKind::Ews, &on)?;
    let user = User::new(
        ADDRESS,
        PASSWORD,
        &UserChange {
            display_name: Some("John Doe".into()),
            ..UserChange::default()
        },
    )?;
    Ok(Snapshot::new(1, vec![domain], vec![user]))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let iterations: u64 = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|_| anyhow::anyhow!("ITERATIONS must be a number, not {n}"))?,
        None => 50_000,
    };
    // An optional second argument picks the cases whose name contains it (for profiling one).
    let only = std::env::args().nth(2).unwrap_or_default();
    // The server's own logging setup (info, text), writing nowhere: spans cost what they cost.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::sink)
        .init();
    let remembering = InProcess::new(ServerConfig::default(), snapshot()?)?;
    let computing = InProcess::new(
        ServerConfig {
            answer_memo_entries: 0,
            ..ServerConfig::default()
        },
        snapshot()?,
    )?;
    let peer: SocketAddr = "127.0.0.1:40000".parse()?;
    let cases = [
        Case {
            name: "POX desktop, no auth",
            method: "POST",
            uri: "/autodiscover/autodiscover.xml".into(),
            body: pox("outlook"),
            basic: false,
            expect: "<Server>mail.example.com</Server>",
            memo: true,
        },
        Case {
            name: "POX desktop, no auth, no memo",
            method: "POST",
            uri: "/autodiscover/autodiscover.xml".into(),
            body: pox("outlook"),
            basic: false,
            expect: "<Server>mail.example.com</Server>",
            memo: false,
        },
        Case {
            name: "POX desktop, Basic (remembered)",
            method: "POST",
            uri: "/autodiscover/autodiscover.xml".into(),
            body: pox("outlook"),
            basic: true,
            expect: "<DisplayName>John Doe</DisplayName>",
            memo: true,
        },
        Case {
            name: "POX mobilesync",
            method: "POST",
            uri: "/autodiscover/autodiscover.xml".into(),
            body: pox("mobilesync"),
            basic: false,
            expect: "Microsoft-Server-ActiveSync",
            memo: true,
        },
        Case {
            name: "Autodiscover v2 JSON",
            method: "GET",
            uri: format!("/autodiscover/autodiscover.json/v1.0/{ADDRESS}?Protocol=ActiveSync"),
            body: String::new(),
            basic: false,
            expect: "\"Protocol\":\"ActiveSync\"",
            memo: true,
        },
        Case {
            name: "autoconfig",
            method: "GET",
            uri: "/mail/config-v1.1.xml?emailaddress=john%40example.com".into(),
            body: String::new(),
            basic: false,
            expect: "<incomingServer type=\"imap\">",
            memo: true,
        },
        Case {
            name: "mobileconfig (unsigned)",
            method: "GET",
            uri: "/mobileconfig?emailaddress=john%40example.com".into(),
            body: String::new(),
            basic: false,
            expect: "com.apple.mail.managed",
            memo: true,
        },
    ];
    println!("{:<34} {:>10} {:>14}", "Case", "ns/answer", "allocations");
    for case in cases.iter().filter(|case| case.name.contains(&only)) {
        let server = if case.memo { &remembering } else { &computing };
        // The first answer checks the content (and makes the Basic credential remembered).
        let response = server.handle(request(case), peer).await;
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        let text = String::from_utf8_lossy(&bytes);
        anyhow::ensure!(
            text.contains(case.expect),
            "{}: no {:?} in\n{text}",
            case.name,
            case.expect
        );

        if std::env::var_os("BENCH_TRACE_ALLOCATIONS").is_some() {
            eprintln!("{}:", case.name);
            let request = request(case);
            TRACING.store(true, Ordering::Relaxed);
            let response = server.handle(request, peer).await;
            let _ = axum::body::to_bytes(response.into_body(), 1 << 20).await;
            TRACING.store(false, Ordering::Relaxed);
            continue;
        }
        // The fastest of several rounds: this machine's neighbours make single runs noisy.
        let mut best = f64::MAX;
        let mut allocations = 0;
        for _ in 0..ROUNDS {
            let requests: Vec<_> = (0..iterations).map(|_| request(case)).collect();
            let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);
            let started = Instant::now();
            for request in requests {
                let response = server.handle(request, peer).await;
                let _ = axum::body::to_bytes(response.into_body(), 1 << 20).await;
            }
            best = best.min(started.elapsed().as_nanos() as f64 / iterations as f64);
            allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
        }
        println!(
            "{:<34} {:>10.0} {:>14.1}",
            case.name,
            best,
            allocations as f64 / iterations as f64
        );
    }
    Ok(())
}
