-- The CKAN read model (`datasets.listed` and `dataset_search`) is kept in step by the
-- store's write functions (`ryd_store::listing`) from now on, not by triggers: every
-- request's fresh connection parses the whole schema, and these six were a third of it.
-- The data stays as the triggers left it.

DROP TRIGGER datasets_listed_insert;
DROP TRIGGER datasets_listed_update;
DROP TRIGGER organisations_listed_update;
DROP TRIGGER dataset_search_reindex;
DROP TRIGGER dataset_search_delete;
DROP TRIGGER dataset_search_organisation;
