//! Domains, their protocol settings, and users with their service access, as the seed's
//! Domains -> Options / Autodiscover cards and user Service Access settings describe them.

mod domain;
mod protocol;
mod user;
mod user_source;

pub use domain::*;
pub use protocol::*;
pub use user::*;
pub use user_source::*;

#[cfg(test)]
mod tests;
