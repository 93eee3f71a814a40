//! Black-box tests: the real `signpost` binary, a real HTTP server on 127.0.0.1, real clients and
//! real validators, and real servers from Debian beside it (see `signpost-testkit`). A test
//! whose tool is missing is reported as skipped, naming the tool.

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
mod health;
mod ispdb;
mod mobileconfig;
mod operations;
mod outside_audit;
mod overrides;
mod pacc;
mod packaging;
mod pebble;
mod pki;
mod postgres;
mod probe;
mod readme;
mod snippets;
mod tls;
mod tls_client;
mod ui_quality;
mod user_import;

fn main() -> std::process::ExitCode {
    signpost_testkit::runner::main([
        acme::tests(),
        admin_api::tests(),
        autoconfig::tests(),
        autodiscover_json::tests(),
        autodiscover_xml::tests(),
        browser::tests(),
        check::tests(),
        cli::tests(),
        directories::tests(),
        durability::tests(),
        hardening::tests(),
        health::tests(),
        ispdb::tests(),
        mobileconfig::tests(),
        operations::tests(),
        outside_audit::tests(),
        overrides::tests(),
        pacc::tests(),
        packaging::tests(),
        postgres::tests(),
        probe::tests(),
        readme::tests(),
        snippets::tests(),
        tls::tests(),
        ui_quality::tests(),
        user_import::tests(),
    ])
}
