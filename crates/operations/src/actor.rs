//! Who asks for an operation, and from where: what the audit log records and what access is
//! decided on.

use std::net::IpAddr;

use signpost_core::admin::{AdminRole, Administrator};
use signpost_store::AuditRecord;

use crate::error::OpError;

/// How an administrator proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session (the web interface, or the API with the session cookie).
    Session,
    /// An API token, by its name.
    Token { name: String },
}

/// Who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    Administrator {
        name: String,
        role: AdminRole,
        credential: Credential,
    },
    /// Someone at the command line, who can read the store and so may do anything.
    Cli { os_user: String },
    /// The server itself, obtaining and renewing certificates.
    Acme,
    /// The server itself, on its schedule.
    Server,
    /// Whoever holds the one-time setup link: may create the first administrator, nothing else.
    Setup,
}

/// Where the request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This machine: the command line, the server itself.
    Local,
    /// A client of the API or the web interface.
    Client(IpAddr),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Local => f.write_str("local"),
            Origin::Client(ip) => write!(f, "{ip}"),
        }
    }
}

/// Who asks, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    who: Who,
    origin: Origin,
}

impl Actor {
    /// A signed-in administrator (or the holder of one of their API tokens).
    pub fn administrator(
        administrator: &Administrator,
        credential: Credential,
        origin: Origin,
    ) -> Self {
        Self {
            who: Who::Administrator {
                name: administrator.name.clone(),
                role: administrator.role.clone(),
                credential,
            },
            origin,
        }
    }

    /// The person at this machine's command line, named by their OS user.
    pub fn cli() -> SystemActor {
        SystemActor(Self {
            who: Who::Cli { os_user: os_user() },
            origin: Origin::Local,
        })
    }

    /// The server itself, running its scheduled work (health checks).
    pub fn server() -> SystemActor {
        SystemActor(Self {
            who: Who::Server,
            origin: Origin::Local,
        })
    }

    /// The server's own ACME client.
    pub fn acme() -> SystemActor {
        SystemActor(Self {
            who: Who::Acme,
            origin: Origin::Local,
        })
    }

    /// The holder of a valid one-time setup link (the caller checked the link).
    pub fn setup(origin: Origin) -> Self {
        Self {
            who: Who::Setup,
            origin,
        }
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The administrator's name, if an administrator.
    pub fn administrator_name(&self) -> Option<&str> {
        match &self.who {
            Who::Administrator { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The domains an administrator is limited to (`None`: every domain).
    pub fn limited_to(&self) -> Option<&[String]> {
        match &self.who {
            Who::Administrator {
                role: AdminRole::Domain(domains),
                ..
            } => Some(domains),
            Who::Setup => Some(&[]),
            _ => None,
        }
    }

    /// Whether this actor may see and change `domain`.
    pub fn manages(&self, domain: &str) -> bool {
        self.limited_to()
            .is_none_or(|domains| domains.iter().any(|d| d == domain))
    }

    fn is_system(&self) -> bool {
        match &self.who {
            Who::Administrator { role, .. } => role.is_system(),
            Who::Cli { .. } | Who::Acme | Who::Server => true,
            Who::Setup => false,
        }
    }

    pub(crate) fn is_setup(&self) -> bool {
        self.who == Who::Setup
    }

    /// How the audit log names this actor: `alice`, `alice (token ci)`, `cli (root)`, `acme`.
    pub fn label(&self) -> String {
        match &self.who {
            Who::Administrator {
                name,
                credential: Credential::Session,
                ..
            } => name.clone(),
            Who::Administrator {
                name,
                credential: Credential::Token { name: token },
                ..
            } => format!("{name} (token {token})"),
            Who::Cli { os_user } => format!("cli ({os_user})"),
            Who::Acme => "acme".to_string(),
            Who::Server => "server".to_string(),
            Who::Setup => "setup link".to_string(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match &self.who {
            Who::Administrator {
                credential: Credential::Session,
                ..
            } => "administrator",
            Who::Administrator {
                credential: Credential::Token { .. },
                ..
            } => "token",
            Who::Cli { .. } => "cli",
            Who::Acme => "acme",
            Who::Server => "server",
            Who::Setup => "setup",
        }
    }

    /// The audit record of `operation` on `target` by this actor, now.
    pub fn record(
        &self,
        operation: &str,
        domain: Option<&str>,
        target: &str,
        summary: impl Into<String>,
    ) -> AuditRecord {
        AuditRecord {
            at: crate::unix_now(),
            actor: self.label(),
            actor_kind: self.kind().to_string(),
            origin: self.origin.to_string(),
            operation: operation.to_string(),
            domain: domain.map(str::to_string),
            target: target.to_string(),
            summary: summary.into(),
        }
    }
}

/// An actor who may do what only system administrators may: only made from an actor with that
/// right ([`SystemActor::try_from`], as the route table's system extractors do), or for the
/// command line and ACME. Operations that need it take it, so the compiler keeps anyone else out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemActor(Actor);

impl TryFrom<Actor> for SystemActor {
    type Error = OpError;

    fn try_from(actor: Actor) -> Result<Self, OpError> {
        if actor.is_system() {
            Ok(Self(actor))
        } else {
            Err(OpError::Forbidden(format!(
                "{} is not a system administrator; this needs one",
                actor.label()
            )))
        }
    }
}

impl std::ops::Deref for SystemActor {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.0
    }
}

/// The OS user running this process (for `cli (USER)` in the audit log).
fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| {
            let status = std::fs::read_to_string("/proc/self/status").ok()?;
            let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
            Some(format!("uid {}", uid.split_whitespace().next()?))
        })
        .map(|user| user.chars().filter(|c| !c.is_control()).take(64).collect())
        .unwrap_or_else(|| "unknown".to_string())
}
