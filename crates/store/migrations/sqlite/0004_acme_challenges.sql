-- HTTP-01 answers of ACME orders in progress, so that whichever instance the CA reaches can
-- answer it. Writes bump store_version, which makes every instance load them.
CREATE TABLE acme_challenges (
    token TEXT PRIMARY KEY NOT NULL,
    key_authorization TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
