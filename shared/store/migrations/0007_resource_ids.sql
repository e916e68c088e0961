-- The authorisation service finds a dataset by its CKAN resource id (`res:` scopes):
-- without this, each such question scanned every dataset.
CREATE INDEX dataset_pipeline_resource ON dataset_pipeline(resource_id) WHERE resource_id IS NOT NULL;
