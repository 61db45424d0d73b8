//! Secrets at rest: per-organization provider settings (an OpenAI API key in an org's
//! JSON configuration, say) are stored sealed, never as plaintext.
//!
//! * [`MasterKey`]: 32 bytes, from [`MASTER_KEY_ENV`] (64 hex characters, or standard
//!   or URL-safe base64, padded or not) or from a key file that
//!   [`MasterKey::load_or_create`] creates on first start (hex, mode 0600 on unix).
//! * [`SecretBox`]: XChaCha20-Poly1305 with a fresh random 24-byte nonce per seal. A
//!   sealed value is the self-describing string
//!   `enc:v1:<base64url(nonce ‖ ciphertext ‖ tag)>` (URL-safe base64, no padding).
//!   Every seal is bound to a caller-chosen *context* (for example
//!   `"<org id>:providers.openai.api_key"`), used as AEAD associated data, so a sealed
//!   value copied to another organization or field does not open.
//! * [`mask`]: what pages and API answers show instead of a secret.
//!
//! Losing the master key loses every sealed secret; with a different key, sealed values
//! fail to open (an [`Error::Internal`]) rather than yield garbage. No message built
//! here ever contains a key, a plaintext or a sealed value.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::path::Path;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};

/// The environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "ORGBASE_MASTER_KEY";

/// Marks (and versions) a sealed value.
const SEALED_PREFIX: &str = "enc:v1:";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The key every secret at rest is sealed with. `Debug` prints nothing of it.
pub struct MasterKey([u8; KEY_LEN]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        // Best effort without `unsafe` or another crate: `black_box` keeps the
        // overwrite from being removed as a dead store. (The cipher in a `SecretBox`
        // zeroizes its own copy.)
        self.0 = [0; KEY_LEN];
        std::hint::black_box(&mut self.0);
    }
}

impl MasterKey {
    /// Parses the value of [`MASTER_KEY_ENV`]: 64 hex characters (either case), or the
    /// standard or URL-safe base64 of 32 bytes (padding optional). Surrounding
    /// whitespace is ignored. The error names the variable, never the value.
    pub fn from_env_value(value: &str) -> Result<Self> {
        parse_key(value)
            .map(Self)
            .map_err(|why| Error::Internal(format!("{MASTER_KEY_ENV} {why}")))
    }

    /// Reads the key file at `path` (the formats of [`MasterKey::from_env_value`];
    /// what `load_or_create` writes is 64 hex characters and a newline), or, when there
    /// is none, creates it with 32 random bytes, mode 0600 on unix. The flag is `true`
    /// when this call created the file.
    ///
    /// The file appears atomically (written and synced under a temporary name, then
    /// hard-linked into place, which never replaces an existing file), so processes
    /// starting together agree on one key and none reads a half-written file. The
    /// parent directory must exist.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool)> {
        if let Some(key) = read_key_file(path)? {
            return Ok((key, false));
        }
        if let Some(key) = create_key_file(path)? {
            return Ok((key, true));
        }
        // Another process created it between our read and our link: use theirs.
        read_key_file(path)?
            .map(|key| (key, false))
            .ok_or_else(|| file_error(path, "disappeared while being created"))
    }
}

/// Seals and opens secrets with one [`MasterKey`]. Cheap to clone; build it once.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &MasterKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key.0)),
        }
    }

    /// Seals `plaintext` bound to `context` (where the value lives, for example
    /// `"<org id>:providers.openai.api_key"`; it is not stored, so opening needs the
    /// same string). Two seals of the same text differ.
    pub fn seal_for(&self, context: &str, plaintext: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Internal(format!("nonce: {e}")))?;
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| Error::Internal("sealing a secret failed".into()))?;
        let mut raw = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED_PREFIX}{}", encode_base64url(&raw)))
    }

    /// Opens what [`SecretBox::seal_for`] sealed with the same key and `context`. A bad
    /// format, another key, another context or any alteration is an
    /// [`Error::Internal`], never a panic.
    pub fn open_for(&self, context: &str, sealed: &str) -> Result<String> {
        let raw = decode_sealed(sealed)
            .ok_or_else(|| Error::Internal("stored secret is not a sealed value".into()))?;
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| {
                Error::Internal(format!(
                    "stored secret for {context:?} does not open \
                     (another master key, another context, or altered)"
                ))
            })?;
        String::from_utf8(plain).map_err(|_| Error::Internal("opened secret is not UTF-8".into()))
    }
}

