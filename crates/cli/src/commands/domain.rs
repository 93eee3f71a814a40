//! `signpost domain ...`

use anyhow::Context;
use serde::Serialize;
use signpost_core::model::OAuth2Settings;
use signpost_core::{Domain, DomainChange, ProtocolKind};
use signpost_operations::views::NewDomain;

use super::Ctx;
use crate::cli::DomainCommand;
use crate::output::{self, Format, Table, outln};

pub async fn run(ctx: &Ctx, command: DomainCommand) -> anyhow::Result<()> {
    match command {
        DomainCommand::Add {
            name,
            hostname,
            display_name,
            auth,
        } => {
            let domain = ctx
                .ops
                .add_domain(
                    &ctx.actor,
                    &NewDomain {
                        name,
                        hostname,
                        display_name,
                        auth,
                    },
                )
                .await?;
            match ctx.format {
                Format::Json => output::print_json(&domain)?,
                Format::Table => outln!(
                    "added domain {} (hostname {}; IMAP 993 ssl, POP3 995 ssl, SMTP 587 starttls on; EWS and ActiveSync off)",
                    domain.name,
                    domain.hostname
                ),
            }
        }
        DomainCommand::List => list(ctx).await?,
        DomainCommand::Show { name } => {
            let domain = load(ctx, &name).await?;
            show(ctx, &domain).await?;
        }
        DomainCommand::Set {
            name,
            hostname,
            display_name,
            short_name,
            auth,
            redirect_to,
            no_redirect,
            add_aliases,
            remove_aliases,
            documentation_urls,
            webmail_url,
            caldav_url,
            carddav_url,
            oauth2_issuer,
            oauth2_scope,
            oauth2_auth_url,
            oauth2_token_url,
            no_oauth2,
            apple_account,
            acme,
            acme_hostname,
            acme_pacc,
        } => {
            let domain = load(ctx, &name).await?;
            let oauth2 = if no_oauth2 {
                Some(None)
            } else if oauth2_issuer.is_some()
                || oauth2_scope.is_some()
                || oauth2_auth_url.is_some()
                || oauth2_token_url.is_some()
            {
                let current = domain.oauth2.clone();
                let field = |given: Option<String>, current: Option<&str>, flag: &str| {
                    given
                        .or_else(|| current.map(str::to_string))
                        .with_context(|| format!("OAuth2 settings need {flag} as well"))
                };
                Some(Some(OAuth2Settings {
                    issuer: field(
                        oauth2_issuer,
                        current.as_ref().map(|o| o.issuer.as_str()),
                        "--oauth2-issuer",
                    )?,
                    scope: field(
                        oauth2_scope,
                        current.as_ref().map(|o| o.scope.as_str()),
                        "--oauth2-scope",
                    )?,
                    auth_url: field(
                        oauth2_auth_url,
                        current.as_ref().map(|o| o.auth_url.as_str()),
                        "--oauth2-auth-url",
                    )?,
                    token_url: field(
                        oauth2_token_url,
                        current.as_ref().map(|o| o.token_url.as_str()),
                        "--oauth2-token-url",
                    )?,
                }))
            } else {
                None
            };
            let documentation_urls = (!documentation_urls.is_empty()).then(|| {
                documentation_urls
                    .into_iter()
                    .filter(|u| !u.trim().is_empty())
                    .collect()
            });
            let change = DomainChange {
                hostname,
                display_name,
                short_name,
                auth,
                redirect_to: if no_redirect {
                    Some(String::new())
                } else {
                    redirect_to
                },
                add_aliases,
                remove_aliases,
                documentation_urls,
                webmail_url,
                caldav_url,
                carddav_url,
                oauth2,
                apple_account,
                acme,
                acme_hostname,
                acme_pacc,
            };
            if change == DomainChange::default() {
                anyhow::bail!("nothing to change: see signpost domain set --help");
            }
            let domain = ctx
                .ops
                .change_domain(&ctx.actor, &domain.name, &change)
                .await?;
            match ctx.format {
                Format::Json => output::print_json(&domain)?,
                Format::Table => outln!("updated domain {}", domain.name),
            }
        }
        DomainCommand::Remove { name } => {
            let removed = ctx.ops.remove_domain(&ctx.actor, &name).await?;
            outln!(
                "removed domain {} and its {} user(s)",
                removed.name,
                removed.users
            );
        }
        DomainCommand::UserSource { name, set, builtin } => {
            super::user_source::run(ctx, &name, set.as_deref(), builtin).await?;
        }
    }
    Ok(())
}

/// Loads a domain by a name as a person typed it.
pub async fn load(ctx: &Ctx, name: &str) -> anyhow::Result<Domain> {
    Ok(ctx.ops.domain(&ctx.actor, name).await?)
}

