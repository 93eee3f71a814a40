-- Who changed what, when and from where: one row per change, written in the same transaction as
-- the change. Never a secret (passwords, hashes, tokens, bind passwords are left out or masked).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    origin TEXT NOT NULL,
    operation TEXT NOT NULL,
    domain TEXT,
    target TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX audit_log_by_domain ON audit_log(domain, id);
CREATE INDEX audit_log_by_time ON audit_log(at);
