//! Apple configuration profiles (`.mobileconfig`) for iOS and macOS: a mail account (IMAP or POP
//! with SMTP), an Exchange ActiveSync account, CalDAV and CardDAV accounts. Never a password.

use crate::plist::{self, Value};

/// The identifier and UUID of a profile or payload. Keep both stable for the same address, so a
/// profile installed again replaces the account instead of adding a twin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadIds {
    pub identifier: String,
    pub uuid: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailAccountType {
    Imap,
    Pop,
}

/// One server of a mail account. `use_ssl` covers implicit TLS and STARTTLS alike: profiles have
/// no separate STARTTLS switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailServer {
    pub host: String,
    pub port: u16,
    pub use_ssl: bool,
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAccount {
    pub ids: PayloadIds,
    pub account_type: MailAccountType,
    pub description: String,
    /// The person's name, shown as the sender; `None` lets the device ask.
    pub account_name: Option<String>,
    pub address: String,
    pub incoming: MailServer,
    pub outgoing: MailServer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSyncAccount {
    pub ids: PayloadIds,
    pub description: String,
    pub host: String,
    pub username: Option<String>,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavAccount {
    pub ids: PayloadIds,
    pub description: String,
    pub host: String,
    pub port: u16,
    pub use_ssl: bool,
    pub username: Option<String>,
    pub principal_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Mail(MailAccount),
    ActiveSync(ActiveSyncAccount),
    CalDav(DavAccount),
    CardDav(DavAccount),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub ids: PayloadIds,
    pub display_name: String,
    pub description: String,
    pub organization: String,
    pub payloads: Vec<Payload>,
}

fn common(kind: &'static str, ids: &PayloadIds, display_name: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("PayloadType", kind.into()),
        ("PayloadVersion", Value::Integer(1)),
        ("PayloadIdentifier", ids.identifier.as_str().into()),
        ("PayloadUUID", ids.uuid.as_str().into()),
        ("PayloadDisplayName", display_name.into()),
    ]
}

fn mail_payload(account: &MailAccount) -> Value {
    let mut dict = common("com.apple.mail.managed", &account.ids, &account.description);
    let account_type = match account.account_type {
        MailAccountType::Imap => "EmailTypeIMAP",
        MailAccountType::Pop => "EmailTypePOP",
    };
    dict.push(("EmailAccountType", account_type.into()));
    dict.push((
        "EmailAccountDescription",
        account.description.as_str().into(),
    ));
    if let Some(name) = &account.account_name {
        dict.push(("EmailAccountName", name.as_str().into()));
    }
    dict.push(("EmailAddress", account.address.as_str().into()));
    let incoming = &account.incoming;
    dict.push((
        "IncomingMailServerAuthentication",
        "EmailAuthPassword".into(),
    ));
    dict.push(("IncomingMailServerHostName", incoming.host.as_str().into()));
    dict.push(("IncomingMailServerPortNumber", incoming.port.into()));
    dict.push(("IncomingMailServerUseSSL", incoming.use_ssl.into()));
    if let Some(username) = &incoming.username {
        dict.push(("IncomingMailServerUsername", username.as_str().into()));
    }
    let outgoing = &account.outgoing;
    dict.push((
        "OutgoingMailServerAuthentication",
        "EmailAuthPassword".into(),
    ));
    dict.push(("OutgoingMailServerHostName", outgoing.host.as_str().into()));
    dict.push(("OutgoingMailServerPortNumber", outgoing.port.into()));
    dict.push(("OutgoingMailServerUseSSL", outgoing.use_ssl.into()));
    if let Some(username) = &outgoing.username {
        dict.push(("OutgoingMailServerUsername", username.as_str().into()));
    }
    dict.push(("OutgoingPasswordSameAsIncomingPassword", true.into()));
    Value::Dict(dict)
}

fn activesync_payload(account: &ActiveSyncAccount) -> Value {
    let mut dict = common("com.apple.eas.account", &account.ids, &account.description);
    dict.push(("Host", account.host.as_str().into()));
    dict.push(("SSL", true.into()));
    if let Some(username) = &account.username {
        dict.push(("UserName", username.as_str().into()));
    }
    dict.push(("EmailAddress", account.address.as_str().into()));
    Value::Dict(dict)
}

fn dav_payload(kind: &'static str, prefix: DavKeys, account: &DavAccount) -> Value {
    let mut dict = common(kind, &account.ids, &account.description);
    dict.push((prefix.description, account.description.as_str().into()));
    dict.push((prefix.host, account.host.as_str().into()));
    dict.push((prefix.port, account.port.into()));
    dict.push((prefix.use_ssl, account.use_ssl.into()));
    if let Some(username) = &account.username {
        dict.push((prefix.username, username.as_str().into()));
    }
    if let Some(url) = &account.principal_url {
        dict.push((prefix.principal_url, url.as_str().into()));
    }
    Value::Dict(dict)
}

struct DavKeys {
    description: &'static str,
    host: &'static str,
    port: &'static str,
    use_ssl: &'static str,
    username: &'static str,
    principal_url: &'static str,
}

const CALDAV_KEYS: DavKeys = DavKeys {
    description: "CalDAVAccountDescription",
    host: "CalDAVHostName",
    port: "CalDAVPort",
    use_ssl: "CalDAVUseSSL",
    username: "CalDAVUsername",
    principal_url: "CalDAVPrincipalURL",
};

const CARDDAV_KEYS: DavKeys = DavKeys {
    description: "CardDAVAccountDescription",
    host: "CardDAVHostName",
    port: "CardDAVPort",
    use_ssl: "CardDAVUseSSL",
    username: "CardDAVUsername",
    principal_url: "CardDAVPrincipalURL",
};

/// Writes the profile as an (unsigned) XML property list.
pub fn write(profile: &Profile) -> String {
    let content = profile
        .payloads
        .iter()
        .map(|payload| match payload {
            Payload::Mail(account) => mail_payload(account),
            Payload::ActiveSync(account) => activesync_payload(account),
            Payload::CalDav(account) => {
                dav_payload("com.apple.caldav.account", CALDAV_KEYS, account)
            }
            Payload::CardDav(account) => {
                dav_payload("com.apple.carddav.account", CARDDAV_KEYS, account)
            }
        })
        .collect();
    let mut top = common("Configuration", &profile.ids, &profile.display_name);
    top.push(("PayloadDescription", profile.description.as_str().into()));
    top.push(("PayloadOrganization", profile.organization.as_str().into()));
    top.push(("PayloadRemovalDisallowed", false.into()));
    top.push(("PayloadContent", Value::Array(content)));
    plist::write(&Value::Dict(top))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_profile_has_the_keys_devices_need() {
        let ids = |n: &str| PayloadIds {
            identifier: format!("com.example.{n}"),
            uuid: format!("00000000-0000-0000-0000-00000000000{}", n.len()),
        };
        let profile = Profile {
            ids: ids("top"),
            display_name: "Example <Mail>".into(),
            description: "d".into(),
            organization: "Example".into(),
            payloads: vec![Payload::Mail(MailAccount {
                ids: ids("mail"),
                account_type: MailAccountType::Imap,
                description: "Example".into(),
                account_name: None,
                address: "jo@example.com".into(),
                incoming: MailServer {
                    host: "imap.example.com".into(),
                    port: 993,
                    use_ssl: true,
                    username: Some("jo@example.com".into()),
                },
                outgoing: MailServer {
                    host: "smtp.example.com".into(),
                    port: 587,
                    use_ssl: true,
                    username: Some("jo@example.com".into()),
                },
            })],
        };
        let doc = write(&profile);
        for needle in [
            "<string>com.apple.mail.managed</string>",
            "<string>EmailTypeIMAP</string>",
            "<key>IncomingMailServerPortNumber</key>\n        <integer>993</integer>",
            "<string>Example &lt;Mail&gt;</string>",
            "<key>PayloadType</key>\n    <string>Configuration</string>",
        ] {
            assert!(doc.contains(needle), "{needle} missing in\n{doc}");
        }
        assert!(!doc.contains("<key>Password</key>"), "never a password");
        assert!(!doc.contains("EmailAccountName"));
    }
}
