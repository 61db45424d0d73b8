-- Sign-up policy: signup keys, claimed e-mail domains, invitations, one-time
-- set-password links, and each org's configuration document.
-- Keep in step with ../postgres/0002_access.sql.

ALTER TABLE orgs ADD COLUMN signup_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orgs ADD COLUMN signup_key TEXT;
ALTER TABLE orgs ADD COLUMN signup_role TEXT NOT NULL DEFAULT 'viewer' CHECK (signup_role IN ('viewer', 'editor', 'admin'));
ALTER TABLE orgs ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX orgs_signup_key_uq ON orgs (signup_key);

CREATE TABLE org_domains (
    domain TEXT NOT NULL PRIMARY KEY CHECK (domain = lower(domain)),
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    auto_join BOOLEAN NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX org_domains_org_idx ON org_domains (org_id, domain);

CREATE TABLE invitations (
    id BLOB NOT NULL PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    workspace_id BLOB REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id BLOB REFERENCES projects (id) ON DELETE CASCADE,
    email TEXT NOT NULL CHECK (email = lower(email)),
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    token_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    invited_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT
) WITHOUT ROWID;
CREATE UNIQUE INDEX invitations_token_hash_uq ON invitations (token_hash);
CREATE INDEX invitations_org_idx ON invitations (org_id, id);
CREATE INDEX invitations_email_idx ON invitations (email);

CREATE TABLE password_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX password_tokens_user_idx ON password_tokens (user_id);
