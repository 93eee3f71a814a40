//! `signpost generate ...`: the answer a client would get, as the seed's Generate button shows.

use signpost_core::answers::preview::{self, PreviewKind};

use super::Ctx;
use crate::cli::{AnswerKind, GenerateArgs};
use crate::output::{out, outln};

impl From<AnswerKind> for PreviewKind {
    fn from(kind: AnswerKind) -> Self {
        match kind {
            AnswerKind::Desktop => Self::Desktop,
            AnswerKind::Mobile => Self::Mobile,
            AnswerKind::Autoconfig => Self::Autoconfig,
            AnswerKind::Mobileconfig => Self::Mobileconfig,
            AnswerKind::Pacc => Self::Pacc,
        }
    }
}

pub async fn run(ctx: &Ctx, args: &GenerateArgs) -> anyhow::Result<()> {
    let domain = super::domain::load(ctx, &args.domain).await?;
    let snapshot = ctx.store.load_snapshot().await?;
    let shown = preview::preview(
        &snapshot,
        &domain,
        &args.email,
        args.kind.into(),
        args.with_override,
        &Default::default(),
    )?;
    match (args.txt, shown.txt) {
        (true, Some(txt)) => outln!("{txt}"),
        _ => out!("{}", shown.body),
    }
    Ok(())
}
