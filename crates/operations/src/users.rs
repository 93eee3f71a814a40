//! Built-in users: names, service access, passwords, and users brought over from another mail
//! server's files.

use signpost_core::{User, UserChange, user_import, validate};

use crate::Operations;
use crate::access;
use crate::actor::Actor;
use crate::changes;
use crate::error::{OpError, OpResult};
use crate::views::{ImportedUsers, NewUser, UserPage, UserQuery, UserView};

/// A file of users, as another mail server keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFile {
    /// Dovecot's passwd-file (`user:{SCHEME}hash:...`).
    PasswdFile,
    /// `address,password_hash[,display_name]` with a header line.
    Csv,
}

impl Operations {
    /// The users of a domain the actor manages, ordered by address.
    pub async fn users(&self, actor: &Actor, domain: &str) -> OpResult<Vec<UserView>> {
        let domain = self.domain(actor, domain).await?;
        Ok(self
            .store
            .users(Some(&domain.name))
            .await?
            .iter()
            .map(UserView::from)
            .collect())
    }

    /// One page of a domain's users, searched by address or display name.
    pub async fn users_page(
        &self,
        actor: &Actor,
        domain: &str,
        query: &UserQuery,
    ) -> OpResult<UserPage> {
        let domain = self.domain(actor, domain).await?;
        let per_page = query.per_page.unwrap_or(50).clamp(1, 500);
        let search = query.search.as_deref().unwrap_or_default();
        if search.chars().count() > 200 {
            return Err(OpError::invalid("search", "longer than 200 characters"));
        }
        let wanted = query.page.unwrap_or(1).max(1);
        let (mut users, total) = self
            .store
            .users_page(&domain.name, search, (wanted - 1) * per_page, per_page)
            .await?;
        let pages = total.div_ceil(per_page).max(1);
        // Past the end: the last page.
        let page = wanted.min(pages);
        if page != wanted {
            users = self
                .store
                .users_page(&domain.name, search, (page - 1) * per_page, per_page)
                .await?
                .0;
        }
        Ok(UserPage {
            users: users.iter().map(UserView::from).collect(),
            total,
            page,
            pages,
            per_page,
        })
    }

    /// Adds a user on a domain's own page: the address must be of that domain or one of its
    /// aliases (a typo in the domain part is refused, not filed under another domain).
    pub async fn add_user_to(
        &self,
        actor: &Actor,
        domain: &str,
        new: &NewUser,
    ) -> OpResult<UserView> {
        let domain = self.domain(actor, domain).await?;
        let address = validate::address("address", &new.address)?;
        let part = access::domain_of(&address);
        if !domain.all_names().any(|name| name == part) {
            return Err(OpError::invalid(
                "address",
                format!(
                    "{address} is not an address of {} (add it on the page of {part}, or add {part} as an alias)",
                    domain.name
                ),
            ));
        }
        self.add_user(actor, new).await
    }

    /// Every user the actor may see (all of them for system administrators).
    pub async fn all_users(&self, actor: &Actor) -> OpResult<Vec<UserView>> {
        Ok(self
            .store
            .users(None)
            .await?
            .iter()
            .filter(|u| actor.manages(u.domain()))
            .map(UserView::from)
            .collect())
    }

    /// A user of a domain the actor manages.
    pub async fn user(&self, actor: &Actor, address: &str) -> OpResult<User> {
        let address = validate::address("address", address)?;
        access::domain(actor, access::domain_of(&address))?;
        self.store.user(&address).await?.ok_or_else(|| {
            OpError::NotFound(format!(
                "user '{address}' does not exist (see: signpost user list)"
            ))
        })
    }

    /// Checks what can be checked before a password is asked for: the address, and that its
    /// domain is hosted and managed by the actor.
    pub async fn check_new_user(&self, actor: &Actor, address: &str) -> OpResult<String> {
        let address = validate::address("address", address)?;
        self.domain(actor, access::domain_of(&address)).await?;
        Ok(address)
    }

    pub async fn add_user(&self, actor: &Actor, new: &NewUser) -> OpResult<UserView> {
        let address = self.check_new_user(actor, &new.address).await?;
        let user = User::new(&address, &new.password, &new.change)?;
        let view = UserView::from(&user);
        let record = actor.record(
            "user.add",
            Some(user.domain()),
            &user.address,
            changes::fields(&view),
        );
        self.store.create_user(&user, &record).await?;
        tracing::info!(actor = %actor.label(), user = %user.address, "user added");
        self.served().await?;
        Ok(view)
    }

    pub async fn change_user(
        &self,
        actor: &Actor,
        address: &str,
        change: &UserChange,
    ) -> OpResult<UserView> {
        let before = self.user(actor, address).await?;
        if *change == UserChange::default() {
            return Err(OpError::invalid(
                "body",
                "nothing to change: give a display name, login name, legacy DN, or services to deny or allow",
            ));
        }
        let mut user = before.clone();
        user.apply(change)?;
        let record = actor.record(
            "user.change",
            Some(user.domain()),
            &user.address,
            changes::between(&UserView::from(&before), &UserView::from(&user)),
        );
        self.store.save_user(&user, &record).await?;
        tracing::info!(actor = %actor.label(), user = %user.address, "user changed");
        self.served().await?;
        Ok(UserView::from(&user))
    }

    pub async fn set_password(&self, actor: &Actor, address: &str, password: &str) -> OpResult<()> {
        let mut user = self.user(actor, address).await?;
        user.set_password(password)?;
        let record = actor.record(
            "user.password",
            Some(user.domain()),
            &user.address,
            "password changed",
        );
        self.store.save_user(&user, &record).await?;
        tracing::info!(actor = %actor.label(), user = %user.address, "password changed");
        self.served().await
    }

    pub async fn remove_user(&self, actor: &Actor, address: &str) -> OpResult<UserView> {
        let user = self.user(actor, address).await?;
        let view = UserView::from(&user);
        let record = actor.record(
            "user.remove",
            Some(user.domain()),
            &user.address,
            changes::fields(&view),
        );
        self.store.delete_user(&user.address, &record).await?;
        tracing::info!(actor = %actor.label(), user = %user.address, "user removed");
        self.served().await?;
        Ok(view)
    }

    /// Adds every user of `text` (a file of another mail server, with its password hashes) to a
    /// domain, in one transaction: all of them, or none with the line at fault named.
    pub async fn import_users(
        &self,
        actor: &Actor,
        domain: &str,
        file: UserFile,
        text: &str,
        allow_weak: bool,
    ) -> OpResult<ImportedUsers> {
        let domain = self.domain(actor, domain).await?;
        let names: Vec<&str> = domain.all_names().collect();
        let imported = match file {
            UserFile::PasswdFile => user_import::from_passwd_file(text, &names, allow_weak),
            UserFile::Csv => user_import::from_csv(text, &names, allow_weak),
        }
        .map_err(|e| OpError::invalid("file", e.to_string()))?;
        let record = actor.record(
            "user.import",
            Some(&domain.name),
            &domain.name,
            format!(
                "{} users with their password hashes{}",
                imported.users.len(),
                if imported.warnings.is_empty() {
                    String::new()
                } else {
                    format!("; {} warning(s)", imported.warnings.len())
                }
            ),
        );
        self.store.create_users(&imported.users, &record).await?;
        tracing::info!(actor = %actor.label(), domain = %domain.name, users = imported.users.len(), "users imported");
        self.served().await?;
        Ok(ImportedUsers {
            domain: domain.name,
            imported: imported.users.len(),
            warnings: imported.warnings,
        })
    }
}
