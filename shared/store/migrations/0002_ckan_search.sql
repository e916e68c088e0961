-- The CKAN-compatible read API: what is public, searched and sorted fast.

-- CKAN's resource id (kept from the old registry on import; else the dataset's id).
ALTER TABLE dataset_pipeline ADD COLUMN resource_id TEXT;
ALTER TABLE dataset_pipeline ADD COLUMN resource_created TEXT;

-- Full text over name, title and the organisation's name and title, kept in step with
-- every write by the triggers below (rowid = datasets.rowid).
CREATE VIRTUAL TABLE dataset_search USING fts5(name, title, organisation, tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER dataset_search_insert AFTER INSERT ON datasets BEGIN
    INSERT INTO dataset_search (rowid, name, title, organisation)
    SELECT new.rowid, new.short_name, new.human_readable_name, o.short_name || ' ' || o.human_readable_name
      FROM organisations o WHERE o.id = new.organisation_id;
END;

CREATE TRIGGER dataset_search_update AFTER UPDATE OF short_name, human_readable_name ON datasets BEGIN
    DELETE FROM dataset_search WHERE rowid = old.rowid;
    INSERT INTO dataset_search (rowid, name, title, organisation)
    SELECT new.rowid, new.short_name, new.human_readable_name, o.short_name || ' ' || o.human_readable_name
      FROM organisations o WHERE o.id = new.organisation_id;
END;

CREATE TRIGGER dataset_search_delete AFTER DELETE ON datasets BEGIN
    DELETE FROM dataset_search WHERE rowid = old.rowid;
END;

CREATE TRIGGER dataset_search_organisation AFTER UPDATE OF human_readable_name ON organisations BEGIN
    DELETE FROM dataset_search WHERE rowid IN (SELECT rowid FROM datasets WHERE organisation_id = new.id);
    INSERT INTO dataset_search (rowid, name, title, organisation)
    SELECT d.rowid, d.short_name, d.human_readable_name, new.short_name || ' ' || new.human_readable_name
      FROM datasets d WHERE d.organisation_id = new.id;
END;

-- Public datasets by name, by modification and by organisation (CKAN's sorts and fq).
CREATE INDEX datasets_public_by_name ON datasets(short_name) WHERE deleted_at IS NULL AND visibility = 'public';
CREATE INDEX datasets_public_by_modified ON datasets(last_metadata_update_date, short_name) WHERE deleted_at IS NULL AND visibility = 'public';
CREATE INDEX datasets_public_by_title ON datasets(human_readable_name, short_name) WHERE deleted_at IS NULL AND visibility = 'public';
CREATE INDEX datasets_public_by_org ON datasets(organisation_id, short_name) WHERE deleted_at IS NULL AND visibility = 'public';
CREATE INDEX dataset_pipeline_filetype ON dataset_pipeline(filetype, dataset_id);
CREATE INDEX organisations_approved_by_name ON organisations(short_name) WHERE deleted_at IS NULL AND registry_approved = 1;
CREATE INDEX organisations_by_identifier ON organisations(organisation_identifier) WHERE deleted_at IS NULL;
