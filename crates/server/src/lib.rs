//! Signpost's HTTP server: listeners, routing, client authentication and the live snapshot of
//! the configuration that every answer is computed from.

mod app;
mod basic_auth;
pub mod config;
mod credential_cache;
mod listener;
mod password_check;
pub mod profile_signing;
mod responses;
mod routes;
mod snapshot_reload;
mod state;

pub use config::ServerConfig;
pub use listener::run;
