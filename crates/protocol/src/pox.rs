//! Outlook's POX Autodiscover ([MS-OXDSCLI]) and the ActiveSync mobile answer ([MS-ASCMD]):
//! the request parser and the writers of every answer shape.

use std::borrow::Cow;

use crate::xml_reader::{self, Limits, XmlError};
use crate::xml_writer::XmlWriter;

/// Namespace of the outer `Autodiscover` element of every answer, and of error `Response`s.
pub const RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
/// Namespace of the desktop (Outlook) `Response`, also the value of `AcceptableResponseSchema`.
pub const OUTLOOK_RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// Namespace of the ActiveSync `Response`, also the value of `AcceptableResponseSchema`.
pub const MOBILESYNC_RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";

/// The largest request body Signpost reads.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// What a POX request asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoxRequest {
    pub email_address: Option<String>,
    pub legacy_dn: Option<String>,
    pub acceptable_response_schema: Option<String>,
}

/// The answer family a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseSchema {
    /// Outlook and other desktop clients: IMAP, POP3, SMTP, EWS.
    Outlook,
    /// Exchange ActiveSync devices.
    MobileSync,
}

impl PoxRequest {
    /// The schema to answer in; `Err` carries the unsupported value (error 601).
    ///
    /// A missing `AcceptableResponseSchema` is read as Outlook's: some desktop clients omit it,
    /// and the desktop answer is the one they can use.
    pub fn response_schema(&self) -> Result<ResponseSchema, String> {
        let Some(raw) = self.acceptable_response_schema.as_deref() else {
            return Ok(ResponseSchema::Outlook);
        };
        if schema_is(raw, OUTLOOK_RESPONSE_NS) {
            Ok(ResponseSchema::Outlook)
        } else if schema_is(raw, MOBILESYNC_RESPONSE_NS) {
            Ok(ResponseSchema::MobileSync)
        } else {
            Err(raw.to_string())
        }
    }
}

/// Whether `raw` names the schema `canonical` (an `http://` URI). Clients spell it with https,
/// odd letter case or a trailing slash; the answer always uses the canonical form.
fn schema_is(raw: &str, canonical: &str) -> bool {
    let raw = raw.trim().trim_end_matches('/');
    match (without_scheme(raw), without_scheme(canonical)) {
        (Some(raw), Some(canonical)) => raw.eq_ignore_ascii_case(canonical),
        _ => false,
    }
}

/// `uri` after `http://` or `https://` (any letter case).
fn without_scheme(uri: &str) -> Option<&str> {
    ["https://", "http://"].iter().find_map(|scheme| {
        uri.get(..scheme.len())
            .filter(|start| start.eq_ignore_ascii_case(scheme))
            .map(|_| &uri[scheme.len()..])
    })
}

/// Why a request body could not be read (error 600).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PoxRequestError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the root element is <{0}>, not <Autodiscover>")]
    WrongRoot(String),
    #[error("the request has no <Request> element")]
    NoRequest,
}

/// Parses a POX request, tolerating any element order, missing namespaces and unknown elements.
pub fn parse_request(body: &[u8]) -> Result<PoxRequest, PoxRequestError> {
    let root = xml_reader::parse(body, Limits::default())?;
    if !root.name.eq_ignore_ascii_case("Autodiscover") {
        return Err(PoxRequestError::WrongRoot(
            root.name.chars().take(64).collect(),
        ));
    }
    let request = root.child("Request").ok_or(PoxRequestError::NoRequest)?;
    Ok(PoxRequest {
        email_address: request.child_text("EMailAddress").map(str::to_string),
        legacy_dn: request.child_text("LegacyDN").map(str::to_string),
        acceptable_response_schema: request
            .child_text("AcceptableResponseSchema")
            .map(str::to_string),
    })
}

/// How a mail protocol is protected on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Implicit TLS from the first byte.
    Ssl,
    /// A plain connection upgraded with STARTTLS.
    StartTls,
    /// No encryption at all.
    None,
}

/// A mail protocol Outlook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailProtocolType {
    Imap,
    Pop3,
    Smtp,
}

impl MailProtocolType {
    fn type_name(self) -> &'static str {
        match self {
            Self::Imap => "IMAP",
            Self::Pop3 => "POP3",
            Self::Smtp => "SMTP",
        }
    }
}

/// One `<Protocol>` of type IMAP, POP3 or SMTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailProtocol<'a> {
    pub kind: MailProtocolType,
    pub server: Cow<'a, str>,
    pub port: u16,
    pub login_name: Cow<'a, str>,
    pub encryption: Encryption,
}

