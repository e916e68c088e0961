-- `listed`: whether a dataset is visible to everyone (live and public, of a live,
-- approved organisation). Kept by triggers, so the CKAN API's searches and counts walk
-- partial indexes of listed datasets instead of joining every row to its organisation.

ALTER TABLE datasets ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;

UPDATE datasets SET listed = (deleted_at IS NULL AND visibility = 'public' AND EXISTS (
    SELECT 1 FROM organisations o WHERE o.id = datasets.organisation_id AND o.deleted_at IS NULL AND o.registry_approved = 1));

CREATE TRIGGER datasets_listed_insert AFTER INSERT ON datasets BEGIN
    UPDATE datasets SET listed = (new.deleted_at IS NULL AND new.visibility = 'public' AND EXISTS (
        SELECT 1 FROM organisations o WHERE o.id = new.organisation_id AND o.deleted_at IS NULL AND o.registry_approved = 1))
    WHERE rowid = new.rowid;
END;

CREATE TRIGGER datasets_listed_update AFTER UPDATE OF visibility, deleted_at, organisation_id ON datasets BEGIN
    UPDATE datasets SET listed = (new.deleted_at IS NULL AND new.visibility = 'public' AND EXISTS (
        SELECT 1 FROM organisations o WHERE o.id = new.organisation_id AND o.deleted_at IS NULL AND o.registry_approved = 1))
    WHERE rowid = new.rowid;
END;

CREATE TRIGGER organisations_listed_update AFTER UPDATE OF registry_approved, deleted_at ON organisations BEGIN
    UPDATE datasets SET listed = (deleted_at IS NULL AND visibility = 'public' AND new.deleted_at IS NULL AND new.registry_approved = 1)
    WHERE organisation_id = new.id;
END;

DROP INDEX datasets_public_by_name;
DROP INDEX datasets_public_by_modified;
DROP INDEX datasets_public_by_title;
DROP INDEX datasets_public_by_org;
CREATE INDEX datasets_listed_by_name ON datasets(short_name) WHERE listed;
CREATE INDEX datasets_listed_by_modified ON datasets(last_metadata_update_date, short_name) WHERE listed;
CREATE INDEX datasets_listed_by_title ON datasets(human_readable_name, short_name) WHERE listed;
CREATE INDEX datasets_listed_by_org ON datasets(organisation_id, short_name) WHERE listed;
-- The smallest index there is (a rowid per listed dataset): unfiltered counts read it.
CREATE INDEX datasets_listed ON datasets(listed) WHERE listed;
