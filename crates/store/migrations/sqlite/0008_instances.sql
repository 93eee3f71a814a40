-- Running servers on this store and the configuration version each one answers from, so that a
-- change made elsewhere (the CLI) can wait until every running instance serves it.
CREATE TABLE instances (
    id TEXT PRIMARY KEY NOT NULL,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    loaded_version BIGINT NOT NULL
);
