-- Issue 11: the platforms that sign their users in through Orgbase (ADR 0025). A
-- client belongs to an org (its admins manage it; only its members sign in) or, without
-- one, to the system admins (optionally limited to the members of `allowed_orgs`).
-- Only the SHA-256 of a confidential client's secret is kept; redirect URIs are matched
-- exactly.
CREATE TABLE oidc_clients (
    id BLOB NOT NULL PRIMARY KEY,
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    org_id BLOB REFERENCES orgs (id) ON DELETE CASCADE,
    allowed_orgs TEXT NOT NULL,
    first_party BOOLEAN NOT NULL,
    groups_style TEXT NOT NULL CHECK (groups_style IN ('orgs', 'roles', 'full')),
    admin_role BOOLEAN NOT NULL,
    id_token_alg TEXT NOT NULL CHECK (id_token_alg IN ('RS256', 'EdDSA')),
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX oidc_clients_client_id_uq ON oidc_clients (client_id);
CREATE INDEX oidc_clients_org_idx ON oidc_clients (org_id, id);
