-- What happened to the public registry, in commit order, for mirrors (GET /api/v1/changes):
-- datasets and organisations created (became public), updated while public, deleted, or
-- hidden (no longer public: made private, unapproved). Written by the store's writes in
-- the writing transaction; `seq` only grows (AUTOINCREMENT: never reused), and writers
-- are serialised, so a reader never sees a smaller seq commit after a larger one.
CREATE TABLE public_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL CHECK (kind IN ('dataset', 'organisation')),
    id      TEXT NOT NULL,
    name    TEXT NOT NULL,
    change  TEXT NOT NULL CHECK (change IN ('created', 'updated', 'deleted', 'hidden')),
    version INTEGER NOT NULL,
    at      TEXT NOT NULL
);
