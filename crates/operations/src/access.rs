//! Who may do what, decided in one place. System-only operations take a
//! [`SystemActor`](crate::SystemActor) (the type is the rule); everything about one domain goes
//! through [`domain`], and everything about one user through the user's domain.

use signpost_core::validate;

use crate::actor::Actor;
use crate::error::{OpError, OpResult};

/// The domain `name` (normalised) if `actor` manages it.
pub fn domain(actor: &Actor, name: &str) -> OpResult<String> {
    let name = validate::domain_name("domain", name)?;
    if actor.manages(&name) {
        Ok(name)
    } else {
        Err(OpError::Forbidden(format!(
            "{} may not manage the domain {name}",
            actor.label()
        )))
    }
}

/// The domain part of an address.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
}
