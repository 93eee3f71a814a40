//! A domain's users: a table searched and paged on the server (a domain with 100,000 users stays
//! fast), each edited in a dialog and removed only after confirming; adding accepts addresses of
//! this domain (or its aliases) only; where users sign in sits behind "Advanced".

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use signpost_core::{ProtocolKind, UserChange};
use signpost_operations::views::{NewUser, UserQuery};

use super::domain::users_path;
use super::{Admin, Chrome, Fields, Form, Posted, Signed, encode, page, refused};
use crate::AdminState;
use crate::error::ApiError;

pub struct UserRow {
    pub address: String,
    pub display_name: String,
    /// (key, label, allowed)
    pub services: Vec<(&'static str, &'static str, bool)>,
    /// The services in a few words ("all", "IMAP, SMTP").
    pub services_text: String,
    /// An id for the row's dialogs and fields.
    pub id: String,
    /// The id of its edit dialog's form.
    pub edit_form: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    name: String,
    tab: &'static str,
    sample_address: String,
    address_placeholder: String,
    users: Vec<UserRow>,
    search: String,
    page: u64,
    pages: u64,
    total: u64,
    first: u64,
    last: u64,
    /// Query strings of the neighbouring pages.
    previous: Option<String>,
    next: Option<String>,
    source_kind: &'static str,
    source_label: String,
    source_json: String,
    may_change_source: bool,
    form: Form,
}

/// The page a change returns to: the same search and page.
#[derive(Deserialize, Default, Clone)]
pub struct Where {
    q: Option<String>,
    page: Option<u64>,
}

impl Where {
    fn of(fields: &Fields) -> Self {
        Self {
            q: fields.get("q").map(str::to_string),
            page: fields.get("page").and_then(|p| p.parse().ok()),
        }
    }

