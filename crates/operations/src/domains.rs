//! Domains: the seed's Options card (names, authentication, redirect, aliases), and its
//! Autodiscover card (each protocol on or off, its host, port and encryption; further endpoints).

use signpost_core::model::EndpointChange;
use signpost_core::{Domain, DomainChange, ProtocolChange, ProtocolKind};

use crate::Operations;
use crate::access;
use crate::actor::{Actor, SystemActor};
use crate::changes;
use crate::error::{OpError, OpResult};
use crate::views::{DomainSummary, NewDomain, RemovedDomain};

impl Operations {
    /// The domains the actor manages, with their user counts; `search` keeps those whose name,
    /// hostname or display name contains it.
    pub async fn domains(
        &self,
        actor: &Actor,
        search: Option<&str>,
    ) -> OpResult<Vec<DomainSummary>> {
        let counts = self.store.user_counts().await?;
        let needle = search
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        Ok(self
            .store
            .domains()
            .await?
            .into_iter()
            .filter(|d| actor.manages(&d.name))
            .filter(|d| {
                needle.as_deref().is_none_or(|n| {
                    d.name.contains(n)
                        || d.hostname.contains(n)
                        || d.display_name.to_lowercase().contains(n)
                })
            })
            .map(|domain| DomainSummary {
                users: counts.get(&domain.name).copied().unwrap_or(0),
                domain,
            })
            .collect())
    }

    /// A domain the actor manages, by the name as given.
    pub async fn domain(&self, actor: &Actor, name: &str) -> OpResult<Domain> {
        let name = access::domain(actor, name)?;
        self.store.domain(&name).await?.ok_or_else(|| {
            OpError::NotFound(format!(
                "domain '{name}' does not exist (see: signpost domain list)"
            ))
        })
    }

    pub async fn add_domain(&self, actor: &SystemActor, new: &NewDomain) -> OpResult<Domain> {
        let mut domain = Domain::new(&new.name, &new.hostname)?;
        domain.apply(&DomainChange {
            display_name: new.display_name.clone(),
            auth: new.auth,
            ..DomainChange::default()
        })?;
        let record = actor.record(
            "domain.add",
            Some(&domain.name),
            &domain.name,
            format!(
                "hostname {}; authentication {}",
                domain.hostname,
                domain.auth.key()
            ),
        );
        self.store.create_domain(&domain, &record).await?;
        tracing::info!(actor = %actor.label(), domain = %domain.name, "domain added");
        self.served().await?;
        Ok(domain)
    }

    /// Saves `after` in place of `before`, recording what changed.
    async fn save_domain(
        &self,
        actor: &Actor,
        operation: &str,
        target: &str,
        before: &Domain,
        after: &Domain,
    ) -> OpResult<()> {
        let record = actor.record(
            operation,
            Some(&after.name),
            target,
            changes::between(before, after),
        );
        self.store.save_domain(after, &record).await?;
        tracing::info!(actor = %actor.label(), domain = %after.name, operation, "domain changed");
        self.served().await
    }

    pub async fn change_domain(
        &self,
        actor: &Actor,
        name: &str,
        change: &DomainChange,
    ) -> OpResult<Domain> {
        let before = self.domain(actor, name).await?;
        if *change == DomainChange::default() {
            return Err(OpError::invalid("body", "nothing to change"));
        }
        let mut domain = before.clone();
        domain.apply(change)?;
        self.save_domain(actor, "domain.change", &domain.name, &before, &domain)
            .await?;
        Ok(domain)
    }

    pub async fn remove_domain(&self, actor: &SystemActor, name: &str) -> OpResult<RemovedDomain> {
        let domain = self.domain(actor, name).await?;
        let users = self
            .store
            .user_counts()
            .await?
            .get(&domain.name)
            .copied()
            .unwrap_or(0);
        let record = actor.record(
            "domain.remove",
            Some(&domain.name),
            &domain.name,
            format!("with its {users} user(s)"),
        );
        self.store.delete_domain(&domain.name, &record).await?;
        tracing::info!(actor = %actor.label(), domain = %domain.name, "domain removed");
        self.served().await?;
        Ok(RemovedDomain {
            name: domain.name,
            users,
        })
    }

    pub async fn change_protocol(
        &self,
        actor: &Actor,
        name: &str,
        kind: ProtocolKind,
        change: &ProtocolChange,
    ) -> OpResult<Domain> {
        let before = self.domain(actor, name).await?;
        if *change == ProtocolChange::default() {
            return Err(OpError::invalid(
                "body",
                "nothing to change: give enabled, host, port, encryption, username or authentication",
            ));
        }
        let mut domain = before.clone();
        domain.change_protocol(kind, change)?;
        let target = format!("{} of {}", kind.key(), domain.name);
        self.save_domain(actor, "protocol.change", &target, &before, &domain)
            .await?;
        Ok(domain)
    }

    pub async fn add_endpoint(
        &self,
        actor: &Actor,
        name: &str,
        kind: ProtocolKind,
        endpoint: &EndpointChange,
    ) -> OpResult<Domain> {
        let before = self.domain(actor, name).await?;
        let mut domain = before.clone();
        domain.add_endpoint(kind, endpoint)?;
        let target = format!("{} of {}", kind.key(), domain.name);
        self.save_domain(actor, "protocol.add_endpoint", &target, &before, &domain)
            .await?;
        Ok(domain)
    }

    pub async fn remove_endpoint(
        &self,
        actor: &Actor,
        name: &str,
        kind: ProtocolKind,
        number: usize,
    ) -> OpResult<Domain> {
        let before = self.domain(actor, name).await?;
        let mut domain = before.clone();
        domain.remove_endpoint(kind, number)?;
        let target = format!("{} of {}", kind.key(), domain.name);
        self.save_domain(actor, "protocol.remove_endpoint", &target, &before, &domain)
            .await?;
        Ok(domain)
    }
}
