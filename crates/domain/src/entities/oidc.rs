//! The OpenID Connect provider's own records (issue 11, ADR 0025).

use crate::Timestamp;

/// An algorithm the provider signs ID tokens with: RS256 for every client (it is the
/// one OpenID Connect requires), EdDSA (Ed25519) for clients that ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlg {
    Rs256,
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::Rs256, SigningAlg::EdDsa];

    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One signing key. The private key (PKCS#8 DER) is stored sealed with the master key;
/// the public half is kept as the JWK the key set publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKey {
    /// The key id (`kid`): random, never reused.
    pub kid: String,
    pub alg: SigningAlg,
    /// Numbers the keys of one algorithm in the order they were made (set by the
    /// store on insert): the highest signs.
    pub generation: i64,
    /// `enc:v1:…` of the PKCS#8 DER, bound to the context `oidc-key:<kid>`.
    pub private_sealed: String,
    /// The public JWK (with `kid`, `alg`, `use`).
    pub public_jwk: serde_json::Value,
    pub created_at: Timestamp,
}
