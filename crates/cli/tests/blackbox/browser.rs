//! The web interface in a real browser (Debian's headless Chromium through chromedriver), as an
//! administrator uses it: sign in, add a domain, change IMAP in its settings dialog, write a
//! desktop override from Generate, manage users in their table, check DNS, test an address, read
//! recent requests; each change is then seen by a real client request. Screenshots go to
//! `target/ui-screenshots` (or `$SIGNPOST_SCREENSHOTS`).

use crate::harness::{OUTLOOK_SCHEMA, Server, Signpost, pox_request, workspace_root};
use crate::user_import::vector;
use signpost_testkit::browser::{Browser, ChromeDriver, ENTER};

signpost_testkit::tests![
    an_administrator_configures_a_domain_in_the_browser_and_outlook_sees_it,
    the_override_editor_keeps_the_variables_and_asks_before_saving_nothing,
    users_are_a_table_searched_and_paged_edited_in_a_dialog_and_removed_after_asking,
];

pub const ADMIN_PASSWORD: &str = "browser admin pw";

pub fn screenshot_folder() -> std::path::PathBuf {
    let folder = std::env::var_os("SIGNPOST_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/ui-screenshots"));
    std::fs::create_dir_all(&folder).expect("screenshot folder");
    folder
}

/// Signs `name` in through the sign-in form; lands on the health dashboard.
pub fn sign_in(browser: &Browser, base: &str, name: &str) {
    browser.goto(&format!("{base}/admin/login"));
    browser.type_into("#name", name);
    browser.type_into("#password", ADMIN_PASSWORD);
    browser.click("form[action='/admin/login'] button[type=submit]");
    browser.wait_until("the dashboard", |b| b.url().ends_with("/admin/"));
}

