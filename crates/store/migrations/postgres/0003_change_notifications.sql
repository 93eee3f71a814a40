-- Every instance LISTENs on signpost_changes; each version bump is announced with the new version,
-- delivered when the writing transaction commits.
CREATE FUNCTION signpost_announce_version() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('signpost_changes', NEW.version::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER store_version_announced
    AFTER UPDATE ON store_version
    FOR EACH ROW EXECUTE FUNCTION signpost_announce_version();
