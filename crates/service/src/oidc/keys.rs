//! The provider's signing keys: made on first need, sealed with the master key,
//! rotated by a platform authority, published as a JSON Web Key Set.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use orgbase_domain::{AuditAction, SigningAlg, SigningKey};
use ring::signature::{Ed25519KeyPair, KeyPair};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{Value, json};

use super::Oidc;
use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{AuditCtx, Event};
use crate::shared::authz::Platform;

/// The context a private key is sealed under: a sealed key copied to another row does
/// not open.
pub const SIGNING_KEY_CONTEXT_PREFIX: &str = "oidc-key:";

pub fn key_context(kid: &str) -> String {
    format!("{SIGNING_KEY_CONTEXT_PREFIX}{kid}")
}

/// Keys kept and published per algorithm: the current one (which signs) and the one
/// before it (tokens it signed verify until they expire).
const KEPT: u32 = 2;

/// RSA modulus size: 2048 bits, what RS256 verifiers everywhere accept.
const RSA_BITS: usize = 2048;

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct KeyRotation {
    /// The new current keys' ids.
    pub added: Vec<String>,
    /// Keys older than the previous one, deleted (no longer published).
    pub removed: u64,
}

fn internal(what: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Internal(format!("{what}: {e}"))
}

/// A random key id, with the algorithm's family in front for people reading a JWKS.
fn new_kid(alg: SigningAlg) -> Result<String> {
    let mut b = [0u8; 12];
    getrandom::getrandom(&mut b).map_err(|e| Error::Internal(e.to_string()))?;
    let family = match alg {
        SigningAlg::Rs256 => "rsa",
        SigningAlg::EdDsa => "ed",
    };
    Ok(format!("{family}-{}", URL_SAFE_NO_PAD.encode(b)))
}

/// A new key pair: the private key in the DER form `jsonwebtoken` signs with (PKCS#1
/// for RSA, PKCS#8 for Ed25519) and the public JWK. RSA generation takes a good part
/// of a second: run it on a blocking thread.
fn generate(alg: SigningAlg, kid: &str) -> Result<(Vec<u8>, Value)> {
    match alg {
        SigningAlg::Rs256 => {
            let mut rng = rsa::rand_core::OsRng;
            let key = rsa::RsaPrivateKey::new(&mut rng, RSA_BITS)
                .map_err(|e| internal("rsa key")(e.to_string()))?;
            let der = key
                .to_pkcs1_der()
                .map_err(|e| internal("rsa key")(e.to_string()))?;
            let jwk = json!({
                "kty": "RSA",
                "use": "sig",
                "alg": alg.as_str(),
                "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            });
            Ok((der.as_bytes().to_vec(), jwk))
        }
        SigningAlg::EdDsa => {
            let rng = ring::rand::SystemRandom::new();
            let doc = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|e| internal("ed25519 key")(e.to_string()))?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref())
                .map_err(|e| internal("ed25519 key")(e.to_string()))?;
            let jwk = json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "use": "sig",
                "alg": alg.as_str(),
                "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            });
            Ok((doc.as_ref().to_vec(), jwk))
        }
    }
}

/// New keys for `algs`, sealed, made off the async runtime.
async fn make_keys(core: &Core, algs: &[SigningAlg]) -> Result<Vec<SigningKey>> {
    let mut made = Vec::new();
    for &alg in algs {
        let kid = new_kid(alg)?;
        let for_blocking = kid.clone();
        let (der, public_jwk) = tokio::task::spawn_blocking(move || generate(alg, &for_blocking))
            .await
            .map_err(|e| Error::Internal(format!("key generation: {e}")))??;
        let private_sealed = core
            .secrets
            .seal_for(&key_context(&kid), &STANDARD.encode(der))?;
        made.push(SigningKey {
            kid,
            alg,
            generation: 0,
            private_sealed,
            public_jwk,
            created_at: core.clock.now(),
        });
    }
    Ok(made)
}

