-- The authorisation service finds a dataset by its CKAN resource id (`res:` scopes):
-- without this, each such question scanned every dataset.
CREATE INDEX dataset_pipeline_resource ON dataset_pipeline(resource_id) WHERE resource_id IS NOT NULL;

-- STAT4 samples (left by an earlier import's ANALYZE) cost every fresh connection about
-- 250 µs when it loads the schema; the plans need only sqlite_stat1 (ryd_store::analyse).
DROP TABLE IF EXISTS sqlite_stat4;