/// The context a configuration secret is sealed under: its org and its path in the
/// document (`"<org id>:providers.openai.api_key"`).
/// An org's stored configuration document (secrets still sealed) as its type: an empty
/// document is the default one; one that does not parse is a server fault (every write
/// validated it).
pub(crate) fn stored_config(raw: &serde_json::Value) -> Result<orgbase_domain::config::OrgConfig> {
    if raw.as_object().is_none_or(|o| o.is_empty()) {
        return Ok(Default::default());
    }
    orgbase_domain::config::OrgConfig::parse(raw)
        .map_err(|e| Error::Internal(format!("stored configuration does not parse: {e}")))
}

pub(crate) fn config_context(org: orgbase_domain::OrgId, path: &str) -> String {
    format!("{org}:{path}")
}

/// Whether `s` has the form of a sealed value (`enc:v1:` and a well-formed body long
/// enough for nonce and tag). A format check only: whether it opens, and with which
/// key and context, only [`SecretBox::open_for`] tells.
pub fn is_sealed(s: &str) -> bool {
    decode_sealed(s).is_some()
}

fn decode_sealed(s: &str) -> Option<Vec<u8>> {
    let raw = decode_base64(s.strip_prefix(SEALED_PREFIX)?, Alphabet::UrlSafe, false)?;
    (raw.len() >= NONCE_LEN + TAG_LEN).then_some(raw)
}

/// What to show instead of a secret (pass the plaintext). The rule, counting
/// characters, not bytes:
///
/// * fewer than 12 characters: `"••••"`, revealing nothing, not even the length (the
///   empty string too; callers that mean "not set" check for emptiness first);
/// * otherwise: the prefix up to and including the first `-` if that `-` is among the
///   first 4 characters (so `"sk-"` keeps the kind of key recognizable; no prefix
///   otherwise), then `"…"`, then the last 4 characters.
///
/// `mask("sk-proj-abcdefgh1234") == "sk-…1234"`, `mask("abcdefghijklmnop") == "…mnop"`.
pub fn mask(secret: &str) -> String {
    const MIN_LEN: usize = 12;
    const TAIL: usize = 4;
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < MIN_LEN {
        return "••••".to_string();
    }
    let prefix = chars
        .iter()
        .take(4)
        .position(|&c| c == '-')
        .map_or(0, |i| i + 1);
    let mut out: String = chars[..prefix].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - TAIL..]);
    out
}

// ---- key parsing and the key file ----

/// The key in `value`, or why not (a phrase completing "<source> ", never the value).
fn parse_key(value: &str) -> std::result::Result<[u8; KEY_LEN], String> {
    const EXPECTED: &str = "expected 64 hex characters or base64 of 32 bytes";
    let s = value.trim();
    if s.is_empty() {
        return Err(format!("is empty; {EXPECTED}"));
    }
    let all_hex = s.bytes().all(|c| c.is_ascii_hexdigit());
    if s.len() == 2 * KEY_LEN && all_hex {
        return decode_hex(s)
            .and_then(|v| <[u8; KEY_LEN]>::try_from(v.as_slice()).ok())
            .ok_or_else(|| format!("is not valid hex; {EXPECTED}"));
    }
    let decoded = decode_base64(s, Alphabet::Standard, true)
        .or_else(|| decode_base64(s, Alphabet::UrlSafe, true));
    if let Some(key) = decoded
        .as_deref()
        .and_then(|v| <[u8; KEY_LEN]>::try_from(v).ok())
    {
        return Ok(key);
    }
    Err(match decoded {
        _ if all_hex => format!("looks like hex but has {} characters; {EXPECTED}", s.len()),
        Some(v) => format!("is base64 of {} bytes; {EXPECTED}", v.len()),
        None => format!("is neither hex nor base64; {EXPECTED}"),
    })
}

fn file_error(path: &Path, why: &str) -> Error {
    Error::Internal(format!("master key file {} {why}", path.display()))
}