/// The id of the element that has the focus.
fn focused(browser: &Browser) -> String {
    browser
        .script("return document.activeElement ? document.activeElement.id : ''")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn is_open(browser: &Browser, dialog: &str) -> bool {
    browser.script_with(
        "const d = document.getElementById(arguments[0]); return !!(d && d.open);",
        serde_json::json!([dialog]),
    ) == true
}

fn count(browser: &Browser, css: &str) -> u64 {
    browser
        .script_with(
            "return document.querySelectorAll(arguments[0]).length",
            serde_json::json!([css]),
        )
        .as_u64()
        .unwrap_or(0)
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

    let driver = ChromeDriver::start();
    let browser = driver.browser();

    // Signing in: a wrong password is named, the name typed stays.
    browser.goto(&format!("{base}/admin/domains"));
    browser.wait_until("the sign-in page", |b| b.url().ends_with("/admin/login"));
    browser.type_into("#name", "alice");
    browser.type_into("#password", "wrong password");
    browser.click("form[action='/admin/login'] button[type=submit]");
    browser.wait_until("the refusal", |b| {
        b.text("main").contains("wrong name or password")
    });
    assert_eq!(
        browser.value("#name"),
        "alice",
        "the name survives the refusal"
    );
    browser.type_into("#password", ADMIN_PASSWORD);
    browser.click("form[action='/admin/login'] button[type=submit]");
    browser.wait_until("the dashboard", |b| b.url().ends_with("/admin/"));
    assert!(browser.text("header").contains("alice"));

    // Adding a domain.
    browser.goto(&format!("{base}/admin/domains"));
    browser.type_into("#new-name", "example.com");
    browser.type_into("#new-hostname", "mail.example.com");
    browser.click("#add-domain");
    browser.wait_until("the domain page", |b| {
        b.url().contains("/admin/domains/example.com")
    });
    assert!(browser.text(".notice").contains("added example.com"));
    let imap = browser.text("#autodiscover .protocols li:first-child");
    assert!(
        imap.contains("IMAP") && imap.contains("port 993") && imap.contains("SSL"),
        "{imap}"
    );
    // The switches are switches: named by their protocol, their state in aria-checked.
    assert_eq!(
        browser.script("const s = document.getElementById('toggle-imap'); return [s.getAttribute('role'), s.getAttribute('aria-checked')].join(' ')"),
        "switch true"
    );
    assert_eq!(
        browser.script("return document.getElementById('toggle-ews').getAttribute('aria-checked')"),
        "false"
    );

    // A switch from the keyboard: EWS on, and the focus is back on its switch.
    browser.type_into("#toggle-ews", ENTER);
    browser.wait_until("EWS on", |b| {
        b.script("return document.getElementById('toggle-ews').getAttribute('aria-checked')")
            == "true"
    });
    assert_eq!(
        focused(&browser),
        "toggle-ews",
        "the focus returns to the switch"
    );
    browser.type_into("#toggle-ews", ENTER);
    browser.wait_until("EWS off again", |b| {
        b.script("return document.getElementById('toggle-ews').getAttribute('aria-checked')")
            == "false"
    });

    // IMAP's settings dialog, opened from the keyboard; a bad port is refused at the field and
    // the dialog opens again with what was typed.
    browser.type_into("#cog-imap", ENTER);
    browser.wait_until("the IMAP dialog", |b| is_open(b, "dialog-imap"));
    browser.script("document.getElementById('port-imap').removeAttribute('max')");
    browser.clear("#port-imap");
    browser.type_into("#port-imap", "70000");
    browser.click("#encryption-imap option[value=starttls]");
    browser.click("#save-imap");
    browser.wait_until("the refusal in the dialog", |b| {
        is_open(b, "dialog-imap") && b.text("#dialog-imap").contains("is not a port number")
    });
    assert_eq!(browser.value("#port-imap"), "70000");
    assert_eq!(
        browser.value("#encryption-imap"),
        "starttls",
        "the choice survives"
    );
    assert_eq!(
        browser.script("return document.getElementById('port-imap').getAttribute('aria-invalid')"),
        "true"
    );
    assert_eq!(
        focused(&browser),
        "port-imap",
        "the field at fault has the focus"
    );
    browser.screenshot(&shots, "imap-settings-refused");
    browser.clear("#port-imap");
    browser.type_into("#port-imap", "143");
    browser.click("#save-imap");
    browser.wait_until("the saved IMAP settings", |b| {
        b.text("#autodiscover .protocols li:first-child")
            .contains("port 143, STARTTLS")
    });
    assert_eq!(
        focused(&browser),
        "cog-imap",
        "the focus returns to the settings button"
    );
    // EWS and ActiveSync say they use https on 443.
    browser.click("#cog-ews");
    assert!(browser.text("#dialog-ews").contains("port 443"));
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

    // A hostile display name is shown as text, never run.
    browser.goto(&format!("{base}/admin/domains/example.com"));
    browser.clear("#display_name");
    browser.type_into("#display_name", "<img src=x onerror=alert(1)>");
    browser.click("#save-options");
    browser.wait_until("the saved options", |b| {
        b.text(".notice").contains("saved the options")
    });
    assert_eq!(
        browser.value("#display_name"),
        "<img src=x onerror=alert(1)>"
    );
    assert_eq!(count(&browser, "main img"), 0);

    // Outlook asks: first without credentials (challenged), once with a wrong password
    // (refused), then signed in (answered) with the settings made above.
    server.wait_for_store();
    let request = pox_request("jo@example.com", OUTLOOK_SCHEMA);
    let path = "/autodiscover/autodiscover.xml";
    assert_eq!(server.post(path, &request, None).status, 401);
    assert_eq!(
        server
            .post(path, &request, Some(("jo@example.com", "wrong")))
            .status,
        401
    );
    let answer = server.post(path, &request, Some(("jo@example.com", "user password")));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("<Port>143</Port>"), "{}", answer.body);

    // DNS: the records to copy, and the live check's counts and rows in view.
    browser.goto(&format!("{base}/admin/domains/example.com/dns"));
    assert!(
        browser
            .value("#zone")
            .contains("_autodiscover._tcp.example.com.")
    );
    browser.click("#run-check");
    browser.wait_until("the check's rows", |b| {
        count(b, "#check-results tbody tr") > 3
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
    let counts = browser.text("#check-counts");
    let failed = count(&browser, "#check-results .chip.fail");
    assert!(
        counts.contains(&format!("{failed} FAIL")),
        "{counts} / {failed} failing rows"
    );
    assert_eq!(
        focused(&browser),
        "check",
        "the results are brought into view"
    );

    // Test: the summary table, then each client's answer in a focusable region.
    browser.goto(&format!("{base}/admin/test?address=jo%40example.com"));
    let summary = browser.text("#settings-table");
    assert!(
        summary.contains("IMAP")
            && summary.contains("143")
            && summary.contains("STARTTLS")
            && summary.contains("jo@example.com"),
        "{summary}"
    );
    assert!(browser.text("#answer-autoconfig").contains("<clientConfig"));
    assert_eq!(
        browser.script("return document.getElementById('answer-desktop-body').tabIndex"),
        0,
        "the raw answer scrolls from the keyboard"
    );
    // An unknown domain is said once.
    browser.goto(&format!("{base}/admin/test?address=x%40unknown.example"));
    assert_eq!(count(&browser, "#test-problem"), 1);
    assert_eq!(count(&browser, ".answer-card"), 0);
    assert!(
        browser
            .text("#test-problem")
            .contains("not a hosted domain")
    );

    // Recent requests: readable names, the challenge told apart from the refusal.
    browser.goto(&format!("{base}/admin/requests"));
    let table = browser.text("#requests");
    for words in [
        "Asked for a password",
        "Sign-in refused",
        "Answered",
        "Autodiscover (Outlook XML)",
    ] {
        assert!(table.contains(words), "no {words} in:\n{table}");
    }
    assert!(
        !table.contains("autodiscover_xml") && !table.contains("unauthorized"),
        "{table}"
    );
    browser.click("#outcome option[value=unauthorized]");
    browser.click("form[action='/admin/requests'] button[type=submit]");
    browser.wait_until("the filter", |b| b.url().contains("outcome=unauthorized"));
    let refused = browser.text("#requests");
    assert!(
        refused.contains("Sign-in refused") && !refused.contains("Asked for a password"),
        "{refused}"
    );

    // Where users sign in, behind "Advanced": a mistake is named at the field and changes
    // nothing; a directory is saved and shown; an empty box goes back to the users kept here.
    browser.goto(&format!("{base}/admin/domains/example.com/users"));
    browser.click("#user-source summary");
    browser.type_into("#source", r#"{"kind": "imap", "encryption": "none"}"#);
    browser.click("#save-source");
    browser.wait_until("the refusal", |b| {
        b.text("#source-error").contains("ssl or starttls")
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
    assert!(
        sp.ok(&["domain", "show", "example.com"])
            .contains("IMAP logins")
    );
    browser.clear("#source");
    browser.click("#save-source");
    browser.wait_until("built-in again", |b| {
        b.text("main").contains("now sign in with: builtin")
    });

    // Signing out.
    browser.click("header button[type=submit]");
    browser.wait_until("the sign-in page", |b| b.url().contains("/admin/login"));
    browser.goto(&format!("{base}/admin/domains"));
    browser.wait_until("sign-in again", |b| b.url().ends_with("/admin/login"));
}

/// What one user gets from Outlook.
fn outlook(server: &Server, address: &str, password: &str) -> String {
    let answer = server.post(
        "/autodiscover/autodiscover.xml",
        &pox_request(address, OUTLOOK_SCHEMA),
        Some((address, password)),
    );
    assert_eq!(answer.status, 200, "{address}: {}", answer.body);
    answer.body
}

fn the_override_editor_keeps_the_variables_and_asks_before_saving_nothing() {
    let sp = Signpost::new().with_example_domain();
    sp.add_user(
        "alice@example.com",
        "alice pw",
        &["--display-name", "Alice Anders"],
    );
    sp.add_user(
        "bob@example.com",
        "bob pw",
        &["--display-name", "Bob Baker"],
    );
    sp.ok_with_stdin(
        &["admin", "add", "root", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let server = sp.serve();
    let base = server.base.clone();
    let driver = ChromeDriver::start();
    let browser = driver.browser();
    sign_in(&browser, &base, "root");
    browser.goto(&format!("{base}/admin/domains/example.com"));

    // Generate: the answer with the variables, no user's values; nothing saved yet.
    browser.click("#generate-desktop");
    browser.wait_until("the generated answer", |b| {
        b.value("#override-desktop-text").contains("<Autodiscover")
    });
    let generated = browser.value("#override-desktop-text");
    for variable in [
        "<DisplayName>%DisplayName%</DisplayName>",
        "%EmailAddress%",
        "%LegacyDN%",
    ] {
        assert!(
            generated.contains(variable),
            "no {variable} in:\n{generated}"
        );
    }
    for someone in ["Alice", "alice@", "Bob", "bob@"] {
        assert!(!generated.contains(someone), "{someone} in:\n{generated}");
    }
    assert!(
        browser
            .text("#generate-desktop-status")
            .contains("Nothing is saved")
    );
    assert_eq!(focused(&browser), "override-desktop-text");
    // Generate for ActiveSync while it is off says why, and leaves the box alone.
    browser.click("#generate-mobile");
    browser.wait_until("the reason", |b| {
        b.text("#generate-mobile-status")
            .contains("ActiveSync is off")
    });
    assert_eq!(browser.value("#override-mobile-text"), "");

    // Saved and on: every user gets their own name and address.
    browser.click("#override-desktop-enabled");
    browser.click("#save-override-desktop");
    browser.wait_until("the saved override", |b| {
        b.text(".notice").contains("saved")
    });
    assert_eq!(
        focused(&browser),
        "override-desktop",
        "the focus returns to the override"
    );
    let alice = outlook(&server, "alice@example.com", "alice pw");
    let bob = outlook(&server, "bob@example.com", "bob pw");
    assert!(
        alice.contains("<DisplayName>Alice Anders</DisplayName>") && !alice.contains("Bob"),
        "{alice}"
    );
    assert!(
        bob.contains("<DisplayName>Bob Baker</DisplayName>") && !bob.contains("Alice"),
        "{bob}"
    );
    assert!(
        bob.contains("<LoginName>bob@example.com</LoginName>"),
        "{bob}"
    );

    // Marked wherever the domain is shown: its Autodiscover card, the Domains list, Test.
    assert!(browser.text("#autodiscover").contains("Override active"));
    assert!(browser.text("#override-desktop h2").contains("active"));
    browser.goto(&format!("{base}/admin/domains"));
    assert!(browser.text("#domains").contains("desktop override"));
    browser.goto(&format!("{base}/admin/test?address=bob%40example.com"));
    assert!(browser.text("#answer-desktop h2").contains("override"));
    assert!(browser.text("#summary").contains("desktop override"));

    // An empty box is not saved without saying so; confirmed, it is, with a warning.
    browser.goto(&format!("{base}/admin/domains/example.com"));
    browser.clear("#override-desktop-text");
    browser.click("#save-override-desktop");
    browser.wait_until("the question", |b| {
        b.text("#override-desktop-text-error")
            .contains("EMPTY answer")
    });
    assert_eq!(focused(&browser), "override-desktop-text");
    assert_eq!(
        outlook(&server, "bob@example.com", "bob pw"),
        bob,
        "nothing changed before the confirmation"
    );
    browser.click("#override-desktop-confirm-empty");
    browser.click("#save-override-desktop");
    browser.wait_until("the saved empty override", |b| {
        b.text(".notice").contains("saved")
    });
    assert!(
        browser
            .text("#override-desktop")
            .contains("Clients are sent an empty answer"),
        "{}",
        browser.text("#override-desktop")
    );
    let empty = server.post(
        "/autodiscover/autodiscover.xml",
        &pox_request("bob@example.com", OUTLOOK_SCHEMA),
        Some(("bob@example.com", "bob pw")),
    );
    assert_eq!((empty.status, empty.body.as_str()), (200, ""));

    // Preview for an address: what one user gets with the saved text.
    browser.clear("#override-desktop-preview");
    browser.type_into("#override-desktop-preview", "alice@example.com");
    browser.click("#override-desktop form.preview button");
    browser.wait_until("the preview", |b| {
        b.url().contains("/admin/test?address=alice")
    });
    assert!(browser.text("#answer-desktop h2").contains("override"));
}

fn users_are_a_table_searched_and_paged_edited_in_a_dialog_and_removed_after_asking() {
    let sp = Signpost::new().with_example_domain();
    sp.ok(&[
        "domain",
        "add",
        "contoso.org",
        "--hostname",
        "mail.contoso.org",
    ]);
    // Ten thousand users, brought with a hash a real tool made.
    let hash = vector("doveadm pw -s SHA512-CRYPT", "correct horse");
    let mut csv = String::from("address,password_hash,display_name\n");
    for n in 0..10_000 {
        csv.push_str(&format!("user{n:05}@example.com,{hash},User {n:05}\n"));
    }
    let file = sp.dir.path().join("users.csv");
    std::fs::write(&file, csv).unwrap();
    sp.ok(&[
        "user",
        "import",
        "example.com",
        "--from",
        "csv",
        file.to_str().unwrap(),
    ]);
    sp.ok_with_stdin(
        &["admin", "add", "root", "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    let server = sp.serve();
    let base = server.base.clone();
    let driver = ChromeDriver::start();
    let browser = driver.browser();
    sign_in(&browser, &base, "root");

    // A page at a time, from the server.
    browser.goto(&format!("{base}/admin/domains/example.com/users"));
    assert_eq!(browser.text("#users-count"), "1–50 of 10000");
    assert_eq!(count(&browser, "#user-table tbody tr"), 50);
    browser.click("#next-page");
    browser.wait_until("the second page", |b| {
        b.text("#users-count") == "51–100 of 10000"
    });
    assert!(
        browser
            .text("#user-table")
            .contains("user00050@example.com")
    );
    assert!(
        !browser
            .text("#user-table")
            .contains("user00049@example.com")
    );

    // Searching, by display name and by address.
    browser.clear("#q");
    browser.type_into("#q", "User 0777");
    browser.type_into("#q", ENTER);
    browser.wait_until("ten matches", |b| {
        b.text("#users-count").contains("1–10 of 10")
    });
    assert!(
        browser
            .text("#user-table")
            .contains("user07779@example.com")
    );
    browser.clear("#q");
    browser.type_into("#q", "user07777");
    browser.type_into("#q", ENTER);
    browser.wait_until("one match", |b| b.text("#users-count").contains("1–1 of 1"));
    assert!(
        browser
            .text("#user-table")
            .contains("user07777@example.com")
    );

    // Edited in a dialog: a refusal sits at its field, with what was typed; then saved, and
    // the focus is back on the row.
    browser.click("#edit-button-user-user07777_40example_2ecom");
    browser.wait_until("the edit dialog", |b| {
        is_open(b, "edit-user-user07777_40example_2ecom")
    });
    browser.clear("#display-user-user07777_40example_2ecom");
    browser.type_into("#display-user-user07777_40example_2ecom", &"x".repeat(300));
    browser.click("#save-user-user07777_40example_2ecom");
    browser.wait_until("the refusal", |b| {
        is_open(b, "edit-user-user07777_40example_2ecom")
            && b.text("#display-user-user07777_40example_2ecom-error")
                .contains("longer than")
    });
    browser.clear("#display-user-user07777_40example_2ecom");
    browser.type_into("#display-user-user07777_40example_2ecom", "Seven Sevens");
    browser.click("#save-user-user07777_40example_2ecom");
    browser.wait_until("the saved name", |b| {
        b.text("#user-table").contains("Seven Sevens")
    });
    assert_eq!(focused(&browser), "user-user07777_40example_2ecom");
    assert!(
        sp.ok(&["user", "show", "user07777@example.com"])
            .contains("Seven Sevens")
    );

    // Removing asks first; Cancel keeps the user.
    browser.click("#remove-button-user-user07777_40example_2ecom");
    browser.wait_until("the question", |b| {
        is_open(b, "remove-user-user07777_40example_2ecom")
    });
    assert!(
        browser
            .text("#remove-user-user07777_40example_2ecom")
            .contains("Remove user07777@example.com?")
    );
    browser.click("#remove-user-user07777_40example_2ecom button[data-close]");
    assert!(!is_open(&browser, "remove-user-user07777_40example_2ecom"));
    assert!(
        browser
            .text("#user-table")
            .contains("user07777@example.com")
    );
    browser.click("#remove-button-user-user07777_40example_2ecom");
    browser.click("#confirm-remove-user-user07777_40example_2ecom");
    browser.wait_until("the removal", |b| {
        b.text(".notice").contains("removed user07777@example.com")
    });
    assert!(browser.text("#users-count").contains("No users match"));
    browser.goto(&format!("{base}/admin/domains/example.com/users"));
    assert_eq!(browser.text("#users-count"), "1–50 of 9999");

    // Addresses that differ only in punctuation, and one with a slash: each row's buttons act
    // on its own user.
    for address in [
        "jo.ann@example.com",
        "jo-ann@example.com",
        "jo/ann@example.com",
    ] {
        sp.add_user(address, "pw", &["--display-name", address]);
    }
    server.wait_for_store();
    browser.goto(&format!("{base}/admin/domains/example.com/users?q=jo"));
    assert_eq!(browser.text("#users-count"), "1–3 of 3 matching “jo”");
    let duplicated = browser.script(
        "const ids = [...document.querySelectorAll('[id]')].map(e => e.id); return ids.filter((id, i) => ids.indexOf(id) !== i);",
    );
    assert_eq!(duplicated, serde_json::json!([]), "duplicate ids");
    for (address, row) in [
        ("jo-ann@example.com", "user-jo_2dann_40example_2ecom"),
        ("jo/ann@example.com", "user-jo_2fann_40example_2ecom"),
    ] {
        browser.goto(&format!("{base}/admin/domains/example.com/users?q=jo"));
        browser.click(&format!("#edit-button-{row}"));
        browser.wait_until("its dialog", |b| is_open(b, &format!("edit-{row}")));
        browser.clear(&format!("#display-{row}"));
        browser.type_into(&format!("#display-{row}"), "Renamed");
        browser.click(&format!("#save-{row}"));
        browser.wait_until("the saved name", |b| b.text(".notice").contains(address));
        let shown = sp.ok(&["user", "show", address]);
        assert!(shown.contains("Renamed"), "{address}: {shown}");
    }
    assert!(
        !sp.ok(&["user", "show", "jo.ann@example.com"])
            .contains("Renamed")
    );

    // Another domain's address on this domain's page: refused at the field, what was typed
    // kept (never the password), nothing added.
    browser.type_into("#new-address", "zed@contoso.org");
    browser.type_into("#new-display", "Zed");
    browser.type_into("#new-password", "zed pw");
    browser.click("#add-user");
    browser.wait_until("the refusal", |b| {
        b.text("#new-address-error")
            .contains("not an address of example.com")
    });
    assert_eq!(browser.value("#new-address"), "zed@contoso.org");
    assert_eq!(browser.value("#new-display"), "Zed");
    assert_eq!(browser.value("#new-password"), "");
    assert_eq!(focused(&browser), "new-address");
    assert_eq!(
        browser.script(
            "return document.getElementById('new-address').getAttribute('aria-describedby')"
        ),
        "new-address-error"
    );
    assert!(!sp.ok(&["user", "list", "contoso.org"]).contains("zed"));
}
