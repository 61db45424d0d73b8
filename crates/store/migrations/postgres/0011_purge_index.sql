-- Issue 10: the purge looks for orgs deleted before the restore window. Without an
-- index it read every org on each sweep (100,000 orgs: the whole table, and the page
-- cache it filled). Only deleted orgs are in this one.
CREATE INDEX orgs_deleted_idx ON orgs (deleted_at, id) WHERE deleted_at IS NOT NULL;
