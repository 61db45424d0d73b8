-- Domain claims must be proven before they act: a claim is pending (with the token the
-- org publishes in DNS) until it is verified. Several orgs may claim a domain while
-- pending (nobody can squat a domain by claiming it first); at most one claim of a
-- domain is verified. Claims made before this migration were never proven, so they
-- start pending with a fresh token.
-- Keep in step with ../postgres/0004_domain_proof.sql.

CREATE TABLE org_domains_new (
    domain TEXT NOT NULL CHECK (domain = lower(domain)),
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    auto_join BOOLEAN NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified')),
    token TEXT NOT NULL,
    verified_at BIGINT,
    PRIMARY KEY (domain, org_id)
) WITHOUT ROWID;
INSERT INTO org_domains_new (domain, org_id, auto_join, role, created_at, status, token, verified_at)
    SELECT domain, org_id, auto_join, role, created_at, 'pending', lower(hex(randomblob(16))), NULL
    FROM org_domains;
DROP TABLE org_domains;
ALTER TABLE org_domains_new RENAME TO org_domains;
CREATE INDEX org_domains_org_idx ON org_domains (org_id, domain);
CREATE UNIQUE INDEX org_domains_verified_uq ON org_domains (domain) WHERE status = 'verified';
