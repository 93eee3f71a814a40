//! `signpost generate ...`: the answer a client would get, as the seed's Generate button shows.

use signpost_core::answers::{self, apple, autoconfig, pacc};
use signpost_core::discovery::{self, Asker, Discovery};
use signpost_core::validate;

use super::Ctx;
use crate::cli::{AnswerKind, GenerateArgs};

pub async fn run(ctx: &Ctx, args: &GenerateArgs) -> anyhow::Result<()> {
    let domain = super::domain::load(ctx, &args.domain).await?;
    let address = validate::address("email", &args.email)?;
    let address_domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !domain.all_names().any(|n| n == address_domain) {
        anyhow::bail!("{address} is not an address of {}", domain.name);
    }
    let snapshot = ctx.store.load_snapshot().await?;
    // The administrator sees what a signed-in user would get; autoconfig and PACC are public.
    let asker = match snapshot.user(&address) {
        Some(user) => Asker::Authenticated(user),
        None => Asker::Anonymous,
    };
    let options = answers::AnswerOptions::default();
    let account = match discovery::discover(&snapshot, &address, asker) {
        Discovery::Account(account) => account,
        Discovery::RedirectAddress(to) => {
            anyhow::bail!(
                "{} redirects its clients to {to}; there are no settings to generate",
                domain.name
            )
        }
        Discovery::NotHosted => anyhow::bail!("{} is not hosted", domain.name),
    };
    let body = match args.kind {
        AnswerKind::Desktop if args.with_override => answers::desktop_answer(&account, &options),
        AnswerKind::Desktop => answers::generated_desktop_answer(&account, &options),
        AnswerKind::Mobile => {
            let body = if args.with_override {
                answers::mobile_answer(&account, &options)
            } else {
                answers::generated_mobile_answer(&account, &options)
            };
            body.ok_or_else(|| {
                anyhow::anyhow!(
                    "ActiveSync is off for {} or for {address}, so ActiveSync clients get error 601 \
                     (turn it on with: signpost protocol set {} eas --enable)",
                    domain.name,
                    domain.name
                )
            })?
        }
        AnswerKind::Autoconfig => autoconfig::autoconfig_answer(&domain)
            .map_err(|why| anyhow::anyhow!("{} has no autoconfig answer: {why}", domain.name))?,
        AnswerKind::Mobileconfig => apple::profile_answer(&account).ok_or_else(|| {
            anyhow::anyhow!("there is nothing to set up on an Apple device for {address}")
        })?,
        AnswerKind::Pacc => {
            let (body, txt) = pacc::pacc_answer(&domain, address_domain);
            if args.txt {
                println!("{txt}");
                return Ok(());
            }
            body
        }
    };
    print!("{body}");
    Ok(())
}
