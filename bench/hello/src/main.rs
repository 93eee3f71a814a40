//! `bench-hello ADDR:PORT`: answers every GET with a short text, nothing else. The benchmark runs
//! it beside Signpost on the same machine as the ceiling a Rust HTTP server reaches here.

use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let address: SocketAddr = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(address)) => address,
        _ => {
            eprintln!("usage: bench-hello ADDR:PORT (for example 127.0.0.1:18080)");
            std::process::exit(2);
        }
    };
    let app = axum::Router::new().fallback(|| async { "hello\n" });
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
