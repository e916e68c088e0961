-- Rendered list pages of the public read APIs (the Dashboard's), each labelled with the
-- public change (`public_changes.seq`) it was rendered at: served only while that is still
-- the newest, so a page is never staler than the ETag it goes out with. A cache: emptying
-- it loses nothing.
CREATE TABLE list_pages (
    key  TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL,
    body TEXT NOT NULL,
    -- bytes of body, so that the cache's size is summed without reading the pages
    size INTEGER NOT NULL
);
-- The cache's size and its stale pages, read from this index alone: the table's rows are
-- pages of tens of kilobytes each.
CREATE INDEX list_pages_by_seq ON list_pages (seq, size);
