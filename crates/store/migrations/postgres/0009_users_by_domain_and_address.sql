-- A domain's users in address order straight from the index: the web interface's pages of
-- users (and their count) stay fast for a domain of 100,000.
CREATE INDEX users_by_domain_and_address ON users(domain, address);
DROP INDEX users_by_domain;
