-- Domain claims must be proven before they act; see ../sqlite/0004_domain_proof.sql.

ALTER TABLE org_domains DROP CONSTRAINT org_domains_pkey;
ALTER TABLE org_domains ADD COLUMN status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified'));
ALTER TABLE org_domains ADD COLUMN token TEXT NOT NULL DEFAULT md5(random()::text);
ALTER TABLE org_domains ADD COLUMN verified_at BIGINT;
ALTER TABLE org_domains ALTER COLUMN status DROP DEFAULT;
ALTER TABLE org_domains ALTER COLUMN token DROP DEFAULT;
ALTER TABLE org_domains ADD PRIMARY KEY (domain, org_id);
CREATE UNIQUE INDEX org_domains_verified_uq ON org_domains (domain) WHERE status = 'verified';
