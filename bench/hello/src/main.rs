//! `bench-hello ADDR:PORT [BYTES]`: answers every request with a short text (or BYTES bytes),
//! nothing else. The benchmark runs
//! it beside Signpost on the same machine as the ceiling a Rust HTTP server reaches here.

use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let address: SocketAddr = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(address)) => address,
        _ => {
            eprintln!("usage: bench-hello ADDR:PORT [BYTES] (for example 127.0.0.1:18080 2300)");
            std::process::exit(2);
        }
    };
    // With a second argument N, the answer is N bytes instead (the size of a real answer).
    let size: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let body: &'static str = if size == 0 {
        "hello\n"
    } else {
        Box::leak("x".repeat(size).into_boxed_str())
    };
    let app = axum::Router::new().fallback(move || async move { body });
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
