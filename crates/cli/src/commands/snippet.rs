//! `signpost snippet`: the redirect for a company website hosted elsewhere.

use signpost_core::snippets::{self, WebServer};

use super::Ctx;
use crate::cli::SnippetArgs;
use crate::output::out;

pub async fn run(ctx: &Ctx, args: &SnippetArgs) -> anyhow::Result<()> {
    let server = WebServer::parse(&args.server)?;
    let domain = super::domain::load(ctx, &args.domain).await?;
    out!(
        "{}",
        snippets::snippet(server, &domain.name, &domain.hostname)
    );
    Ok(())
}
