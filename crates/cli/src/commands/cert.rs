//! `signpost cert ...`: the certificates HTTPS is served with.

use std::collections::BTreeSet;

use anyhow::Context;
use serde::Serialize;
use signpost_core::certificate::{CertificateSource, KeyType};
use signpost_server::tls::{self, CertificateIndex, ClientKeys};

use super::Ctx;
use crate::cli::CertCommand;
use crate::output::{self, Format, Table, outln};
use crate::settings::FileConfig;

/// Who cannot connect to a name served with an RSA certificate alone.
const RSA_ONLY: &str = "IE 11 and Outlook 2010/2013 on Windows 7, Windows 8.1 and Windows Phone 8.1 cannot connect (their TLS pairs AES-GCM only with ECDSA keys, and Signpost offers no CBC suites)";

pub async fn run(ctx: &Ctx, command: CertCommand, file: &FileConfig) -> anyhow::Result<()> {
    match command {
        CertCommand::Add { cert, key } => {
            let chain =
                std::fs::read(&cert).with_context(|| format!("cannot read {}", cert.display()))?;
            let key_pem =
                std::fs::read(&key).with_context(|| format!("cannot read {}", key.display()))?;
            let (_, info) = tls::certified_key(&chain, &key_pem)
                .with_context(|| format!("{} with {}", cert.display(), key.display()))?;
            let now = now();
            if info.not_after < now {
                anyhow::bail!("the certificate expired on {}", date(info.not_after));
            }
            let chain = String::from_utf8(chain).context("the certificate file is not text")?;
            let key_pem = String::from_utf8(key_pem).context("the key file is not text")?;
            let id = ctx
                .ops
                .add_certificate(&ctx.actor, CertificateSource::File, &chain, &key_pem, &info)
                .await?;
            let rsa_only = rsa_only_names(ctx, &info.names, now).await?;
            for name in &rsa_only {
                eprintln!(
                    "warning: {name} is served with an RSA certificate only: {RSA_ONLY}; add an ECDSA certificate for it as well (each client gets the one it can use)"
                );
            }
            match ctx.format {
                Format::Json => output::print_json(&serde_json::json!({
                    "id": id, "names": info.names, "not_after": info.not_after, "issuer": info.issuer,
                    "key_type": info.key_type, "rsa_only": rsa_only,
                }))?,
                Format::Table => outln!(
                    "stored certificate #{id} for {} ({} key, issuer {}, expires {}, {} days)",
                    info.names.join(", "),
                    info.key_type.label(),
                    short_issuer(&info.issuer),
                    date(info.not_after),
                    info.days_left(now)
                ),
            }
        }
        CertCommand::List => list(ctx, file).await?,
        CertCommand::Remove { name } => {
            for certificate in ctx.ops.remove_certificates(&ctx.actor, &name).await? {
                outln!(
                    "removed certificate #{} ({})",
                    certificate.id,
                    certificate.names.join(", ")
                );
            }
        }
        CertCommand::Renew { name } => {
            for certificate in ctx.ops.renew_certificates(&ctx.actor, &name).await? {
                outln!(
                    "renewal requested for certificate #{} ({}); a running server orders it now (its log says when it is issued)",
                    certificate.id,
                    certificate.names.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// Of `names`, those no current stored ECDSA certificate covers while an RSA one does.
async fn rsa_only_names(ctx: &Ctx, names: &[String], now: i64) -> anyhow::Result<Vec<String>> {
    let stored = ctx.store.certificates().await?;
    let current = |name: &str, key: KeyType| {
        stored.iter().any(|c| {
            c.info.key_type == key
                && c.info.covers(name)
                && c.info.not_before <= now
                && now <= c.info.not_after
        })
    };
    Ok(names
        .iter()
        .filter(|name| current(name, KeyType::Rsa) && !current(name, KeyType::Ecdsa))
        .cloned()
        .collect())
}

#[derive(Serialize)]
struct Row {
    name: String,
    /// The kinds of key its current certificates have (each client is served the one it can
    /// use).
    key_types: Vec<KeyType>,
    certificate: Option<String>,
    issuer: Option<String>,
    not_after: Option<i64>,
    days_left: Option<i64>,
    source: Option<String>,
    /// Whether the certificate that would be served is valid for this exact name.
    covers: bool,
}

async fn list(ctx: &Ctx, file: &FileConfig) -> anyhow::Result<()> {
    let stored = ctx.store.certificates().await?;
    let mut loaded = tls::load_stored(&stored);
    let server = crate::settings::without_flags(file)?.server;
    if let Some(directory) = &server.cert_dir {
        loaded.extend(tls::load_directory(directory));
    }
    let now = now();
    let index = CertificateIndex::new(loaded, server.default_cert_name.as_deref(), now);
    let mut names: BTreeSet<String> = BTreeSet::new();
    for domain in ctx.store.domains().await? {
        names.extend(domain.served_names());
    }
    for certificate in index.certificates() {
        names.extend(certificate.info.names.iter().cloned());
    }
    let rows: Vec<Row> = names
        .into_iter()
        .map(|name| {
            let served = index.resolve(Some(&name), now, ClientKeys::ANY);
            let mut key_types: Vec<KeyType> = index
                .certificates()
                .iter()
                .filter(|c| {
                    c.info.covers(&name) && c.info.not_before <= now && now <= c.info.not_after
                })
                .map(|c| c.info.key_type)
                .collect();
            key_types.sort_by_key(|k| k.label());
            key_types.dedup();
            Row {
                key_types,
                covers: served
                    .is_some_and(|c| c.info.covers(&name) || c.info.names.contains(&name)),
                certificate: served.map(|c| c.origin.clone()),
                issuer: served.map(|c| short_issuer(&c.info.issuer)),
                not_after: served.map(|c| c.info.not_after),
                days_left: served.map(|c| c.info.days_left(now)),
                source: served.map(|c| {
                    if c.origin.starts_with("store #") {
                        stored
                            .iter()
                            .find(|s| format!("store #{}", s.id) == c.origin)
                            .map(|s| s.source.key().to_string())
                            .unwrap_or_default()
                    } else {
                        "directory".to_string()
                    }
                }),
                name,
            }
        })
        .collect();
    match ctx.format {
        Format::Json => output::print_json(&rows)?,
        Format::Table => {
            let mut table = Table::new(&[
                "NAME",
                "KEYS",
                "CERTIFICATE",
                "ISSUER",
                "EXPIRES",
                "DAYS",
                "SOURCE",
                "STATUS",
            ]);
            for row in &rows {
                let status = match (row.covers, row.days_left) {
                    (_, None) => "missing",
                    (false, _) => "missing (default served)",
                    (true, Some(d)) if d < 0 => "expired",
                    (true, Some(d)) if d < 14 => "expires soon",
                    _ if row.key_types == [KeyType::Rsa] => "ok, RSA only (old Windows fails)",
                    _ => "ok",
                };
                table.row(vec![
                    row.name.clone(),
                    if row.key_types.is_empty() {
                        "-".into()
                    } else {
                        row.key_types
                            .iter()
                            .map(|k| k.label())
                            .collect::<Vec<_>>()
                            .join("+")
                    },
                    row.certificate.clone().unwrap_or_else(|| "-".into()),
                    row.issuer.clone().unwrap_or_else(|| "-".into()),
                    row.not_after.map(date).unwrap_or_else(|| "-".into()),
                    row.days_left
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "-".into()),
                    row.source.clone().unwrap_or_else(|| "-".into()),
                    status.into(),
                ]);
            }
            table.print();
        }
    }
    Ok(())
}

/// The issuer's common name, or the whole name when it has none.
fn short_issuer(issuer: &str) -> String {
    issuer
        .split(',')
        .find_map(|part| part.trim().strip_prefix("CN="))
        .unwrap_or(issuer)
        .to_string()
}

fn now() -> i64 {
    signpost_server::clock::now()
}

fn date(unix: i64) -> String {
    output::unix_date(unix)
}
