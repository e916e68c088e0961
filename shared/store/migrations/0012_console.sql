-- IATI Account's console (issue 18). What a session's pages act with, fixed at sign-in as
-- the verified-token cache fixes it for a token: the console's client id, the user's roles
-- and the role table in force (JSON, written and read by ryd-api).
ALTER TABLE account_sessions ADD COLUMN caller TEXT NOT NULL DEFAULT '{}';

-- A key made on the console's API-key page may be bound to the session that made it: it
-- validates only while that session is on (ticket 787: keys that do not outlive the session).
ALTER TABLE api_keys ADD COLUMN session_hash TEXT;
CREATE INDEX api_keys_by_session ON api_keys (session_hash) WHERE session_hash IS NOT NULL;
