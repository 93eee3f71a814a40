//! The API's routes, declared once: the router is built from this table and the OpenAPI
//! document at `/api/openapi.json` is generated from it, so the two cannot drift apart. Who may
//! call a route is the access extractor its handler takes first ([`Public`](super::auth::Public),
//! [`AnyAdmin`](super::auth::AnyAdmin), [`SystemAdmin`](super::auth::SystemAdmin)): the table
//! reads the document's access column from that same type.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};
use signpost_operations::ispdb::IspdbImport;
use signpost_operations::views::*;
use signpost_server::recent::{RecentFilter, RecentRequest};
use signpost_store::{AuditEntry, AuditFilter};

use super::AdminState;
use super::api::{self, *};
use super::auth::{Access, AccessLevel};
use super::error::{ApiError, ErrorBody};

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn root_schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.root_schema_for::<T>()
}

/// Implemented by handlers whose first argument is the access extractor `A`: how the table
/// learns a route's access from the handler itself.
pub trait GuardedBy<A, Arguments> {}

macro_rules! guarded_by {
    ($($argument:ident),*) => {
        impl<F, Fut, A, $($argument,)*> GuardedBy<A, (A, $($argument,)*)> for F
        where
            F: FnOnce(A, $($argument,)*) -> Fut,
        {
        }
    };
}

guarded_by!();
guarded_by!(T1);
guarded_by!(T1, T2);
guarded_by!(T1, T2, T3);
guarded_by!(T1, T2, T3, T4);

/// What a request carries.
#[derive(Clone, Copy)]
enum RequestBody {
    Json(SchemaFn),
    /// An XML document (an ISPDB file).
    Xml,
}

/// One API route: its handler and its description.
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    /// From the handler's access extractor.
    pub access: Access,
    tag: &'static str,
    router: MethodRouter<Arc<AdminState>>,
    query: Option<SchemaFn>,
    body: Option<RequestBody>,
    status: StatusCode,
    response: Option<SchemaFn>,
}

impl ApiRoute {
    /// A route to `handler`, whose first argument (an access extractor) says who may call it.
    fn new<H, T, A, Arguments>(
        method: Method,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, Arc<AdminState>> + GuardedBy<A, Arguments>,
        T: 'static,
        A: AccessLevel,
    {
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        Self {
            method,
            path,
            summary,
            access: A::ACCESS,
            tag,
            router: on(filter, handler),
            query: None,
            body: None,
            status: StatusCode::OK,
            response: None,
        }
    }

    fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(root_schema_of::<T>);
        self
    }

    fn json<T: JsonSchema>(mut self) -> Self {
        self.body = Some(RequestBody::Json(schema_of::<T>));
        self
    }

    fn xml(mut self) -> Self {
        self.body = Some(RequestBody::Xml);
        self
    }

    fn answers<T: JsonSchema>(mut self, status: StatusCode) -> Self {
        self.status = status;
        self.response = Some(schema_of::<T>);
        self
    }

    fn no_content(mut self) -> Self {
        self.status = StatusCode::NO_CONTENT;
        self
    }

    fn body_limit(mut self, bytes: usize) -> Self {
        self.router = self.router.layer(DefaultBodyLimit::max(bytes));
        self
    }
}

/// Exports of large installations run to megabytes (a password hash per user).
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

const OK: StatusCode = StatusCode::OK;
const CREATED: StatusCode = StatusCode::CREATED;