/// The `EXPR` `<Protocol>` that carries the Exchange Web Services URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeProtocol<'a> {
    pub server: Cow<'a, str>,
    /// `https://host/EWS/Exchange.asmx`, given as `EwsUrl`, `ASUrl` and `OOFUrl` because clients
    /// disagree about which one they read.
    pub ews_url: Cow<'a, str>,
}

/// The `<User>` block of the desktop answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopUser<'a> {
    pub display_name: Cow<'a, str>,
    pub legacy_dn: Cow<'a, str>,
    pub smtp_address: Cow<'a, str>,
    pub deployment_id: Cow<'a, str>,
}

/// Everything the desktop (Outlook) answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopSettings<'a> {
    pub user: DesktopUser<'a>,
    pub mail: Vec<MailProtocol<'a>>,
    pub exchange: Option<ExchangeProtocol<'a>>,
    /// Hours the client may cache the answer.
    pub ttl_hours: u32,
}

fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}

/// Writes the desktop answer (`outlook/responseschema/2006a`).
pub fn write_desktop_settings(settings: &DesktopSettings<'_>) -> String {
    let ttl = i64::from(settings.ttl_hours);
    let mut w = XmlWriter::new();
    w.open_with("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open_with("Response", &[("xmlns", OUTLOOK_RESPONSE_NS)]);
    w.open("User")
        .text("DisplayName", &settings.user.display_name)
        .text("LegacyDN", &settings.user.legacy_dn)
        .text("AutoDiscoverSMTPAddress", &settings.user.smtp_address)
        .text("DeploymentId", &settings.user.deployment_id)
        .close();
    w.open("Account")
        .text("AccountType", "email")
        .text("Action", "settings");
    for protocol in &settings.mail {
        let (ssl, encryption) = match protocol.encryption {
            Encryption::Ssl => (true, "SSL"),
            // Thunderbird connects in plain text when it reads SSL off, so STARTTLS says on.
            Encryption::StartTls => (true, "TLS"),
            Encryption::None => (false, "None"),
        };
        w.open("Protocol")
            .text("Type", protocol.kind.type_name())
            .text("Server", &protocol.server)
            .number("Port", i64::from(protocol.port))
            .text("DomainRequired", "off")
            .text("LoginName", &protocol.login_name)
            // Absent SPA means on, which sends Outlook and Thunderbird to NTLM.
            .text("SPA", "off")
            .text("SSL", on_off(ssl))
            .text("Encryption", encryption)
            .text("AuthRequired", "on");
        if protocol.kind == MailProtocolType::Smtp {
            w.text("UsePOPAuth", "on").text("SMTPLast", "off");
        }
        w.number("TTL", ttl).close();
    }
    if let Some(exchange) = &settings.exchange {
        w.open("Protocol")
            .text("Type", "EXPR")
            .text("Server", &exchange.server)
            .text("ASUrl", &exchange.ews_url)
            .text("EwsUrl", &exchange.ews_url)
            .text("OOFUrl", &exchange.ews_url)
            .text("SSL", "on")
            .number("TTL", ttl)
            .close();
    }
    w.finish()
}

/// Writes the desktop answer that sends the client to another address (`redirectAddr`).
pub fn write_desktop_redirect_address(address: &str) -> String {
    let mut w = XmlWriter::new();
    w.open_with("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open_with("Response", &[("xmlns", OUTLOOK_RESPONSE_NS)]);
    w.open("Account")
        .text("AccountType", "email")
        .text("Action", "redirectAddr")
        .text("RedirectAddr", address);
    w.finish()
}

/// Everything the ActiveSync answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileSyncSettings {
    pub culture: String,
    pub display_name: String,
    pub email_address: String,
    /// `https://host/Microsoft-Server-ActiveSync`.
    pub url: String,
}

/// Writes the ActiveSync answer (`mobilesync/responseschema/2006`).
pub fn write_mobilesync_settings(settings: &MobileSyncSettings) -> String {
    let mut w = XmlWriter::new();
    w.open_with("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open_with("Response", &[("xmlns", MOBILESYNC_RESPONSE_NS)]);
    w.text("Culture", &settings.culture);
    w.open("User")
        .text("DisplayName", &settings.display_name)
        .text("EMailAddress", &settings.email_address)
        .close();
    w.open("Action")
        .open("Settings")
        .open("Server")
        .text("Type", "MobileSync")
        .text("Url", &settings.url)
        .text("Name", &settings.url);
    w.finish()
}

/// Writes the ActiveSync answer that sends the device to another address.
pub fn write_mobilesync_redirect(address: &str) -> String {
    let mut w = XmlWriter::new();
    w.open_with("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open_with("Response", &[("xmlns", MOBILESYNC_RESPONSE_NS)]);
    w.open("Action").text("Redirect", address);
    w.finish()
}

/// The error codes of [MS-OXDSCLI] 2.2.4.1.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 500: the address is not known here.
    AddressNotFound,
    /// 600: malformed request or no address.
    InvalidRequest,
    /// 601: the requested configuration type cannot be provided.
    ProviderUnavailable,
    /// 603: something went wrong inside the server.
    InternalError,
}

impl ErrorCode {
    pub fn number(self) -> u16 {
        match self {
            Self::AddressNotFound => 500,
            Self::InvalidRequest => 600,
            Self::ProviderUnavailable => 601,
            Self::InternalError => 603,
        }
    }

    /// The message text clients know; exchangelib matches 500's exactly.
    pub fn message(self) -> &'static str {
        match self {
            Self::AddressNotFound => "The e-mail address cannot be found.",
            Self::InvalidRequest => "Invalid Request",
            Self::ProviderUnavailable => "Provider is not available",
            Self::InternalError => "Internal Server Error",
        }
    }
}

/// An error answer: HTTP 200 with `Response/Error` in the base namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    pub code: ErrorCode,
    /// Time of day as `HH:MM:SS.fffffff`, as Exchange writes it.
    pub time: String,
    /// An identifier an administrator can find in the log.
    pub id: u32,
}

