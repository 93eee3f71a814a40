//! The ISPDB round trip: all 163 real provider files import, and serving each imported domain
//! gives back the same servers as the file, for every domain the file lists, as read by a real
//! autoconfig client.

use std::collections::BTreeMap;
use std::path::PathBuf;

use io_pim_discovery::autoconfig::config::{
    DiscoveryAuthenticationType, DiscoverySecurityType, DiscoveryServer, DiscoveryServerType,
};

use crate::discovery_client;
use crate::harness::*;

signpost_testkit::tests![
    every_ispdb_file_imports_and_serves_the_same_servers,
    importing_twice_skips_unless_replace,
];

/// (type, hostname, port, socketType, username, authentication...)
type ServerFacts = (String, String, u16, String, String, Vec<String>);

fn ispdb_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("testdata/ispdb"))
        .expect("testdata/ispdb")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

fn facts_from_file(server: &signpost_protocol::autoconfig::Server) -> ServerFacts {
    (
        server.kind.to_ascii_lowercase(),
        server.hostname.clone().unwrap_or_default(),
        server.port.unwrap_or_default(),
        server
            .socket_type
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        server.username.clone().unwrap_or_default(),
        server
            .authentication
            .iter()
            .map(|a| a.to_ascii_lowercase())
            .collect(),
    )
}

fn facts_from_client(server: &DiscoveryServer) -> ServerFacts {
    let kind = match server.r#type {
        DiscoveryServerType::Imap => "imap",
        DiscoveryServerType::Pop3 => "pop3",
        DiscoveryServerType::Smtp => "smtp",
    };
    let socket = match server.socket_type {
        Some(DiscoverySecurityType::Tls) => "ssl",
        Some(DiscoverySecurityType::Starttls) => "starttls",
        Some(DiscoverySecurityType::Plain) => "plain",
        None => "",
    };
    let authentication = server
        .authentication
        .iter()
        .map(|a| {
            match a {
                DiscoveryAuthenticationType::PasswordCleartext => "password-cleartext",
                DiscoveryAuthenticationType::PasswordEncrypted => "password-encrypted",
                DiscoveryAuthenticationType::Ntlm => "ntlm",
                DiscoveryAuthenticationType::GsApi => "gssapi",
                DiscoveryAuthenticationType::ClientIPAddress => "client-ip-address",
                DiscoveryAuthenticationType::TlsClientCert => "tls-client-cert",
                DiscoveryAuthenticationType::OAuth2 => "oauth2",
                DiscoveryAuthenticationType::None => "none",
            }
            .to_string()
        })
        .collect();
    (
        kind.to_string(),
        server.hostname.clone().unwrap_or_default(),
        server.port.unwrap_or_default(),
        socket.to_string(),
        server.username.clone().unwrap_or_default(),
        authentication,
    )
}

fn grouped(facts: Vec<ServerFacts>) -> BTreeMap<String, Vec<ServerFacts>> {
    let mut by_type: BTreeMap<String, Vec<ServerFacts>> = BTreeMap::new();
    for fact in facts {
        by_type.entry(fact.0.clone()).or_default().push(fact);
    }
    for list in by_type.values_mut() {
        list.sort();
    }
    by_type
}

