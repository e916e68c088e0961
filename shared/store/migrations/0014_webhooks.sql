-- Signed webhooks for tools (issue 25): an organisation's endpoints, and what they hear.
-- Their messages go through the outbox like email (channel 'webhook': recipient is the
-- webhook's id, subject the event type, body_text the JSON payload).
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    url TEXT NOT NULL,
    -- Space-separated: event types (`dataset.updated`), a kind's every event
    -- (`membership.*`), or `*`.
    events TEXT NOT NULL,
    -- Standard Webhooks' `whsec_…`; the one before a rotation still signs until it lapses.
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until INTEGER,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    -- Failed attempts in a row; at the bound the endpoint is disabled with the reason.
    failures INTEGER NOT NULL DEFAULT 0,
    disabled_at INTEGER,
    disabled_reason TEXT
);
CREATE INDEX webhooks_by_org ON webhooks (organisation_id) WHERE disabled_at IS NULL;

-- Every public change (the change feed's row) reaches the endpoints of its organisation
-- that asked for it, in the same transaction. The condition on `events` is
-- ryd_store::webhooks::MATCHES with NEW's type (a test checks they agree).
CREATE TRIGGER public_changes_to_webhooks AFTER INSERT ON public_changes
WHEN EXISTS (SELECT 1 FROM webhooks WHERE disabled_at IS NULL)
BEGIN
    INSERT INTO outbox (id, channel, event, organisation_id, recipient, subject, body_text, body_html,
                        created_at, next_attempt_at)
    SELECT 'msg_' || lower(hex(randomblob(16))), 'webhook', NEW.kind || '.' || NEW.change, w.organisation_id, w.id,
           NEW.kind || '.' || NEW.change,
           json_object('type', NEW.kind || '.' || NEW.change, 'timestamp', NEW.at,
                       'data', json_object('organisation_id', w.organisation_id, 'kind', NEW.kind, 'id', NEW.id,
                                           'name', NEW.name, 'change', NEW.change, 'version', NEW.version,
                                           'seq', NEW.seq)),
           '', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
           CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    FROM webhooks w
    WHERE w.disabled_at IS NULL
      AND w.organisation_id = CASE NEW.kind WHEN 'organisation' THEN NEW.id
                                  ELSE (SELECT organisation_id FROM datasets WHERE id = NEW.id) END
      AND (instr(' ' || w.events || ' ', ' ' || (NEW.kind || '.' || NEW.change) || ' ') > 0 OR instr(' ' || w.events || ' ', ' ' || NEW.kind || '.* ') > 0 OR instr(' ' || w.events || ' ', ' * ') > 0);
END;
