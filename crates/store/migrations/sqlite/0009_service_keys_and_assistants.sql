-- Issue 8: organizations' service keys, and assistants shared across organizations.

-- A service key acts as a service account of one org (never a person): a role there,
-- capped at admin, and optional scopes (`secrets:read`, `check`). Only the hash is kept.
CREATE TABLE org_api_keys (
    id BLOB NOT NULL PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    scopes TEXT NOT NULL,
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT
) WITHOUT ROWID;
CREATE UNIQUE INDEX org_api_keys_token_hash_uq ON org_api_keys (token_hash);
CREATE INDEX org_api_keys_org_idx ON org_api_keys (org_id, id);

-- An assistant lives in its home org; `framework` and `language_model` are a snapshot
-- with per-field provenance (`derived` from the org defaults, or `explicit`; ADR 0017).
CREATE TABLE assistants (
    id BLOB NOT NULL PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    owner_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    project_id BLOB REFERENCES projects (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    framework TEXT,
    framework_source TEXT NOT NULL CHECK (framework_source IN ('derived', 'explicit')),
    language_model TEXT,
    language_model_source TEXT NOT NULL CHECK (language_model_source IN ('derived', 'explicit')),
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX assistants_org_idx ON assistants (org_id, id);
CREATE INDEX assistants_owner_idx ON assistants (owner_id, org_id);

-- The organizations an assistant belongs to (M:N): one row for its home org
-- (`home`), one per org it is shared with. Listing an org's assistants is one range.
CREATE TABLE assistant_orgs (
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    assistant_id BLOB NOT NULL REFERENCES assistants (id) ON DELETE CASCADE,
    home BOOLEAN NOT NULL,
    shared_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, assistant_id)
) WITHOUT ROWID;
CREATE INDEX assistant_orgs_assistant_idx ON assistant_orgs (assistant_id);
