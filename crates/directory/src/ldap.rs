//! An LDAP directory (OpenLDAP, Active Directory, 389-ds...): the user's entry found by a search
//! or a DN template, the password checked by binding as that entry.

use ldap3::{
    Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions, SearchResult,
};
use signpost_core::model::{LdapLookup, LdapSource, ProtocolKind, ldap_service_names};
use signpost_diagnostics::tls::Roots;

use crate::placeholders::{Subject, fill, ldap_dn_value, ldap_filter_value};
use crate::{Answer, LOOKUP_TIMEOUT, directory_user};

/// LDAP result code for a wrong password (or a DN that does not exist).
const INVALID_CREDENTIALS: u32 = 49;
/// Some servers (389-ds, AD) answer a disabled or locked account with this.
const UNWILLING_TO_PERFORM: u32 = 53;
/// More entries matched than asked for.
const SIZE_LIMIT_EXCEEDED: u32 = 4;

pub async fn authenticate(
    source: &LdapSource,
    subject: &Subject,
    password: &str,
    roots: &Roots,
) -> Answer {
    let tls = match roots.client_config() {
        Ok(config) => config,
        Err(e) => return Answer::Unavailable(format!("TLS settings: {e}")),
    };
    let settings = LdapConnSettings::new()
        .set_conn_timeout(LOOKUP_TIMEOUT)
        .set_starttls(source.starttls)
        .set_config(tls);
    let (connection, mut ldap) = match LdapConnAsync::with_settings(settings, &source.url).await {
        Ok(opened) => opened,
        Err(e) => {
            return Answer::Unavailable(format!("cannot reach {}: {e}", source.url));
        }
    };
    ldap3::drive!(connection);
    let answer = match converse(source, subject, password, &mut ldap).await {
        Ok(answer) => answer,
        Err(e) => Answer::Unavailable(format!("{}: {e}", source.url)),
    };
    let _ = ldap.unbind().await;
    answer
}

fn attributes(source: &LdapSource) -> Vec<&str> {
    let mut wanted = vec![source.display_name_attribute.as_str()];
    for name in [
        &source.login_attribute,
        &source.services_attribute,
        &source.active_attribute,
    ]
    .into_iter()
    .flatten()
    {
        wanted.push(name);
    }
    wanted
}

async fn converse(
    source: &LdapSource,
    subject: &Subject,
    password: &str,
    ldap: &mut Ldap,
) -> ldap3::result::Result<Answer> {
    let wanted = attributes(source);
    let (dn, found) = match &source.lookup {
        LdapLookup::Search {
            base,
            filter,
            bind_dn,
            bind_password,
        } => {
            if let Some(bind_dn) = bind_dn {
                let bound = ldap
                    .simple_bind(bind_dn, bind_password.as_deref().unwrap_or(""))
                    .await?;
                if bound.rc != 0 {
                    return Ok(Answer::Unavailable(format!(
                        "the search account {bind_dn} cannot bind ({})",
                        result_said(bound.rc, &bound.text)
                    )));
                }
            }
            let filter = fill(filter, subject, ldap_filter_value);
            // Two entries are enough to know the filter is ambiguous; the server stops there
            // (sizeLimitExceeded) instead of sending every match.
            let SearchResult(entries, result) = ldap
                .with_search_options(SearchOptions::new().sizelimit(2))
                .search(base, Scope::Subtree, &filter, wanted.clone())
                .await?;
            if result.rc != 0 && result.rc != SIZE_LIMIT_EXCEEDED {
                return Ok(Answer::Unavailable(format!(
                    "searching {base} failed ({})",
                    result_said(result.rc, &result.text)
                )));
            }
            let mut entries = entries.into_iter().filter_map(readable_entry);
            match (entries.next(), entries.next()) {
                (None, _) => return Ok(Answer::Refused(format!("no entry matches {filter}"))),
                (Some(_), Some(_)) => {
                    return Ok(Answer::Refused(format!(
                        "more than one entry matches {filter}: the filter must find one user"
                    )));
                }
                (Some(entry), None) => (entry.dn.clone(), Some(entry)),
            }
        }
        LdapLookup::Template { dn } => (fill(dn, subject, ldap_dn_value), None),
    };
    let bound = ldap.simple_bind(&dn, password).await?;
    match bound.rc {
        0 => {}
        INVALID_CREDENTIALS | UNWILLING_TO_PERFORM => {
            return Ok(Answer::Refused(format!(
                "binding as {dn} was refused ({})",
                result_said(bound.rc, &bound.text)
            )));
        }
        other => {
            return Ok(Answer::Unavailable(format!(
                "binding as {dn} failed ({})",
                result_said(other, &bound.text)
            )));
        }
    }
    // The entry as the user sees it (a template names no entry until now).
    let entry = match found {
        Some(entry) => entry,
        None => {
            let (entries, _) = ldap
                .search(&dn, Scope::Base, "(objectClass=*)", wanted)
                .await?
                .success()?;
            match entries.into_iter().next() {
                Some(entry) => SearchEntry::construct(entry),
                None => {
                    return Ok(Answer::Unavailable(format!(
                        "{dn} cannot read its own entry"
                    )));
                }
            }
        }
    };
    Ok(user_from_entry(source, subject, &entry))
}