/// Every API route.
pub fn routes() -> Vec<ApiRoute> {
    use Method as M;
    vec![
        ApiRoute::new(M::POST, "/api/v1/session", "sessions", "Sign in (sets the session cookie)", api::login)
            .json::<Login>().answers::<Whoami>(OK),
        ApiRoute::new(M::GET, "/api/v1/session", "sessions", "Who is signed in, and the session's CSRF token", api::whoami)
            .answers::<Whoami>(OK),
        ApiRoute::new(M::DELETE, "/api/v1/session", "sessions", "Sign out", api::logout)
            .no_content(),
        ApiRoute::new(M::POST, "/api/v1/setup", "sessions", "Create the first administrator with the one-time setup token", api::setup)
            .json::<Setup>().answers::<Whoami>(CREATED),
        ApiRoute::new(M::GET, "/api/v1/domains", "domains", "List domains (with search)", api::list_domains)
            .query::<DomainQuery>().answers::<Vec<DomainSummary>>(OK),
        ApiRoute::new(M::POST, "/api/v1/domains", "domains", "Add a domain", api::create_domain)
            .json::<NewDomain>().answers::<signpost_core::Domain>(CREATED),
        ApiRoute::new(M::GET, "/api/v1/domains/{domain}", "domains", "A domain's settings", api::get_domain)
            .answers::<signpost_core::Domain>(OK),
        ApiRoute::new(M::PATCH, "/api/v1/domains/{domain}", "domains", "Change a domain's settings (the Options card)", api::patch_domain)
            .json::<signpost_core::DomainChange>().answers::<signpost_core::Domain>(OK),
        ApiRoute::new(M::DELETE, "/api/v1/domains/{domain}", "domains", "Remove a domain and its users", api::delete_domain)
            .no_content(),
        ApiRoute::new(M::PATCH, "/api/v1/domains/{domain}/protocols/{protocol}", "domains", "Turn a protocol on or off, or change its host, port and encryption (the Autodiscover card)", api::patch_protocol)
            .json::<signpost_core::ProtocolChange>().answers::<signpost_core::Domain>(OK),
        ApiRoute::new(M::GET, "/api/v1/domains/{domain}/overrides/{kind}", "overrides", "The desktop or mobile override", api::get_override)
            .answers::<OverrideView>(OK),
        ApiRoute::new(M::PUT, "/api/v1/domains/{domain}/overrides/{kind}", "overrides", "Turn an override on or off, save or clear its text", api::put_override)
            .json::<OverrideChange>().answers::<OverrideView>(OK),
        ApiRoute::new(M::POST, "/api/v1/domains/{domain}/overrides/{kind}/generate", "overrides", "The generated answer with the variables in place of a user's values (the Generate button)", api::generate_override)
            .answers::<OverrideTemplateView>(OK),
        ApiRoute::new(M::GET, "/api/v1/domains/{domain}/users", "users", "A domain's users, a page at a time (with search)", api::list_users)
            .query::<UserQuery>().answers::<UserPage>(OK),
        ApiRoute::new(M::GET, "/api/v1/domains/{domain}/user-source", "users", "Where the domain's users are authenticated (secrets hidden)", api::get_user_source)
            .answers::<signpost_core::UserSource>(OK),
        ApiRoute::new(M::PUT, "/api/v1/domains/{domain}/user-source", "users", "Authenticate the domain's users in SQL, LDAP or by IMAP login, or built in", api::put_user_source)
            .json::<signpost_core::UserSource>().answers::<signpost_core::UserSource>(OK),
        ApiRoute::new(M::GET, "/api/v1/domains/{domain}/dns-records", "dns", "The DNS records the domain needs", api::get_dns_records)
            .answers::<Vec<signpost_core::dns_records::DnsRecord>>(OK),
        ApiRoute::new(M::POST, "/api/v1/domains/{domain}/checks", "dns", "Check DNS, TLS and every discovery URL live", api::create_check)
            .answers::<Vec<signpost_diagnostics::check::CheckResult>>(OK),
        ApiRoute::new(M::POST, "/api/v1/previews", "tests", "What a client would get for an address", api::create_preview)
            .json::<PreviewRequest>().answers::<signpost_core::answers::preview::Preview>(OK),
        ApiRoute::new(M::POST, "/api/v1/probes", "tests", "Replay each client's discovery for an address", api::create_probe)
            .json::<ProbeRequest>().answers::<signpost_diagnostics::probe::Report>(OK),
        ApiRoute::new(M::POST, "/api/v1/users", "users", "Add a user", api::create_user)
            .json::<NewUser>().answers::<UserView>(CREATED),
        ApiRoute::new(M::GET, "/api/v1/users/{address}", "users", "A user", api::get_user)
            .answers::<UserView>(OK),
        ApiRoute::new(M::PATCH, "/api/v1/users/{address}", "users", "Change a user's names and service access", api::patch_user)
            .json::<signpost_core::UserChange>().answers::<UserView>(OK),
        ApiRoute::new(M::DELETE, "/api/v1/users/{address}", "users", "Remove a user", api::delete_user)
            .no_content(),
        ApiRoute::new(M::PUT, "/api/v1/users/{address}/password", "users", "Set a user's password", api::put_password)
            .json::<NewPassword>().no_content(),
        ApiRoute::new(M::POST, "/api/v1/imports", "imports", "Import a `signpost export` document (all or nothing)", api::import_export)
            .body_limit(MAX_IMPORT_BYTES).query::<ReplaceQuery>().json::<signpost_store::Export>().answers::<ImportSummary>(OK),
        ApiRoute::new(M::POST, "/api/v1/imports/ispdb", "imports", "Import a Thunderbird ISPDB file as a domain", api::import_ispdb)
            .query::<ReplaceQuery>().xml().answers::<IspdbImport>(OK),
        ApiRoute::new(M::GET, "/api/v1/certificates", "certificates", "Stored certificates and their expiry", api::list_certificates)
            .answers::<Vec<CertificateView>>(OK),
        ApiRoute::new(M::GET, "/api/v1/requests", "requests", "Recent discovery requests (newest first)", api::list_requests)
            .query::<RecentFilter>().answers::<Vec<RecentRequest>>(OK),
        ApiRoute::new(M::GET, "/api/v1/health", "health", "Every domain's latest health checks (DNS, TLS, answers, ACME, recent failures), problems first", api::get_health)
            .query::<HealthQuery>().answers::<signpost_operations::health::HealthReport>(OK),
        ApiRoute::new(M::POST, "/api/v1/health", "health", "Run the health checks now", api::create_health)
            .query::<HealthQuery>().answers::<signpost_operations::health::HealthReport>(OK),
        ApiRoute::new(M::GET, "/api/v1/audit", "audit", "Who changed what, when and from where (newest first; domain administrators see their domains')", api::list_audit)
            .query::<AuditFilter>().answers::<Vec<AuditEntry>>(OK),
        ApiRoute::new(M::GET, "/api/v1/administrators", "administrators", "List administrators", api::list_administrators)
            .answers::<Vec<AdministratorView>>(OK),
        ApiRoute::new(M::POST, "/api/v1/administrators", "administrators", "Add an administrator", api::create_administrator)
            .json::<NewAdministrator>().answers::<AdministratorView>(CREATED),
        ApiRoute::new(M::DELETE, "/api/v1/administrators/{name}", "administrators", "Remove an administrator", api::delete_administrator)
            .no_content(),
        ApiRoute::new(M::GET, "/api/v1/tokens", "administrators", "API tokens (yours; all for system administrators)", api::list_tokens)
            .answers::<Vec<signpost_store::ApiToken>>(OK),
        ApiRoute::new(M::POST, "/api/v1/administrators/{name}/tokens", "administrators", "Issue an API token (shown once)", api::create_token)
            .json::<NewToken>().answers::<IssuedToken>(CREATED),
        ApiRoute::new(M::DELETE, "/api/v1/administrators/{name}/tokens/{token}", "administrators", "Revoke an API token", api::delete_token)
            .no_content(),
    ]
}

