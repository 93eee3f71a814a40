//! Debian's headless Chromium driven through chromedriver, with just enough of the W3C
//! WebDriver protocol: sessions, navigation, elements, keys, scripts and screenshots.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::process::{Running, StartFailure, start_with_retry};
use crate::tools::{self, Tool};

/// The key W3C WebDriver names ELEMENT in answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long to wait for an element or a state of the page (a slow, busy machine included).
const PAGE_WAIT: Duration = Duration::from_secs(60);
/// The Enter key, as WebDriver sends keys.
pub const ENTER: &str = "\u{E007}";

pub struct ChromeDriver {
    process: Running,
    base: String,
    client: reqwest::blocking::Client,
    /// chromedriver's log, and Chromium's profile in `profile/`.
    dir: tempfile::TempDir,
}

pub struct Browser<'a> {
    driver: &'a ChromeDriver,
    session: String,
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .client
            .delete(format!("{}/session/{}", self.driver.base, self.session))
            .send();
    }
}

#[derive(Debug, Clone)]
pub struct Element(String);

impl ChromeDriver {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub fn start() -> Self {
        tools::require(Tool::Chromium);
        start_with_retry("chromedriver", || {
            let dir = tempfile::tempdir().expect("temporary directory");
            let port = crate::ports::free_port();
            let mut command = tools::command(Tool::Chromium, "chromedriver");
            command.arg(format!("--port={port}"));
            let process = Running::spawn("chromedriver", &mut command, dir.path());
            let mut driver = Self {
                process,
                base: format!("http://127.0.0.1:{port}"),
                client: reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(120))
                    .build()
                    .expect("client"),
                dir,
            };
            driver.wait_until_ready()?;
            Ok(driver)
        })
    }

    fn wait_until_ready(&mut self) -> Result<(), StartFailure> {
        let deadline = Instant::now() + crate::process::START_LIMIT;
        loop {
            let ready = self
                .client
                .get(format!("{}/status", self.base))
                .send()
                .ok()
                .and_then(|r| r.text().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                return Ok(());
            }
            self.process.check_alive("ready", deadline)?;
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new headless Chromium with the flags that keep it off the network.
    pub fn browser(&self) -> Browser<'_> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // axe-core takes a few seconds on a large page of a busy machine.
            "timeouts": {"script": 120_000},
            "goog:chromeOptions": {
                "binary": tools::find_program("chromium").unwrap_or_default(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000",
                    format!("--user-data-dir={}", self.dir.path().join("profile").display()),
                ],
            },
        }}});
        let answer = self.post("/session", &capabilities);
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_string();
        Browser {
            driver: self,
            session,
        }
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        self.client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .and_then(|r| r.text())
            .map(|t| serde_json::from_str(&t).unwrap_or(Value::Null))
            .unwrap_or_else(|e| panic!("WebDriver POST {path}: {e}"))
    }

    fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .and_then(|r| r.text())
            .map(|t| serde_json::from_str(&t).unwrap_or(Value::Null))
            .unwrap_or_else(|e| panic!("WebDriver GET {path}: {e}"))
    }
}

impl Browser<'_> {
    fn post(&self, path: &str, body: Value) -> Value {
        let answer = self
            .driver
            .post(&format!("/session/{}{path}", self.session), &body);
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!("WebDriver {path}: {error}: {}", answer["value"]["message"]);
        }
        answer["value"].clone()
    }

    fn get(&self, path: &str) -> Value {
        let answer = self.driver.get(&format!("/session/{}{path}", self.session));
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!("WebDriver {path}: {error}: {}", answer["value"]["message"]);
        }
        answer["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url}));
    }

    pub fn url(&self) -> String {
        self.get("/url").as_str().unwrap_or_default().to_string()
    }

    /// The first element matching a CSS selector, waiting up to a minute for it.
    pub fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let answer = self.driver.post(
                &format!("/session/{}/element", self.session),
                &json!({"using": "css selector", "value": css}),
            );
            if let Some(id) = answer["value"][ELEMENT_KEY].as_str() {
                return Element(id.to_string());
            }
            assert!(Instant::now() < deadline, "no element {css}: {answer}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.post(&format!("/element/{}/click", element.0), json!({}));
    }

    pub fn clear(&self, css: &str) {
        let element = self.find(css);
        self.post(&format!("/element/{}/clear", element.0), json!({}));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.post(
            &format!("/element/{}/value", element.0),
            json!({"text": text}),
        );
    }

    /// Reads `property` of the first element matching `css`, by script: no element reference
    /// to go stale when the page is replaced meanwhile. Waits up to a minute for the element.
    fn read(&self, css: &str, property: &str) -> String {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let answer = self.driver.post(
                &format!("/session/{}/execute/sync", self.session),
                &json!({
                    "script": "const e = document.querySelector(arguments[0]); return e ? String(e[arguments[1]]) : null;",
                    "args": [css, property],
                }),
            );
            if let Some(text) = answer["value"].as_str() {
                return text.to_string();
            }
            assert!(Instant::now() < deadline, "no element {css}: {answer}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The text a person sees in the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        self.read(css, "innerText")
    }

    /// A form control's current value (what JavaScript sees, not the HTML attribute).
    pub fn value(&self, css: &str) -> String {
        self.read(css, "value")
    }

    pub fn script(&self, script: &str) -> Value {
        self.script_with(script, json!([]))
    }

    /// Runs `script` with `arguments` (a JSON array) and returns what it returns.
    pub fn script_with(&self, script: &str, arguments: Value) -> Value {
        self.post(
            "/execute/sync",
            json!({"script": script, "args": arguments}),
        )
    }

    /// Runs `script`, which ends by calling its last argument with the result.
    pub fn script_async(&self, script: &str, arguments: Value) -> Value {
        self.post(
            "/execute/async",
            json!({"script": script, "args": arguments}),
        )
    }

    pub fn window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}));
    }

    /// Waits (up to a minute) until `condition` holds.
    pub fn wait_until(&self, what: &str, mut condition: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + PAGE_WAIT;
        while !condition(self) {
            if Instant::now() >= deadline {
                let page = self.script("return document.body ? document.body.innerText : ''");
                panic!("timed out waiting for {what}; at {}:\n{page}", self.url());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a PNG of the page; returns its path.
    pub fn screenshot(&self, folder: &std::path::Path, name: &str) -> std::path::PathBuf {
        let encoded = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = folder.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}
