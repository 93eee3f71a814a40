//! Property: no value that reaches a writer (XML, plist, JSON, HTML) can change the shape of the
//! document around it. Each writer runs twice, once with a harmless marker in every value and
//! once with a hostile value; an independent parser (roxmltree for XML, serde_json for JSON) must
//! read the same document in both, the hostile value standing exactly where the marker stood.

use proptest::prelude::*;

use signpost_protocol::autoconfig::{self, ClientConfig, Documentation, OAuth2, Server};
use signpost_protocol::mobileconfig::{
    self, ActiveSyncAccount, DavAccount, MailAccount, MailAccountType, MailServer, Payload,
    PayloadIds, Profile,
};
use signpost_protocol::override_template::{self, TemplateValues};
use signpost_protocol::pox::{
    self, DesktopSettings, DesktopUser, Encryption, ExchangeProtocol, MailProtocol,
    MailProtocolType, MobileSyncSettings,
};
use signpost_protocol::xml_writer::XmlWriter;
use signpost_protocol::{autodiscover_v2, html, pacc};

const MARKER: &str = "m4rker";

/// Pieces that have broken writers somewhere: markup, quotes, references, CDATA ends, comment
/// and DOCTYPE openers, every kind of line end, characters XML cannot carry, JSON specials.
const FRAGMENTS: &[&str] = &[
    "<",
    ">",
    "&",
    "\"",
    "'",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "<!DOCTYPE x [<!ENTITY e \"x\">]>",
    "&e;",
    "&amp;",
    "&#0;",
    "&#x1;",
    "\u{0}",
    "\u{1}",
    "\u{1b}",
    "\u{7f}",
    "\r",
    "\r\n",
    "\n",
    "\t",
    "\u{fffe}",
    "\u{ffff}",
    "\u{d7ff}",
    "\u{e000}",
    "\u{2028}",
    "\u{feff}",
    "%EmailAddress%",
    "%DisplayName%",
    "%",
    "</string>",
    "<key>",
    "</Autodiscover>",
    "\\",
    "\\u0000",
    "\"}",
    "{",
    "]",
    "a",
    "é",
    "😀",
    " ",
    "<script>",
    "javascript:",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|v| v.concat()),
        any::<String>(),
    ]
}

/// What XML 1.0 can carry of `value`: characters outside its `Char` production are written as
/// U+FFFD (the writers' documented choice); everything else must come back unchanged.
fn xml_representable(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// The document as roxmltree reads it: one line per element (depth, name, attributes) and per
/// non-empty text node, with the marker replaced by `marker_value` wherever it occurs.
fn xml_shape(document: &str, marker_value: &str) -> Vec<String> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let parsed = roxmltree::Document::parse_with_options(document, options)
        .unwrap_or_else(|e| panic!("ill-formed XML ({e}):\n{document}"));
    let mut shape = Vec::new();
    for node in parsed.root().descendants() {
        let depth = node.ancestors().count();
        if node.is_element() {
            let attributes: Vec<String> = node
                .attributes()
                .map(|a| format!("{}={:?}", a.name(), a.value().replace(MARKER, marker_value)))
                .collect();
            shape.push(format!(
                "{depth} <{}> {}",
                node.tag_name().name(),
                attributes.join(" ")
            ));
        } else if node.is_text() {
            let text = node
                .text()
                .unwrap_or_default()
                .replace(MARKER, marker_value);
            if !text.is_empty() {
                shape.push(format!("{depth} text {text:?}"));
            }
        } else if node.is_comment() || node.is_pi() {
            shape.push(format!("{depth} other {:?}", node.text()));
        }
    }
    shape
}

