//! Writing many domains and users at once (an import): checked in memory first, so a mistake is
//! named exactly, then written with multi-row inserts, hundreds of rows per statement instead of
//! one statement per row (a million users in seconds rather than minutes).

use std::collections::HashSet;

use signpost_core::model::{Domain, ProtocolKind, User};
use sqlx::{Any, Transaction};

use crate::sql::Backend;
use crate::{Result, StoreError};

/// How far a long write has come, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// What is being written ("domains", "users").
    pub what: &'static str,
    pub done: usize,
    pub total: usize,
}

/// Told how a long write goes, every few thousand rows.
pub type OnProgress<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// At most this many bound values per statement (below SQLite's 32,766 and PostgreSQL's 65,535).
const VALUES_PER_STATEMENT: usize = 16_000;

/// One value of a row.
enum Cell<'a> {
    Text(Option<&'a str>),
    Int(i64),
    Bool(bool),
}

/// Refuses, before writing anything, what the database would refuse one row at a time: a domain
/// or alias named twice, an alias that is a domain, a user twice, a user of no domain.
pub fn check(domains: &[Domain], users: &[User]) -> Result<()> {
    let mut names: HashSet<&str> = HashSet::with_capacity(domains.len());
    for domain in domains {
        if !names.insert(&domain.name) {
            return Err(StoreError::AlreadyExists {
                kind: "domain",
                name: domain.name.clone(),
            });
        }
    }
    let mut aliases: HashSet<&str> = HashSet::new();
    for domain in domains {
        for alias in &domain.aliases {
            if names.contains(alias.as_str()) {
                return Err(StoreError::AlreadyExists {
                    kind: "domain",
                    name: alias.clone(),
                });
            }
            if !aliases.insert(alias) {
                return Err(StoreError::AlreadyExists {
                    kind: "alias",
                    name: alias.clone(),
                });
            }
        }
    }
    let mut addresses: HashSet<&str> = HashSet::with_capacity(users.len());
    for user in users {
        if !names.contains(user.domain()) {
            return Err(StoreError::not_found("domain", user.domain()));
        }
        if !addresses.insert(&user.address) {
            return Err(StoreError::AlreadyExists {
                kind: "user",
                name: user.address.clone(),
            });
        }
    }
    Ok(())
}