/// Writes an error answer.
pub fn write_error(error: &ErrorAnswer) -> String {
    let id = error.id.to_string();
    let mut w = XmlWriter::new();
    w.open_with("Autodiscover", &[("xmlns", RESPONSE_NS)]);
    w.open("Response");
    w.open_with("Error", &[("Time", &error.time), ("Id", &id)])
        .text("ErrorCode", &error.code.number().to_string())
        .text("Message", error.code.message())
        .empty("DebugData", &[]);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_outlook_and_mobile_requests() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress> john@example.com </EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;
        let request = parse_request(body).unwrap();
        assert_eq!(request.email_address.as_deref(), Some("john@example.com"));
        assert_eq!(request.response_schema(), Ok(ResponseSchema::Outlook));

        let body = br#"<a:Autodiscover xmlns:a="x"><a:Request><a:AcceptableResponseSchema>HTTPS://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006/</a:AcceptableResponseSchema><a:EMailAddress>x@y.z</a:EMailAddress><Unknown/></a:Request></a:Autodiscover>"#;
        let request = parse_request(body).unwrap();
        assert_eq!(request.response_schema(), Ok(ResponseSchema::MobileSync));
    }

    #[test]
    fn reports_unknown_schema_and_bad_shapes() {
        let request = PoxRequest {
            acceptable_response_schema: Some("urn:other".into()),
            ..PoxRequest::default()
        };
        assert_eq!(request.response_schema(), Err("urn:other".to_string()));
        assert_eq!(
            parse_request(b"<Other/>"),
            Err(PoxRequestError::WrongRoot("Other".into()))
        );
        assert_eq!(
            parse_request(b"<Autodiscover/>"),
            Err(PoxRequestError::NoRequest)
        );
    }

    #[test]
    fn starttls_is_ssl_on_with_tls_encryption() {
        let doc = write_desktop_settings(&DesktopSettings {
            user: DesktopUser {
                display_name: "J".into(),
                legacy_dn: "/o=x".into(),
                smtp_address: "j@x.y".into(),
                deployment_id: "id".into(),
            },
            mail: vec![MailProtocol {
                kind: MailProtocolType::Smtp,
                server: "mail.x.y".into(),
                port: 587,
                login_name: "j@x.y".into(),
                encryption: Encryption::StartTls,
            }],
            exchange: None,
            ttl_hours: 1,
        });
        assert!(doc.contains("<SSL>on</SSL>\n        <Encryption>TLS</Encryption>"));
        assert!(doc.contains("<UsePOPAuth>on</UsePOPAuth>"));
        assert!(doc.contains("<SPA>off</SPA>"));
    }
}

/// A POX answer as a client reads it (for Signpost's own probe of a server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoxAnswer {
    /// Desktop settings.
    Settings {
        display_name: Option<String>,
        protocols: Vec<AnsweredProtocol>,
    },
    RedirectAddress(String),
    RedirectUrl(String),
    /// The ActiveSync answer's server URL.
    MobileSync {
        url: Option<String>,
    },
    Error {
        code: u16,
        message: String,
    },
}

