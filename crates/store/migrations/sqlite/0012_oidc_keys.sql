-- Issue 11: the OpenID Connect provider's signing keys (ADR 0025). The private key is
-- sealed with the master key; the public JWK is what the key set publishes. Each
-- algorithm's keys are numbered (`generation`, not the clock, orders them): the highest
-- signs; it and the one before it are published.
CREATE TABLE oidc_keys (
    kid TEXT NOT NULL PRIMARY KEY,
    alg TEXT NOT NULL CHECK (alg IN ('RS256', 'EdDSA')),
    generation BIGINT NOT NULL,
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX oidc_keys_generation_uq ON oidc_keys (alg, generation);
