use super::*;

fn example() -> Domain {
    Domain::new("example.com", "mail.example.com").unwrap()
}

fn endpoint_change(port: Option<u16>, encryption: Option<Encryption>) -> EndpointChange {
    EndpointChange {
        port,
        encryption,
        ..Default::default()
    }
}

#[test]
fn new_domain_has_the_issue_defaults() {
    let d = Domain::new("Example.COM", "mail.example.com").unwrap();
    assert_eq!(d.name, "example.com");
    let check = |kind, enabled, port, encryption| {
        let setting = d.protocols.get(kind);
        assert_eq!(
            (
                setting.enabled,
                setting.primary.port,
                setting.primary.encryption
            ),
            (enabled, port, encryption),
            "{kind}"
        );
        assert_eq!(setting.primary.username.as_deref(), Some("%EMAILADDRESS%"));
        assert_eq!(
            setting.primary.authentication,
            vec![AuthMethod::PasswordCleartext]
        );
    };
    check(ProtocolKind::Imap, true, 993, Encryption::Ssl);
    check(ProtocolKind::Pop, true, 995, Encryption::Ssl);
    check(ProtocolKind::Smtp, true, 587, Encryption::Starttls);
    check(ProtocolKind::Ews, false, 443, Encryption::Ssl);
    check(ProtocolKind::Eas, false, 443, Encryption::Ssl);
    assert_eq!(d.host_for(ProtocolKind::Imap), "mail.example.com");
}

#[test]
fn ews_and_eas_refuse_other_encryption_and_ports() {
    let mut d = example();
    let err = d
        .change_protocol(
            ProtocolKind::Eas,
            &ProtocolChange {
                endpoint: endpoint_change(None, Some(Encryption::Starttls)),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("always uses https"), "{err}");
    let err = d
        .change_protocol(
            ProtocolKind::Ews,
            &ProtocolChange {
                endpoint: endpoint_change(Some(8443), None),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.field, "port");
    d.change_protocol(
        ProtocolKind::Ews,
        &ProtocolChange {
            enabled: Some(true),
            endpoint: endpoint_change(None, Some(Encryption::Ssl)),
        },
    )
    .unwrap();
    assert!(d.protocols.ews.enabled);
    assert!(
        d.add_endpoint(ProtocolKind::Eas, &endpoint_change(Some(443), None))
            .is_err()
    );
}

#[test]
fn protocol_change_validates_before_writing() {
    let mut d = example();
    let before = d.clone();
    let bad = ProtocolChange {
        enabled: Some(false),
        endpoint: endpoint_change(Some(0), None),
    };
    assert!(d.change_protocol(ProtocolKind::Imap, &bad).is_err());
    assert_eq!(d, before, "a refused change must not half-apply");
    let bad_host = ProtocolChange {
        endpoint: EndpointChange {
            host: Some("bad host".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(d.change_protocol(ProtocolKind::Imap, &bad_host).is_err());
    assert_eq!(d, before);
}

#[test]
fn extra_endpoints_are_added_once_and_removed_by_number() {
    let mut d = example();
    d.add_endpoint(
        ProtocolKind::Smtp,
        &endpoint_change(Some(465), Some(Encryption::Ssl)),
    )
    .unwrap();
    let err = d
        .add_endpoint(
            ProtocolKind::Smtp,
            &endpoint_change(Some(465), Some(Encryption::Ssl)),
        )
        .unwrap_err();
    assert!(err.message.contains("already has"), "{err}");
    let ports: Vec<u16> = d.protocols.smtp.endpoints().map(|e| e.port).collect();
    assert_eq!(ports, [587, 465]);
    assert!(d.remove_endpoint(ProtocolKind::Smtp, 2).is_err());
    d.remove_endpoint(ProtocolKind::Smtp, 1).unwrap();
    assert!(d.protocols.smtp.extra.is_empty());
}

#[test]
fn domain_changes_validate_everything_first() {
    let mut d = example();
    let before = d.clone();
    let change = DomainChange {
        display_name: Some("Example Mail".into()),
        webmail_url: Some("ftp://nope".into()),
        ..Default::default()
    };
    assert!(d.apply(&change).is_err());
    assert_eq!(d, before);
    let long = DomainChange {
        short_name: Some("Much Too Long Name".into()),
        ..Default::default()
    };
    assert_eq!(d.apply(&long).unwrap_err().field, "short_name");
    d.apply(&DomainChange {
        add_aliases: vec!["Example.NET".into()],
        webmail_url: Some("https://webmail.example.com/".into()),
        redirect_to: Some(String::new()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(d.aliases, ["example.net"]);
    assert_eq!(
        d.webmail_url.as_deref(),
        Some("https://webmail.example.com/")
    );
    let to_alias = DomainChange {
        redirect_to: Some("example.net".into()),
        ..Default::default()
    };
    assert!(
        d.apply(&to_alias).is_err(),
        "redirecting to an alias is a loop"
    );
    d.apply(&DomainChange {
        remove_aliases: vec!["example.net".into()],
        webmail_url: Some(String::new()),
        ..Default::default()
    })
    .unwrap();
    assert!(d.aliases.is_empty() && d.webmail_url.is_none());
}

#[test]
fn patterns_expand_in_one_pass() {
    assert_eq!(
        expand_pattern("%EMAILLOCALPART%.%EMAILDOMAIN%", "jo@example.com"),
        "jo.example.com"
    );
    assert_eq!(
        expand_pattern("mail.%EMAILDOMAIN%", "a%EMAILDOMAIN%@x.org"),
        "mail.x.org"
    );
    assert_eq!(expand_pattern("%EMAILADDRESS", "jo@x.org"), "%EMAILADDRESS");
}

#[test]
fn legacy_dn_round_trips() {
    let dn = derived_legacy_dn("john@example.com");
    assert_eq!(dn, "/o=Signpost/ou=example.com/cn=Recipients/cn=john");
    assert_eq!(
        address_from_derived_legacy_dn(&dn.to_uppercase()).as_deref(),
        Some("john@example.com")
    );
    assert_eq!(address_from_derived_legacy_dn("/o=Other/cn=x"), None);
}

#[test]
fn override_counts_only_when_enabled_and_saved() {
    let mut o = XmlOverride::default();
    assert_eq!(o.active_text(), None);
    o.enabled = true;
    assert_eq!(o.active_text(), None);
    o.text = Some(String::new());
    assert_eq!(o.active_text(), Some(""));
    o.enabled = false;
    assert_eq!(o.active_text(), None);
}
