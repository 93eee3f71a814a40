//! `signpost protocol set ...`

use signpost_core::ProtocolChange;

use super::Ctx;
use crate::cli::ProtocolCommand;

pub async fn run(ctx: &Ctx, command: ProtocolCommand) -> anyhow::Result<()> {
    match command {
        ProtocolCommand::Set {
            domain,
            protocol,
            enable,
            disable,
            host,
            port,
            encryption,
        } => {
            let mut domain = super::domain::load(ctx, &domain).await?;
            let change = ProtocolChange {
                enabled: match (enable, disable) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                host,
                port,
                encryption,
            };
            if change == ProtocolChange::default() {
                anyhow::bail!(
                    "nothing to change: give --enable, --disable, --host, --port or --encryption"
                );
            }
            domain.change_protocol(protocol, &change)?;
            ctx.store.save_domain(&domain).await?;
            super::domain::show(ctx, &domain)?;
        }
    }
    Ok(())
}
