-- The full-text index holds listed datasets only, so a text search needs no join to
-- decide visibility. Kept in step through the `listed` flag: every change of visibility,
-- name or title updates `listed` (migration 0003's triggers set it on insert and on
-- every visibility change), which re-indexes the row here.

DROP TRIGGER dataset_search_insert;
DROP TRIGGER dataset_search_update;
DROP TRIGGER dataset_search_delete;
DROP TRIGGER dataset_search_organisation;

DELETE FROM dataset_search;
INSERT INTO dataset_search (rowid, name, title, organisation)
SELECT d.rowid, d.short_name, d.human_readable_name, o.short_name || ' ' || o.human_readable_name
  FROM datasets d JOIN organisations o ON o.id = d.organisation_id WHERE d.listed;

CREATE TRIGGER dataset_search_reindex AFTER UPDATE OF listed, short_name, human_readable_name ON datasets BEGIN
    DELETE FROM dataset_search WHERE rowid = old.rowid;
    INSERT INTO dataset_search (rowid, name, title, organisation)
    SELECT new.rowid, new.short_name, new.human_readable_name, o.short_name || ' ' || o.human_readable_name
      FROM organisations o WHERE o.id = new.organisation_id AND new.listed;
END;

CREATE TRIGGER dataset_search_delete AFTER DELETE ON datasets BEGIN
    DELETE FROM dataset_search WHERE rowid = old.rowid;
END;

CREATE TRIGGER dataset_search_organisation AFTER UPDATE OF short_name, human_readable_name ON organisations BEGIN
    DELETE FROM dataset_search WHERE rowid IN (SELECT rowid FROM datasets WHERE organisation_id = new.id);
    INSERT INTO dataset_search (rowid, name, title, organisation)
    SELECT d.rowid, d.short_name, d.human_readable_name, new.short_name || ' ' || new.human_readable_name
      FROM datasets d WHERE d.organisation_id = new.id AND d.listed;
END;
