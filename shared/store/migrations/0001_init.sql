-- The registry: organisations, datasets, users and their roles, tools, audit events.
-- Names are unique among live records only: a deleted name is free again (API.md).

CREATE TABLE organisations (
    id                      TEXT PRIMARY KEY,
    short_name              TEXT NOT NULL,
    organisation_identifier TEXT NOT NULL DEFAULT '',
    human_readable_name     TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    hq_country              TEXT NOT NULL DEFAULT '',
    region                  TEXT NOT NULL DEFAULT '',
    organisation_type       TEXT NOT NULL DEFAULT '',
    data_portal_url         TEXT NOT NULL DEFAULT '',
    exclusions_policy_url   TEXT NOT NULL DEFAULT '',
    reporting_source_type   TEXT NOT NULL DEFAULT '',
    default_licence_id      TEXT NOT NULL DEFAULT '',
    contact_email           TEXT NOT NULL DEFAULT '',
    address                 TEXT NOT NULL DEFAULT '',
    phone                   TEXT NOT NULL DEFAULT '',
    fax                     TEXT NOT NULL DEFAULT '',
    website                 TEXT NOT NULL DEFAULT '',
    registry_approved       INTEGER NOT NULL DEFAULT 0,
    first_publication_date  TEXT NOT NULL DEFAULT '',
    created_date            TEXT NOT NULL,
    version                 INTEGER NOT NULL DEFAULT 1,
    deleted_at              TEXT
);
CREATE UNIQUE INDEX organisations_short_name ON organisations(short_name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX organisations_identifier ON organisations(organisation_identifier)
    WHERE deleted_at IS NULL AND organisation_identifier <> '';
CREATE INDEX organisations_by_name ON organisations(human_readable_name, id) WHERE deleted_at IS NULL;

CREATE TABLE datasets (
    id                        TEXT PRIMARY KEY,
    organisation_id           TEXT NOT NULL REFERENCES organisations(id),
    short_name                TEXT NOT NULL,
    human_readable_name       TEXT NOT NULL,
    url                       TEXT NOT NULL,
    source_type               TEXT NOT NULL,
    licence_id                TEXT NOT NULL DEFAULT '',
    visibility                TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    last_url_update_date      TEXT NOT NULL,
    last_metadata_update_date TEXT NOT NULL,
    created_date              TEXT NOT NULL,
    version                   INTEGER NOT NULL DEFAULT 1,
    deleted_at                TEXT
);
CREATE UNIQUE INDEX datasets_short_name ON datasets(short_name) WHERE deleted_at IS NULL;
CREATE INDEX datasets_by_org ON datasets(organisation_id, human_readable_name, id) WHERE deleted_at IS NULL;

-- What the data pipeline learns about a dataset's file (CKAN extras); null until known.
CREATE TABLE dataset_pipeline (
    dataset_id        TEXT PRIMARY KEY REFERENCES datasets(id),
    filetype          TEXT,
    iati_version      TEXT,
    activity_count    INTEGER,
    country           TEXT,
    language          TEXT,
    data_updated      TEXT,
    validation_status TEXT,
    resource_hash     TEXT,
    resource_size     INTEGER
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    sub        TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    -- Whether their last token carried the superadmin role (refreshed with the profile;
    -- unlike the superadmins table, it goes when the Identity Service removes the role).
    superadmin_role INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE roles (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'contributor', 'contributor_pending')),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organisation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX roles_by_user ON roles(user_id, organisation_id);

CREATE TABLE superadmins (
    user_id    TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE tools (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    provider   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT
);
CREATE UNIQUE INDEX tools_client_id ON tools(client_id) WHERE deleted_at IS NULL;

CREATE TABLE tool_admins (
    tool_id TEXT NOT NULL REFERENCES tools(id),
    user_id TEXT NOT NULL,
    PRIMARY KEY (tool_id, user_id)
) WITHOUT ROWID;
CREATE INDEX tool_admins_by_user ON tool_admins(user_id);

CREATE TABLE tool_grants (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    tool_id         TEXT NOT NULL REFERENCES tools(id),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organisation_id, tool_id)
) WITHOUT ROWID;
CREATE INDEX tool_grants_by_tool ON tool_grants(tool_id, organisation_id);

-- Every write appends one event in the same transaction (AUTHZ.md §6).
CREATE TABLE audit_events (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    at               TEXT NOT NULL,
    sub              TEXT NOT NULL,
    user_id          TEXT NOT NULL DEFAULT '',
    user_name        TEXT NOT NULL DEFAULT '',
    client_id        TEXT NOT NULL,
    application_id   TEXT NOT NULL DEFAULT '',
    application_name TEXT NOT NULL DEFAULT '',
    action           TEXT NOT NULL,
    target_type      TEXT NOT NULL,
    target_id        TEXT NOT NULL,
    organisation_id  TEXT NOT NULL DEFAULT '',
    organisation_name TEXT NOT NULL DEFAULT '',
    before           TEXT,
    after            TEXT
);
CREATE INDEX audit_events_by_target ON audit_events(target_type, target_id, seq);

-- Tokens issued before `revoked_before` (seconds) are refused (AUTHZ.md §1.4).
CREATE TABLE revocations (
    kind           TEXT NOT NULL CHECK (kind IN ('sub', 'client')),
    subject        TEXT NOT NULL,
    revoked_before INTEGER NOT NULL,
    PRIMARY KEY (kind, subject)
) WITHOUT ROWID;

-- Verified claims under the SHA-256 of the whole token (AUTHZ.md §1.5).
CREATE TABLE token_cache (
    hash       BLOB PRIMARY KEY,
    claims     TEXT NOT NULL,
    sub        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    iat        INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX token_cache_by_expiry ON token_cache(expires_at);

-- POST retries within 24 h answer as the first did (API.md, Idempotency-Key).
CREATE TABLE idempotency (
    principal  TEXT NOT NULL,
    key        TEXT NOT NULL,
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,
    status     INTEGER NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (principal, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency(created_at);
