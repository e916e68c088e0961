-- API keys for gateways (AUTHZ-SERVICE.md): only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    hash        BLOB NOT NULL,
    -- The secret's first characters, so a user can tell their keys apart (never enough
    -- to guess the rest).
    prefix      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    -- Unix seconds; NULL never expires.
    expires_at  INTEGER,
    revoked_at  TEXT
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys(hash);
CREATE INDEX api_keys_by_user ON api_keys(user_id, created_at);

-- Groups: collections of datasets with user members and key/value metadata, managed by
-- superadmins. Not CKAN's group_list (that answers organisations, as the IATI Registry did).
CREATE TABLE groups (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id),
    user_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_by_user ON group_members(user_id, group_id);

CREATE TABLE group_datasets (
    group_id   TEXT NOT NULL REFERENCES groups(id),
    dataset_id TEXT NOT NULL,
    PRIMARY KEY (group_id, dataset_id)
) WITHOUT ROWID;
CREATE INDEX group_datasets_by_dataset ON group_datasets(dataset_id, group_id);

CREATE TABLE group_metadata (
    group_id TEXT NOT NULL REFERENCES groups(id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (group_id, key)
) WITHOUT ROWID;
