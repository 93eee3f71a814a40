-- Domains with the seed's Options and Autodiscover cards, what other clients need, and users with
-- their service access.
CREATE TABLE domains (
    name TEXT PRIMARY KEY NOT NULL,
    hostname TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    short_name TEXT NOT NULL DEFAULT '',
    auth_policy TEXT NOT NULL,
    redirect_to TEXT,
    desktop_override_enabled INTEGER NOT NULL DEFAULT 0,
    desktop_override_text TEXT,
    mobile_override_enabled INTEGER NOT NULL DEFAULT 0,
    mobile_override_text TEXT,
    webmail_url TEXT,
    caldav_url TEXT,
    carddav_url TEXT,
    apple_account TEXT NOT NULL DEFAULT 'mail',
    oauth2_issuer TEXT,
    oauth2_scope TEXT,
    oauth2_auth_url TEXT,
    oauth2_token_url TEXT,
    acme_enabled INTEGER NOT NULL DEFAULT 0,
    acme_hostname INTEGER NOT NULL DEFAULT 0,
    acme_pacc INTEGER NOT NULL DEFAULT 0
);

-- More address domains served by a domain's settings. An alias belongs to one domain only.
CREATE TABLE domain_aliases (
    alias TEXT PRIMARY KEY NOT NULL,
    domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE
);
CREATE INDEX domain_aliases_by_domain ON domain_aliases(domain);

CREATE TABLE domain_protocols (
    domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (domain, protocol)
);

-- Position 0 is the protocol's primary endpoint; more follow in the administrator's order.
CREATE TABLE domain_endpoints (
    domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    position INTEGER NOT NULL,
    host TEXT,
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    encryption TEXT NOT NULL,
    username TEXT,
    -- Authentication methods in order, comma-separated ('' for none).
    authentication TEXT NOT NULL,
    PRIMARY KEY (domain, protocol, position)
);

CREATE TABLE domain_documentation (
    domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    -- JSON array of {"lang": "en" | null, "text": "..."}.
    descriptions TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (domain, position)
);

CREATE TABLE users (
    address TEXT PRIMARY KEY NOT NULL,
    domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    login_name TEXT,
    legacy_dn TEXT,
    allow_imap INTEGER NOT NULL,
    allow_pop INTEGER NOT NULL,
    allow_smtp INTEGER NOT NULL,
    allow_ews INTEGER NOT NULL,
    allow_eas INTEGER NOT NULL
);
CREATE INDEX users_by_domain ON users(domain);

-- Certificate chains with their keys, added by administrators or obtained by ACME.
CREATE TABLE certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    chain_pem TEXT NOT NULL,
    key_pem TEXT NOT NULL,
    -- The DNS names covered, comma-separated, lowercase.
    names TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    serial TEXT NOT NULL,
    renew_requested INTEGER NOT NULL DEFAULT 0,
    added_at INTEGER NOT NULL,
    UNIQUE (issuer, serial)
);

-- ACME account credentials, one per CA directory.
CREATE TABLE acme_accounts (
    directory_url TEXT PRIMARY KEY NOT NULL,
    credentials TEXT NOT NULL
);

-- Bumped by every write, so a running server notices changes made by the CLI.
CREATE TABLE store_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO store_version (id, version) VALUES (1, 0);
