"""Calls every operation of Signpost's API once, in an order that makes each call meaningful,
and has openapi-core validate each request and each answer against /api/openapi.json.

Usage: check_api.py BASE_URL SETUP_TOKEN EXPORT_FILE ISPDB_FILE
Prints one JSON line per call: {"operation", "method", "path", "status", "errors"}; exits 0
even when calls fail validation (the caller reads the lines).
"""

import json
import sys
import urllib.parse

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

BASE, SETUP_TOKEN, EXPORT_FILE, ISPDB_FILE = sys.argv[1:5]
PASSWORD = "openapi check pw"

spec_document = requests.get(BASE + "/api/openapi.json", timeout=30).json()
api = OpenAPI.from_dict(spec_document)
operations = {
    (method.upper(), path): op["operationId"]
    for path, methods in spec_document["paths"].items()
    for method, op in methods.items()
}
session = requests.Session()
auth = {}


def call(method, template, values=None, body=None, query=None, raw=None, content_type=None):
    values = values or {}
    path = template.format(**{k: urllib.parse.quote(v, safe="") for k, v in values.items()})
    headers = dict(auth)
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    elif raw is not None:
        data = raw
        headers["Content-Type"] = content_type
    request = requests.Request(method, BASE + path, params=query, data=data, headers=headers)
    prepared = session.prepare_request(request)
    response = session.send(prepared, timeout=120)
    openapi_request = RequestsOpenAPIRequest(prepared)
    errors = [str(e) for e in api.iter_request_errors(openapi_request)]
    errors += [
        str(e)
        for e in api.iter_response_errors(openapi_request, RequestsOpenAPIResponse(response))
    ]
    print(
        json.dumps(
            {
                "operation": operations.get((method, template), "?"),
                "method": method,
                "path": template,
                "status": response.status_code,
                "errors": errors,
            }
        ),
        flush=True,
    )
    return response


# Sessions: the first administrator, signing in and out.
call("POST", "/api/v1/setup", body={"token": SETUP_TOKEN, "name": "root", "password": PASSWORD})
session.cookies.clear()
signed = call("POST", "/api/v1/session", body={"name": "root", "password": PASSWORD})
auth["X-CSRF-Token"] = signed.json()["csrf_token"]
call("GET", "/api/v1/session")
issued = call(
    "POST", "/api/v1/administrators/{name}/tokens", {"name": "root"}, body={"name": "openapi"}
).json()
call("DELETE", "/api/v1/session")
session.cookies.clear()
auth.clear()
auth["Authorization"] = "Bearer " + issued["token"]

# Domains and what hangs off them.
d = {"domain": "example.org"}
call("POST", "/api/v1/domains", body={"name": "example.org", "hostname": "mail.example.org"})
call("GET", "/api/v1/domains", query={"search": "example"})
call("GET", "/api/v1/domains/{domain}", d)
call("PATCH", "/api/v1/domains/{domain}", d, body={"display_name": "Example Org"})
call(
    "PATCH",
    "/api/v1/domains/{domain}/protocols/{protocol}",
    {**d, "protocol": "imap"},
    body={"port": 143, "encryption": "starttls"},
)
call("GET", "/api/v1/domains/{domain}/overrides/{kind}", {**d, "kind": "desktop"})
call(
    "PUT",
    "/api/v1/domains/{domain}/overrides/{kind}",
    {**d, "kind": "desktop"},
    body={"enabled": False, "text": "<Autodiscover/>"},
)
call("POST", "/api/v1/domains/{domain}/overrides/{kind}/generate", {**d, "kind": "desktop"})
call("GET", "/api/v1/domains/{domain}/user-source", d)
call("PUT", "/api/v1/domains/{domain}/user-source", d, body={"kind": "builtin"})
call("GET", "/api/v1/domains/{domain}/dns-records", d)
call("POST", "/api/v1/domains/{domain}/checks", d)

# Users.
u = {"address": "jo@example.org"}
call(
    "POST",
    "/api/v1/users",
    body={"address": "jo@example.org", "password": "jo pw", "display_name": "Jo"},
)
call("GET", "/api/v1/domains/{domain}/users", d, query={"search": "jo", "page": "1", "per_page": "10"})
call("GET", "/api/v1/users/{address}", u)
call("PATCH", "/api/v1/users/{address}", u, body={"display_name": "Jo Two", "deny": ["pop"]})
call("PUT", "/api/v1/users/{address}/password", u, body={"password": "new jo pw"})

# What clients get, live and previewed.
call("POST", "/api/v1/previews", body={"address": "jo@example.org", "kind": "autoconfig"})
call("POST", "/api/v1/probes", body={"address": "jo@example.org", "clients": ["thunderbird"]})

# An ISPDB file as a domain.
with open(ISPDB_FILE, encoding="utf-8") as f:
    call("POST", "/api/v1/imports/ispdb", raw=f.read(), content_type="application/xml")

# Reading what happened.
call("GET", "/api/v1/certificates")
call("GET", "/api/v1/requests", query={"domain": "example.org", "outcome": "answered", "limit": "5"})
call("POST", "/api/v1/health", query={"domain": "example.org"})
call("GET", "/api/v1/health")
call("GET", "/api/v1/audit", query={"domain": "example.org", "limit": "5"})

# Administrators and tokens.
call(
    "POST",
    "/api/v1/administrators",
    body={"name": "dora", "password": "dora pw", "role": "domain", "domains": ["example.org"]},
)
call("GET", "/api/v1/administrators")
call("GET", "/api/v1/tokens")
call("POST", "/api/v1/administrators/{name}/tokens", {"name": "dora"}, body={"name": "dora-script"})
call(
    "DELETE",
    "/api/v1/administrators/{name}/tokens/{token}",
    {"name": "dora", "token": "dora-script"},
)
call("DELETE", "/api/v1/administrators/{name}", {"name": "dora"})

# Removing.
call("DELETE", "/api/v1/users/{address}", u)
call("DELETE", "/api/v1/domains/{domain}", d)

# Last: an export document of another store replaces everything (its administrators too).
with open(EXPORT_FILE, encoding="utf-8") as f:
    call("POST", "/api/v1/imports", body=json.load(f), query={"replace": "true"})
