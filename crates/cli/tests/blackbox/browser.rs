//! The web interface in a real browser (Debian's headless Chromium through chromedriver): sign
//! in, add a domain, change IMAP's port in its settings dialog, turn on the desktop override,
//! press Generate, save, and see the change in a real POST to /autodiscover/autodiscover.xml.
//! Screenshots of each main page go to `target/ui-screenshots` (or `$SIGNPOST_SCREENSHOTS`).

use crate::harness::{OUTLOOK_SCHEMA, Signpost, pox_request, workspace_root};
use signpost_testkit::browser::{ChromeDriver, ENTER};

signpost_testkit::tests![an_administrator_configures_a_domain_in_the_browser_and_outlook_sees_it,];

const ADMIN_PASSWORD: &str = "browser admin pw";

fn screenshot_folder() -> std::path::PathBuf {
    let folder = std::env::var_os("SIGNPOST_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/ui-screenshots"));
    std::fs::create_dir_all(&folder).expect("screenshot folder");
    folder
}

fn an_administrator_configures_a_domain_in_the_browser_and_outlook_sees_it() {
    let sp = Signpost::new();
    sp.ok_with_stdin(
        &["admin", "add", "alice", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    // The live check asks a real DNS server that knows the service names but no SRV records;
    // nothing listens where it looks for HTTPS.
    let dns = signpost_testkit::dnsmasq::Dnsmasq::start(
        sp.dir.path(),
        &["example.com"],
        &[
            "--host-record=autodiscover.example.com,127.0.0.1".to_string(),
            "--host-record=autoconfig.example.com,127.0.0.1".to_string(),
            "--host-record=mail.example.com,127.0.0.1".to_string(),
        ],
    );
    let closed_port = signpost_testkit::ports::free_port().to_string();
    let server = sp.serve_with(&[
        "--check-resolver",
        &dns.address.to_string(),
        "--check-https-port",
        &closed_port,
        "--check-http-port",
        &closed_port,
    ]);
    let base = server.base.clone();
    let shots = screenshot_folder();
    println!("screenshots in {}", shots.display());

    let driver = ChromeDriver::start();
    let browser = driver.browser();

    // Signing in.
    browser.goto(&format!("{base}/admin/domains"));
    browser.wait_until("the sign-in page", |b| b.url().ends_with("/admin/login"));
    browser.screenshot(&shots, "01-sign-in");
    browser.type_into("#name", "alice");
    browser.type_into("#password", "wrong password");
    browser.click("form[action='/admin/login'] button[type=submit]");
    browser.wait_until("the refusal", |b| {
        b.text("main").contains("wrong name or password")
    });
    browser.type_into("#name", "alice");
    browser.type_into("#password", ADMIN_PASSWORD);
    browser.click("form[action='/admin/login'] button[type=submit]");
    browser.wait_until("the domains page", |b| b.url().ends_with("/admin/domains"));
    assert!(browser.text("header").contains("alice"));

    // Adding a domain.
    browser.type_into("#new-name", "example.com");
    browser.type_into("#new-hostname", "mail.example.com");
    browser.click("#add-domain");
    browser.wait_until("the domain page", |b| {
        b.url().contains("/admin/domains/example.com")
    });
    assert!(browser.text(".notice").contains("added example.com"));
    let imap = browser.text("#autodiscover .protocols li:first-child");
    assert!(
        imap.contains("IMAP") && imap.contains(":993") && imap.contains("SSL"),
        "{imap}"
    );
    let ews_detail = browser.text("#autodiscover .protocols li:nth-child(4)");
    assert!(ews_detail.contains("EWS"), "{ews_detail}");

    // IMAP's settings dialog, opened from the keyboard.
    browser.type_into("#cog-imap", ENTER);
    browser.wait_until("the IMAP dialog", |b| {
        b.script("return document.getElementById('dialog-imap').open") == true
    });
    browser.screenshot(&shots, "03-imap-settings-dialog");
    browser.clear("#port-imap");
    browser.type_into("#port-imap", "143");
    browser.click("#encryption-imap option[value=starttls]");
    browser.click("#save-imap");
    browser.wait_until("the saved IMAP settings", |b| {
        b.text("#autodiscover .protocols li:first-child")
            .contains(":143 · STARTTLS")
    });
    // EWS and ActiveSync show their fixed SSL on 443.
    browser.click("#cog-ews");
    assert_eq!(browser.value("#encryption-ews"), "SSL");
    assert_eq!(browser.value("#port-ews"), "443");
    browser.click("#dialog-ews button[data-close]");

    // A user, so Outlook can sign in.
    browser.goto(&format!("{base}/admin/domains/example.com/users"));
    browser.type_into("#new-address", "jo@example.com");
    browser.type_into("#new-display", "Jo Tester");
    browser.type_into("#new-password", "user password");
    browser.click("#add-user");
    browser.wait_until("the new user", |b| {
        b.text("main").contains("added jo@example.com")
    });
    browser.screenshot(&shots, "04-users");

    // The desktop override: on, Generate, edit, Save.
    browser.goto(&format!("{base}/admin/domains/example.com"));
    browser.screenshot(&shots, "02-domain");
    browser.click("#override-desktop-enabled");
    browser.click("#generate-desktop");
    browser.wait_until("the generated answer in the text box", |b| {
        b.value("#override-desktop-text").contains("<Autodiscover")
    });
    let generated = browser.value("#override-desktop-text");
    assert!(generated.contains("<Port>143</Port>"), "{generated}");
    // The seed's rule: the variables identify the user, never one user's own values.
    assert!(
        generated.contains("<DisplayName>%DisplayName%</DisplayName>")
            && generated.contains("%EmailAddress%")
            && !generated.contains("Jo Tester"),
        "{generated}"
    );
    browser.type_into("#override-desktop-text", "<!-- edited in the browser -->\n");
    browser.screenshot(&shots, "02b-desktop-override");
    browser.click("#save-override-desktop");
    browser.wait_until("the saved override", |b| {
        b.text(".notice").contains("the saved text")
    });
    assert_eq!(
        browser.script("return document.getElementById('override-desktop-enabled').checked"),
        true
    );

    // Outlook now gets exactly that.
    server.wait_for_store();
    let answer = server.post(
        "/autodiscover/autodiscover.xml",
        &pox_request("jo@example.com", OUTLOOK_SCHEMA),
        Some(("jo@example.com", "user password")),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.contains("<!-- edited in the browser -->"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("<Port>143</Port>"));
    assert_eq!(
        answer.body.trim_end(),
        browser
            .value("#override-desktop-text")
            .replace("%DisplayName%", "Jo Tester")
            .replace("%EmailAddress%", "jo@example.com")
            .replace(
                "%LegacyDN%",
                "/o=Signpost/ou=example.com/cn=Recipients/cn=jo"
            )
            .trim_end(),
        "Outlook gets the saved text, with its own values"
    );

    // A hostile display name is shown as text, never run.
    browser.clear("#display_name");
    browser.type_into("#display_name", "<img src=x onerror=alert(1)>");
    browser.click("#options button[type=submit]");
    browser.wait_until("the saved options", |b| {
        b.text(".notice").contains("saved the options")
    });
    assert_eq!(
        browser.value("#display_name"),
        "<img src=x onerror=alert(1)>"
    );
    assert_eq!(
        browser.script("return document.querySelectorAll('main img').length"),
        0
    );

    // DNS: the records to copy, and the live check's rows.
    browser.goto(&format!("{base}/admin/domains/example.com/dns"));
    assert!(
        browser
            .value("#zone")
            .contains("_autodiscover._tcp.example.com.")
    );
    browser.click("#run-check");
    browser.wait_until("the check's rows", |b| {
        b.script("return document.querySelectorAll('#check-results tbody tr').length")
            .as_u64()
            .unwrap_or(0)
            > 3
    });
    let rows = browser.text("#check-results");
    assert!(
        rows.contains("PASS") && rows.contains("DNS autodiscover.example.com"),
        "{rows}"
    );
    assert!(
        rows.contains("FAIL") && rows.contains("SRV _autodiscover._tcp.example.com"),
        "{rows}"
    );
    browser.screenshot(&shots, "05-dns");

    // Test: what each client gets for jo.
    browser.goto(&format!("{base}/admin/test?address=jo%40example.com"));
    assert_eq!(browser.value("#address"), "jo@example.com");
    browser.click("#run-test");
    browser.wait_until("the answers", |b| {
        b.text("main").contains("Thunderbird (autoconfig)")
    });
    let shown = browser.text("main");
    assert!(
        shown.contains("edited in the browser"),
        "the override applies: {shown}"
    );
    assert!(shown.contains("<clientConfig"), "{shown}");
    browser.screenshot(&shots, "06-test");

    // Recent requests: Outlook's request is there, and filtering works.
    browser.goto(&format!("{base}/admin/requests"));
    let table = browser.text("#requests");
    assert!(
        table.contains("jo@example.com") && table.contains("answered"),
        "{table}"
    );
    browser.click("#outcome option[value=unauthorized]");
    browser.click("form[action='/admin/requests'] button[type=submit]");
    browser.wait_until("the filter", |b| b.url().contains("outcome=unauthorized"));
    assert!(!browser.text("#requests").contains("answered ("));
    browser.screenshot(&shots, "07-requests");

    // Where users sign in: a mistake is named and changes nothing; a directory is saved and
    // shown; an empty box goes back to the users kept here.
    browser.goto(&format!("{base}/admin/domains/example.com/users"));
    browser.type_into("#source", r#"{"kind": "imap", "encryption": "none"}"#);
    browser.click("#save-source");
    browser.wait_until("the refusal", |b| {
        b.text("main").contains("ssl or starttls")
    });
    assert!(
        sp.ok(&["domain", "show", "example.com"])
            .contains("built-in users")
    );
    browser.clear("#source");
    browser.type_into("#source", r#"{"kind": "imap", "check_pop": true}"#);
    browser.click("#save-source");
    browser.wait_until("the saved source", |b| {
        b.text("main").contains("now sign in with: imap")
    });
    assert!(browser.value("#source").contains("\"check_pop\": true"));
    browser.screenshot(&shots, "10-user-source");
    assert!(
        sp.ok(&["domain", "show", "example.com"])
            .contains("IMAP logins")
    );
    browser.clear("#source");
    browser.click("#save-source");
    browser.wait_until("built-in again", |b| {
        b.text("main").contains("now sign in with: builtin")
    });

    // At phone width nothing needs sideways scrolling.
    browser.window_size(390, 844);
    browser.goto(&format!("{base}/admin/domains/example.com"));
    let overflow = browser.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    assert!(
        overflow.as_i64().unwrap_or(99) <= 0,
        "horizontal overflow {overflow}"
    );
    browser.screenshot(&shots, "08-domain-phone");
    browser.goto(&format!("{base}/admin/domains"));
    browser.screenshot(&shots, "09-domains-phone");

    // Signing out.
    browser.click("header button[type=submit]");
    browser.wait_until("the sign-in page", |b| b.url().contains("/admin/login"));
    browser.goto(&format!("{base}/admin/domains"));
    browser.wait_until("sign-in again", |b| b.url().ends_with("/admin/login"));
    for name in ["01-sign-in", "02-domain", "05-dns", "07-requests"] {
        assert!(shots.join(format!("{name}.png")).exists());
    }
}
