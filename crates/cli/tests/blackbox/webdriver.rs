//! Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium through
//! chromedriver: sessions, navigation, elements, keys, scripts and screenshots.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key W3C WebDriver names ELEMENT in answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The Enter key, as WebDriver sends keys.
pub const ENTER: &str = "\u{E007}";

pub struct ChromeDriver {
    process: Child,
    base: String,
    client: reqwest::blocking::Client,
    _profile: tempfile::TempDir,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
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
        let port = crate::pebble::free_port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let driver = Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            _profile: tempfile::tempdir().expect("profile dir"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = driver
                .client
                .get(format!("{}/status", driver.base))
                .send()
                .ok()
                .and_then(|r| r.text().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new headless Chromium with the flags that keep it off the network.
    pub fn browser(&self) -> Browser<'_> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000",
                    format!("--user-data-dir={}", self._profile.path().display()),
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

    /// The first element matching a CSS selector, waiting up to ten seconds for it.
    pub fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
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
    /// to go stale when the page is replaced meanwhile. Waits up to ten seconds for the element.
    fn read(&self, css: &str, property: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
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
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    pub fn window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}));
    }

    /// Waits (up to ten seconds) until `condition` holds.
    pub fn wait_until(&self, what: &str, mut condition: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
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
