//! Where a domain's users are authenticated: built in, or the SQL database, LDAP directory or
//! IMAP server the mail system already uses. Secrets are never shown or recorded.

use signpost_core::UserSource;

use crate::Operations;
use crate::actor::{Actor, SystemActor};
use crate::changes;
use crate::error::OpResult;

impl Operations {
    /// A domain's user source, its secrets shown as `********`.
    pub async fn user_source(&self, actor: &Actor, domain: &str) -> OpResult<UserSource> {
        let domain = self.domain(actor, domain).await?;
        Ok(self.store.user_source(&domain.name).await?.redacted())
    }

    /// Sets where a domain's users are authenticated. Only system administrators: a directory is
    /// a connection Signpost opens to another server. A `********` given back keeps the stored
    /// secret. The answer is the saved source, redacted.
    pub async fn set_user_source(
        &self,
        actor: &SystemActor,
        domain: &str,
        source: UserSource,
    ) -> OpResult<UserSource> {
        let domain = self.domain(actor, domain).await?;
        let current = self.store.user_source(&domain.name).await?;
        let source = source.keeping_secrets_of(&current)?;
        source.validate_for(&domain)?;
        let mut summary = changes::between(&current.redacted(), &source.redacted());
        if current != source && current.redacted() == source.redacted() {
            summary = "a secret changed".to_string();
        }
        let record = actor.record(
            "user_source.set",
            Some(&domain.name),
            &domain.name,
            format!("{}: {summary}", source.kind()),
        );
        self.store
            .set_user_source(&domain.name, &source, &record)
            .await?;
        tracing::info!(actor = %actor.label(), domain = %domain.name, source = source.kind(), "user source changed");
        self.served().await?;
        Ok(source.redacted())
    }
}
