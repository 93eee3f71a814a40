//! Each client's discovery played for real, against the DNS and servers an address leads to:
//! every URL tried and what came back, then the settings found, and, with `connect`, whether
//! those settings work. What Microsoft's Remote Connectivity Analyzer does, locally.

use base64::Engine;
use serde::Serialize;
use signpost_protocol::pox::{self, PoxAnswer};
use signpost_protocol::{autoconfig, xml_reader};
use url::Url;

use crate::Status;
use crate::check::pox_request_body;
use crate::http::{FetchError, Fetched, Fetcher};
use crate::mail::{self, MailProtocol, Security};

/// Clients stop after this many redirects, HTTP and autodiscover ones together.
pub const MAX_REDIRECTS: usize = 10;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    Outlook,
    ActiveSync,
    Thunderbird,
    Apple,
    /// Autodiscover v2 JSON (Outlook mobile, Microsoft 365).
    V2,
}

impl Client {
    pub const ALL: [Client; 5] = [
        Self::Outlook,
        Self::ActiveSync,
        Self::Thunderbird,
        Self::V2,
        Self::Apple,
    ];

    pub fn parse(value: &str) -> Result<Vec<Client>, String> {
        match value.to_ascii_lowercase().as_str() {
            "all" => Ok(Self::ALL.to_vec()),
            "outlook" => Ok(vec![Self::Outlook]),
            "activesync" | "eas" => Ok(vec![Self::ActiveSync]),
            "thunderbird" | "autoconfig" => Ok(vec![Self::Thunderbird]),
            "apple" | "ios" => Ok(vec![Self::Apple]),
            "v2" | "json" => Ok(vec![Self::V2]),
            _ => Err(format!(
                "'{value}' is not one of outlook, activesync, thunderbird, apple, v2, all"
            )),
        }
    }
}

/// One URL tried.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attempt {
    pub client: Client,
    pub request: String,
    pub outcome: String,
    pub status: Status,
}

/// A server setting found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Setting {
    pub protocol: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub login: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Found {
    pub client: Client,
    pub source: String,
    pub settings: Vec<Setting>,
    /// For answers that are URLs (ActiveSync, v2, EWS).
    pub urls: Vec<String>,
}

#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub attempts: Vec<Attempt>,
    pub found: Vec<Found>,
    pub connections: Vec<mail::Connection>,
}

impl Report {
    pub fn failed(&self, clients: &[Client]) -> bool {
        clients
            .iter()
            .any(|c| !self.found.iter().any(|f| f.client == *c))
            || self.connections.iter().any(|c| c.status == Status::Fail)
    }
}

pub struct Probe<'a> {
    pub fetcher: &'a Fetcher,
    pub address: String,
    pub password: Option<String>,
    pub report: Report,
}

enum Step {
    Done(Found),
    /// A redirect to follow.
    Follow(String),
    /// Discovery starts over for another address.
    Readdress(String),
    /// This URL led nowhere; the client tries its next one.
    Stop,
}

impl<'a> Probe<'a> {
    pub fn new(fetcher: &'a Fetcher, address: &str, password: Option<String>) -> Self {
        Self {
            fetcher,
            address: address.to_string(),
            password,
            report: Report::default(),
        }
    }

    fn attempt(
        &mut self,
        client: Client,
        request: String,
        outcome: impl Into<String>,
        status: Status,
    ) {
        self.report.attempts.push(Attempt {
            client,
            request,
            outcome: outcome.into(),
            status,
        });
    }

    pub async fn run(&mut self, clients: &[Client], connect: bool) {
        for client in clients {
            let found = match client {
                Client::Outlook => self.pox(*client, pox::OUTLOOK_RESPONSE_NS).await,
                Client::ActiveSync => self.pox(*client, pox::MOBILESYNC_RESPONSE_NS).await,
                Client::Thunderbird => self.autoconfig().await,
                Client::Apple => self.apple().await,
                Client::V2 => self.v2().await,
            };
            if let Some(found) = found {
                self.report.found.push(found);
            }
        }
        if connect {
            self.connect_all().await;
        }
    }

    fn domain_of(address: &str) -> String {
        address
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default()
    }