/// The API router, from the table, with JSON answers for unknown API paths. Routes of one path
/// share a method router.
pub fn api_router() -> Router<Arc<AdminState>> {
    let mut by_path: Vec<(&'static str, MethodRouter<Arc<AdminState>>)> = Vec::new();
    for route in routes() {
        match by_path.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, router)) => *router = std::mem::take(router).merge(route.router),
            None => by_path.push((route.path, route.router)),
        }
    }
    let mut router = Router::new().route("/api/openapi.json", get(serve_document));
    for (path, methods) in by_path {
        router = router.route(path, methods);
    }
    router.route("/api/{*rest}", axum::routing::any(no_such_route))
}

async fn no_such_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "no such API route; see /api/openapi.json",
    )
}

async fn serve_document() -> Response {
    axum::Json(document()).into_response()
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            // The segments that name one of a few things say which.
            let schema = match name {
                "protocol" => json!({
                    "type": "string",
                    "enum": signpost_core::ProtocolKind::ALL.map(|k| k.key()),
                }),
                "kind" => json!({
                    "type": "string",
                    "enum": signpost_core::OverrideKind::ALL.map(|k| k.key()),
                }),
                _ => json!({"type": "string"}),
            };
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "schema": schema,
            })
        })
        .collect()
}

/// A query parameter's schema: an optional one is simply not sent, so the `null` that an
/// `Option` adds to its schema is left out (validators take a parameter's schema literally).
fn without_null(mut schema: Value) -> Value {
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = match kept.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(kept),
        };
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let kept: Vec<Value> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .cloned()
            .collect();
        if let [one] = kept.as_slice() {
            let mut merged = one.clone();
            if let (Some(merged), Some(outer)) = (merged.as_object_mut(), schema.as_object()) {
                for (key, value) in outer {
                    if key != "anyOf" {
                        merged.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
            return merged;
        }
    }
    schema
}

fn query_parameters(schema: &Schema) -> Vec<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| {
                    let mut parameter = json!({
                        "name": name,
                        "in": "query",
                        "required": required.contains(&name.as_str()),
                        "schema": without_null(property.clone()),
                    });
                    if let Some(description) = property.get("description") {
                        parameter["description"] = description.clone();
                    }
                    parameter
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The OpenAPI 3.1 document of every route in [`routes`].
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let error_schema = generator.subschema_for::<ErrorBody>();
    let mut paths = Map::new();
    for route in routes() {
        let mut parameters = path_parameters(route.path);
        if let Some(query) = route.query {
            parameters.extend(query_parameters(&query(&mut generator)));
        }
        let mut responses = Map::new();
        let success = match route.response {
            Some(schema) => json!({
                "description": route.status.canonical_reason().unwrap_or("OK"),
                "content": {"application/json": {"schema": schema(&mut generator)}},
            }),
            None => json!({"description": "Done"}),
        };
        responses.insert(route.status.as_u16().to_string(), success);
        responses.insert(
            "4XX".into(),
            json!({
                "description": "Bad input (the message names the field), not signed in, wrong role, bad CSRF token, or not found",
                "content": {"application/json": {"schema": error_schema.clone()}},
            }),
        );
        let mut operation = json!({
            "summary": route.summary,
            "operationId": operation_id(&route),
            "tags": [route.tag],
            "parameters": parameters,
            "responses": responses,
            "x-signpost-access": route.access.label(),
        });
        if route.access == Access::Public {
            operation["security"] = json!([]);
        }
        match route.body {
            Some(RequestBody::Json(schema)) => {
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"application/json": {"schema": schema(&mut generator)}},
                });
            }
            Some(RequestBody::Xml) => {
                operation["requestBody"] = json!({
                    "required": true,
                    // An XML document: a JSON type would describe its parsed form wrongly.
                    "content": {"application/xml": {"schema": {
                        "description": "A Thunderbird ISPDB autoconfig document (<clientConfig>)",
                        "xml": {"name": "clientConfig"},
                    }}},
                });
            }
            None => {}
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(route.method.as_str().to_ascii_lowercase(), operation);
        }
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Signpost administration API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Everything the signpost CLI can do. Authenticate with an API token (Authorization: Bearer, from `signpost admin token create`) or a session cookie from POST /api/v1/session; changes made with a session cookie need its CSRF token in X-CSRF-Token.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": super::auth::SESSION_COOKIE},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    })
}

