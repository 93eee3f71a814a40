-- The last discovery requests of every instance sharing the store (a bounded table: each flush
-- removes all but the newest rows).
CREATE TABLE recent_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time BIGINT NOT NULL,
    client_address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    address TEXT,
    domain TEXT,
    client TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT NOT NULL
);
CREATE INDEX recent_requests_by_domain ON recent_requests(domain, id);
