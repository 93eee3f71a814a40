//! `signpost generate ...`: the answer a client would get, as the seed's Generate button shows.

use signpost_core::answers;
use signpost_core::discovery::{self, Asker, Discovery};
use signpost_core::validate;

use super::Ctx;
use crate::cli::{AnswerKind, GenerateArgs};

pub async fn run(ctx: &Ctx, args: &GenerateArgs) -> anyhow::Result<()> {
    let domain = super::domain::load(ctx, &args.domain).await?;
    let address = validate::address("email", &args.email)?;
    if address.rsplit_once('@').map(|(_, d)| d) != Some(domain.name.as_str()) {
        anyhow::bail!("{address} is not an address of {}", domain.name);
    }
    let snapshot = ctx.store.load_snapshot().await?;
    // The administrator sees the answer a signed-in user would get.
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
    let body = match (args.kind, args.with_override) {
        (AnswerKind::Desktop, false) => answers::generated_desktop_answer(&account, &options),
        (AnswerKind::Desktop, true) => answers::desktop_answer(&account, &options),
        (AnswerKind::Mobile, with_override) => {
            let body = if with_override {
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
    };
    print!("{body}");
    Ok(())
}
