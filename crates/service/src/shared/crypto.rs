//! Password hashing and opaque tokens.
//!
//! Passwords: argon2id PHC strings, hashed on the blocking pool behind a semaphore so a
//! burst of logins cannot starve the async runtime or exhaust memory. Tokens: 32 random
//! bytes, shown once, stored only as their SHA-256.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{
    Output, ParamsString, PasswordHash as Phc, PasswordVerifier, SaltString,
};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
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
    params: Params,
    permits: Arc<Semaphore>,
    memory: Arc<Arena>,
    /// A hash in this server's parameters that no password matches: verifying against
    /// it costs what a real verification costs, so unknown e-mails are not faster to
    /// reject.
    dummy: Arc<str>,
}

/// The working memory of argon2 (19 MiB at the default cost), kept and reused: at most
/// one block per permit ever exists. Allocating it afresh for every hash leaves each
/// blocking thread's allocator arena holding its own copy after a burst of logins
/// (glibc raises its mmap threshold after the first free), so the process's memory grew
/// with the number of threads the burst touched; reused, it is bounded by the permits.
struct Arena {
    free: Mutex<Vec<Vec<Block>>>,
    blocks: usize,
}

impl Arena {
    fn take(&self) -> Vec<Block> {
        let reused = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        reused.unwrap_or_else(|| vec![Block::default(); self.blocks])
    }

    fn give(&self, memory: Vec<Block>) {
        self.free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(memory);
    }
}

impl Hasher {
    pub fn new(cost: HashCost, max_concurrent: usize) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| Error::Internal(format!("argon2 params: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let memory = Arena {
            free: Mutex::new(Vec::new()),
            blocks: params.block_count(),
        };
        let dummy = dummy_phc(&params)?;
        Ok(Self {
            argon: Arc::new(argon),
            params,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            memory: Arc::new(memory),
            dummy: dummy.into(),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<PasswordHash> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let (argon, params, arena) = (self.argon.clone(), self.params.clone(), self.memory.clone());
        let pw = password.to_string();
        tokio::task::spawn_blocking(move || {
            let mut memory = arena.take();
            let hashed = hash_blocking(&argon, &params, &mut memory, &pw);
            arena.give(memory);
            hashed
        })
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
        let (argon, params, arena) = (self.argon.clone(), self.params.clone(), self.memory.clone());
        let real = stored.is_some();
        let phc = stored.map_or_else(|| self.dummy.to_string(), |h| h.as_str().to_string());
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            let mut memory = arena.take();
            let ok = verify_blocking(&argon, &params, &mut memory, &pw, &phc);
            arena.give(memory);
            ok
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(ok && real)
    }
}

/// A PHC string with this server's parameters, a random salt and a random output.
/// Verification runs argon2 over the salt in full and then compares, so it costs the
/// same as against a real hash; made without hashing, so start-up takes no 19 MiB block
/// (the idle server's memory stays small).
fn dummy_phc(params: &Params) -> Result<String> {
    // Random output: verifying against it costs a full hash and never matches.
    phc_string(params, |_salt, out| {
        getrandom::getrandom(out).map_err(|_| argon2::password_hash::Error::Crypto)
    })
}

fn hash_blocking(
    argon: &Argon2<'_>,
    params: &Params,
    memory: &mut [Block],
    password: &str,
) -> Result<String> {
    phc_string(params, |salt, out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut *memory)
            .map_err(argon2::password_hash::Error::from)
    })
}

/// The PHC string of an argon2id hash with these parameters and a fresh random salt,
/// its output written by `fill(salt, out)`.
fn phc_string(
    params: &Params,
    fill: impl FnOnce(&[u8], &mut [u8]) -> argon2::password_hash::Result<()>,
) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| Error::Internal(e.to_string()))?;
    let salt_b64 = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let phc = Output::init_with(len, |out| fill(&salt, out)).and_then(|output| {
        Ok(Phc {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params)?,
            salt: Some(salt_b64.as_salt()),
            hash: Some(output),
        }
        .to_string())
    });
    phc.map_err(|e| Error::Internal(format!("argon2: {e}")))
}

/// Verifies with the pooled memory when the stored hash was made with this server's
/// parameters (the usual case), and the library's own way (allocating) otherwise, e.g.
/// for hashes made before a change of cost.
fn verify_blocking(
    argon: &Argon2<'_>,
    params: &Params,
    memory: &mut [Block],
    password: &str,
    phc: &str,
) -> bool {
    let Ok(h) = Phc::new(phc) else { return false };
    let ours = h.algorithm == ARGON2ID_IDENT
        && h.version == Some(Version::V0x13.into())
        && Params::try_from(&h).is_ok_and(|p| {
            (p.m_cost(), p.t_cost(), p.p_cost())
                == (params.m_cost(), params.t_cost(), params.p_cost())
        });
    if !ours {
        return argon.verify_password(password.as_bytes(), &h).is_ok();
    }
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
        .is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
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
    /// An OpenID Connect client's secret (never a credential of this API).
    OidcClientSecret,
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
            TokenKind::OidcClientSecret => "obc_",
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

    #[tokio::test]
    async fn the_dummy_costs_a_real_verification_and_no_memory_at_start() {
        let h = cheap();
        assert!(
            h.memory.free.lock().unwrap().is_empty(),
            "no block at start"
        );
        let phc = Phc::new(&h.dummy).unwrap();
        let p = Params::try_from(&phc).unwrap();
        assert_eq!(
            (p.m_cost(), p.t_cost(), p.p_cost()),
            (h.params.m_cost(), h.params.t_cost(), h.params.p_cost())
        );
        assert_eq!(
            phc.hash.unwrap().len(),
            h.params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
        );
        assert!(!h.verify("anything", None).await.unwrap());
        assert_eq!(
            h.memory.free.lock().unwrap().len(),
            1,
            "verified on the pooled path, as a real hash is"
        );
    }

    /// The pooled hash is the library's own hash: each verifies the other's, and hashes
    /// made with another cost (before a change of settings) still verify.
    #[tokio::test]
    async fn pooled_hashes_are_standard_phc() {
        let h = cheap();
        let ours = h.hash("correct horse").await.unwrap();
        let params = Params::new(64, 1, 1, None).unwrap();
        let lib = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let parsed = Phc::new(ours.as_str()).unwrap();
        assert!(lib.verify_password(b"correct horse", &parsed).is_ok());
        assert!(lib.verify_password(b"wrong horse", &parsed).is_err());
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = lib
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        let theirs = PasswordHash::from_phc(theirs);
        assert!(h.verify("battery staple", Some(&theirs)).await.unwrap());
        assert!(!h.verify("battery stable", Some(&theirs)).await.unwrap());
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(128, 2, 1, None).unwrap(),
        )
        .hash_password(b"old cost", &salt)
        .unwrap()
        .to_string();
        let older = PasswordHash::from_phc(older);
        assert!(h.verify("old cost", Some(&older)).await.unwrap());
        assert!(!h.verify("new cost", Some(&older)).await.unwrap());
        // The memory is reused: never more blocks than hashes at once.
        for _ in 0..8 {
            h.hash("again").await.unwrap();
        }
        assert!(h.memory.free.lock().unwrap().len() <= 2);
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
