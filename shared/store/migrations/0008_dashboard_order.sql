-- The Dashboard lists visible organisations by name in any case, ties by id, and pages
-- through them: without this each page sorted every visible organisation (and counted
-- each one's datasets) before taking fifty.
CREATE INDEX organisations_approved_by_title
    ON organisations(human_readable_name COLLATE NOCASE, id) WHERE deleted_at IS NULL AND registry_approved = 1;