/// Writes with the marker and with `value`: a parser must see the same document, the value
/// (as far as XML can carry it) standing exactly where the marker stood.
fn assert_xml_holds(value: &str, write: impl Fn(&str) -> String) {
    let marker_document = write(MARKER);
    assert!(
        marker_document.contains(MARKER),
        "the writer dropped every value"
    );
    let expected = xml_shape(&marker_document, &xml_representable(value));
    let written = write(value);
    assert_eq!(
        xml_shape(&written, MARKER),
        expected,
        "value {value:?} changed the document:\n{written}"
    );
}

fn replace_in_json(value: &serde_json::Value, with: &str) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(s.replace(MARKER, with)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| replace_in_json(v, with)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), replace_in_json(v, with)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn assert_json_holds(value: &str, write: impl Fn(&str) -> String) {
    let marker: serde_json::Value =
        serde_json::from_str(&write(MARKER)).expect("marker document is JSON");
    let written = write(value);
    let hostile: serde_json::Value =
        serde_json::from_str(&written).unwrap_or_else(|e| panic!("not JSON ({e}): {written}"));
    assert_eq!(hostile, replace_in_json(&marker, value), "{written}");
}

fn ids(value: &str) -> PayloadIds {
    PayloadIds {
        identifier: value.to_string(),
        uuid: value.to_string(),
    }
}

fn client_config(v: &str) -> ClientConfig {
    let server = |kind: &str| Server {
        kind: kind.to_string(),
        hostname: Some(v.to_string()),
        port: Some(993),
        socket_type: Some(v.to_string()),
        url: Some(v.to_string()),
        username: Some(v.to_string()),
        authentication: vec![v.to_string(), v.to_string()],
    };
    ClientConfig {
        provider_id: v.to_string(),
        domains: vec![v.to_string()],
        display_name: Some(v.to_string()),
        short_name: Some(v.to_string()),
        incoming: vec![server(v)],
        outgoing: vec![server("smtp")],
        documentation: vec![Documentation {
            url: v.to_string(),
            descriptions: vec![(Some(v.to_string()), v.to_string()), (None, v.to_string())],
        }],
        oauth2: Some(OAuth2 {
            issuer: v.to_string(),
            scope: v.to_string(),
            auth_url: v.to_string(),
            token_url: v.to_string(),
        }),
        webmail_url: Some(v.to_string()),
        calendars: vec![server("caldav")],
        address_books: vec![server(v)],
    }
}

fn profile(v: &str) -> Profile {
    let server = MailServer {
        host: v.to_string(),
        port: 993,
        use_ssl: true,
        username: Some(v.to_string()),
    };
    let dav = DavAccount {
        ids: ids(v),
        description: v.to_string(),
        host: v.to_string(),
        port: 443,
        use_ssl: true,
        username: Some(v.to_string()),
        principal_url: Some(v.to_string()),
    };
    Profile {
        ids: ids(v),
        display_name: v.to_string(),
        description: v.to_string(),
        organization: v.to_string(),
        payloads: vec![
            Payload::Mail(MailAccount {
                ids: ids(v),
                account_type: MailAccountType::Imap,
                description: v.to_string(),
                account_name: Some(v.to_string()),
                address: v.to_string(),
                incoming: server.clone(),
                outgoing: server,
            }),
            Payload::ActiveSync(ActiveSyncAccount {
                ids: ids(v),
                description: v.to_string(),
                host: v.to_string(),
                username: Some(v.to_string()),
                address: v.to_string(),
            }),
            Payload::CalDav(dav.clone()),
            Payload::CardDav(dav),
        ],
    }
}

fn desktop(v: &str) -> DesktopSettings<'_> {
    DesktopSettings {
        user: DesktopUser {
            display_name: v.into(),
            legacy_dn: v.into(),
            smtp_address: v.into(),
            deployment_id: v.into(),
        },
        mail: vec![MailProtocol {
            kind: MailProtocolType::Imap,
            server: v.into(),
            port: 993,
            login_name: v.into(),
            encryption: Encryption::Ssl,
        }],
        exchange: Some(ExchangeProtocol {
            server: v.into(),
            ews_url: v.into(),
        }),
        ttl_hours: 1,
    }
}

