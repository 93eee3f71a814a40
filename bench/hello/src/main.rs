//! `bench-hello ADDR:PORT [--bytes N] [--work-ns N]`: answers every request with a short text,
//! nothing else. The benchmark runs it beside Signpost as the ceiling a Rust HTTP server reaches
//! on this machine. `--bytes` makes the answer that long (the size of a real answer); `--work-ns`
//! spends that much CPU per request first, to show what each microsecond of work costs here.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!("usage: bench-hello ADDR:PORT [--bytes N] [--work-ns N]  (e.g. 127.0.0.1:18080)");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let address: SocketAddr = match args.next().map(|a| a.parse()) {
        Some(Ok(address)) => address,
        _ => usage(),
    };
    let (mut bytes, mut work_ns) = (0usize, 0u64);
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--bytes", Some(n)) => bytes = usize::try_from(n).unwrap_or_else(|_| usage()),
            ("--work-ns", Some(n)) => work_ns = n,
            _ => usage(),
        }
    }
    let body: &'static str = if bytes == 0 {
        "hello\n"
    } else {
        Box::leak("x".repeat(bytes).into_boxed_str())
    };
    let work = Duration::from_nanos(work_ns);
    let app = axum::Router::new().fallback(move || async move {
        let started = Instant::now();
        while started.elapsed() < work {
            std::hint::spin_loop();
        }
        body
    });
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("bench-hello: cannot listen on {address}: {e}");
            std::process::exit(1);
        }
    };
    println!("bench-hello: listening on http://{address}");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("bench-hello: {e}");
        std::process::exit(1);
    }
}
