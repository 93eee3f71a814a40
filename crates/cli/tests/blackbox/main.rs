//! Black-box tests: the real `signpost` binary, a real HTTP server on 127.0.0.1, real clients and
//! real validators.

mod acme;
mod admin_api;
mod autoconfig;
mod autodiscover_json;
mod autodiscover_xml;
mod browser;
mod check;
mod cli;
mod directories;
mod discovery_client;
mod durability;
mod hardening;
mod harness;
mod ispdb;
mod mobileconfig;
mod overrides;
mod pacc;
mod packaging;
mod pebble;
mod pki;
mod postgres;
mod probe;
mod servers;
mod snippets;
mod tls;
mod tls_client;
mod user_import;
mod webdriver;
