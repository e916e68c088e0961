-- The change feed reaches webhooks from the store's code (ryd_store::changes::recorded),
-- not a trigger: every request's connection parses every trigger in the schema before its
-- first statement, and most requests write nothing (infra/README.md, "Benchmarks").
DROP TRIGGER IF EXISTS public_changes_to_webhooks;
