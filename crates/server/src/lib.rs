//! Signpost's HTTP server: listeners, routing, client authentication and the live snapshot of
//! the configuration that every answer is computed from.

mod acme;
mod app;
mod audit_retention;
mod basic_auth;
mod certificates;
mod client_auth;
pub mod clock;
pub mod config;
pub mod connection;
mod credential_cache;
mod deadline;
mod discovery_route;
mod edge;
mod freed_memory;
mod front;
pub mod host_header;
mod in_process;
mod instance;
mod listener;
mod memo;
pub mod metrics;
mod observe;
mod parsed_pox;
pub mod password_check;
pub mod profile_signing;
pub mod proxy;
pub mod recent;
mod recent_share;
mod request_scope;
mod responses;
mod routes;
mod snapshot_reload;
pub mod state;
pub mod tls;

pub use config::ServerConfig;
pub use in_process::InProcess;
pub use listener::{Administration, BoundAddresses, Prepared, prepare, serve};
pub use snapshot_reload::catch_up;
pub use state::{AppState, SharedState};
