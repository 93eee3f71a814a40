//! `signpost user ...`

use anyhow::Context;
use serde::Serialize;
use signpost_core::{ServiceAccess, User, UserChange, password, validate};
use signpost_operations::UserFile;
use signpost_operations::views::NewUser;

use super::{Ctx, read_password_from_stdin};
use crate::cli::{UserCommand, UserFileFormat};
use crate::output::{self, Format, Table, outln};

/// A user as shown: everything but the password hash.
#[derive(Serialize)]
struct UserView<'a> {
    address: &'a str,
    display_name: &'a str,
    login_name: &'a str,
    legacy_dn: String,
    access: ServiceAccess,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            address: &user.address,
            display_name: user.shown_name(),
            login_name: user.login(),
            legacy_dn: user.legacy_dn(),
            access: user.access,
        }
    }
}

pub async fn run(ctx: &Ctx, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            address,
            display_name,
            login_name,
            legacy_dn,
            deny,
            password_stdin: _,
        } => {
            let change = UserChange {
                display_name,
                login_name,
                legacy_dn,
                deny,
                allow: Vec::new(),
            };
            // Check everything cheap before asking for the password.
            let address = ctx
                .ops
                .check_new_user(&ctx.actor, &address)
                .await
                .with_context(|| format!("cannot add {address}"))?;
            let password = read_password_from_stdin()?;
            ctx.ops
                .add_user(
                    &ctx.actor,
                    &NewUser {
                        address: address.clone(),
                        password,
                        change,
                    },
                )
                .await?;
            let user = load(ctx, &address).await?;
            print_user(ctx, &user, "added user")?;
        }
        UserCommand::List { domain } => {
            let domain = domain
                .map(|d| validate::domain_name("domain", &d))
                .transpose()?;
            let users = ctx.store.users(domain.as_deref()).await?;
            match ctx.format {
                Format::Json => {
                    output::print_json(&users.iter().map(UserView::from).collect::<Vec<_>>())?
                }
                Format::Table => {
                    let mut table = Table::new(&["ADDRESS", "DISPLAY NAME", "LOGIN", "ACCESS"]);
                    for user in &users {
                        table.row(vec![
                            user.address.clone(),
                            user.shown_name().into(),
                            user.login().into(),
                            user.access.summary(),
                        ]);
                    }
                    table.print();
                }
            }
        }
        UserCommand::Show { address } => {
            let user = load(ctx, &address).await?;
            print_user(ctx, &user, "")?;
        }
        UserCommand::Set {
            address,
            display_name,
            login_name,
            legacy_dn,
            deny,
            allow,
        } => {
            let change = UserChange {
                display_name,
                login_name,
                legacy_dn,
                deny,
                allow,
            };
            if change == UserChange::default() {
                anyhow::bail!(
                    "nothing to change: give --display-name, --login-name, --legacy-dn, --deny or --allow"
                );
            }
            ctx.ops.change_user(&ctx.actor, &address, &change).await?;
            let user = load(ctx, &address).await?;
            print_user(ctx, &user, "updated user")?;
        }
        UserCommand::Passwd {
            address,
            password_stdin: _,
        } => {
            let user = load(ctx, &address).await?;
            let password = read_password_from_stdin()?;
            ctx.ops
                .set_password(&ctx.actor, &user.address, &password)
                .await?;
            outln!("password changed for {}", user.address);
        }
        UserCommand::Remove { address } => {
            let removed = ctx.ops.remove_user(&ctx.actor, &address).await?;
            outln!("removed user {}", removed.address);
        }
        UserCommand::Import {
            domain,
            file_format,
            file,
            allow_weak,
        } => import(ctx, &domain, file_format, &file, allow_weak).await?,
        UserCommand::Test {
            address,
            asked,
            password_stdin: _,
        } => test(ctx, &address, asked.as_deref()).await?,
    }
    Ok(())
}

/// Files of users are text a person exported; this is far beyond a million users.
const MAX_USER_FILE_BYTES: u64 = 512 * 1024 * 1024;

