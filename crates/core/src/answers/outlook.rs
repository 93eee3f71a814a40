//! Outlook's desktop answer, the ActiveSync answer and Autodiscover v2 URLs.

use std::borrow::Cow;

use signpost_protocol::autodiscover_v2::V2Protocol;
use signpost_protocol::override_template::{self, TemplateValues};
use signpost_protocol::pox::{
    self, DesktopSettings, DesktopUser, ExchangeProtocol, MailProtocol, MailProtocolType,
    MobileSyncSettings,
};

use super::{AnswerOptions, autodiscover_v1_url, deployment_id, exchange_url};
use crate::discovery::Account;
use crate::model::{Encryption, ProtocolKind};

pub fn ews_url(account: &Account<'_>) -> String {
    exchange_url(
        account.domain,
        ProtocolKind::Ews,
        &account.address,
        "/EWS/Exchange.asmx",
    )
}

pub fn activesync_url(account: &Account<'_>) -> String {
    exchange_url(
        account.domain,
        ProtocolKind::Eas,
        &account.address,
        "/Microsoft-Server-ActiveSync",
    )
}

fn wire_encryption(encryption: Encryption) -> pox::Encryption {
    match encryption {
        Encryption::Ssl => pox::Encryption::Ssl,
        Encryption::Starttls => pox::Encryption::StartTls,
        Encryption::None => pox::Encryption::None,
    }
}

/// The generated desktop settings, before any override: each protocol's primary endpoint.
pub fn desktop_settings<'a>(
    account: &'a Account<'_>,
    options: &AnswerOptions,
) -> DesktopSettings<'a> {
    let domain = account.domain;
    let mail = [
        (ProtocolKind::Imap, MailProtocolType::Imap),
        (ProtocolKind::Pop, MailProtocolType::Pop3),
        (ProtocolKind::Smtp, MailProtocolType::Smtp),
    ]
    .into_iter()
    .filter(|(kind, _)| account.offers(*kind))
    .map(|(kind, wire)| {
        let endpoint = &domain.protocols.get(kind).primary;
        MailProtocol {
            kind: wire,
            server: account.host_for(endpoint),
            port: endpoint.port,
            // Outlook needs a login name; without a pattern the address is the usual one.
            login_name: account
                .login_for(endpoint)
                .unwrap_or(Cow::Borrowed(&account.address)),
            encryption: wire_encryption(endpoint.encryption),
        }
    })
    .collect();
    let exchange = account.offers(ProtocolKind::Ews).then(|| ExchangeProtocol {
        server: account.host_for(&domain.protocols.ews.primary),
        ews_url: Cow::Owned(ews_url(account)),
    });
    DesktopSettings {
        user: DesktopUser {
            display_name: Cow::Borrowed(account.shown_name()),
            legacy_dn: account.legacy_dn(),
            smtp_address: Cow::Borrowed(&account.address),
            deployment_id: Cow::Owned(deployment_id(domain)),
        },
        mail,
        exchange,
        ttl_hours: options.ttl_hours,
    }
}

/// Substitutes the account's values into an administrator's custom answer.
fn substitute(template: &str, account: &Account<'_>) -> String {
    let legacy_dn = account.legacy_dn();
    let values = TemplateValues {
        email_address: &account.address,
        display_name: account.shown_name(),
        legacy_dn: &legacy_dn,
    };
    override_template::substitute(template, &values)
}

/// The generated desktop answer, ignoring any override (what the seed's Generate button shows).
pub fn generated_desktop_answer(account: &Account<'_>, options: &AnswerOptions) -> String {
    pox::write_desktop_settings(&desktop_settings(account, options))
}

/// The desktop answer as sent: the domain's override when it counts, else the generated one.
pub fn desktop_answer(account: &Account<'_>, options: &AnswerOptions) -> String {
    match account.domain.desktop_override.active_text() {
        Some(text) => substitute(text, account),
        None => generated_desktop_answer(account, options),
    }
}

/// The generated ActiveSync answer, or `None` when ActiveSync is off for the domain or the user.
pub fn generated_mobile_answer(account: &Account<'_>, options: &AnswerOptions) -> Option<String> {
    account.offers(ProtocolKind::Eas).then(|| {
        pox::write_mobilesync_settings(&MobileSyncSettings {
            culture: options.culture.clone(),
            display_name: account.shown_name().to_string(),
            email_address: account.address.clone(),
            url: activesync_url(account),
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
        Some(text) => Some(substitute(text, account)),
        None => generated_mobile_answer(account, options),
    }
}

/// The URL of the v2 JSON answer, or `None` when that service is off.
pub fn v2_url(account: &Account<'_>, protocol: V2Protocol) -> Option<String> {
    match protocol {
        V2Protocol::ActiveSync => account
            .offers(ProtocolKind::Eas)
            .then(|| activesync_url(account)),
        V2Protocol::Ews => account.offers(ProtocolKind::Ews).then(|| ews_url(account)),
        V2Protocol::AutodiscoverV1 => Some(autodiscover_v1_url(account.address_domain())),
    }
}