    fn query(&self, page: u64) -> String {
        let mut pairs = vec![("page", page.to_string())];
        if let Some(q) = self.q.as_ref().filter(|q| !q.is_empty()) {
            pairs.insert(0, ("q", q.clone()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    fn path(&self, domain: &str, anchor: &str) -> String {
        format!(
            "{}?{}#{anchor}",
            users_path(domain),
            self.query(self.page.unwrap_or(1))
        )
    }
}

fn edit_form(row_id: &str) -> String {
    format!("edit-{row_id}")
}

/// A stable id for an address in element ids, one per address: letters and digits kept, every
/// other byte written `_xx` (so `a.b@` and `a-b@` never share an id).
fn row_id(address: &str) -> String {
    let mut id = String::from("user-");
    for byte in address.bytes() {
        if byte.is_ascii_alphanumeric() {
            id.push(char::from(byte));
        } else {
            id.push_str(&format!("_{byte:02x}"));
        }
    }
    id
}

async fn render(
    admin: &AdminState,
    signed: &Signed,
    name: &str,
    at: &Where,
    form: Form,
) -> Response {
    let domain = match admin.ops.domain(&signed.caller.actor, name).await {
        Ok(domain) => domain,
        Err(e) => return signed.failed(admin, "/admin/domains", e),
    };
    let query = UserQuery {
        search: at.q.clone(),
        page: at.page,
        per_page: Some(50),
    };
    let listed = match admin
        .ops
        .users_page(&signed.caller.actor, &domain.name, &query)
        .await
    {
        Ok(listed) => listed,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let source = match admin
        .ops
        .user_source(&signed.caller.actor, &domain.name)
        .await
    {
        Ok(source) => source,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let users: Vec<UserRow> = listed
        .users
        .into_iter()
        .map(|u| {
            let services: Vec<_> = ProtocolKind::ALL
                .iter()
                .map(|k| (k.key(), k.label(), u.access.allows(*k)))
                .collect();
            let allowed: Vec<&str> = services.iter().filter(|s| s.2).map(|s| s.1).collect();
            let services_text = if allowed.len() == services.len() {
                "all".to_string()
            } else if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            };
            let id = row_id(&u.address);
            UserRow {
                services,
                services_text,
                edit_form: edit_form(&id),
                id,
                address: u.address,
                display_name: u.display_name,
            }
        })
        .collect();
    let first = if listed.total == 0 {
        0
    } else {
        (listed.page - 1) * listed.per_page + 1
    };
    let failed = !form.is("");
    let sample_address = users
        .first()
        .map(|u| u.address.clone())
        .unwrap_or_else(|| format!("user@{}", domain.name));
    let view = UsersPage {
        chrome: signed.chrome("domains"),
        tab: "users",
        sample_address,
        address_placeholder: format!("jane@{}", domain.name),
        last: first + users.len().saturating_sub(1) as u64,
        first,
        users,
        search: at.q.clone().unwrap_or_default(),
        previous: (listed.page > 1).then(|| at.query(listed.page - 1)),
        next: (listed.page < listed.pages).then(|| at.query(listed.page + 1)),
        page: listed.page,
        pages: listed.pages,
        total: listed.total,
        source_kind: source.kind(),
        source_label: source.describe(),
        source_json: if source.is_builtin() {
            String::new()
        } else {
            serde_json::to_string_pretty(&source).unwrap_or_default()
        },
        may_change_source: signed.caller.role.is_system(),
        name: domain.name,
        form,
    };
    if failed { refused(&view) } else { page(&view) }
}

pub async fn list(
    State(admin): Admin,
    signed: Signed,
    Path(name): Path<String>,
    Query(at): Query<Where>,
) -> Response {
    render(&admin, &signed, &name, &at, Form::default()).await
}

pub async fn create(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let display_name = fields.text("display_name");
    let new = NewUser {
        address: fields.text("address"),
        password: fields.text("password"),
        change: UserChange {
            display_name: (!display_name.trim().is_empty()).then_some(display_name),
            ..UserChange::default()
        },
    };
    let at = Where::of(&fields);
    match admin
        .ops
        .add_user_to(&signed.caller.actor, &name, &new)
        .await
    {
        Ok(user) => signed.done(
            &admin,
            &format!("{}?q={}#users", users_path(&name), encode(&user.address)),
            format!("added {}", user.address),
        ),
        Err(e) => {
            render(
                &admin,
                &signed,
                &name,
                &at,
                Form::refused("add-user", fields, e),
            )
            .await
        }
    }
}

/// The edit dialog: display name, service access, and a new password if one is typed.
pub async fn change(
    State(admin): Admin,
    Path(address): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let domain = signpost_core::validate::domain_of(&address).to_string();
    let at = Where::of(&fields);
    let form_id = edit_form(&row_id(&address));
    let (allow, deny): (Vec<ProtocolKind>, Vec<ProtocolKind>) = ProtocolKind::ALL
        .iter()
        .partition(|k| fields.flag(&format!("allow_{}", k.key())));
    let change = UserChange {
        display_name: fields.get("display_name").map(str::to_string),
        allow,
        deny,
        ..UserChange::default()
    };
    let actor = &signed.caller.actor;
    let password = fields.get("password").filter(|p| !p.is_empty());
    // A new password is checked before anything is saved, so a refused one changes nothing.
    if let Some(Err(e)) = password.map(signpost_core::validate::password) {
        let refusal = ApiError::invalid("password", e.message);
        return render(
            &admin,
            &signed,
            &domain,
            &at,
            Form::refused(&form_id, fields, refusal),
        )
        .await;
    }
    let outcome = match admin.ops.change_user(actor, &address, &change).await {
        Ok(user) => match password {
            Some(password) => admin
                .ops
                .set_password(actor, &address, password)
                .await
                .map(|()| format!("saved {} and its new password", user.address)),
            None => Ok(format!("saved {}", user.address)),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(notice) => signed.done(&admin, &at.path(&domain, &row_id(&address)), notice),
        Err(e) => {
            render(
                &admin,
                &signed,
                &domain,
                &at,
                Form::refused(&form_id, fields, e),
            )
            .await
        }
    }
}

pub async fn remove(
    State(admin): Admin,
    Path(address): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let domain = signpost_core::validate::domain_of(&address).to_string();
    let at = Where::of(&fields);
    if !fields.flag("confirm") {
        let refusal = ApiError::invalid("confirm", format!("confirm to remove {address}"));
        return signed.failed(&admin, &at.path(&domain, "users"), refusal);
    }
    match admin.ops.remove_user(&signed.caller.actor, &address).await {
        Ok(user) => signed.done(
            &admin,
            &at.path(&domain, "users"),
            format!("removed {}", user.address),
        ),
        Err(e) => signed.failed(&admin, &at.path(&domain, "users"), e),
    }
}

/// The user-source form: empty text means built-in users, else the source as JSON.
pub async fn source_submit(
    State(admin): Admin,
    Path(name): Path<String>,
    Posted { signed, mut fields }: Posted,
) -> Response {
    let at = Where::of(&fields);
    let text = fields.text("source");
    let parsed = if text.trim().is_empty() {
        Ok(signpost_core::UserSource::Builtin)
    } else {
        serde_json::from_str::<signpost_core::UserSource>(&text).map_err(|e| {
            ApiError::invalid(
                "source",
                format!("not a user source ({e}); see the README's examples"),
            )
        })
    };
    let outcome = match parsed {
        Ok(source) => {
            // Refused, the box shows the settings as understood with every secret masked:
            // a password just typed is not sent back to the page.
            let understood = serde_json::to_string_pretty(&source.redacted()).unwrap_or_default();
            fields.set("source", understood);
            match signed.system() {
                Ok(system) => admin
                    .ops
                    .set_user_source(&system, &name, source)
                    .await
                    .map_err(ApiError::from),
                Err(e) => Err(e.into()),
            }
        }
        // Text that is not JSON yet is shown as typed, to be corrected.
        Err(e) => Err(e),
    };
    match outcome {
        Ok(source) => signed.done(
            &admin,
            &at.path(&name, "user-source"),
            format!("users of {name} now sign in with: {}", source.kind()),
        ),
        Err(mut e) => {
            // Whatever part of the settings is wrong, it was typed in the one box.
            if e.code == "invalid" {
                e.field = Some("source");
            }
            render(
                &admin,
                &signed,
                &name,
                &at,
                Form::refused("source", fields, e),
            )
            .await
        }
    }
}
