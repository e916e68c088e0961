-- IATI Account's browser sessions (issue 18). A session is found by the SHA-256 of the id
-- in its cookie; the id itself is stored nowhere. The provider's tokens stay here and never
-- reach the browser: the ID token for RP-initiated logout (`id_token_hint`), the access and
-- refresh tokens for calls on the user's behalf.
CREATE TABLE account_sessions (
    id_hash        TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    -- the provider's subject and session (`sid`): what its back-channel logout names
    sub            TEXT NOT NULL,
    sid            TEXT,
    id_token       TEXT NOT NULL,
    access_token   TEXT,
    refresh_token  TEXT,
    -- the synchronizer token every form of this session carries
    csrf_token     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    -- the timeouts it began with (so that reading it needs no configuration): over when
    -- idle for idle_timeout_s, and at expires_at however active
    idle_timeout_s INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX account_sessions_by_sid ON account_sessions (sid);
CREATE INDEX account_sessions_by_sub ON account_sessions (sub);
CREATE INDEX account_sessions_by_user ON account_sessions (user_id);

-- Sign-ins under way, by the SHA-256 of their cookie's id: taken once, when the provider
-- sends the browser back.
CREATE TABLE account_logins (
    id_hash    TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    verifier   TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    return_to  TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Logout tokens' `jti`s until they expire: each is accepted once (Back-Channel Logout §2.6).
CREATE TABLE logout_tokens_seen (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
