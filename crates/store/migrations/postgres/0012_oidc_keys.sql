-- Issue 11: the OpenID Connect provider's signing keys (ADR 0025). The private key is
-- sealed with the master key; the public JWK is what the key set publishes. Each
-- algorithm's keys are numbered (`generation`, not the clock, orders them): the highest
-- signs; it and the one before it are published.
CREATE TABLE oidc_keys (
    kid TEXT NOT NULL PRIMARY KEY,
    alg TEXT NOT NULL CHECK (alg IN ('RS256', 'EdDSA')),
    generation BIGINT NOT NULL,
    private_key TEXT NOT NULL,
    public_jwk JSONB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX oidc_keys_generation_uq ON oidc_keys (alg, generation);
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON oidc_keys FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