/// The key in the file, or `None` when there is no file.
fn read_key_file(path: &Path) -> Result<Option<MasterKey>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error(path, &format!("cannot be read: {e}"))),
    };
    warn_if_exposed(path);
    parse_key(&text)
        .map(|key| Some(MasterKey(key)))
        .map_err(|why| file_error(path, &why))
}

/// Creates the key file with a new key; `None` when another process got there first.
fn create_key_file(path: &Path) -> Result<Option<MasterKey>> {
    let name = path
        .file_name()
        .ok_or_else(|| file_error(path, "is not a file path"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let hex = crate::crypto::random_hex(KEY_LEN)?;
    let key = parse_key(&hex).map_err(|why| Error::Internal(format!("new master key {why}")))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        crate::crypto::random_hex(8)?
    ));
    write_new_private(&tmp, format!("{hex}\n").as_bytes())
        .map_err(|e| file_error(path, &format!("cannot be written ({}): {e}", tmp.display())))?;
    let linked = std::fs::hard_link(&tmp, path);
    if let Err(e) = std::fs::remove_file(&tmp) {
        tracing::warn!(path = %tmp.display(), error = %e, "could not remove temporary key file");
    }
    match linked {
        Ok(()) => {
            sync_dir(dir);
            Ok(Some(MasterKey(key)))
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(file_error(path, &format!("cannot be created: {e}"))),
    }
}

/// Writes a file that must not exist yet, readable by its owner only, and syncs it.
fn write_new_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// Makes the new directory entry durable: a key lost in a crash loses every secret.
#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not sync the key file's directory");
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(unix)]
fn warn_if_exposed(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = %format!("{mode:o}"),
                "master key file is accessible to group or others; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path) {}

// ---- hex and base64 ----

/// Hex of either case, an even number of digits.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    /// RFC 4648 §4: `+` and `/`.
    Standard,
    /// RFC 4648 §5: `-` and `_`.
    UrlSafe,
}

