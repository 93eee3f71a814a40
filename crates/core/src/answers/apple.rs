//! The Apple configuration profile for one address: a mail account (IMAP preferred, else POP,
//! with SMTP), or an ActiveSync account when the domain prefers it for Apple devices, plus
//! CalDAV and CardDAV accounts when the domain has them.

use std::borrow::Cow;

use signpost_protocol::mobileconfig::{
    ActiveSyncAccount, DavAccount, MailAccount, MailAccountType, MailServer, Payload, PayloadIds,
    Profile,
};

use crate::discovery::Account;
use crate::model::{AppleAccount, Encryption, Endpoint, ProtocolKind};

/// Signpost's namespace for profile UUIDs (a UUIDv5 of its name under the URL namespace).
fn namespace() -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        b"https://signpost.invalid/mobileconfig",
    )
}

/// Stable identifiers: the same address and part always give the same UUID and identifier, so
/// installing the profile again replaces the account.
fn ids(account: &Account<'_>, part: &str) -> PayloadIds {
    let uuid = uuid::Uuid::new_v5(
        &namespace(),
        format!("{}/{part}", account.address).as_bytes(),
    );
    let reversed: Vec<&str> = account.address_domain().rsplit('.').collect();
    let account_id = uuid::Uuid::new_v5(&namespace(), account.address.as_bytes());
    PayloadIds {
        identifier: format!(
            "{}.signpost.{}.{part}",
            reversed.join("."),
            account_id.simple()
        ),
        uuid: uuid.to_string().to_uppercase(),
    }
}

fn mail_server(account: &Account<'_>, endpoint: &Endpoint) -> MailServer {
    MailServer {
        host: account.host_for(endpoint).into_owned(),
        port: endpoint.port,
        use_ssl: endpoint.encryption != Encryption::None,
        username: account.login_for(endpoint).map(Cow::into_owned),
    }
}

fn mail_payload(account: &Account<'_>, description: &str) -> Option<Payload> {
    let protocols = &account.domain.protocols;
    let (account_type, incoming) = if account.offers(ProtocolKind::Imap) {
        (MailAccountType::Imap, &protocols.imap.primary)
    } else if account.offers(ProtocolKind::Pop) {
        (MailAccountType::Pop, &protocols.pop.primary)
    } else {
        return None;
    };
    if !account.offers(ProtocolKind::Smtp) {
        return None;
    }
    Some(Payload::Mail(MailAccount {
        ids: ids(account, "mail"),
        account_type,
        description: description.to_string(),
        account_name: account.display_name.map(str::to_string),
        address: account.address.clone(),
        incoming: mail_server(account, incoming),
        outgoing: mail_server(account, &protocols.smtp.primary),
    }))
}

fn activesync_payload(account: &Account<'_>, description: &str) -> Option<Payload> {
    let endpoint = &account.domain.protocols.eas.primary;
    (account.domain.apple_account == AppleAccount::Eas && account.offers(ProtocolKind::Eas)).then(
        || {
            Payload::ActiveSync(ActiveSyncAccount {
                ids: ids(account, "eas"),
                description: description.to_string(),
                host: account.host_for(endpoint).into_owned(),
                username: Some(
                    account
                        .login_name
                        .map_or_else(|| account.address.clone(), str::to_string),
                ),
                address: account.address.clone(),
            })
        },
    )
}

fn dav_account(
    account: &Account<'_>,
    part: &str,
    url: &str,
    description: String,
) -> Option<DavAccount> {
    let parsed = url::Url::parse(url).ok()?;
    Some(DavAccount {
        ids: ids(account, part),
        description,
        host: parsed.host_str()?.to_string(),
        port: parsed.port_or_known_default()?,
        use_ssl: parsed.scheme() == "https",
        username: Some(
            account
                .login_name
                .map_or_else(|| account.address.clone(), str::to_string),
        ),
        principal_url: Some(url.to_string()),
    })
}

/// The profile, or `None` when there is nothing this account may set up on an Apple device.
pub fn profile(account: &Account<'_>) -> Option<Profile> {
    let domain = account.domain;
    let provider = domain.shown_name();
    let mut payloads = Vec::new();
    let mail = activesync_payload(account, provider).or_else(|| mail_payload(account, provider));
    payloads.extend(mail);
    if let Some(url) = &domain.caldav_url {
        payloads.extend(
            dav_account(account, "caldav", url, format!("{provider} Calendar"))
                .map(Payload::CalDav),
        );
    }
    if let Some(url) = &domain.carddav_url {
        payloads.extend(
            dav_account(account, "carddav", url, format!("{provider} Contacts"))
                .map(Payload::CardDav),
        );
    }
    if payloads.is_empty() {
        return None;
    }
    Some(Profile {
        ids: ids(account, "profile"),
        display_name: format!("{provider}: {}", account.address),
        description: format!(
            "Sets up {} on this device. Your password is asked for when the profile is installed.",
            account.address
        ),
        organization: provider.to_string(),
        payloads,
    })
}

/// The profile as an unsigned property list.
pub fn profile_answer(account: &Account<'_>) -> Option<String> {
    profile(account).map(|p| signpost_protocol::mobileconfig::write(&p))
}
