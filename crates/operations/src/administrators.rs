//! Administrators of Signpost itself: system administrators (everything) and domain
//! administrators (their domains and those domains' users).

use signpost_core::admin::{self, AdminRole, Administrator};

use crate::Operations;
use crate::actor::{Actor, SystemActor};
use crate::error::{OpError, OpResult};
use crate::views::{AdministratorView, NewAdministrator};

fn view(administrator: &Administrator) -> AdministratorView {
    AdministratorView {
        name: administrator.name.clone(),
        role: administrator.role.clone(),
    }
}

fn role_summary(role: &AdminRole) -> String {
    match role {
        AdminRole::System => "system".to_string(),
        AdminRole::Domain(domains) => format!("domain: {}", domains.join(", ")),
    }
}

impl Operations {
    pub async fn administrators(&self, _actor: &SystemActor) -> OpResult<Vec<AdministratorView>> {
        Ok(self
            .store
            .administrators()
            .await?
            .iter()
            .map(view)
            .collect())
    }

    /// An administrator by name (system administrators, or the administrator themselves).
    pub async fn administrator(&self, actor: &Actor, name: &str) -> OpResult<Administrator> {
        let name = self.self_or_system(actor, name)?;
        self.store.administrator(&name).await?.ok_or_else(|| {
            OpError::NotFound(format!(
                "administrator '{name}' does not exist (see: signpost admin list)"
            ))
        })
    }

    /// `name` (normalised) if the actor is that administrator or a system administrator.
    pub(crate) fn self_or_system(&self, actor: &Actor, name: &str) -> OpResult<String> {
        let name = admin::admin_name(name)?;
        if actor.administrator_name() != Some(name.as_str()) {
            SystemActor::try_from(actor.clone())?;
        }
        Ok(name)
    }

    /// Checks name, role and password before anything is written; domains must be hosted.
    async fn new_administrator(&self, new: &NewAdministrator) -> OpResult<Administrator> {
        let role = AdminRole::parse(&new.role, &new.domains)?;
        if let AdminRole::Domain(domains) = &role {
            for domain in domains {
                if self.store.domain(domain).await?.is_none() {
                    return Err(OpError::invalid(
                        "domains",
                        format!("domain '{domain}' does not exist (see: signpost domain list)"),
                    ));
                }
            }
        }
        Ok(Administrator::new(&new.name, &new.password, role)?)
    }

    pub async fn add_administrator(
        &self,
        actor: &SystemActor,
        new: &NewAdministrator,
    ) -> OpResult<AdministratorView> {
        let administrator = self.new_administrator(new).await?;
        let record = actor.record(
            "administrator.add",
            None,
            &administrator.name,
            role_summary(&administrator.role),
        );
        self.store
            .create_administrator(&administrator, &record)
            .await?;
        tracing::info!(actor = %actor.label(), administrator = %administrator.name, "administrator added");
        Ok(view(&administrator))
    }

    /// The first administrator, by the holder of the one-time setup link: only while there is
    /// none.
    pub async fn add_first_administrator(
        &self,
        actor: &Actor,
        name: &str,
        password: &str,
    ) -> OpResult<Administrator> {
        let administrator = Administrator::new(name, password, AdminRole::System)?;
        if !actor.is_setup() || !self.store.administrators().await?.is_empty() {
            return Err(OpError::Forbidden(
                "the setup link is used up or wrong; sign in, or add an administrator with `signpost admin add`".to_string(),
            ));
        }
        let record = actor.record(
            "administrator.add",
            None,
            &administrator.name,
            "system (the first, by the setup link)",
        );
        self.store
            .create_administrator(&administrator, &record)
            .await?;
        tracing::info!(administrator = %administrator.name, "first administrator created with the setup link");
        Ok(administrator)
    }

    /// A new password for an administrator (themselves, or anyone for system administrators).
    pub async fn set_administrator_password(
        &self,
        actor: &Actor,
        name: &str,
        password: &str,
    ) -> OpResult<()> {
        let mut administrator = self.administrator(actor, name).await?;
        signpost_core::validate::password(password)?;
        administrator.password_hash = signpost_core::password::hash_password(password)?;
        let record = actor.record(
            "administrator.password",
            None,
            &administrator.name,
            "password changed",
        );
        self.store
            .save_administrator(&administrator, &record)
            .await?;
        tracing::info!(actor = %actor.label(), administrator = %administrator.name, "administrator password changed");
        Ok(())
    }

    /// Removes an administrator with their tokens and sessions. Administrators cannot remove
    /// themselves (another system administrator can, and the command line can).
    pub async fn remove_administrator(&self, actor: &SystemActor, name: &str) -> OpResult<()> {
        let name = admin::admin_name(name)?;
        if actor.administrator_name() == Some(name.as_str()) {
            return Err(OpError::invalid(
                "name",
                "you cannot remove yourself; another system administrator can",
            ));
        }
        let record = actor.record(
            "administrator.remove",
            None,
            &name,
            "with their API tokens and sessions",
        );
        self.store.delete_administrator(&name, &record).await?;
        tracing::info!(actor = %actor.label(), administrator = %name, "administrator removed");
        Ok(())
    }
}
