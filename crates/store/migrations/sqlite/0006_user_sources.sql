-- Domains whose users are authenticated against an existing directory (SQL, LDAP, IMAP login)
-- rather than Signpost's own users: the source's settings as JSON. No row means built-in users.
CREATE TABLE user_sources (
    domain TEXT PRIMARY KEY REFERENCES domains(name) ON DELETE CASCADE,
    settings TEXT NOT NULL
);