/// An entry as names and values; `None` for one ldap3 cannot read (it panics on a DN or an
/// attribute name that is not UTF-8, which only a broken or hostile directory sends).
fn readable_entry(entry: ldap3::ResultEntry) -> Option<SearchEntry> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        SearchEntry::construct(entry)
    }))
    .ok()
}

fn first<'e>(entry: &'e SearchEntry, attribute: &str) -> Option<&'e str> {
    entry
        .attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
        .and_then(|(_, values)| values.first())
        .map(String::as_str)
}

fn user_from_entry(source: &LdapSource, subject: &Subject, entry: &SearchEntry) -> Answer {
    if let (Some(attribute), Some(wanted)) = (&source.active_attribute, &source.active_value)
        && !first(entry, attribute).is_some_and(|v| v.eq_ignore_ascii_case(wanted))
    {
        return Answer::Refused(format!("{} does not hold {attribute}: {wanted}", entry.dn));
    }
    let mut user = directory_user(
        subject,
        first(entry, &source.display_name_attribute),
        source
            .login_attribute
            .as_deref()
            .and_then(|a| first(entry, a)),
    );
    if let Some(attribute) = &source.services_attribute {
        let services: Vec<&String> = entry
            .attrs
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(attribute))
            .flat_map(|(_, values)| values)
            .collect();
        for kind in ProtocolKind::ALL {
            let named = ldap_service_names(kind)
                .iter()
                .any(|n| services.iter().any(|s| s.eq_ignore_ascii_case(n)));
            user.access.set(kind, named);
        }
    }
    Answer::Verified(user)
}

/// An LDAP result as the server gave it: its code, the code's name (RFC 4511), and the
/// server's own text when it sent any ("result 49 invalidCredentials", "result 53
/// unwillingToPerform: account locked").
fn result_said(code: u32, text: &str) -> String {
    let name = match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "",
    };
    let text = text.trim();
    let mut said = format!("result {code}");
    if !name.is_empty() {
        said.push(' ');
        said.push_str(name);
    }
    if !text.is_empty() {
        said.push_str(": ");
        said.push_str(text);
    }
    said
}

#[cfg(test)]
mod result_tests {
    use super::result_said;

    #[test]
    fn results_are_named_with_the_servers_text() {
        assert_eq!(result_said(49, ""), "result 49 invalidCredentials");
        assert_eq!(
            result_said(53, " account locked "),
            "result 53 unwillingToPerform: account locked"
        );
        assert_eq!(result_said(4711, "odd"), "result 4711: odd");
    }
}