fn every_ispdb_file_imports_and_serves_the_same_servers() {
    let files = ispdb_files();
    assert_eq!(
        files.len(),
        163,
        "the ISPDB test data holds 163 provider files"
    );
    let sp = Signpost::new();
    let mut args = vec!["import".to_string(), "ispdb".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sp.run(&arg_refs, "");
    let report = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "import failed:\n{report}");
    assert!(report.contains("163 imported"), "{report}");
    assert!(report.contains("[163/163]"), "progress is shown: {report}");
    // What cannot be represented is named.
    let office = report
        .split("\n[")
        .find(|block| block.contains("office365.com.xml"))
        .expect("office365 in the report");
    assert!(office.contains("dropped server of type 'ews'"), "{office}");

    let server = sp.serve();
    let mut domains_checked = 0;
    for file in &files {
        let bytes = std::fs::read(file).expect("read ISPDB file");
        let original = signpost_protocol::autoconfig::parse(&bytes).expect("parse ISPDB file");
        let expected = grouped(
            original
                .config
                .incoming
                .iter()
                .chain(&original.config.outgoing)
                .filter(|s| ["imap", "pop3", "smtp"].contains(&s.kind.as_str()))
                .map(facts_from_file)
                .collect(),
        );
        let mut listed: Vec<String> = original
            .config
            .domains
            .iter()
            .filter_map(|d| signpost_core::validate::domain_name("domain", d).ok())
            .collect();
        listed.dedup();
        for (n, domain) in listed.iter().enumerate() {
            let url = format!(
                "http://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress=test@{domain}"
            );
            let served = discovery_client::autoconfig(&url, server.addr)
                .unwrap_or_else(|e| panic!("{}: {domain}: {e}", file.display()));
            let provider = &served.email_provider;
            assert!(
                provider.domain.contains(domain),
                "{domain} not in the answer's domains"
            );
            let actual = grouped(
                provider
                    .incoming_server
                    .iter()
                    .chain(&provider.outgoing_server)
                    .map(facts_from_client)
                    .collect(),
            );
            assert_eq!(
                actual,
                expected,
                "{}: servers for {domain} differ",
                file.display()
            );
            for list in [&provider.incoming_server, &provider.outgoing_server] {
                let order: Vec<u8> = list
                    .iter()
                    .map(|s| match s.socket_type {
                        Some(DiscoverySecurityType::Tls) => 0,
                        Some(DiscoverySecurityType::Starttls) => 1,
                        _ => 2,
                    })
                    .collect();
                let kinds: Vec<String> = list.iter().map(|s| format!("{:?}", s.r#type)).collect();
                for pair in list.iter().zip(order.iter()).collect::<Vec<_>>().windows(2) {
                    let same_type =
                        format!("{:?}", pair[0].0.r#type) == format!("{:?}", pair[1].0.r#type);
                    assert!(
                        !same_type || pair[0].1 <= pair[1].1,
                        "{domain}: implicit TLS must come first: {kinds:?}"
                    );
                }
            }
            if n == 0 {
                let raw = server.get_as(&format!("autoconfig.{domain}"), "/mail/config-v1.1.xml");
                assert_valid_relaxng(
                    &raw.body,
                    "testdata/reference/autoconfig-draft/autoconfig.rng",
                );
            }
            domains_checked += 1;
        }
    }
    assert!(
        domains_checked > 900,
        "only {domains_checked} domains checked"
    );
}

fn importing_twice_skips_unless_replace() {
    let sp = Signpost::new();
    let file = workspace_root().join("testdata/ispdb/gmx.net.xml");
    let file = file.to_str().unwrap();
    sp.ok(&["import", "ispdb", file]);
    let out = sp.run(&["import", "ispdb", file], "");
    assert!(!out.status.success());
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        report.contains("skipped") && report.contains("--replace"),
        "{report}"
    );
    sp.ok(&["protocol", "set", "gmx.net", "pop", "--disable"]);
    sp.ok(&["import", "ispdb", "--replace", file]);
    let shown: serde_json::Value =
        serde_json::from_str(&sp.ok(&["domain", "show", "gmx.net", "--format", "json"])).unwrap();
    assert_eq!(
        shown["protocols"]["pop"]["enabled"], true,
        "--replace restores the file's settings"
    );
    assert_eq!(shown["aliases"].as_array().unwrap().len(), 10);

    let bad = sp.dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<clientConfig><emailProvider id=\"x\"></emailProvider></clientConfig>",
    )
    .unwrap();
    let err = sp.fails(&["import", "ispdb", bad.to_str().unwrap()]);
    assert!(err.contains("lists no usable <domain>"), "{err}");
}
