-- Events out (issue 25): the transactional outbox. A row is written in the same transaction
-- as the change that causes it, so a committed change always has its message and a rolled
-- back one never. One row per message and recipient, rendered when written (what the
-- recipient sees is the registry as it was then); delivery only sends it.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The message's own id: its Message-ID, the deduplication key a receiver may use.
    id TEXT NOT NULL UNIQUE,
    -- 'email'.
    channel TEXT NOT NULL,
    -- What happened: join_requested, organisation_awaiting_approval, …
    event TEXT NOT NULL,
    organisation_id TEXT NOT NULL DEFAULT '',
    recipient TEXT NOT NULL,
    recipient_name TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    -- Unix milliseconds.
    created_at INTEGER NOT NULL,
    -- Delivery: attempts made, when the next may be, who holds it (a lease, so that several
    -- workers on one database never send one message twice), and how it ended.
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    sent_at INTEGER,
    given_up_at INTEGER,
    last_error TEXT
);
-- What a worker claims: the undelivered rows, due first.
CREATE INDEX outbox_pending ON outbox (channel, next_attempt_at) WHERE sent_at IS NULL AND given_up_at IS NULL;
