//! `bench-scale DATABASE DOMAINS USERS`: fills an empty store (sqlite://PATH or postgres://...)
//! with `DOMAINS` domains (`d0.example` ...) and `USERS` users spread over them
//! (`u0@d0.example`, `u1@d1.example`, ...), in one import.
//! `bench-scale --export FILE DOMAINS USERS` writes the same as a `signpost export` document,
//! for timing `signpost import`.
//!
//! Every user has a hash string of their own, as in a real store (no two alike): the first ten
//! have real argon2id hashes of "bench password"; the others have argon2id strings of the same
//! shape and size with their own salt and digest (computing a million real hashes would
//! measure argon2, not Signpost; these never verify).

use std::time::Instant;

use base64::Engine;
use sha2::{Digest, Sha256};
use signpost_core::{AuthPolicy, Domain, ServiceAccess, User, UserChange, password};
use signpost_store::{EXPORT_FORMAT, EXPORT_VERSION, Export, Location};

/// `real` (an argon2id PHC string) with user `n`'s own salt and digest.
fn unique_hash(real: &str, n: usize) -> String {
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let seed = Sha256::digest(n.to_le_bytes());
    let more = Sha256::digest(seed);
    let salt = b64.encode(&seed[..16]);
    let digest = b64.encode(more);
    // $argon2id$v=19$m=...,t=...,p=...$SALT$DIGEST
    let parameters: Vec<&str> = real.splitn(5, '$').take(4).collect();
    format!("{}${salt}${digest}", parameters.join("$"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (export_file, database, domains, users) = match args.as_slice() {
        [_, flag, file, domains, users] if flag == "--export" => {
            (Some(file.clone()), String::new(), domains, users)
        }
        [_, database, domains, users] => (None, database.clone(), domains, users),
        _ => anyhow::bail!(
            "usage: bench-scale DATABASE_URL DOMAINS USERS | bench-scale --export FILE DOMAINS USERS"
        ),
    };
    let domains: usize = domains.parse()?;
    let users: usize = users.parse()?;
    let started = Instant::now();
    let hash = password::hash_password("bench password")?;
    let template = User::new("u@d0.example", "bench password", &UserChange::default())?;
    let export = Export {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        domains: (0..domains)
            .map(|d| {
                let mut domain =
                    Domain::new(&format!("d{d}.example"), &format!("mail.d{d}.example"))?;
                // Answers without a password, as the load generator sends none.
                domain.auth = AuthPolicy::Optional;
                Ok(domain)
            })
            .collect::<Result<_, signpost_core::ValidationError>>()?,
        users: (0..users)
            .map(|u| User {
                address: format!("u{u}@d{}.example", u % domains.max(1)),
                password_hash: if u < 10 {
                    hash.clone()
                } else {
                    unique_hash(&hash, u)
                },
                display_name: format!("User {u}"),
                access: ServiceAccess::ALL,
                ..template.clone()
            })
            .collect(),
        certificates: Vec::new(),
        acme_accounts: Vec::new(),
        administrators: Vec::new(),
        user_sources: Vec::new(),
        api_tokens: Vec::new(),
    };
    eprintln!(
        "bench-scale: built {domains} domains and {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(file) = export_file {
        std::fs::write(&file, serde_json::to_vec(&export)?)?;
        eprintln!("bench-scale: wrote {file}");
        return Ok(());
    }
    let location = Location::resolve(std::path::Path::new("."), Some(&database))?;
    let store = signpost_store::open(&location).await?;
    let importing = Instant::now();
    let record = signpost_store::AuditRecord {
        at: 0,
        actor: "bench-scale".into(),
        actor_kind: "cli".into(),
        origin: "local".into(),
        operation: "store.import".into(),
        domain: None,
        target: "the whole configuration".into(),
        summary: format!("{domains} domains, {users} users (benchmark data)"),
    };
    store.import(&export, false, &record, None).await?;
    eprintln!(
        "bench-scale: imported into {location} in {:.1} s",
        importing.elapsed().as_secs_f64()
    );
    Ok(())
}
