-- Administrators of Signpost, their API tokens and their browser sessions. None of these changes
-- what clients are told, so writing them does not bump store_version.
CREATE TABLE administrators (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    -- 'system' or 'domain'
    role TEXT NOT NULL,
    -- For domain administrators: their domains, comma-separated.
    domains TEXT NOT NULL DEFAULT ''
);

-- Tokens are shown once and kept only as SHA-256 hashes.
CREATE TABLE api_tokens (
    administrator TEXT NOT NULL REFERENCES administrators(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (administrator, name)
);

-- Session ids are kept only as SHA-256 hashes; the CSRF token is per session.
CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    administrator TEXT NOT NULL REFERENCES administrators(name) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX admin_sessions_by_expiry ON admin_sessions(expires_at);
