-- Issue 11: what the OpenID Connect provider hands out (ADR 0025). Only hashes of codes
-- and tokens are kept. None of these is read through a cache, so no change notices.

-- Authorization codes: one use, a minute of life, bound to the client, the redirect URI,
-- the PKCE challenge and the nonce of the request that made them.
CREATE TABLE oidc_codes (
    code_hash TEXT NOT NULL PRIMARY KEY,
    client_id BLOB NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
) WITHOUT ROWID;

-- Access and refresh tokens. A family is every token that came from one code, through
-- refresh rotations; a rotated refresh token presented again revokes the family.
CREATE TABLE oidc_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    family BLOB NOT NULL,
    client_id BLOB NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
) WITHOUT ROWID;
CREATE INDEX oidc_tokens_family_idx ON oidc_tokens (family);
CREATE INDEX oidc_tokens_user_idx ON oidc_tokens (user_id, client_id);
CREATE INDEX oidc_tokens_client_idx ON oidc_tokens (client_id);

-- What a user agreed to share with a client (not asked again while it covers the scope).
CREATE TABLE oidc_consents (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id BLOB NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
) WITHOUT ROWID;
CREATE INDEX oidc_consents_client_idx ON oidc_consents (client_id);
