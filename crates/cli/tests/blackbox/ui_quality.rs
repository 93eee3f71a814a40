//! The web interface judged from outside: axe-core on every page and dialog at 1280 and 390
//! pixels wide (zero violations), nothing scrolling sideways or sticking out of the page at
//! either width, Lighthouse's accessibility and best-practices scores, and what any web server
//! is expected to do (an icon, compression, its own 404 page, nothing shown from the URL).
//! Screenshots of every page at both widths go to `target/ui-screenshots`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;
use signpost_testkit::browser::Browser;
use signpost_testkit::dnsmasq::Dnsmasq;

use crate::browser::{ADMIN_PASSWORD, screenshot_folder, sign_in};
use crate::harness::{OUTLOOK_SCHEMA, Server, Signpost, pox_request, workspace_root};

signpost_testkit::tests![
    every_page_and_dialog_passes_axe_and_holds_at_phone_width,
    lighthouse_scores_the_main_pages_95_or_more,
    the_pages_answer_as_a_web_server_should,
];

/// A server with what an administrator has after a while: three domains (one with a long name,
/// one with an override on), a handful of users, some traffic of every kind, and a dnsmasq that
/// knows some of the names.
struct Populated {
    sp: Signpost,
    server: Server,
    _dns: Dnsmasq,
}

const LONG_DOMAIN: &str = "mail-for-a-rather-long-organisation-name.example.org";

fn populated() -> Populated {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "add",
        "example.net",
        "--hostname",
        "mail.example.net",
    ]);
    sp.ok(&[
        "domain",
        "add",
        LONG_DOMAIN,
        "--hostname",
        &format!("imap.{LONG_DOMAIN}"),
    ]);
    sp.add_user("jo@example.com", "jo pw", &["--display-name", "Jo Tester"]);
    sp.add_user(
        "ann@example.com",
        "ann pw",
        &["--display-name", "Ann Other"],
    );
    sp.add_user(
        "firstname.lastname.of.someone@example.com",
        "long pw",
        &[
            "--display-name",
            "Firstname Lastname-Of-Someone With A Long Name",
        ],
    );
    sp.add_user("kim@example.net", "kim pw", &[]);
    sp.ok(&["override", "on", "example.net", "desktop"]);
    sp.ok_with_stdin(
        &["admin", "add", "root", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let dns = Dnsmasq::start(
        sp.dir.path(),
        &["example.com", "example.net"],
        &[
            "--host-record=autodiscover.example.com,127.0.0.1".to_string(),
            "--host-record=autoconfig.example.com,127.0.0.1".to_string(),
            "--host-record=mail.example.com,127.0.0.1".to_string(),
        ],
    );
    let closed = signpost_testkit::ports::free_port().to_string();
    let server = sp.serve_with(&[
        "--check-resolver",
        &dns.address.to_string(),
        "--check-https-port",
        &closed,
        "--check-http-port",
        &closed,
        "--health-check-minutes",
        "0",
    ]);
    // Traffic: answered, challenged, refused, Thunderbird, an unknown domain.
    let xml = "/autodiscover/autodiscover.xml";
    let request = pox_request("jo@example.com", OUTLOOK_SCHEMA);
    server.post(xml, &request, None);
    server.post(xml, &request, Some(("jo@example.com", "wrong")));
    server.post(xml, &request, Some(("jo@example.com", "jo pw")));
    server.get("/mail/config-v1.1.xml?emailaddress=ann%40example.com", None);
    server.post(xml, &pox_request("x@unknown.example", OUTLOOK_SCHEMA), None);
    // Some changes for the Changes page.
    sp.ok(&[
        "user",
        "set",
        "ann@example.com",
        "--display-name",
        "Ann Otherwise",
    ]);
    server.wait_for_store();
    Populated {
        sp,
        server,
        _dns: dns,
    }
}

/// The pages of a signed-in administrator, by name and path.
fn pages() -> Vec<(&'static str, String)> {
    vec![
        ("dashboard", "/admin/".into()),
        ("domains", "/admin/domains".into()),
        ("domain", "/admin/domains/example.com".into()),
        ("domain-long", format!("/admin/domains/{LONG_DOMAIN}")),
        ("users", "/admin/domains/example.com/users".into()),
        ("dns", "/admin/domains/example.com/dns".into()),
        (
            "test",
            "/admin/test?address=firstname.lastname.of.someone%40example.com".into(),
        ),
        ("requests", "/admin/requests".into()),
        ("changes", "/admin/audit".into()),
        ("not-found", "/admin/no-such-page".into()),
    ]
}

/// Where a page fails: axe-core's violations, sideways scrolling, elements sticking out of
/// the page's main column.
struct Findings(Vec<String>);

impl Findings {
    fn look(&mut self, browser: &Browser, width: u32, what: &str) {
        for violation in browser.axe() {
            self.0
                .push(format!("{what} at {width} px: axe {violation}"));
        }
        let duplicated = browser.script(
            "const ids = [...document.querySelectorAll('[id]')].map(e => e.id); return ids.filter((id, i) => ids.indexOf(id) !== i);",
        );
        if duplicated.as_array().is_some_and(|d| !d.is_empty()) {
            self.0
                .push(format!("{what} at {width} px: duplicate ids {duplicated}"));
        }
        let overflow = browser.horizontal_overflow();
        if overflow > 0 {
            self.0.push(format!(
                "{what} at {width} px: scrolls sideways by {overflow} px"
            ));
        }
        let sticking_out = browser.script(
            "const main = document.querySelector('main').getBoundingClientRect();
             const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
               const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
               return false; };
             return [...document.querySelectorAll('main *')]
               .filter(e => !e.closest('dialog:not([open])') && !e.closest('.sr-only') && !e.closest('thead'))
               .filter(e => { const r = e.getBoundingClientRect();
                 const spills = getComputedStyle(e).overflowX === 'visible' && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0;
                 return r.width > 0 && (r.right > main.right + 1 || spills) && !scrolls(e); })
               .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' [' + e.textContent.trim().slice(0, 40) + '] right ' + e.getBoundingClientRect().right.toFixed(0) + ', content ' + e.scrollWidth + ' in ' + e.clientWidth);",
        );
        if let Some(elements) = sticking_out.as_array().filter(|e| !e.is_empty()) {
            self.0.push(format!(
                "{what} at {width} px: sticks out of the page: {elements:?}"
            ));
        }
    }
}