/// The published keys: for each algorithm its `KEPT` newest (the store lists keys
/// newest first within each algorithm).
fn published(keys: &[SigningKey]) -> Vec<&SigningKey> {
    SigningAlg::ALL
        .iter()
        .flat_map(|alg| {
            keys.iter()
                .filter(move |k| k.alg == *alg)
                .take(KEPT as usize)
        })
        .collect()
}

impl Oidc<'_> {
    /// Every key, made first when an algorithm has none (the first time anything asks:
    /// one node makes them, under a lock, and the others use those).
    pub(crate) async fn keys(&self) -> Result<Vec<SigningKey>> {
        let core = self.0;
        let keys = core.store.signing_keys().await?;
        let missing: Vec<SigningAlg> = SigningAlg::ALL
            .into_iter()
            .filter(|a| !keys.iter().any(|k| k.alg == *a))
            .collect();
        if missing.is_empty() {
            return Ok(keys);
        }
        let made = make_keys(core, &missing).await?;
        let mut change = core.change(AuditCtx::system()).await?;
        change.lock_signing_keys().await?;
        let now_there = change.signing_keys().await?;
        let mut added = Vec::new();
        for k in &made {
            // Another node may have made this algorithm's key meanwhile: use its.
            if !now_there.iter().any(|o| o.alg == k.alg) {
                change.insert_signing_key(k).await?;
                added.push(k.kid.clone());
            }
        }
        if !added.is_empty() {
            change
                .record(
                    Event::new(AuditAction::OidcKeysRotate, "oidc_keys", "signing")
                        .details(json!({"added": added, "removed": 0, "first": true})),
                )
                .await?;
            change.commit().await?;
        }
        Ok(core.store.signing_keys().await?)
    }

    /// The keys of the JSON Web Key Set: the current and the previous key of each
    /// algorithm, as public JWKs.
    pub async fn jwks(&self) -> Result<Vec<Value>> {
        let keys = self.keys().await?;
        Ok(published(&keys)
            .into_iter()
            .map(|k| k.public_jwk.clone())
            .collect())
    }

    /// A new current key for each algorithm; the one it replaces stays published as the
    /// previous key, and any older one is deleted. Audited (`oidc.keys.rotate`).
    pub async fn rotate_keys(&self, by: &impl Platform) -> Result<KeyRotation> {
        let core = self.0;
        self.keys().await?;
        let made = make_keys(core, &SigningAlg::ALL).await?;
        let mut change = core.change(by.audit()).await?;
        change.lock_signing_keys().await?;
        let mut removed = 0;
        for k in &made {
            change.insert_signing_key(k).await?;
            removed += change.prune_signing_keys(k.alg, KEPT).await?;
        }
        let added: Vec<String> = made.iter().map(|k| k.kid.clone()).collect();
        change
            .record(
                Event::new(AuditAction::OidcKeysRotate, "oidc_keys", "signing")
                    .details(json!({"added": added, "removed": removed})),
            )
            .await?;
        change.commit().await?;
        Ok(KeyRotation { added, removed })
    }

    /// Signs `claims` as a JWT with the current key of `alg` (its `kid` in the header).
    pub async fn sign(&self, alg: SigningAlg, claims: &impl Serialize) -> Result<String> {
        let keys = self.keys().await?;
        let key = keys
            .iter()
            .find(|k| k.alg == alg)
            .ok_or_else(|| Error::Internal(format!("no {} signing key", alg.as_str())))?;
        let der = self
            .0
            .secrets
            .open_for(&key_context(&key.kid), &key.private_sealed)?;
        let der = STANDARD
            .decode(der)
            .map_err(|e| internal("signing key")(e.to_string()))?;
        let (jwt_alg, encoding) = match alg {
            SigningAlg::Rs256 => (
                jsonwebtoken::Algorithm::RS256,
                EncodingKey::from_rsa_der(&der),
            ),
            SigningAlg::EdDsa => (
                jsonwebtoken::Algorithm::EdDSA,
                EncodingKey::from_ed_der(&der),
            ),
        };
        let mut header = Header::new(jwt_alg);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &encoding)
            .map_err(|e| internal("signing")(e.to_string()))
    }
}
