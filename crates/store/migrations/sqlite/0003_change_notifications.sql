-- PostgreSQL announces each version bump (LISTEN/NOTIFY) in this step. SQLite has no such thing:
-- instances poll store_version. The step exists so that both backends number every step alike.
SELECT 1;