/// A screenshot of the whole page (the window made as tall as the page for it).
fn whole_page(browser: &Browser, width: u32, height: u32, name: &str) {
    let tall = browser
        .script("return Math.min(document.documentElement.scrollHeight, 8000)")
        .as_u64()
        .unwrap_or(u64::from(height)) as u32;
    browser.window_size(width, tall.max(height));
    browser.screenshot(&screenshot_folder(), &format!("{width}-{name}"));
    browser.window_size(width, height);
}

fn open_dialog(browser: &Browser, opener: &str, dialog: &str) {
    browser.click(opener);
    browser.wait_until(dialog, |b| {
        b.script_with(
            "const d = document.getElementById(arguments[0]); return !!(d && d.open);",
            json!([dialog]),
        ) == true
    });
}

fn every_page_and_dialog_passes_axe_and_holds_at_phone_width() {
    let p = populated();
    let base = p.server.base.clone();
    let driver = signpost_testkit::browser::ChromeDriver::start();
    let browser = driver.browser();
    let mut findings = Findings(Vec::new());
    // A server with no administrator yet, for the setup page.
    let fresh = Signpost::new();
    let fresh_server = fresh.serve();
    let setup_link = fresh_server.setup_link.clone().expect("a setup link");

    for (width, height) in [(1280, 800), (390, 844)] {
        browser.window_size(width, height);
        // Signed out: sign-in (also refused), setup.
        browser.goto(&format!("{base}/admin/login"));
        findings.look(&browser, width, "sign-in");
        whole_page(&browser, width, height, "sign-in");
        browser.type_into("#name", "root");
        browser.type_into("#password", "not the password");
        browser.click("form[action='/admin/login'] button[type=submit]");
        browser.wait_until("the refusal", |b| {
            b.text("main").contains("wrong name or password")
        });
        findings.look(&browser, width, "sign-in refused");
        browser.goto(&setup_link);
        findings.look(&browser, width, "setup");
        whole_page(&browser, width, height, "setup");

        sign_in(&browser, &base, "root");
        // The checker sees what it should: an image without a text alternative is named.
        browser.script("const i = document.createElement('img'); i.id = 'probe-image'; i.src = '/favicon.ico'; document.querySelector('main').append(i);");
        let planted = browser.axe();
        assert!(
            planted.iter().any(|v| v.rule == "image-alt" && v.nodes.iter().any(|n| n.contains("probe-image"))),
            "axe-core did not notice an image without alt text: {planted:?}"
        );
        browser.script("document.getElementById('probe-image').remove()");
        if width == 1280 {
            // The first health check, from the dashboard's button.
            browser.click("#check-now");
            browser.wait_until("the health report", |b| {
                b.text(".notice").contains("checked 3 domains")
            });
        }
        for (name, path) in pages() {
            browser.goto(&format!("{base}{path}"));
            browser.find("main");
            findings.look(&browser, width, name);
            whole_page(&browser, width, height, name);
        }

        // The states after a change: a refused form with the reason at its field, and the DNS
        // check's results.
        browser.goto(&format!("{base}/admin/domains"));
        browser.type_into("#new-name", "not a domain");
        browser.type_into("#new-hostname", "mail.example.com");
        browser.click("#add-domain");
        browser.wait_until("the refusal", |b| !b.text("#new-name-error").is_empty());
        findings.look(&browser, width, "domains, refused");
        whole_page(&browser, width, height, "domains-refused");
        browser.goto(&format!("{base}/admin/domains/example.com/dns"));
        browser.click("#run-check");
        browser.wait_until("the results", |b| {
            b.script("return document.querySelectorAll('#check-results tbody tr').length")
                .as_u64()
                .unwrap_or(0)
                > 0
        });
        findings.look(&browser, width, "dns checked");
        whole_page(&browser, width, height, "dns-checked");

        // Every kind of dialog.
        browser.goto(&format!("{base}/admin/domains/example.com"));
        open_dialog(&browser, "#cog-imap", "dialog-imap");
        findings.look(&browser, width, "protocol settings dialog");
        browser.screenshot(&screenshot_folder(), &format!("{width}-dialog-protocol"));
        browser.goto(&format!("{base}/admin/domains/example.com/users"));
        let row = "user-firstname_2elastname_2eof_2esomeone_40example_2ecom";
        open_dialog(
            &browser,
            &format!("#edit-button-{row}"),
            &format!("edit-{row}"),
        );
        findings.look(&browser, width, "user edit dialog");
        browser.screenshot(&screenshot_folder(), &format!("{width}-dialog-user-edit"));
        browser.goto(&format!("{base}/admin/domains/example.com/users"));
        open_dialog(
            &browser,
            &format!("#remove-button-{row}"),
            &format!("remove-{row}"),
        );
        findings.look(&browser, width, "user remove dialog");
        browser.screenshot(&screenshot_folder(), &format!("{width}-dialog-user-remove"));
        browser.goto(&format!("{base}/admin/domains/example.com/users"));
        browser.click("#user-source summary");
        findings.look(&browser, width, "users, advanced open");
        browser.click("header button[type=submit]");
        browser.wait_until("signed out", |b| b.url().ends_with("/admin/login"));
    }
    let shots = std::fs::read_dir(screenshot_folder())
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        shots >= 2 * (pages().len() + 6),
        "screenshots of every page: {shots}"
    );
    assert!(
        findings.0.is_empty(),
        "expected no axe-core violations, no sideways scrolling and nothing sticking out; saw:\n{}",
        findings.0.join("\n")
    );
    drop(p.sp);
}