/// One `<Protocol>` of a desktop answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnsweredProtocol {
    pub kind: String,
    pub server: Option<String>,
    pub port: Option<u16>,
    pub ssl: Option<bool>,
    pub encryption: Option<String>,
    pub login_name: Option<String>,
    pub ews_url: Option<String>,
}

/// Reads an answer from any POX server (Signpost, Exchange, others).
pub fn parse_answer(body: &[u8]) -> Result<PoxAnswer, PoxRequestError> {
    let limits = Limits {
        max_depth: 24,
        max_elements: 5000,
        max_attributes: 16,
        max_text_bytes: 64 * 1024,
    };
    let root = xml_reader::parse(body, limits)?;
    if !root.name.eq_ignore_ascii_case("Autodiscover") {
        return Err(PoxRequestError::WrongRoot(
            root.name.chars().take(64).collect(),
        ));
    }
    let response = root.child("Response").ok_or(PoxRequestError::NoRequest)?;
    let error = response
        .child("Error")
        .or_else(|| response.child("Action").and_then(|a| a.child("Error")));
    if let Some(error) = error {
        return Ok(PoxAnswer::Error {
            code: error
                .child_text("ErrorCode")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
            message: error.child_text("Message").unwrap_or_default().to_string(),
        });
    }
    if let Some(action) = response.child("Action") {
        if let Some(to) = action.child_text("Redirect") {
            return Ok(PoxAnswer::RedirectAddress(to.to_string()));
        }
        let url = action
            .child("Settings")
            .and_then(|s| s.child("Server"))
            .and_then(|s| s.child_text("Url"))
            .map(str::to_string);
        return Ok(PoxAnswer::MobileSync { url });
    }
    let account = response
        .child("Account")
        .ok_or(PoxRequestError::NoRequest)?;
    match account.child_text("Action").unwrap_or("settings") {
        a if a.eq_ignore_ascii_case("redirectAddr") => Ok(PoxAnswer::RedirectAddress(
            account
                .child_text("RedirectAddr")
                .unwrap_or_default()
                .to_string(),
        )),
        a if a.eq_ignore_ascii_case("redirectUrl") => Ok(PoxAnswer::RedirectUrl(
            account
                .child_text("RedirectUrl")
                .unwrap_or_default()
                .to_string(),
        )),
        _ => Ok(PoxAnswer::Settings {
            display_name: response
                .child("User")
                .and_then(|u| u.child_text("DisplayName"))
                .map(str::to_string),
            protocols: account
                .children_named("Protocol")
                .map(|p| AnsweredProtocol {
                    kind: p.child_text("Type").unwrap_or_default().to_string(),
                    server: p.child_text("Server").map(str::to_string),
                    port: p.child_text("Port").and_then(|v| v.parse().ok()),
                    ssl: p.child_text("SSL").map(|v| v.eq_ignore_ascii_case("on")),
                    encryption: p.child_text("Encryption").map(str::to_string),
                    login_name: p.child_text("LoginName").map(str::to_string),
                    ews_url: p.child_text("EwsUrl").map(str::to_string),
                })
                .collect(),
        }),
    }
}

#[cfg(test)]
mod answer_tests {
    use super::*;

    #[test]
    fn reads_back_what_signpost_writes() {
        let settings = DesktopSettings {
            user: DesktopUser {
                display_name: "J".into(),
                legacy_dn: "/o=x".into(),
                smtp_address: "j@x.y".into(),
                deployment_id: "id".into(),
            },
            mail: vec![MailProtocol {
                kind: MailProtocolType::Imap,
                server: "mail.x.y".into(),
                port: 993,
                login_name: "j".into(),
                encryption: Encryption::Ssl,
            }],
            exchange: None,
            ttl_hours: 1,
        };
        let PoxAnswer::Settings { protocols, .. } =
            parse_answer(write_desktop_settings(&settings).as_bytes()).unwrap()
        else {
            panic!("settings expected");
        };
        assert_eq!(protocols[0].server.as_deref(), Some("mail.x.y"));
        assert_eq!(protocols[0].port, Some(993));
        assert_eq!(
            parse_answer(write_desktop_redirect_address("a@b.c").as_bytes()).unwrap(),
            PoxAnswer::RedirectAddress("a@b.c".into())
        );
        let error = write_error(&ErrorAnswer {
            code: ErrorCode::ProviderUnavailable,
            time: "00:00:00.0000000".into(),
            id: 1,
        });
        assert_eq!(
            parse_answer(error.as_bytes()).unwrap(),
            PoxAnswer::Error {
                code: 601,
                message: "Provider is not available".into()
            }
        );
    }
}
