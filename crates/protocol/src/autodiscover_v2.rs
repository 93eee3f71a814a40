//! Autodiscover v2 (`/autodiscover/autodiscover.json`), used by Outlook mobile, Microsoft 365
//! Outlook and Apple Mail for Exchange. There is no published specification; the shapes follow
//! what Exchange servers answer.

use serde::Serialize;

/// A protocol a v2 request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Protocol {
    ActiveSync,
    AutodiscoverV1,
    Ews,
}

/// Every value Signpost accepts, for the error message.
pub const SUPPORTED_PROTOCOLS: &str = "ActiveSync, AutodiscoverV1, Ews";

impl V2Protocol {
    /// Parses the `Protocol` query value, ignoring ASCII case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "activesync" => Some(Self::ActiveSync),
            "autodiscoverv1" => Some(Self::AutodiscoverV1),
            "ews" => Some(Self::Ews),
            _ => None,
        }
    }

    /// The spelling used in answers.
    pub fn answer_name(self) -> &'static str {
        match self {
            Self::ActiveSync => "ActiveSync",
            Self::AutodiscoverV1 => "AutodiscoverV1",
            Self::Ews => "EWS",
        }
    }
}

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(rename = "Protocol")]
    protocol: &'a str,
    #[serde(rename = "Url")]
    url: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "ErrorCode")]
    code: &'a str,
    #[serde(rename = "ErrorMessage")]
    message: &'a str,
}

/// `{"Protocol":"...","Url":"..."}`.
pub fn write_answer(protocol: V2Protocol, url: &str) -> String {
    serde_json::to_string(&Answer {
        protocol: protocol.answer_name(),
        url,
    })
    .unwrap_or_default()
}

/// `{"ErrorCode":"...","ErrorMessage":"..."}`.
pub fn write_error(code: &str, message: &str) -> String {
    serde_json::to_string(&ErrorBody { code, message }).unwrap_or_default()
}

/// The 400 answer for a protocol value Signpost does not serve.
pub fn write_invalid_protocol(given: &str) -> String {
    let given: String = given.chars().take(64).collect();
    write_error(
        "InvalidProtocol",
        &format!(
            "The given protocol value '{given}' is invalid. Supported values are '{SUPPORTED_PROTOCOLS}'"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_writes_json() {
        assert_eq!(
            V2Protocol::parse("activeSYNC"),
            Some(V2Protocol::ActiveSync)
        );
        assert_eq!(V2Protocol::parse("Ews"), Some(V2Protocol::Ews));
        assert_eq!(V2Protocol::parse("Rest"), None);
        assert_eq!(
            write_answer(V2Protocol::Ews, "https://m.x/EWS/Exchange.asmx"),
            r#"{"Protocol":"EWS","Url":"https://m.x/EWS/Exchange.asmx"}"#
        );
        let error: serde_json::Value =
            serde_json::from_str(&write_invalid_protocol("x\"y")).unwrap();
        assert_eq!(error["ErrorCode"], "InvalidProtocol");
        assert!(error["ErrorMessage"].as_str().unwrap().contains("'x\"y'"));
    }
}