async fn import(
    ctx: &Ctx,
    domain: &str,
    format: UserFileFormat,
    file: &std::path::Path,
    allow_weak: bool,
) -> anyhow::Result<()> {
    let domain = super::domain::load(ctx, domain).await?;
    let source = file.display().to_string();
    let mut text = String::new();
    let reader: Box<dyn std::io::Read> = if source == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("cannot open {source}"))?)
    };
    std::io::Read::read_to_string(
        &mut std::io::Read::take(reader, MAX_USER_FILE_BYTES),
        &mut text,
    )
    .with_context(|| format!("cannot read {source} as UTF-8 text"))?;
    let file_kind = match format {
        UserFileFormat::PasswdFile => UserFile::PasswdFile,
        UserFileFormat::Csv => UserFile::Csv,
    };
    if ctx.format == Format::Table {
        eprintln!(
            "importing the users of {source} into {} in one transaction ...",
            domain.name
        );
    }
    let imported = ctx
        .ops
        .import_users(&ctx.actor, &domain.name, file_kind, &text, allow_weak)
        .await
        .with_context(|| format!("{source} was not imported (nothing was changed)"))?;
    if ctx.format == Format::Table {
        for warning in &imported.warnings {
            eprintln!("warning: {warning}");
        }
    }
    match ctx.format {
        Format::Json => output::print_json(&serde_json::json!({
            "domain": domain.name,
            "imported": imported.imported,
            "warnings": imported.warnings,
        }))?,
        Format::Table => outln!(
            "imported {} users into {} with their existing password hashes",
            imported.imported,
            domain.name
        ),
    }
    Ok(())
}

/// What `user test` found.
#[derive(Serialize)]
struct TestReport {
    address: String,
    /// `built-in store`, `sql`, `ldap` or `imap`.
    source: &'static str,
    /// Which store or directory answered, in words.
    answered_by: String,
    /// The hash scheme, when the password was checked against a stored hash.
    scheme: Option<&'static str>,
    weak_scheme: bool,
    password_matches: bool,
    /// The directory could not be asked (clients are told to try again later).
    unavailable: bool,
    /// The store or directory refused the login for a reason other than the password.
    refused: bool,
    /// Why the login was refused or could not be checked (never the password).
    reason: Option<String>,
    /// What the store or directory returned, when the login succeeded.
    display_name: Option<String>,
    login_name: Option<String>,
    access: Option<ServiceAccess>,
}

impl TestReport {
    fn with_user(mut self, user: signpost_core::UserRef<'_>) -> Self {
        self.display_name = Some(user.shown_name().to_string());
        self.login_name = Some(user.login().to_string());
        self.access = Some(user.access);
        self
    }
}

async fn test(ctx: &Ctx, login: &str, asked: Option<&str>) -> anyhow::Result<()> {
    let asked = asked.map(|a| validate::address("address", a)).transpose()?;
    let password = read_password_from_stdin()?;
    let snapshot = ctx.store.load_snapshot().await?;
    let login = login.trim();
    let report = match signpost_directory::directory_for(&snapshot, login, asked.as_deref()) {
        Some(found) => test_in_directory(found, password).await?,
        None => {
            refuse_non_address(login)?;
            test_built_in(&snapshot, login, asked.as_deref(), password).await?
        }
    };
    print_test(ctx, &report)?;
    // The report above says why (its Reason); the exit status says that it failed.
    if report.unavailable || !report.password_matches {
        return Err(output::AlreadySaid.into());
    }
    Ok(())
}

/// A login with an `@` that is not an address is refused before any store or directory is
/// asked, by clients' requests as here: said as such, not as an unknown built-in user.
fn refuse_non_address(login: &str) -> anyhow::Result<()> {
    if login.contains('@')
        && let Err(e) = validate::address("login", login)
    {
        anyhow::bail!(
            "'{login}' is not an address ({}): a client signing in with it is refused before \
             any store or directory is asked",
            e.message
        );
    }
    Ok(())
}

async fn test_built_in(
    snapshot: &signpost_core::Snapshot,
    login: &str,
    asked: Option<&str>,
    password: String,
) -> anyhow::Result<TestReport> {
    let user = snapshot.user_for_login(login, asked).with_context(|| {
        format!("no user '{login}' in the built-in store (by address or login name)")
    })?;
    let scheme = password::identify(user.password_hash).ok().map(|(s, _)| s);
    let hash = user.password_hash.to_string();
    let matches = tokio::task::spawn_blocking(move || {
        password::verify_password_allowing(&hash, &password, true)
    })
    .await?;
    Ok(TestReport {
        address: user.address.to_string(),
        source: "built-in store",
        answered_by: "Signpost's own users".into(),
        scheme: scheme.map(|s| s.name()),
        weak_scheme: scheme.is_some_and(|s| s.is_weak()),
        password_matches: matches,
        unavailable: false,
        refused: false,
        reason: None,
        display_name: None,
        login_name: None,
        access: None,
    }
    .with_user(user))
}

