-- The networks (/24 for IPv4, /64 for IPv6) each account signed in from successfully lately,
-- as digests only: failed logins from elsewhere never lock a known network out.
CREATE TABLE known_networks (
    account TEXT NOT NULL,
    network TEXT NOT NULL,
    last_success INTEGER NOT NULL,
    PRIMARY KEY (account, network)
);
CREATE INDEX known_networks_by_time ON known_networks(last_success);