fn pacc_document(v: &str) -> pacc::Document {
    pacc::Document {
        protocols: pacc::Protocols {
            imap: Some(pacc::Host {
                host: v.to_string(),
            }),
            pop3: Some(pacc::Host {
                host: v.to_string(),
            }),
            smtp: Some(pacc::Host {
                host: v.to_string(),
            }),
            caldav: Some(pacc::Url { url: v.to_string() }),
            carddav: Some(pacc::Url { url: v.to_string() }),
        },
        authentication: pacc::Authentication {
            password: true,
            oauth_public: Some(pacc::OAuthPublic {
                issuer: v.to_string(),
            }),
        },
        info: pacc::Info {
            provider: pacc::Provider {
                name: v.to_string(),
                short_name: Some(v.to_string()),
            },
            help: Some(pacc::Help {
                documentation: v.to_string(),
            }),
        },
    }
}

/// The administrator's template puts variables in attributes (both quote styles) and in text.
const TEMPLATE: &str = "<?xml version=\"1.0\"?>\n<Autodiscover a=\"%DisplayName%\" b='%EmailAddress%'>\n<User><DisplayName>%DisplayName%</DisplayName><LegacyDN>%LegacyDN%</LegacyDN></User>\n</Autodiscover>\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn xml_writer_text_and_attributes(value in hostile()) {
        assert_xml_holds(&value, |v| {
            let mut w = XmlWriter::new();
            w.open_with("Root", &[("a", v)])
                .text_with("Text", &[("b", v), ("c", "fixed")], v)
                .empty("Empty", &[("d", v)]);
            w.finish()
        });
    }

    #[test]
    fn outlook_answers(value in hostile()) {
        assert_xml_holds(&value, |v| pox::write_desktop_settings(&desktop(v)));
        assert_xml_holds(&value, pox::write_desktop_redirect_address);
        assert_xml_holds(&value, pox::write_mobilesync_redirect);
        assert_xml_holds(&value, |v| {
            pox::write_mobilesync_settings(&MobileSyncSettings {
                culture: v.to_string(),
                display_name: v.to_string(),
                email_address: v.to_string(),
                url: v.to_string(),
            })
        });
    }

    #[test]
    fn autoconfig_answers(value in hostile()) {
        assert_xml_holds(&value, |v| autoconfig::write(&client_config(v)));
    }

    #[test]
    fn apple_profiles(value in hostile()) {
        assert_xml_holds(&value, |v| mobileconfig::write(&profile(v)));
    }

    #[test]
    fn override_variables(value in hostile()) {
        assert_xml_holds(&value, |v| {
            override_template::substitute(
                TEMPLATE,
                &TemplateValues { email_address: v, display_name: v, legacy_dn: v },
            )
        });
    }

    #[test]
    fn json_answers(value in hostile()) {
        assert_json_holds(&value, |v| pacc::write(&pacc_document(v)));
        assert_json_holds(&value, |v| {
            autodiscover_v2::write_answer(autodiscover_v2::V2Protocol::ActiveSync, v)
        });
        assert_json_holds(&value, |v| autodiscover_v2::write_error(v, v));
    }

    #[test]
    fn html_escaping(value in hostile()) {
        let escaped = html::escape(&value);
        prop_assert!(!escaped.contains(['<', '>', '"', '\'']), "{escaped:?}");
        // Every ampersand starts one of the references the escaper writes.
        for (at, _) in escaped.match_indices('&') {
            let rest = &escaped[at..];
            prop_assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|r| rest.starts_with(r)),
                "{escaped:?}"
            );
        }
        let unescaped = escaped
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        let expected: String = value
            .chars()
            .map(|c| if c.is_control() && c != '\t' && c != '\n' { '\u{fffd}' } else { c })
            .collect();
        prop_assert_eq!(unescaped, expected);
    }
}
