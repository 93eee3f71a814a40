//! Autodiscover v2 JSON, both URL forms; never asks for credentials.

use crate::harness::*;

signpost_testkit::tests![
    both_url_forms_answer_each_protocol,
    errors_are_json_with_the_right_status,
    redirected_domains_point_at_their_target,
];

fn json(answer: &Answer) -> serde_json::Value {
    assert!(
        answer.content_type.starts_with("application/json"),
        "{}",
        answer.content_type
    );
    serde_json::from_str(&answer.body).expect("JSON answer")
}

fn both_url_forms_answer_each_protocol() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "protocol",
        "set",
        "example.com",
        "eas",
        "--enable",
        "--host",
        "eas.example.com",
    ]);
    sp.ok(&["protocol", "set", "example.com", "ews", "--enable"]);
    let server = sp.serve();
    let cases = [
        (
            "ActiveSync",
            "ActiveSync",
            "https://eas.example.com/Microsoft-Server-ActiveSync",
        ),
        (
            "activesync",
            "ActiveSync",
            "https://eas.example.com/Microsoft-Server-ActiveSync",
        ),
        (
            "AutodiscoverV1",
            "AutodiscoverV1",
            "https://autodiscover.example.com/autodiscover/autodiscover.xml",
        ),
        ("Ews", "EWS", "https://mail.example.com/EWS/Exchange.asmx"),
    ];
    for (asked, protocol, url) in cases {
        for path in [
            format!(
                "/autodiscover/autodiscover.json?Email=john%40example.com&Protocol={asked}&RedirectCount=1"
            ),
            format!("/autodiscover/autodiscover.json/v1.0/john@example.com?Protocol={asked}"),
            format!("/AutoDiscover/AutoDiscover.json/v1.0/john%40example.com?Protocol={asked}"),
        ] {
            let answer = server.get(&path, None);
            assert_eq!(answer.status, 200, "{path}: {}", answer.body);
            let value = json(&answer);
            assert_eq!(value["Protocol"], protocol, "{path}");
            assert_eq!(value["Url"], url, "{path}");
        }
    }
}

fn errors_are_json_with_the_right_status() {
    let sp = Signpost::new().with_example_domain();
    let server = sp.serve();

    let unknown = server.get(
        "/autodiscover/autodiscover.json?Email=a%40example.com&Protocol=Rest",
        None,
    );
    assert_eq!(unknown.status, 400);
    let value = json(&unknown);
    assert_eq!(value["ErrorCode"], "InvalidProtocol");
    assert_eq!(
        value["ErrorMessage"],
        "The given protocol value 'Rest' is invalid. Supported values are 'ActiveSync, AutodiscoverV1, Ews'"
    );
    assert_eq!(
        server
            .get(
                "/autodiscover/autodiscover.json?Email=a%40example.com",
                None
            )
            .status,
        400
    );

    let off = server.get(
        "/autodiscover/autodiscover.json/v1.0/a@example.com?Protocol=ActiveSync",
        None,
    );
    assert_eq!(off.status, 404);
    assert_eq!(json(&off)["ErrorCode"], "ProtocolNotAvailable");

    let elsewhere = server.get(
        "/autodiscover/autodiscover.json/v1.0/a@elsewhere.org?Protocol=ActiveSync",
        None,
    );
    assert_eq!(elsewhere.status, 404);
    assert_eq!(json(&elsewhere)["ErrorCode"], "UserNotFound");

    let bad = server.get(
        "/autodiscover/autodiscover.json?Email=nope&Protocol=Ews",
        None,
    );
    assert_eq!(bad.status, 400);
    assert_eq!(json(&bad)["ErrorCode"], "InvalidUser");
}

fn redirected_domains_point_at_their_target() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "add",
        "old.example",
        "--hostname",
        "mail.old.example",
    ]);
    sp.ok(&[
        "domain",
        "set",
        "old.example",
        "--redirect-to",
        "example.com",
    ]);
    sp.ok(&[
        "domain",
        "add",
        "gone.example",
        "--hostname",
        "mail.gone.example",
    ]);
    sp.ok(&[
        "domain",
        "set",
        "gone.example",
        "--redirect-to",
        "far.example",
    ]);
    let server = sp.serve();
    let local = json(&server.get(
        "/autodiscover/autodiscover.json/v1.0/x@old.example?Protocol=AutodiscoverV1",
        None,
    ));
    assert_eq!(
        local["Url"],
        "https://autodiscover.example.com/autodiscover/autodiscover.xml"
    );
    let remote = json(&server.get(
        "/autodiscover/autodiscover.json/v1.0/x@gone.example?Protocol=AutodiscoverV1",
        None,
    ));
    assert_eq!(
        remote["Url"],
        "https://autodiscover.far.example/autodiscover/autodiscover.xml"
    );
}