fn encode_base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64: one alphabet, `=` padding only where allowed (and then complete, so
/// the length is a multiple of 4), and zero unused bits in the last character.
fn decode_base64(s: &str, alphabet: Alphabet, allow_padding: bool) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let padding = if allow_padding && s.ends_with('=') {
        DecodePaddingMode::RequireCanonical
    } else {
        DecodePaddingMode::RequireNone
    };
    let alphabet = match alphabet {
        Alphabet::Standard => &base64::alphabet::STANDARD,
        Alphabet::UrlSafe => &base64::alphabet::URL_SAFE,
    };
    // Unused bits must be zero: `decode_allow_trailing_bits` is off by default.
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(padding);
    GeneralPurpose::new(alphabet, config).decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key(byte: u8) -> MasterKey {
        MasterKey([byte; KEY_LEN])
    }

    fn temp_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "orgbase-secrets-{}",
            crate::crypto::random_hex(8).unwrap()
        ));
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    /// The standard, padded base64 of `bytes` (built from the URL-safe encoder).
    fn standard_base64(bytes: &[u8]) -> String {
        let mut s = encode_base64url(bytes).replace('-', "+").replace('_', "/");
        while !s.len().is_multiple_of(4) {
            s.push('=');
        }
        s
    }

    #[test]
    fn round_trip() {
        let sb = SecretBox::new(&key(7));
        for plain in ["sk-proj-abcdefgh1234", "", "ünïcödé 🔑", &"x".repeat(5000)] {
            let sealed = sb.seal_for("org1:openai.api_key", plain).unwrap();
            assert!(sealed.starts_with("enc:v1:"));
            assert!(is_sealed(&sealed));
            assert!(!sealed.contains(plain) || plain.is_empty());
            assert_eq!(sb.open_for("org1:openai.api_key", &sealed).unwrap(), plain);
        }
    }

    #[test]
    fn seals_of_the_same_text_differ() {
        let sb = SecretBox::new(&key(7));
        let a = sb.seal_for("ctx", "same").unwrap();
        let b = sb.seal_for("ctx", "same").unwrap();
        assert_ne!(a, b);
        assert_eq!(sb.open_for("ctx", &a).unwrap(), "same");
        assert_eq!(sb.open_for("ctx", &b).unwrap(), "same");
    }

    #[test]
    fn tampering_fails() {
        let sb = SecretBox::new(&key(7));
        let sealed = sb.seal_for("ctx", "sk-secret-value").unwrap();
        let body_start = SEALED_PREFIX.len();
        for i in body_start..sealed.len() {
            let mut bytes = sealed.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(sb.open_for("ctx", &tampered).is_err(), "position {i}");
        }
        // Truncated, extended, re-prefixed, not sealed at all.
        let bad = [
            sealed[..sealed.len() - 1].to_string(),
            sealed[..sealed.len() - 4].to_string(),
            format!("{sealed}AAAA"),
            sealed.replacen("enc:v1:", "enc:v2:", 1),
            sealed.replacen("enc:v1:", "", 1),
            "enc:v1:".to_string(),
            "enc:v1:!!!!".to_string(),
            format!("enc:v1:{}", encode_base64url(&[0; NONCE_LEN + TAG_LEN - 1])),
            format!("enc:v1:{}", encode_base64url(&[0; NONCE_LEN + TAG_LEN])),
            "sk-proj-abcdefgh1234".to_string(),
            String::new(),
        ];
        for s in &bad {
            let err = sb.open_for("ctx", s).unwrap_err();
            assert_eq!(err.kind(), orgbase_domain::ErrorKind::Internal);
            assert!(!err.to_string().contains("sk-secret-value"));
        }
        assert!(!is_sealed("sk-proj-abcdefgh1234"));
        assert!(!is_sealed("enc:v1:"));
        assert!(!is_sealed("enc:v1:not base64!"));
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = SecretBox::new(&key(1)).seal_for("ctx", "secret").unwrap();
        assert!(SecretBox::new(&key(2)).open_for("ctx", &sealed).is_err());
    }

    #[test]
    fn wrong_context_fails() {
        let sb = SecretBox::new(&key(1));
        let sealed = sb.seal_for("org-a:openai.api_key", "secret").unwrap();
        assert!(sb.open_for("org-b:openai.api_key", &sealed).is_err());
        assert!(sb.open_for("org-a:anthropic.api_key", &sealed).is_err());
        assert!(sb.open_for("", &sealed).is_err());
        assert_eq!(
            sb.open_for("org-a:openai.api_key", &sealed).unwrap(),
            "secret"
        );
    }

    #[test]
    fn base64_codec() {
        let vectors: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (raw, enc) in vectors {
            assert_eq!(encode_base64url(raw), enc);
            assert_eq!(decode_base64(enc, Alphabet::UrlSafe, false).unwrap(), raw);
            assert_eq!(
                decode_base64(&standard_base64(raw), Alphabet::Standard, true).unwrap(),
                raw
            );
        }
        let all: Vec<u8> = (0..=255).collect();
        let enc = encode_base64url(&all);
        assert_eq!(decode_base64(&enc, Alphabet::UrlSafe, false).unwrap(), all);
        // Padding where not allowed, incomplete padding, a lone trailing character,
        // non-zero unused bits, the other alphabet.
        assert!(decode_base64("Zg==", Alphabet::UrlSafe, false).is_none());
        assert!(decode_base64("Zg=", Alphabet::Standard, true).is_none());
        assert!(decode_base64("Zm9vY", Alphabet::Standard, true).is_none());
        assert!(decode_base64("Zh", Alphabet::Standard, true).is_none());
        assert!(decode_base64("+/", Alphabet::UrlSafe, false).is_none());
        assert!(decode_base64("-_", Alphabet::Standard, true).is_none());
    }

    #[test]
    fn key_from_hex() {
        let sealed = SecretBox::new(&MasterKey::from_env_value(HEX_KEY).unwrap())
            .seal_for("ctx", "s")
            .unwrap();
        for value in [
            HEX_KEY.to_string(),
            HEX_KEY.to_uppercase(),
            format!("{HEX_KEY}\n"),
            format!("  {HEX_KEY}  "),
        ] {
            let k = MasterKey::from_env_value(&value).unwrap();
            assert_eq!(k.0[31], 0x1f);
            assert_eq!(SecretBox::new(&k).open_for("ctx", &sealed).unwrap(), "s");
        }
    }

    #[test]
    fn key_from_base64() {
        // Bytes whose encodings contain the alphabet-specific characters.
        let mut bytes = [0u8; KEY_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = [0xfb, 0xff, 0xbf][i % 3];
        }
        let url = encode_base64url(&bytes);
        let std = standard_base64(&bytes);
        assert!(url.contains('-') && url.contains('_'));
        assert!(std.contains('+') && std.contains('/') && std.ends_with('='));
        for value in [
            url.clone(),
            format!("{url}="),
            std.clone(),
            std.trim_end_matches('=').to_string(),
            format!("{std}\n"),
        ] {
            assert_eq!(
                MasterKey::from_env_value(&value).unwrap().0,
                bytes,
                "{value}"
            );
        }
        // Mixing the two alphabets is neither.
        let mixed = url.replacen('-', "+", 1);
        assert!(MasterKey::from_env_value(&mixed).is_err());
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let bad = [
            String::new(),
            "   \n".to_string(),
            HEX_KEY[..62].to_string(),
            format!("{HEX_KEY}00"),
            format!("{}zz", &HEX_KEY[..62]),
            encode_base64url(&[9u8; 31]),
            encode_base64url(&[9u8; 33]),
            standard_base64(&[9u8; 16]),
            "correct horse battery staple!".to_string(),
        ];
        for value in &bad {
            let err = MasterKey::from_env_value(value).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::Internal(_)));
            assert!(msg.contains("ORGBASE_MASTER_KEY"), "{msg}");
            if !value.trim().is_empty() {
                assert!(!msg.contains(value.trim()), "{msg}");
            }
        }
        let msg = MasterKey::from_env_value(&HEX_KEY[..62])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("62 characters"), "{msg}");
    }

    #[test]
    fn debug_reveals_nothing() {
        let k = MasterKey::from_env_value(HEX_KEY).unwrap();
        assert_eq!(format!("{k:?}"), "MasterKey(..)");
        assert_eq!(format!("{:?}", SecretBox::new(&k)), "SecretBox(..)");
    }

    #[test]
    fn load_or_create_creates_then_rereads() {
        let dir = temp_dir();
        let path = dir.join("master.key");
        let (first, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(created);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 65);
        assert!(text.ends_with('\n'));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.0, second.0);
        let sealed = SecretBox::new(&first).seal_for("ctx", "s").unwrap();
        assert_eq!(
            SecretBox::new(&second).open_for("ctx", &sealed).unwrap(),
            "s"
        );
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn racing_creators_agree_on_one_key() {
        let dir = temp_dir();
        let path = dir.join("master.key");
        let barrier = std::sync::Barrier::new(8);
        let results: Vec<([u8; KEY_LEN], bool)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let (k, created) = MasterKey::load_or_create(&path).unwrap();
                        (k.0, created)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
        assert!(results.iter().all(|(k, _)| *k == results[0].0));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_key_file_is_an_error_without_its_content() {
        let dir = temp_dir();
        let path = dir.join("master.key");
        std::fs::write(&path, "not-a-key-but-maybe-a-secret\n").unwrap();
        let msg = MasterKey::load_or_create(&path).unwrap_err().to_string();
        assert!(msg.contains("master key file"), "{msg}");
        assert!(!msg.contains("maybe-a-secret"), "{msg}");
        // The file is left alone.
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "not-a-key-but-maybe-a-secret\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mask_examples() {
        assert_eq!(mask("sk-proj-abcdefgh1234"), "sk-…1234");
        assert_eq!(mask("sk-ant-api03-abcdefghijklmnop"), "sk-…mnop");
        assert_eq!(mask("abcdefghijklmnop"), "…mnop");
        assert_eq!(mask("proj-abcdefgh1234"), "…1234"); // '-' is the 5th character
        assert_eq!(mask("-abcdefghijk"), "-…hijk");
        assert_eq!(mask("sk-abcdefghi"), "sk-…fghi"); // exactly 12
        assert_eq!(mask("sk-abcdefgh"), "••••"); // 11
        assert_eq!(mask("short"), "••••");
        assert_eq!(mask(""), "••••");
        assert_eq!(mask("ключ-ключ-ключ"), "…ключ");
    }
}
