-- Domains with the seed's Options and Autodiscover cards, and users with service access.
CREATE TABLE domains (
    name TEXT PRIMARY KEY NOT NULL,
    hostname TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    auth_policy TEXT NOT NULL,
    redirect_to TEXT,
    desktop_override_enabled INTEGER NOT NULL DEFAULT 0,
    desktop_override_text TEXT,
    mobile_override_enabled INTEGER NOT NULL DEFAULT 0,
    mobile_override_text TEXT
);

CREATE TABLE domain_protocols (
    domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    host TEXT,
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    encryption TEXT NOT NULL,
    PRIMARY KEY (domain, protocol)
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

-- Bumped by every write, so a running server notices changes made by the CLI.
CREATE TABLE store_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO store_version (id, version) VALUES (1, 0);
