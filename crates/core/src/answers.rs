//! Turns an [`Account`] into each client's answer, through the protocol crate's writers.

use signpost_protocol::autodiscover_v2::V2Protocol;
use signpost_protocol::override_template::{self, TemplateValues};
use signpost_protocol::pox::{
    self, DesktopSettings, DesktopUser, ExchangeProtocol, MailProtocol, MailProtocolType,
    MobileSyncSettings,
};

use crate::discovery::Account;
use crate::model::{Domain, Encryption, ProtocolKind};

/// Server-wide answer settings.
#[derive(Debug, Clone)]
pub struct AnswerOptions {
    /// Hours Outlook may cache the desktop answer.
    pub ttl_hours: u32,
    /// The `Culture` of ActiveSync answers.
    pub culture: String,
}

impl Default for AnswerOptions {
    fn default() -> Self {
        Self {
            ttl_hours: 1,
            culture: "en:us".into(),
        }
    }
}

/// A stable identifier per domain for `DeploymentId` (UUIDv5 of the domain name).
pub fn deployment_id(domain: &Domain) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, domain.name.as_bytes()).to_string()
}

pub fn ews_url(domain: &Domain) -> String {
    format!(
        "https://{}/EWS/Exchange.asmx",
        domain.host_for(ProtocolKind::Ews)
    )
}

pub fn activesync_url(domain: &Domain) -> String {
    format!(
        "https://{}/Microsoft-Server-ActiveSync",
        domain.host_for(ProtocolKind::Eas)
    )
}

/// Where the POX autodiscover of a domain lives, for the v2 `AutodiscoverV1` answer.
pub fn autodiscover_v1_url(domain: &Domain) -> String {
    format!(
        "https://autodiscover.{}/autodiscover/autodiscover.xml",
        domain.name
    )
}

fn wire_encryption(encryption: Encryption) -> pox::Encryption {
    match encryption {
        Encryption::Ssl => pox::Encryption::Ssl,
        Encryption::Starttls => pox::Encryption::StartTls,
        Encryption::None => pox::Encryption::None,
    }
}

/// The generated desktop settings, before any override.
pub fn desktop_settings(account: &Account<'_>, options: &AnswerOptions) -> DesktopSettings {
    let domain = account.domain;
    let mail = [
        (ProtocolKind::Imap, MailProtocolType::Imap),
        (ProtocolKind::Pop, MailProtocolType::Pop3),
        (ProtocolKind::Smtp, MailProtocolType::Smtp),
    ]
    .into_iter()
    .filter(|(kind, _)| account.offers(*kind))
    .map(|(kind, wire)| {
        let setting = domain.protocols.get(kind);
        MailProtocol {
            kind: wire,
            server: domain.host_for(kind).to_string(),
            port: setting.port,
            login_name: account.login_name.clone(),
            encryption: wire_encryption(setting.encryption),
        }
    })
    .collect();
    let exchange = account.offers(ProtocolKind::Ews).then(|| ExchangeProtocol {
        server: domain.host_for(ProtocolKind::Ews).to_string(),
        ews_url: ews_url(domain),
    });
    DesktopSettings {
        user: DesktopUser {
            display_name: account.display_name.clone(),
            legacy_dn: account.legacy_dn.clone(),
            smtp_address: account.address.clone(),
            deployment_id: deployment_id(domain),
        },
        mail,
        exchange,
        ttl_hours: options.ttl_hours,
    }
}

fn template_values<'a>(account: &'a Account<'_>) -> TemplateValues<'a> {
    TemplateValues {
        email_address: &account.address,
        display_name: &account.display_name,
        legacy_dn: &account.legacy_dn,
    }
}

/// The generated desktop answer, ignoring any override (what the seed's Generate button shows).
pub fn generated_desktop_answer(account: &Account<'_>, options: &AnswerOptions) -> String {
    pox::write_desktop_settings(&desktop_settings(account, options))
}

/// The desktop answer as sent: the domain's override when it counts, else the generated one.
pub fn desktop_answer(account: &Account<'_>, options: &AnswerOptions) -> String {
    match account.domain.desktop_override.active_text() {
        Some(text) => override_template::substitute(text, &template_values(account)),
        None => generated_desktop_answer(account, options),
    }
}

/// The generated ActiveSync answer, or `None` when ActiveSync is off for the domain or the user.
pub fn generated_mobile_answer(account: &Account<'_>, options: &AnswerOptions) -> Option<String> {
    account.offers(ProtocolKind::Eas).then(|| {
        pox::write_mobilesync_settings(&MobileSyncSettings {
            culture: options.culture.clone(),
            display_name: account.display_name.clone(),
            email_address: account.address.clone(),
            url: activesync_url(account.domain),
        })
    })
}

/// The ActiveSync answer as sent, or `None` when ActiveSync is off (error 601). An override never
/// turns on a protocol the domain or the user has off.
pub fn mobile_answer(account: &Account<'_>, options: &AnswerOptions) -> Option<String> {
    if !account.offers(ProtocolKind::Eas) {
        return None;
    }
    match account.domain.mobile_override.active_text() {
        Some(text) => Some(override_template::substitute(
            text,
            &template_values(account),
        )),
        None => generated_mobile_answer(account, options),
    }
}

/// The URL of the v2 JSON answer, or `None` when that service is off.
pub fn v2_url(account: &Account<'_>, protocol: V2Protocol) -> Option<String> {
    let domain = account.domain;
    match protocol {
        V2Protocol::ActiveSync => account
            .offers(ProtocolKind::Eas)
            .then(|| activesync_url(domain)),
        V2Protocol::Ews => account.offers(ProtocolKind::Ews).then(|| ews_url(domain)),
        V2Protocol::AutodiscoverV1 => Some(autodiscover_v1_url(domain)),
    }
}