    /// Outlook's four steps, in its order (or the ActiveSync device's, with the mobile schema):
    /// POST to the domain, POST to autodiscover.<domain>, an unauthenticated GET over http whose
    /// 302 is followed, then the `_autodiscover._tcp` SRV record's target.
    async fn pox(&mut self, client: Client, schema: &str) -> Option<Found> {
        let mut address = self.address.clone();
        let mut redirects = 0;
        'addresses: loop {
            let domain = Self::domain_of(&address);
            for step in 1..=4 {
                let first_url = match step {
                    1 => Some(format!("https://{domain}/autodiscover/autodiscover.xml")),
                    2 => Some(format!(
                        "https://autodiscover.{domain}/autodiscover/autodiscover.xml"
                    )),
                    3 => self.http_redirect_step(client, &domain).await,
                    _ => self.srv_step(client, &domain).await,
                };
                let Some(mut url) = first_url else { continue };
                loop {
                    match self.post(client, &url, &address, schema).await {
                        Step::Done(found) => return Some(found),
                        Step::Stop => break,
                        Step::Follow(_) | Step::Readdress(_) if redirects >= MAX_REDIRECTS => {
                            self.attempt(
                                client,
                                url,
                                format!("stopped: more than {MAX_REDIRECTS} redirects"),
                                Status::Fail,
                            );
                            return None;
                        }
                        Step::Follow(next) => {
                            redirects += 1;
                            url = next;
                        }
                        Step::Readdress(next) => {
                            redirects += 1;
                            address = next;
                            continue 'addresses;
                        }
                    }
                }
            }
            return None;
        }
    }

    /// Step 3: the https URL an http GET to autodiscover.<domain> redirects to with 302.
    async fn http_redirect_step(&mut self, client: Client, domain: &str) -> Option<String> {
        let url = format!("http://autodiscover.{domain}/autodiscover/autodiscover.xml");
        let answer = self.get(client, &url).await?;
        (answer.status == 302)
            .then(|| {
                answer
                    .header("location")
                    .filter(|l| l.starts_with("https://"))
                    .map(str::to_string)
            })
            .flatten()
    }

    /// Step 4: the URL on the SRV record's target.
    async fn srv_step(&mut self, client: Client, domain: &str) -> Option<String> {
        let srv_name = format!("_autodiscover._tcp.{domain}");
        match self.fetcher.dns.srv(&srv_name).await {
            Ok(records) => {
                let srv = records
                    .iter()
                    .filter(|r| r.target != ".")
                    .min_by_key(|r| r.priority)?;
                self.attempt(
                    client,
                    format!("SRV {srv_name}"),
                    format!("{} {}", srv.port, srv.target),
                    Status::Pass,
                );
                let port = if srv.port == 443 {
                    String::new()
                } else {
                    format!(":{}", srv.port)
                };
                Some(format!(
                    "https://{}{port}/autodiscover/autodiscover.xml",
                    srv.target
                ))
            }
            Err(e) => {
                self.attempt(
                    client,
                    format!("SRV {srv_name}"),
                    e.to_string(),
                    Status::Warn,
                );
                None
            }
        }
    }

    async fn get(&mut self, client: Client, url: &str) -> Option<Fetched> {
        let parsed = Url::parse(url).ok()?;
        match self.fetcher.fetch("GET", &parsed, &[], b"").await {
            Ok(answer) => {
                let outcome = match answer.header("location") {
                    Some(location) => format!("{} to {location}", answer.status),
                    None => answer.status.to_string(),
                };
                self.attempt(client, format!("GET {url}"), outcome, Status::Pass);
                Some(answer)
            }
            Err(e) => {
                self.attempt(client, format!("GET {url}"), e.to_string(), Status::Warn);
                None
            }
        }
    }

    /// One POST, with Basic credentials after a 401 when there is a password.
    async fn post(&mut self, client: Client, url: &str, address: &str, schema: &str) -> Step {
        let end = Step::Stop;
        let Ok(parsed) = Url::parse(url) else {
            self.attempt(client, format!("POST {url}"), "not a URL", Status::Fail);
            return end;
        };
        if parsed.scheme() != "https" {
            self.attempt(
                client,
                format!("POST {url}"),
                "refused: clients only post credentials over https",
                Status::Fail,
            );
            return end;
        }
        let body = pox_request_body(address, schema);
        let mut headers = vec![("content-type", "text/xml; charset=utf-8".to_string())];
        let mut answer = self
            .fetcher
            .fetch("POST", &parsed, &headers, body.as_bytes())
            .await;
        let challenged = answer.as_ref().is_ok_and(|a| a.status == 401);
        if let (true, Some(password)) = (challenged, self.password.clone()) {
            self.attempt(
                client,
                format!("POST {url}"),
                "401, sending credentials",
                Status::Pass,
            );
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{password}", self.address));
            headers.push(("authorization", format!("Basic {token}")));
            answer = self
                .fetcher
                .fetch("POST", &parsed, &headers, body.as_bytes())
                .await;
        }
        let request = format!("POST {url}");
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                let status = if matches!(e, FetchError::Tls(..)) {
                    Status::Fail
                } else {
                    Status::Warn
                };
                self.attempt(client, request, e.to_string(), status);
                return end;
            }
        };
        if matches!(answer.status, 301 | 302 | 303 | 307 | 308) {
            let location = answer.header("location").unwrap_or_default().to_string();
            self.attempt(
                client,
                request,
                format!("{} to {location}", answer.status),
                Status::Pass,
            );
            return Step::Follow(location);
        }
        if answer.status != 200 {
            self.attempt(client, request, answer.status.to_string(), Status::Warn);
            return end;
        }
        match pox::parse_answer(&answer.body) {
            Ok(PoxAnswer::Settings { protocols, .. }) => {
                self.attempt(
                    client,
                    request,
                    format!("200: settings with {} protocols", protocols.len()),
                    Status::Pass,
                );
                let settings = protocols
                    .iter()
                    .filter_map(|p| {
                        Some(Setting {
                            protocol: p.kind.clone(),
                            host: p.server.clone()?,
                            port: p.port?,
                            security: pox_security(p),
                            login: p.login_name.clone(),
                        })
                    })
                    .filter(|s| ["IMAP", "POP3", "SMTP"].contains(&s.protocol.as_str()))
                    .collect();
                let urls = protocols.iter().filter_map(|p| p.ews_url.clone()).collect();
                Step::Done(Found {
                    client,
                    source: url.to_string(),
                    settings,
                    urls,
                })
            }
            Ok(PoxAnswer::MobileSync { url: server }) => {
                self.attempt(client, request, "200: ActiveSync server", Status::Pass);
                Step::Done(Found {
                    client,
                    source: url.to_string(),
                    settings: Vec::new(),
                    urls: server.into_iter().collect(),
                })
            }
            Ok(PoxAnswer::RedirectAddress(to)) => {
                self.attempt(
                    client,
                    request,
                    format!("redirect to the address {to}"),
                    Status::Pass,
                );
                Step::Readdress(to)
            }
            Ok(PoxAnswer::RedirectUrl(to)) => {
                self.attempt(client, request, format!("redirect to {to}"), Status::Pass);
                Step::Follow(to)
            }
            Ok(PoxAnswer::Error { code, message }) => {
                self.attempt(
                    client,
                    request,
                    format!("error {code}: {message}"),
                    Status::Fail,
                );
                end
            }
            Err(e) => {
                self.attempt(
                    client,
                    request,
                    format!("200, but not autodiscover XML: {e}"),
                    Status::Fail,
                );
                end
            }
        }
    }

    /// Thunderbird's order: autoconfig.<domain>, then the domain's well-known path, https then
    /// http. (Its ISPDB and MX steps are Mozilla's and the mail provider's, not this server's.)
    async fn autoconfig(&mut self) -> Option<Found> {
        let domain = Self::domain_of(&self.address);
        let encoded = self.address.replace('@', "%40");
        let urls = [
            format!("https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={encoded}"),
            format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
            format!("http://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={encoded}"),
            format!("http://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
        ];
        for url in urls {
            let Some(answer) = self.get(Client::Thunderbird, &url).await else {
                continue;
            };
            if answer.status != 200 {
                continue;
            }
            let content_type = answer
                .header("content-type")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !content_type.starts_with("text/xml") && !content_type.starts_with("application/xml")
            {
                self.attempt(
                    Client::Thunderbird,
                    url,
                    format!("ignored: Content-Type '{content_type}'"),
                    Status::Fail,
                );
                continue;
            }
            match autoconfig::parse(&answer.body) {
                Ok(parsed) => {
                    let address = self.address.clone();
                    let expand = |text: &str| {
                        let (local, domain) = address.rsplit_once('@').unwrap_or((&address, ""));
                        signpost_protocol::placeholders::replace(text, |name| match name {
                            "EMAILADDRESS" => Some(address.as_str().into()),
                            "EMAILLOCALPART" => Some(local.into()),
                            "EMAILDOMAIN" => Some(domain.into()),
                            _ => None,
                        })
                        .into_owned()
                    };
                    let settings = parsed
                        .config
                        .incoming
                        .iter()
                        .chain(&parsed.config.outgoing)
                        .filter_map(|s| {
                            Some(Setting {
                                protocol: match s.kind.as_str() {
                                    "imap" => "IMAP",
                                    "pop3" => "POP3",
                                    "smtp" => "SMTP",
                                    _ => return None,
                                }
                                .to_string(),
                                host: expand(s.hostname.as_deref()?),
                                port: s.port?,
                                security: match s
                                    .socket_type
                                    .as_deref()
                                    .map(str::to_ascii_uppercase)
                                    .as_deref()
                                {
                                    Some("SSL") => Security::Ssl,
                                    Some("STARTTLS") => Security::Starttls,
                                    _ => Security::Plain,
                                },
                                login: s.username.as_deref().map(expand),
                            })
                        })
                        .collect();
                    return Some(Found {
                        client: Client::Thunderbird,
                        source: url,
                        settings,
                        urls: Vec::new(),
                    });
                }
                Err(e) => self.attempt(
                    Client::Thunderbird,
                    url,
                    format!("not a configuration: {e}"),
                    Status::Fail,
                ),
            }
        }
        None
    }

    async fn v2(&mut self) -> Option<Found> {
        let domain = Self::domain_of(&self.address);
        let mut urls = Vec::new();
        for protocol in ["AutodiscoverV1", "ActiveSync", "Ews"] {
            let url = format!(
                "https://autodiscover.{domain}/autodiscover/autodiscover.json/v1.0/{}?Protocol={protocol}",
                self.address
            );
            let Some(answer) = self.get(Client::V2, &url).await else {
                continue;
            };
            let found = (answer.status == 200)
                .then(|| serde_json::from_slice::<serde_json::Value>(&answer.body).ok())
                .flatten()
                .and_then(|v| v["Url"].as_str().map(|u| format!("{protocol}: {u}")));
            urls.extend(found);
        }
        (!urls.is_empty()).then(|| Found {
            client: Client::V2,
            source: format!("https://autodiscover.{domain}/autodiscover/autodiscover.json"),
            settings: Vec::new(),
            urls,
        })
    }

    /// Apple devices do not discover; the profile a person downloads is fetched instead.
    async fn apple(&mut self) -> Option<Found> {
        let domain = Self::domain_of(&self.address);
        let encoded = self.address.replace('@', "%40");
        for host in [
            format!("autoconfig.{domain}"),
            format!("autodiscover.{domain}"),
        ] {
            let url = format!("https://{host}/mobileconfig?emailaddress={encoded}");
            let Some(answer) = self.get(Client::Apple, &url).await else {
                continue;
            };
            if answer.status != 200 {
                continue;
            }
            if answer.header("content-type") != Some("application/x-apple-aspen-config") {
                self.attempt(
                    Client::Apple,
                    url,
                    "not a configuration profile",
                    Status::Fail,
                );
                continue;
            }
            let signed = answer.body.first() == Some(&0x30);
            let settings = if signed {
                Vec::new()
            } else {
                profile_settings(&answer.body)
            };
            let note = if signed {
                "signed profile"
            } else {
                "unsigned profile"
            };
            return Some(Found {
                client: Client::Apple,
                source: url,
                settings,
                urls: vec![note.to_string()],
            });
        }
        None
    }

    async fn connect_all(&mut self) {
        let mut seen: Vec<Setting> = Vec::new();
        let settings: Vec<Setting> = self
            .report
            .found
            .iter()
            .flat_map(|f| f.settings.clone())
            .collect();
        for setting in settings {
            if seen.iter().any(|s| {
                s.host == setting.host && s.port == setting.port && s.protocol == setting.protocol
            }) {
                continue;
            }
            seen.push(setting.clone());
            let protocol = match setting.protocol.as_str() {
                "IMAP" => MailProtocol::Imap,
                "POP3" => MailProtocol::Pop3,
                _ => MailProtocol::Smtp,
            };
            let login = setting
                .login
                .clone()
                .unwrap_or_else(|| self.address.clone());
            let credentials = self.password.as_deref().map(|p| (login.as_str(), p));
            let connection = mail::connect(
                protocol,
                &setting.host,
                setting.port,
                setting.security,
                &self.fetcher.dns,
                &self.fetcher.roots,
                credentials,
            )
            .await;
            self.report.connections.push(connection);
        }
    }
}

