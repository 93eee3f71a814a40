//! API tokens: issued to an administrator (by themselves, or by a system administrator), shown
//! once, stored as their hash.

use signpost_store::ApiToken;

use crate::Operations;
use crate::actor::Actor;
use crate::error::{OpError, OpResult};
use crate::sessions::{random_secret, secret_hash};
use crate::views::IssuedToken;

impl Operations {
    /// The actor's own tokens; every token for system administrators and the command line.
    pub async fn tokens(&self, actor: &Actor) -> OpResult<Vec<ApiToken>> {
        let all = self.store.api_tokens(None).await?;
        Ok(match actor.administrator_name() {
            Some(name) if actor.limited_to().is_some() => all
                .into_iter()
                .filter(|t| t.administrator == name)
                .collect(),
            _ => all,
        })
    }

    /// Issues a token: stores its hash and returns the token, once.
    pub async fn issue_token(
        &self,
        actor: &Actor,
        administrator: &str,
        name: &str,
    ) -> OpResult<IssuedToken> {
        let administrator = self.administrator(actor, administrator).await?.name;
        let name = signpost_core::admin::token_name(name)?;
        let token = format!("sp_{}", random_secret());
        let record = actor.record(
            "token.issue",
            None,
            &format!("token {name} of {administrator}"),
            "issued (the token itself is never kept)",
        );
        self.store
            .create_api_token(
                &ApiToken {
                    administrator: administrator.clone(),
                    name: name.clone(),
                    token_hash: secret_hash(&token),
                    created_at: crate::unix_now(),
                },
                &record,
            )
            .await?;
        tracing::info!(actor = %actor.label(), %administrator, token = %name, "API token issued");
        Ok(IssuedToken {
            administrator,
            name,
            token,
        })
    }

    pub async fn revoke_token(
        &self,
        actor: &Actor,
        administrator: &str,
        name: &str,
    ) -> OpResult<()> {
        let administrator = self.self_or_system(actor, administrator)?;
        let name = signpost_core::admin::token_name(name)?;
        let record = actor.record(
            "token.revoke",
            None,
            &format!("token {name} of {administrator}"),
            "revoked",
        );
        self.store
            .delete_api_token(&administrator, &name, &record)
            .await
            .map_err(|e| match e {
                signpost_store::StoreError::NotFound { .. } => OpError::NotFound(format!(
                    "{administrator} has no API token named '{name}' (see: signpost admin token list)"
                )),
                other => other.into(),
            })?;
        tracing::info!(actor = %actor.label(), %administrator, token = %name, "API token revoked");
        Ok(())
    }
}
