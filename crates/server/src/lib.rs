//! Signpost's HTTP server: listeners, routing, client authentication and the live snapshot of
//! the configuration that every answer is computed from.

mod acme;
pub mod admin;
mod app;
mod auth_limiter;
mod basic_auth;
mod certificates;
mod client_auth;
pub mod config;
mod credential_cache;
mod deadline;
mod edge;
mod front;
mod in_process;
mod listener;
mod memo;
mod metrics;
mod observe;
mod password_check;
pub mod profile_signing;
pub mod proxy;
mod recent;
mod responses;
mod routes;
mod snapshot_reload;
mod state;
pub mod tls;

pub use config::ServerConfig;
pub use in_process::InProcess;
pub use listener::{BoundAddresses, run};
