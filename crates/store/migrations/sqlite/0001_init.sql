-- Orgbase schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql:
-- `orgbase schema dump` of both must compare equal after type normalization.
-- Types: ids are UUID blobs, times are BIGINT Unix milliseconds, JSON is TEXT.
-- Tables are WITHOUT ROWID (clustered on their primary key): a look-up by key or a
-- member-list range scan reads one B-tree instead of an index and then the table.
-- audit_events keeps its rowid: its rows are large and only appended.

CREATE TABLE users (
    id BLOB NOT NULL PRIMARY KEY,
    email TEXT NOT NULL CHECK (email = lower(email)),
    name TEXT NOT NULL,
    password_hash TEXT,
    is_system_admin BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    home_org_id BLOB REFERENCES orgs (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_email_uq ON users (email);

CREATE TABLE orgs (
    id BLOB NOT NULL PRIMARY KEY,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    is_system BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    owner_id BLOB REFERENCES users (id) ON DELETE RESTRICT,
    default_framework TEXT,
    default_language_model TEXT,
    public BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    CHECK (is_system OR owner_id IS NOT NULL)
) WITHOUT ROWID;
CREATE UNIQUE INDEX orgs_slug_uq ON orgs (slug);
CREATE INDEX orgs_owner_idx ON orgs (owner_id);

CREATE TABLE workspaces (
    id BLOB NOT NULL PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX workspaces_org_name_uq ON workspaces (org_id, name);

CREATE TABLE projects (
    id BLOB NOT NULL PRIMARY KEY,
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX projects_workspace_name_uq ON projects (workspace_id, name);
CREATE INDEX projects_org_idx ON projects (org_id);

CREATE TABLE org_members (
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'owner')),
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    invited_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    joined_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
CREATE INDEX org_members_user_idx ON org_members (user_id, org_id);

CREATE TABLE workspace_members (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'owner')),
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    invited_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    joined_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) WITHOUT ROWID;
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id, org_id);

CREATE TABLE project_members (
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id BLOB NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin', 'owner')),
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    invited_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    joined_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX project_members_user_idx ON project_members (user_id, org_id);

CREATE TABLE sessions (
    id BLOB NOT NULL PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX sessions_token_hash_uq ON sessions (token_hash);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_keys (
    id BLOB NOT NULL PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_keys_token_hash_uq ON api_keys (token_hash);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- Audit rows outlive what they describe, so they hold ids without foreign keys.
CREATE TABLE audit_events (
    id BLOB NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_user_id BLOB,
    actor_api_key_id BLOB,
    org_id BLOB,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    details TEXT NOT NULL,
    client_addr TEXT,
    request_id TEXT
);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