fn operation_id(route: &ApiRoute) -> String {
    let mut id = route.method.as_str().to_ascii_lowercase();
    for segment in route.path.trim_start_matches("/api/v1/").split('/') {
        let word = segment.trim_matches(|c| c == '{' || c == '}');
        id.push('_');
        id.push_str(&word.replace('-', "_"));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once() {
        let document = document();
        let paths = document["paths"].as_object().unwrap();
        let mut seen = std::collections::HashSet::new();
        for route in routes() {
            let method = route.method.as_str().to_ascii_lowercase();
            assert!(
                seen.insert((route.path, method.clone())),
                "{} {} twice",
                route.method,
                route.path
            );
            let operation = &paths[route.path][&method];
            assert_eq!(operation["summary"], route.summary);
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key(&route.status.as_u16().to_string()));
            assert!(responses.contains_key("4XX"));
        }
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(documented, routes().len());
        // Every $ref points at a schema the document holds.
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
        assert!(schemas.contains_key("Domain"));
        assert!(schemas.contains_key("ErrorBody"));
    }

    #[test]
    fn path_and_query_parameters_are_listed() {
        let document = document();
        let parameters =
            document["paths"]["/api/v1/domains/{domain}/protocols/{protocol}"]["patch"]["parameters"]
                .as_array()
                .unwrap()
                .clone();
        let names: Vec<&str> = parameters
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["domain", "protocol"]);
        let listed = &document["paths"]["/api/v1/requests"]["get"]["parameters"];
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(
            names.contains(&"domain") && names.contains(&"outcome"),
            "{names:?}"
        );
        // Optional query parameters are plain types; the protocol is one of five.
        for parameter in listed.as_array().unwrap() {
            assert_eq!(parameter["required"], false, "{parameter}");
            assert!(
                !parameter["schema"].to_string().contains("null"),
                "{parameter}"
            );
        }
        assert_eq!(
            parameters[1]["schema"]["enum"],
            json!(["imap", "pop", "smtp", "ews", "eas"])
        );
    }
}