/// The cookie of a new session for `name`, from the API's sign-in.
fn session_cookie(server: &Server, name: &str) -> String {
    let answer = server.send(
        server
            .client
            .post(format!("{}/api/v1/session", server.base))
            .header("content-type", "application/json")
            .body(json!({"name": name, "password": ADMIN_PASSWORD}).to_string()),
    );
    assert_eq!(answer.status, 200, "sign-in: {}", answer.body);
    answer.headers["set-cookie"]
        .to_str()
        .expect("a cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_string()
}

fn lighthouse_scores_the_main_pages_95_or_more() {
    let p = populated();
    let cookie = session_cookie(&p.server, "root");
    let reports = workspace_root().join("target/lighthouse");
    let mut low = Vec::new();
    for (name, path) in [
        ("sign-in", "/admin/login"),
        ("dashboard", "/admin/"),
        ("domains", "/admin/domains"),
        ("domain", "/admin/domains/example.com"),
        ("users", "/admin/domains/example.com/users"),
    ] {
        let url = format!("{}{path}", p.server.base);
        let report = signpost_testkit::ui_checks::lighthouse(&url, &cookie, &reports, name);
        assert_eq!(
            report.final_url, url,
            "Lighthouse saw another page (not signed in?)"
        );
        println!(
            "lighthouse {name}: performance {}, accessibility {}, best practices {}{}",
            report.performance,
            report.accessibility,
            report.best_practices,
            if report.failing.is_empty() {
                String::new()
            } else {
                format!(" (below full marks: {})", report.failing.join("; "))
            }
        );
        if report.accessibility < 95 || report.best_practices < 95 {
            low.push(format!(
                "{name}: accessibility {}, best practices {}: {}",
                report.accessibility,
                report.best_practices,
                report.failing.join("; ")
            ));
        }
    }
    assert!(
        low.is_empty(),
        "expected accessibility and best practices of 95 or more everywhere (reports in {}); saw:\n{}",
        reports.display(),
        low.join("\n")
    );
}

/// `body` as `gzip -dc` reads it.
fn gunzip(body: &[u8]) -> String {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("write to gzip");
    let out = child.wait_with_output().expect("gzip output");
    assert!(out.status.success(), "gzip -dc could not read the body");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn the_pages_answer_as_a_web_server_should() {
    let sp = Signpost::new().with_example_domain();
    sp.ok_with_stdin(
        &["admin", "add", "root", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let server = sp.serve();
    let base = &server.base;

    // An icon.
    let icon = server
        .client
        .get(format!("{base}/favicon.ico"))
        .send()
        .expect("favicon");
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    let bytes = icon.bytes().expect("icon bytes");
    assert!(bytes.starts_with(&[0, 0, 1, 0]), "an ICO file");

    // Compressed for browsers that ask: the page, its stylesheet and its script.
    for path in [
        "/admin/login",
        "/admin/static/app.css",
        "/admin/static/app.js",
    ] {
        let answer = server
            .client
            .get(format!("{base}{path}"))
            .header("accept-encoding", "gzip")
            .send()
            .expect("request");
        assert_eq!(
            answer
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some("gzip"),
            "{path} compressed"
        );
        let plain = gunzip(&answer.bytes().expect("body"));
        if path == "/admin/login" {
            // Each sign-in page has its own form token; the rest is the page.
            assert!(
                plain.starts_with("<!doctype html>") && plain.contains("<h1>Sign in</h1>"),
                "{plain}"
            );
        } else {
            assert_eq!(
                plain,
                server.get(path, None).body,
                "{path}: the same content, compressed"
            );
        }
    }

    // Nothing from the URL is shown.
    let page = server
        .get(
            "/admin/login?error=Session%20expired.%20Call%20%2B1-555-0100&notice=ok",
            None,
        )
        .body;
    assert!(
        !page.contains("Session expired")
            && !page.contains("555")
            && !page.contains("class=\"error\""),
        "text from the URL on the page:\n{page}"
    );

    // Every unknown path answers with the interface's own 404 page.
    for path in [
        "/admin/users",
        "/admin/dns",
        "/admin/domains/example.com/nothing/here",
    ] {
        let answer = server.get(path, None);
        assert_eq!(answer.status, 404, "{path}");
        assert!(
            answer.content_type.starts_with("text/html"),
            "{path}: {}",
            answer.content_type
        );
        assert!(
            answer.body.contains("No such page") && answer.body.contains("/admin/static/app.css"),
            "{path}: {}",
            answer.body
        );
    }

    // Signed in: each page carries the CSRF token masked afresh (compression gives nothing
    // away), and either masked copy is accepted.
    let cookie = session_cookie(&server, "root");
    let token_of = |page: &str| -> String {
        let at = page
            .find("name=\"csrf-token\" content=\"")
            .expect("the token")
            + 27;
        page[at..].split('"').next().unwrap_or_default().to_string()
    };
    let page = |path: &str| {
        server.send(
            server
                .client
                .get(format!("{base}{path}"))
                .header("cookie", &cookie),
        )
    };
    let first = token_of(&page("/admin/domains").body);
    let second = token_of(&page("/admin/domains").body);
    assert_ne!(first, second, "the same masked token on two pages");
    for (token, name) in [(&first, "one.example"), (&second, "two.example")] {
        let added = server.send(
            server
                .client
                .post(format!("{base}/admin/domains"))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(crate::harness::form(&[
                    ("csrf", token),
                    ("name", name),
                    ("hostname", "mail.example.com"),
                ])),
        );
        assert_eq!(added.status, 303, "{name}: {}", added.body);
    }
    let forged = server.send(
        server
            .client
            .post(format!("{base}/admin/domains"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::harness::form(&[
                ("csrf", &"0".repeat(first.len())),
                ("name", "three.example"),
                ("hostname", "mail.example.com"),
            ])),
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(!sp.ok(&["domain", "list"]).contains("three.example"));

    // A search is shown escaped.
    let searched = page("/admin/domains?q=%3Cscript%3Ealert(1)%3C/script%3E").body;
    assert!(
        searched.contains("&#60;script&#62;alert(1)") && !searched.contains("<script>alert"),
        "{searched}"
    );
}
