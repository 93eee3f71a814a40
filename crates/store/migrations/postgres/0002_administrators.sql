-- The PostgreSQL dialect of sqlite/0002.
CREATE TABLE administrators (
    name TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    domains TEXT NOT NULL DEFAULT ''
);

CREATE TABLE api_tokens (
    administrator TEXT NOT NULL REFERENCES administrators(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (administrator, name)
);

CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    administrator TEXT NOT NULL REFERENCES administrators(name) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX admin_sessions_by_expiry ON admin_sessions(expires_at);
