//! Password hashing and opaque tokens.
//!
//! Passwords: argon2id PHC strings, hashed on the blocking pool behind a semaphore so a
//! burst of logins cannot starve the async runtime or exhaust memory. Tokens: 32 random
//! bytes, shown once, stored only as their SHA-256.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash as Phc, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use orgbase_domain::PasswordHash;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Argon2id cost. The default follows OWASP's recommendation (19 MiB, 2 passes).
#[derive(Debug, Clone, Copy)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Clone)]
pub struct Hasher {
    argon: Arc<Argon2<'static>>,
    permits: Arc<Semaphore>,
    /// A real hash of a random password: verifying against it costs what a real
    /// verification costs, so unknown e-mails are not faster to reject.
    dummy: Arc<str>,
}

impl Hasher {
    pub fn new(cost: HashCost, max_concurrent: usize) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| Error::Internal(format!("argon2 params: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = hash_blocking(&argon, &random_hex(16)?)?;
        Ok(Self {
            argon: Arc::new(argon),
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy: dummy.into(),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<PasswordHash> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let argon = self.argon.clone();
        let pw = password.to_string();
        tokio::task::spawn_blocking(move || hash_blocking(&argon, &pw))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map(PasswordHash::from_phc)
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no
    /// stored hash (unknown user), always paying one verification.
    pub async fn verify(&self, password: &str, stored: Option<&PasswordHash>) -> Result<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let argon = self.argon.clone();
        let real = stored.is_some();
        let phc = stored.map_or_else(|| self.dummy.to_string(), |h| h.as_str().to_string());
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            Phc::new(&phc)
                .map(|h| argon.verify_password(pw.as_bytes(), &h).is_ok())
                .unwrap_or(false)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(ok && real)
    }
}

fn hash_blocking(argon: &Argon2<'_>, password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| Error::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))
}

pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(hex(&buf))
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// What kind of secret a token is; the prefix makes leaked tokens recognizable to
/// secret scanners and routes the look-up without a second query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    ApiKey,
    Invitation,
    PasswordLink,
    EmailLink,
    /// An organization's service key.
    OrgKey,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "obs_",
            TokenKind::ApiKey => "obk_",
            TokenKind::Invitation => "obi_",
            TokenKind::PasswordLink => "obp_",
            TokenKind::EmailLink => "obe_",
            TokenKind::OrgKey => "obo_",
        }
    }

    pub fn of(token: &str) -> Option<Self> {
        if token.starts_with("obs_") {
            Some(TokenKind::Session)
        } else if token.starts_with("obk_") {
            Some(TokenKind::ApiKey)
        } else if token.starts_with("obo_") {
            Some(TokenKind::OrgKey)
        } else {
            None
        }
    }
}

/// API keys (personal or service) may live at most this long when an expiry is asked for.
pub const MAX_KEY_DAYS: i64 = 3650;

/// The expiry of a new API key from `expires_in_days` (none: it does not expire).
pub fn key_expiry(
    now: orgbase_domain::Timestamp,
    expires_in_days: Option<i64>,
) -> Result<Option<orgbase_domain::Timestamp>> {
    match expires_in_days {
        None => Ok(None),
        Some(d) if (1..=MAX_KEY_DAYS).contains(&d) => Ok(Some(now.plus_seconds(d * 86_400))),
        Some(_) => Err(Error::bad_request(
            "invalid_expiry",
            format!("expires_in_days must be 1 to {MAX_KEY_DAYS}"),
        )),
    }
}

/// A freshly minted token: the plaintext (returned to the caller once) and its hash.
pub struct NewToken {
    pub plaintext: String,
    pub hash: String,
}

pub fn new_token(kind: TokenKind) -> Result<NewToken> {
    let plaintext = format!("{}{}", kind.prefix(), random_hex(32)?);
    let hash = token_hash(&plaintext);
    Ok(NewToken { plaintext, hash })
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two hashes (hex strings of equal length).
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        Hasher::new(
            HashCost {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            2,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = cheap();
        let phc = h.hash("correct horse").await.unwrap();
        assert!(phc.as_str().starts_with("$argon2id$"));
        assert!(h.verify("correct horse", Some(&phc)).await.unwrap());
        assert!(!h.verify("wrong horse", Some(&phc)).await.unwrap());
        assert!(!h.verify("anything", None).await.unwrap());
        let junk = PasswordHash::from_phc("not a phc".into());
        assert!(!h.verify("x", Some(&junk)).await.unwrap());
    }

    #[test]
    fn tokens_are_prefixed_and_hashed() {
        let t = new_token(TokenKind::ApiKey).unwrap();
        assert!(t.plaintext.starts_with("obk_"));
        assert_eq!(t.plaintext.len(), 4 + 64);
        assert_eq!(token_hash(&t.plaintext), t.hash);
        assert_eq!(TokenKind::of(&t.plaintext), Some(TokenKind::ApiKey));
        assert!(hashes_equal(&t.hash, &t.hash.clone()));
        assert!(!hashes_equal(&t.hash, &token_hash("other")));
    }
}
