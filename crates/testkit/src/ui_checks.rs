//! The web interface judged by tools nobody here wrote: axe-core, injected into the page the
//! browser shows, and Lighthouse, run with Debian's Chromium (both from npm, in
//! `tests/ui-tools`).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::tools::{self, AXE_SCRIPT, LIGHTHOUSE_SCRIPT, Tool};

/// One rule axe-core found broken, with where.
#[derive(Debug, Clone)]
pub struct AxeViolation {
    pub rule: String,
    pub impact: String,
    pub help: String,
    /// Each offending element: its selector and its HTML.
    pub nodes: Vec<String>,
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} ({}): {}", self.rule, self.impact, self.help)?;
        for node in &self.nodes {
            writeln!(f, "    {node}")?;
        }
        Ok(())
    }
}

impl Browser<'_> {
    /// Runs every axe-core rule (WCAG 2 A and AA, and its best practices) on the page as it
    /// is now, open dialogs included.
    pub fn axe(&self) -> Vec<AxeViolation> {
        tools::require(Tool::UiChecks);
        let loaded = self.script("return typeof window.axe !== 'undefined'");
        if loaded != true {
            let source = std::fs::read_to_string(tools::ui_tools_dir().join(AXE_SCRIPT))
                .expect("axe-core's script");
            // Run as WebDriver's own script: a <script> element would be refused by the
            // page's Content-Security-Policy, which allows no inline script.
            let defined = self.script(&format!("{source}\n;return typeof window.axe;"));
            assert_eq!(defined, "object", "axe-core did not load");
        }
        let found = self.script_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations.map(v => ({
                 rule: v.id, impact: v.impact || '', help: v.help,
                 nodes: v.nodes.map(n => n.target.join(' ') + '  ' + n.html.slice(0, 200)),
               }))))
               .catch(e => done({error: String(e)}));",
            json!([]),
        );
        if let Some(error) = found.get("error") {
            panic!("axe-core could not run: {error}");
        }
        found
            .as_array()
            .map(|violations| {
                violations
                    .iter()
                    .map(|v| AxeViolation {
                        rule: text(&v["rule"]),
                        impact: text(&v["impact"]),
                        help: text(&v["help"]),
                        nodes: v["nodes"]
                            .as_array()
                            .map(|n| n.iter().map(text).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How far the page is wider than the window (0 when nothing scrolls sideways).
    pub fn horizontal_overflow(&self) -> i64 {
        self.script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        .as_i64()
        .unwrap_or(i64::MAX)
    }
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

/// Lighthouse's scores for one page, 0 to 100 per category, and the audits that did not pass.
#[derive(Debug, Clone)]
pub struct LighthouseReport {
    pub url: String,
    /// Where the page ended up (a redirect shows here).
    pub final_url: String,
    pub performance: u32,
    pub accessibility: u32,
    pub best_practices: u32,
    /// "category: audit title" for every scored audit below full marks.
    pub failing: Vec<String>,
}

/// Runs Lighthouse's command line on `url` with Debian's Chromium, sending `cookie` (a signed-in
/// session) with every request; its JSON and HTML reports go to `reports/NAME.report.*`.
pub fn lighthouse(url: &str, cookie: &str, reports: &Path, name: &str) -> LighthouseReport {
    tools::require(Tool::UiChecks);
    tools::require(Tool::Chromium);
    let chromium = tools::find_program("chromium").expect("chromium");
    let dir = tools::ui_tools_dir();
    std::fs::create_dir_all(reports).expect("report folder");
    let output = reports.join(name);
    let run = Command::new("node")
        .arg(dir.join(LIGHTHOUSE_SCRIPT))
        .arg(url)
        .arg("--quiet")
        .arg("--only-categories=performance,accessibility,best-practices")
        .arg("--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-background-networking --disable-component-update --disable-sync")
        .arg(format!("--extra-headers={}", json!({"Cookie": cookie})))
        .arg("--output=json")
        .arg("--output=html")
        .arg(format!("--output-path={}", output.display()))
        .env("CHROME_PATH", chromium)
        .output()
        .expect("run lighthouse");
    assert!(
        run.status.success(),
        "lighthouse failed on {url}: {}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let json_path = reports.join(format!("{name}.report.json"));
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(&json_path).expect("lighthouse's JSON report"),
    )
    .expect("lighthouse's JSON");
    if let Some(error) = report["runtimeError"]["message"].as_str() {
        panic!("lighthouse could not load {url}: {error}");
    }
    let score = |category: &str| {
        report["categories"][category]["score"]
            .as_f64()
            .map(|s| (s * 100.0).round() as u32)
            .unwrap_or_else(|| panic!("no {category} score in {}", json_path.display()))
    };
    let mut failing = Vec::new();
    for category in ["performance", "accessibility", "best-practices"] {
        for reference in report["categories"][category]["auditRefs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(id) = reference["id"].as_str() else {
                continue;
            };
            let audit = &report["audits"][id];
            let weighed = reference["weight"].as_f64().unwrap_or(0.0) > 0.0;
            if weighed && audit["score"].as_f64().is_some_and(|s| s < 1.0) {
                failing.push(format!("{category}: {}", text(&audit["title"])));
            }
        }
    }
    LighthouseReport {
        url: url.to_string(),
        final_url: text(&report["finalDisplayedUrl"]),
        performance: score("performance"),
        accessibility: score("accessibility"),
        best_practices: score("best-practices"),
        failing,
    }
}
