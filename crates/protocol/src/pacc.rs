//! PACC (draft-ietf-mailmaint-pacc): `/.well-known/user-agent-configuration.json` and the digest
//! its `_ua-auto-config` TXT record carries. Clients hash the exact bytes served, so the body is
//! written once, compactly, and the digest computed from those bytes.

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Document {
    pub protocols: Protocols,
    pub authentication: Authentication,
    pub info: Info,
}

/// Mail protocols name only a host: PACC means implicit TLS on the standard port (993, 995, 465).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Protocols {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imap: Option<Host>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pop3: Option<Host>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Host>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caldav: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carddav: Option<Url>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Url {
    pub url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Authentication {
    pub password: bool,
    #[serde(rename = "oauth-public", skip_serializing_if = "Option::is_none")]
    pub oauth_public: Option<OAuthPublic>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthPublic {
    /// An https issuer URL (RFC 8414).
    pub issuer: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Info {
    pub provider: Provider,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Help>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub name: String,
    #[serde(rename = "shortName", skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Help {
    pub documentation: String,
}

/// The document as served: compact JSON.
pub fn write(document: &Document) -> String {
    serde_json::to_string(document).unwrap_or_default()
}

/// The value of the `_ua-auto-config` TXT record for a served body.
pub fn txt_record(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!(
        "v=UAAC1; a=sha256; d={}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_draft_names_and_digests_the_bytes() {
        let doc = Document {
            protocols: Protocols {
                imap: Some(Host {
                    host: "mail.example.com".into(),
                }),
                ..Protocols::default()
            },
            authentication: Authentication {
                password: true,
                oauth_public: Some(OAuthPublic {
                    issuer: "https://login.example.com".into(),
                }),
            },
            info: Info {
                provider: Provider {
                    name: "Example \"Mail\"".into(),
                    short_name: Some("Ex".into()),
                },
                help: None,
            },
        };
        let body = write(&doc);
        assert_eq!(
            body,
            r#"{"protocols":{"imap":{"host":"mail.example.com"}},"authentication":{"password":true,"oauth-public":{"issuer":"https://login.example.com"}},"info":{"provider":{"name":"Example \"Mail\"","shortName":"Ex"}}}"#
        );
        assert_eq!(
            txt_record(b""),
            "v=UAAC1; a=sha256; d=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
