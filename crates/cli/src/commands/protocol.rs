//! `signpost protocol ...`: the seed's Autodiscover card, and further endpoints.

use signpost_core::ProtocolChange;
use signpost_core::model::EndpointChange;

use super::Ctx;
use crate::cli::{EndpointArgs, ProtocolCommand};

impl From<EndpointArgs> for EndpointChange {
    fn from(args: EndpointArgs) -> Self {
        Self {
            host: args.host,
            port: args.port,
            encryption: args.encryption,
            username: args.username,
            authentication: args.authentication,
        }
    }
}

pub async fn run(ctx: &Ctx, command: ProtocolCommand) -> anyhow::Result<()> {
    match command {
        ProtocolCommand::Set {
            domain,
            protocol,
            enable,
            disable,
            endpoint,
        } => {
            let mut domain = super::domain::load(ctx, &domain).await?;
            let change = ProtocolChange {
                enabled: match (enable, disable) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                endpoint: endpoint.into(),
            };
            if change == ProtocolChange::default() {
                anyhow::bail!(
                    "nothing to change: give --enable, --disable, --host, --port, --encryption, --username or --auth"
                );
            }
            domain.change_protocol(protocol, &change)?;
            ctx.store.save_domain(&domain).await?;
            super::domain::show(ctx, &domain).await?;
        }
        ProtocolCommand::AddEndpoint {
            domain,
            protocol,
            endpoint,
        } => {
            let mut domain = super::domain::load(ctx, &domain).await?;
            domain.add_endpoint(protocol, &endpoint.into())?;
            ctx.store.save_domain(&domain).await?;
            super::domain::show(ctx, &domain).await?;
        }
        ProtocolCommand::RemoveEndpoint {
            domain,
            protocol,
            number,
        } => {
            let mut domain = super::domain::load(ctx, &domain).await?;
            domain.remove_endpoint(protocol, number)?;
            ctx.store.save_domain(&domain).await?;
            super::domain::show(ctx, &domain).await?;
        }
    }
    Ok(())
}
