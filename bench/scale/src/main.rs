//! `bench-scale DATABASE DOMAINS USERS`: fills an empty store (sqlite://PATH or postgres://...)
//! with `DOMAINS` domains (`d0.example` ...) and `USERS` users spread over them
//! (`u0@d0.example`, `u1@d1.example`, ...), in one import. Every user shares one password hash:
//! computing a million argon2 hashes would measure argon2, not Signpost.

use std::time::Instant;

use signpost_core::{AuthPolicy, Domain, ServiceAccess, User, UserChange, password};
use signpost_store::{EXPORT_FORMAT, EXPORT_VERSION, Export, Location};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, database, domains, users] = args.as_slice() else {
        anyhow::bail!("usage: bench-scale DATABASE_URL DOMAINS USERS");
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
                password_hash: hash.clone(),
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
        "bench-scale: built {domains} domains and {users} users in {:.1} s; importing",
        started.elapsed().as_secs_f64()
    );
    let location = Location::resolve(std::path::Path::new("."), Some(database))?;
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
    store.import(&export, false, &record).await?;
    eprintln!(
        "bench-scale: imported into {location} in {:.1} s",
        importing.elapsed().as_secs_f64()
    );
    Ok(())
}