/// Asks the domain's directory exactly as an autodiscover request would.
async fn test_in_directory(
    found: signpost_directory::DirectoryLogin<'_>,
    password: String,
) -> anyhow::Result<TestReport> {
    use signpost_directory::Answer;
    let directories = signpost_directory::Directories::with_system_defaults()?;
    let answer = directories
        .authenticate(found.source, found.domain, &found.subject, &password, None)
        .await;
    let mut report = TestReport {
        address: found.subject.address.clone(),
        source: found.source.kind(),
        answered_by: found.source.describe(),
        scheme: None,
        weak_scheme: false,
        password_matches: false,
        unavailable: false,
        refused: false,
        reason: None,
        display_name: None,
        login_name: None,
        access: None,
    };
    match answer {
        Answer::Verified(user) => {
            report.password_matches = true;
            report = report.with_user(user.view());
        }
        Answer::HashToCheck(user, hash) => {
            let scheme = password::identify(&hash).ok().map(|(s, _)| s);
            report.scheme = scheme.map(|s| s.name());
            report.weak_scheme = scheme.is_some_and(|s| s.is_weak());
            report.password_matches = tokio::task::spawn_blocking(move || {
                password::verify_password_allowing(&hash, &password, true)
            })
            .await?;
            if report.password_matches {
                report = report.with_user(user.view());
            } else {
                report.reason = Some("the password does not match the stored hash".into());
            }
        }
        Answer::Refused(why) => {
            report.refused = true;
            report.reason = Some(why);
        }
        Answer::Unavailable(why) => {
            report.unavailable = true;
            report.reason = Some(why);
        }
    }
    Ok(report)
}

fn print_test(ctx: &Ctx, report: &TestReport) -> anyhow::Result<()> {
    if ctx.format == Format::Json {
        return output::print_json(report);
    }
    let mut fields = vec![
        ("Address", report.address.clone()),
        (
            "Answered by",
            format!("{} ({})", report.source, report.answered_by),
        ),
    ];
    if let Some(name) = report.scheme {
        fields.push((
            "Hash scheme",
            if report.weak_scheme {
                format!(
                    "{name} (weak: the server accepts it only with allow_weak_password_schemes)"
                )
            } else {
                name.to_string()
            },
        ));
    } else if report.source == "built-in store" {
        fields.push(("Hash scheme", "unknown (no password can match)".to_string()));
    }
    fields.push((
        "Password",
        if report.unavailable {
            "NOT CHECKED (the directory is unavailable)".to_string()
        } else if report.password_matches {
            "matches".to_string()
        } else if report.refused {
            "REFUSED".to_string()
        } else {
            "DOES NOT MATCH".to_string()
        },
    ));
    if let Some(reason) = &report.reason {
        fields.push(("Reason", reason.clone()));
    }
    if let Some(name) = &report.display_name {
        fields.push(("Display name", name.clone()));
    }
    if let Some(login) = &report.login_name {
        fields.push(("Login name", login.clone()));
    }
    if let Some(access) = report.access {
        fields.push(("Access", access.summary()));
    }
    output::print_fields(&fields);
    Ok(())
}

async fn load(ctx: &Ctx, address: &str) -> anyhow::Result<User> {
    let address = validate::address("address", address)?;
    ctx.store
        .user(&address)
        .await?
        .with_context(|| format!("user '{address}' does not exist (see: signpost user list)"))
}

fn print_user(ctx: &Ctx, user: &User, verb: &str) -> anyhow::Result<()> {
    match ctx.format {
        Format::Json => output::print_json(&UserView::from(user)),
        Format::Table => {
            if !verb.is_empty() {
                outln!("{verb} {}", user.address);
            }
            output::print_fields(&[
                ("Address", user.address.clone()),
                ("Display name", user.shown_name().into()),
                ("Login name", user.login().into()),
                ("LegacyDN", user.legacy_dn()),
                ("Access", user.access.summary()),
            ]);
            Ok(())
        }
    }
}
