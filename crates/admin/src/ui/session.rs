//! Signing in and out, and the first administrator by the one-time setup link. Messages are
//! written in place: nothing a URL says is ever shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use signpost_operations::{random_secret, same_secret};

use super::{Admin, Chrome, Fields, Posted, page_with};
use crate::api;
use crate::auth;

/// The sign-in form's double-submit cookie: a form posted from elsewhere has no matching one.
const LOGIN_COOKIE: &str = "signpost_login";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    chrome: Chrome,
    login_token: String,
    name: String,
}

/// The sign-in page, with `error` (from this server, never from the URL) and the name typed.
fn login_form(parts: &Parts, status: StatusCode, error: Option<String>, name: &str) -> Response {
    let token = random_secret();
    let mut response = page_with(
        status,
        &LoginPage {
            chrome: Chrome::anonymous(error),
            login_token: token.clone(),
            name: name.to_string(),
        },
    );
    let cookie = format!(
        "{LOGIN_COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if auth::is_secure(parts) {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn login_page(State(admin): Admin, parts: Parts) -> Response {
    let error = admin.setup_path().is_some().then(|| {
        "there is no administrator yet: open the setup link Signpost printed when it started, or run signpost admin add".to_string()
    });
    login_form(&parts, StatusCode::OK, error, "")
}

pub async fn login_submit(
    State(admin): Admin,
    parts: Parts,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let name = fields.text("name");
    let sent = fields.get("csrf").unwrap_or_default();
    if !auth::cookie_value(&parts.headers, LOGIN_COOKIE)
        .is_some_and(|cookie| same_secret(cookie, sent))
    {
        return login_form(
            &parts,
            StatusCode::FORBIDDEN,
            Some("the sign-in form expired; try again".into()),
            &name,
        );
    }
    let client = auth::client_ip(&parts);
    let administrator =
        match auth::check_login(&admin, &name, &fields.text("password"), client).await {
            Ok(administrator) => administrator,
            Err(e) => return login_form(&parts, e.status, Some(e.message), &name),
        };
    match auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await {
        Ok((_, cookie)) => {
            let mut response = Redirect::to("/admin/").into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => e.into_response(),
    }
}

pub async fn logout(State(admin): Admin, parts: Parts, _checked: Posted) -> Response {
    if let Err(e) = auth::end_session(&admin, &parts.headers).await {
        return e.into_response();
    }
    let mut response = Redirect::to("/admin/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::cleared_cookie(auth::is_secure(&parts)),
    );
    response
}

#[derive(Template)]
#[template(path = "admin/setup.html")]
struct SetupPage {
    chrome: Chrome,
    token: String,
    name: String,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    token: Option<String>,
}

pub async fn setup_page(State(admin): Admin, Query(query): Query<SetupQuery>) -> Response {
    let error = admin
        .setup_path()
        .is_none()
        .then(|| "an administrator exists already; sign in".to_string());
    page_with(
        StatusCode::OK,
        &SetupPage {
            chrome: Chrome::anonymous(error),
            token: query.token.unwrap_or_default(),
            name: String::new(),
        },
    )
}

pub async fn setup_submit(
    State(admin): Admin,
    parts: Parts,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let setup = api::Setup {
        token: fields.text("token"),
        name: fields.text("name"),
        password: fields.text("password"),
    };
    let administrator =
        match api::create_first_administrator(&admin, &setup, auth::client_ip(&parts)).await {
            Ok(administrator) => administrator,
            Err(e) => {
                return page_with(
                    e.status,
                    &SetupPage {
                        chrome: Chrome::anonymous(Some(e.message)),
                        token: setup.token,
                        name: setup.name,
                    },
                );
            }
        };
    match auth::start_session(&admin, &administrator, auth::is_secure(&parts)).await {
        Ok((csrf, cookie)) => {
            let welcome = super::Flash {
                notice: Some(format!("welcome, {}", administrator.name)),
                error: None,
            };
            admin.flashes.leave(&csrf, "/admin/", welcome);
            let mut response = Redirect::to("/admin/").into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => e.into_response(),
    }
}
