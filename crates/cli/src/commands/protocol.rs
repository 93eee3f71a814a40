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
            let domain = ctx
                .ops
                .change_protocol(&ctx.actor, &domain, protocol, &change)
                .await?;
            super::domain::show(ctx, &domain).await?;
        }
        ProtocolCommand::AddEndpoint {
            domain,
            protocol,
            endpoint,
        } => {
            let domain = ctx
                .ops
                .add_endpoint(&ctx.actor, &domain, protocol, &endpoint.into())
                .await?;
            super::domain::show(ctx, &domain).await?;
        }
        ProtocolCommand::RemoveEndpoint {
            domain,
            protocol,
            number,
        } => {
            let domain = ctx
                .ops
                .remove_endpoint(&ctx.actor, &domain, protocol, number)
                .await?;
            super::domain::show(ctx, &domain).await?;
        }
    }
    Ok(())
}