async fn list(ctx: &Ctx) -> anyhow::Result<()> {
    let domains = ctx.store.domains().await?;
    let counts = ctx.store.user_counts().await?;
    #[derive(Serialize)]
    struct Listed<'a> {
        #[serde(flatten)]
        domain: &'a Domain,
        users: u64,
    }
    match ctx.format {
        Format::Json => output::print_json(
            &domains
                .iter()
                .map(|domain| Listed {
                    domain,
                    users: counts.get(&domain.name).copied().unwrap_or(0),
                })
                .collect::<Vec<_>>(),
        )?,
        Format::Table => {
            let mut table = Table::new(&[
                "DOMAIN",
                "HOSTNAME",
                "AUTH",
                "PROTOCOLS",
                "USERS",
                "REDIRECT",
            ]);
            for domain in &domains {
                let enabled: Vec<&str> = ProtocolKind::ALL
                    .iter()
                    .filter(|k| domain.protocols.get(**k).enabled)
                    .map(|k| k.key())
                    .collect();
                table.row(vec![
                    domain.name.clone(),
                    domain.hostname.clone(),
                    domain.auth.key().into(),
                    enabled.join(","),
                    counts.get(&domain.name).copied().unwrap_or(0).to_string(),
                    domain.redirect_to.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            table.print();
            if domains.is_empty() {
                outln!(
                    "(no domains yet: signpost domain add example.com --hostname mail.example.com)"
                );
            }
        }
    }
    Ok(())
}

fn override_state(o: &signpost_core::XmlOverride) -> String {
    match (o.enabled, &o.text) {
        (false, None) => "off".into(),
        (false, Some(_)) => "off (custom text saved)".into(),
        (true, None) => "on, no text saved: the generated answer is sent".into(),
        (true, Some(t)) if t.is_empty() => "on: an EMPTY answer is sent".into(),
        (true, Some(t)) => format!("on: custom text ({} bytes) is sent", t.len()),
    }
}

pub async fn show(ctx: &Ctx, domain: &Domain) -> anyhow::Result<()> {
    if ctx.format == Format::Json {
        return output::print_json(domain);
    }
    let users_from = ctx.store.user_source(&domain.name).await?.describe();
    let or_dash = |value: Option<&str>| value.unwrap_or("-").to_string();
    let mut fields = vec![
        ("Domain", domain.name.clone()),
        (
            "Aliases",
            if domain.aliases.is_empty() {
                "-".into()
            } else {
                domain.aliases.join(", ")
            },
        ),
        ("Hostname", domain.hostname.clone()),
        ("Display name", domain.shown_name().to_string()),
        (
            "Short name",
            or_dash((!domain.short_name.is_empty()).then_some(domain.short_name.as_str())),
        ),
        ("Authentication", domain.auth.key().to_string()),
        ("Users", users_from),
        ("Redirect to", or_dash(domain.redirect_to.as_deref())),
        ("Desktop override", override_state(&domain.desktop_override)),
        ("Mobile override", override_state(&domain.mobile_override)),
        ("Webmail", or_dash(domain.webmail_url.as_deref())),
        ("CalDAV", or_dash(domain.caldav_url.as_deref())),
        ("CardDAV", or_dash(domain.carddav_url.as_deref())),
        ("Apple profiles", domain.apple_account.key().to_string()),
        (
            "ACME",
            if domain.acme.enabled {
                domain.acme_names().join(", ")
            } else {
                "off".to_string()
            },
        ),
        (
            "OAuth2 issuer",
            or_dash(domain.oauth2.as_ref().map(|o| o.issuer.as_str())),
        ),
    ];
    for doc in &domain.documentation {
        fields.push(("Documentation", doc.url.clone()));
    }
    output::print_fields(&fields);
    outln!();
    let mut table = Table::new(&[
        "PROTOCOL",
        "#",
        "ENABLED",
        "HOST",
        "PORT",
        "ENCRYPTION",
        "USERNAME",
        "AUTHENTICATION",
    ]);
    for kind in ProtocolKind::ALL {
        let setting = domain.protocols.get(kind);
        for (number, endpoint) in setting.endpoints().enumerate() {
            let first = number == 0;
            table.row(vec![
                if first {
                    kind.label().into()
                } else {
                    String::new()
                },
                if first {
                    String::new()
                } else {
                    number.to_string()
                },
                if !first {
                    String::new()
                } else if setting.enabled {
                    "yes".into()
                } else {
                    "no".into()
                },
                domain.host_of(endpoint).into(),
                endpoint.port.to_string(),
                if kind.is_https_only() {
                    "https".into()
                } else {
                    endpoint.encryption.key().into()
                },
                if kind.is_https_only() {
                    String::new()
                } else {
                    endpoint.username.clone().unwrap_or_else(|| "-".into())
                },
                if kind.is_https_only() {
                    String::new()
                } else {
                    endpoint
                        .authentication
                        .iter()
                        .map(|m| m.key())
                        .collect::<Vec<_>>()
                        .join(",")
                },
            ]);
        }
    }
    table.print();
    Ok(())
}