/// Inserts `rows` into `table` (whose `columns` they fill, in order), many per statement.
async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell<'_>>>,
) -> Result<()> {
    let per_statement = (VALUES_PER_STATEMENT / columns.len()).max(1);
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<Vec<Cell<'_>>> = rows.by_ref().take(per_statement).collect();
        if chunk.is_empty() {
            break;
        }
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut next = 1;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                // SQLite finds a numbered parameter by searching for its name, which makes a
                // statement of thousands of them quadratic; plain `?` are bound in order.
                match backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => sql.push_str(&format!("${next}")),
                }
                next += 1;
            }
            sql.push(')');
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for cell in row {
                query = match cell {
                    Cell::Text(text) => query.bind(text),
                    Cell::Int(number) => query.bind(number),
                    Cell::Bool(flag) => query.bind(flag),
                };
            }
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes `domains` (checked by [`check`]) with their aliases, protocols, endpoints and
/// documentation links.
pub async fn insert_domains(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    domains: &[Domain],
    progress: Option<OnProgress<'_>>,
) -> Result<()> {
    const STEP: usize = 10_000;
    for (n, chunk) in domains.chunks(STEP).enumerate() {
        insert_rows(
            tx,
            backend,
            "domains",
            &[
                "name",
                "hostname",
                "display_name",
                "short_name",
                "auth_policy",
                "redirect_to",
                "desktop_override_enabled",
                "desktop_override_text",
                "mobile_override_enabled",
                "mobile_override_text",
                "webmail_url",
                "caldav_url",
                "carddav_url",
                "apple_account",
                "oauth2_issuer",
                "oauth2_scope",
                "oauth2_auth_url",
                "oauth2_token_url",
                "acme_enabled",
                "acme_hostname",
                "acme_pacc",
            ],
            chunk
                .iter()
                .map(|d| {
                    let oauth2 = d.oauth2.as_ref();
                    vec![
                        Cell::Text(Some(&d.name)),
                        Cell::Text(Some(&d.hostname)),
                        Cell::Text(Some(&d.display_name)),
                        Cell::Text(Some(&d.short_name)),
                        Cell::Text(Some(d.auth.key())),
                        Cell::Text(d.redirect_to.as_deref()),
                        Cell::Bool(d.desktop_override.enabled),
                        Cell::Text(d.desktop_override.text.as_deref()),
                        Cell::Bool(d.mobile_override.enabled),
                        Cell::Text(d.mobile_override.text.as_deref()),
                        Cell::Text(d.webmail_url.as_deref()),
                        Cell::Text(d.caldav_url.as_deref()),
                        Cell::Text(d.carddav_url.as_deref()),
                        Cell::Text(Some(d.apple_account.key())),
                        Cell::Text(oauth2.map(|o| o.issuer.as_str())),
                        Cell::Text(oauth2.map(|o| o.scope.as_str())),
                        Cell::Text(oauth2.map(|o| o.auth_url.as_str())),
                        Cell::Text(oauth2.map(|o| o.token_url.as_str())),
                        Cell::Bool(d.acme.enabled),
                        Cell::Bool(d.acme.hostname),
                        Cell::Bool(d.acme.pacc),
                    ]
                })
                .collect(),
        )
        .await?;
        insert_rows(
            tx,
            backend,
            "domain_aliases",
            &["alias", "domain"],
            chunk
                .iter()
                .flat_map(|d| {
                    d.aliases
                        .iter()
                        .map(|a| vec![Cell::Text(Some(a)), Cell::Text(Some(&d.name))])
                })
                .collect(),
        )
        .await?;
        insert_rows(
            tx,
            backend,
            "domain_protocols",
            &["domain", "protocol", "enabled"],
            chunk
                .iter()
                .flat_map(|d| {
                    ProtocolKind::ALL.iter().map(|kind| {
                        vec![
                            Cell::Text(Some(&d.name)),
                            Cell::Text(Some(kind.key())),
                            Cell::Bool(d.protocols.get(*kind).enabled),
                        ]
                    })
                })
                .collect(),
        )
        .await?;
        // The authentication methods are kept as one comma-separated text per endpoint.
        let methods: Vec<String> = chunk
            .iter()
            .flat_map(|d| {
                ProtocolKind::ALL.iter().flat_map(|kind| {
                    d.protocols.get(*kind).endpoints().map(|e| {
                        e.authentication
                            .iter()
                            .map(|m| m.key())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                })
            })
            .collect();
        let mut methods = methods.iter();
        let mut endpoints = Vec::new();
        for d in chunk {
            for kind in ProtocolKind::ALL {
                for (position, e) in d.protocols.get(kind).endpoints().enumerate() {
                    endpoints.push(vec![
                        Cell::Text(Some(&d.name)),
                        Cell::Text(Some(kind.key())),
                        Cell::Int(position as i64),
                        Cell::Text(e.host.as_deref()),
                        Cell::Int(i64::from(e.port)),
                        Cell::Text(Some(e.encryption.key())),
                        Cell::Text(e.username.as_deref()),
                        Cell::Text(methods.next().map(String::as_str)),
                    ]);
                }
            }
        }
        insert_rows(
            tx,
            backend,
            "domain_endpoints",
            &[
                "domain",
                "protocol",
                "position",
                "host",
                "port",
                "encryption",
                "username",
                "authentication",
            ],
            endpoints,
        )
        .await?;
        let descriptions: Vec<(usize, String)> = chunk
            .iter()
            .flat_map(|d| d.documentation.iter().enumerate())
            .map(|(position, doc)| {
                serde_json::to_string(&doc.descriptions)
                    .map(|text| (position, text))
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<_>>()?;
        let mut descriptions = descriptions.iter();
        let mut documentation = Vec::new();
        for d in chunk {
            for doc in &d.documentation {
                if let Some((position, text)) = descriptions.next() {
                    documentation.push(vec![
                        Cell::Text(Some(&d.name)),
                        Cell::Int(*position as i64),
                        Cell::Text(Some(&doc.url)),
                        Cell::Text(Some(text)),
                    ]);
                }
            }
        }
        insert_rows(
            tx,
            backend,
            "domain_documentation",
            &["domain", "position", "url", "descriptions"],
            documentation,
        )
        .await?;
        if let Some(progress) = progress {
            progress(Progress {
                what: "domains",
                done: (n * STEP + chunk.len()).min(domains.len()),
                total: domains.len(),
            });
        }
    }
    Ok(())
}

/// Writes `users` (checked by [`check`]).
pub async fn insert_users(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    users: &[User],
    progress: Option<OnProgress<'_>>,
) -> Result<()> {
    const STEP: usize = 50_000;
    for (n, chunk) in users.chunks(STEP).enumerate() {
        insert_rows(
            tx,
            backend,
            "users",
            &[
                "address",
                "domain",
                "password_hash",
                "display_name",
                "login_name",
                "legacy_dn",
                "allow_imap",
                "allow_pop",
                "allow_smtp",
                "allow_ews",
                "allow_eas",
            ],
            chunk
                .iter()
                .map(|u| {
                    vec![
                        Cell::Text(Some(&u.address)),
                        Cell::Text(Some(u.domain())),
                        Cell::Text(Some(&u.password_hash)),
                        Cell::Text(Some(&u.display_name)),
                        Cell::Text(u.login_name.as_deref()),
                        Cell::Text(u.legacy_dn.as_deref()),
                        Cell::Bool(u.access.imap),
                        Cell::Bool(u.access.pop),
                        Cell::Bool(u.access.smtp),
                        Cell::Bool(u.access.ews),
                        Cell::Bool(u.access.eas),
                    ]
                })
                .collect(),
        )
        .await?;
        if let Some(progress) = progress {
            progress(Progress {
                what: "users",
                done: n * STEP + chunk.len(),
                total: users.len(),
            });
        }
    }
    Ok(())
}