/// Thunderbird's reading of POX: `SSL on` means STARTTLS on the plain-text ports and implicit TLS
/// elsewhere; `Encryption` says it outright when present.
fn pox_security(protocol: &pox::AnsweredProtocol) -> Security {
    match protocol
        .encryption
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("SSL") => Security::Ssl,
        Some("TLS") => Security::Starttls,
        Some("NONE") => Security::Plain,
        _ => match (protocol.ssl, protocol.port) {
            (Some(false), _) => Security::Plain,
            (_, Some(143 | 110 | 25 | 587)) => Security::Starttls,
            _ => Security::Ssl,
        },
    }
}

/// The mail servers of an unsigned profile.
fn profile_settings(body: &[u8]) -> Vec<Setting> {
    let limits = xml_reader::Limits {
        max_depth: 16,
        max_elements: 2000,
        max_attributes: 4,
        max_text_bytes: 64 * 1024,
    };
    // Profiles carry a DOCTYPE, which the hardened reader refuses: cut it out first.
    let text = String::from_utf8_lossy(body);
    let without_doctype = match (text.find("<!DOCTYPE"), text.find("<plist")) {
        (Some(start), Some(plist)) if start < plist => {
            format!("{}{}", &text[..start], &text[plist..])
        }
        _ => text.to_string(),
    };
    let Ok(root) = xml_reader::parse(without_doctype.as_bytes(), limits) else {
        return Vec::new();
    };
    let mut settings = Vec::new();
    let mut dicts = vec![&root];
    while let Some(element) = dicts.pop() {
        if element.name == "dict" {
            let value = |key: &str| {
                element
                    .children
                    .iter()
                    .position(|c| c.name == "key" && c.text == key)
                    .and_then(|i| element.children.get(i + 1))
            };
            for (direction, protocol) in [("Incoming", None), ("Outgoing", Some("SMTP"))] {
                let host = value(&format!("{direction}MailServerHostName")).map(|v| v.text.clone());
                let port = value(&format!("{direction}MailServerPortNumber"))
                    .and_then(|v| v.text.parse().ok());
                let ssl = value(&format!("{direction}MailServerUseSSL"))
                    .is_some_and(|v| v.name == "true");
                let kind = protocol.map(str::to_string).or_else(|| {
                    value("EmailAccountType").map(|v| {
                        if v.text == "EmailTypePOP" {
                            "POP3".into()
                        } else {
                            "IMAP".into()
                        }
                    })
                });
                if let (Some(host), Some(port), Some(kind)) = (host, port, kind) {
                    let security = match (ssl, port) {
                        (false, _) => Security::Plain,
                        (true, 143 | 110 | 25 | 587) => Security::Starttls,
                        (true, _) => Security::Ssl,
                    };
                    let login =
                        value(&format!("{direction}MailServerUsername")).map(|v| v.text.clone());
                    settings.push(Setting {
                        protocol: kind,
                        host,
                        port,
                        security,
                        login,
                    });
                }
            }
        }
        dicts.extend(element.children.iter());
    }
    settings
}
