use std::fmt;

use crate::error::InvalidInput;

fn clean(raw: &str) -> String {
    raw.trim().to_string()
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// A display name: 1 to 200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub const MAX: usize = 200;

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, InvalidInput> {
        let s = clean(raw);
        let n = s.chars().count();
        if n == 0 || n > Self::MAX {
            return Err(InvalidInput::new(
                "invalid_name",
                field,
                format!("{field} must be 1 to {} characters", Self::MAX),
            ));
        }
        if has_control(&s) {
            return Err(InvalidInput::new(
                "invalid_name",
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// Free text up to 2000 characters; may be empty.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    pub const MAX: usize = 2000;

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, InvalidInput> {
        let s = clean(raw);
        if s.chars().count() > Self::MAX {
            return Err(InvalidInput::new(
                "invalid_text",
                field,
                format!("{field} must be at most {} characters", Self::MAX),
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(InvalidInput::new(
                "invalid_text",
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed. Never printed; bounded so one request cannot buy a huge hash.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let n = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(InvalidInput::new(
                "invalid_password",
                "password",
                format!("password must be {} to {} characters", Self::MIN, Self::MAX),
            ));
        }
        Ok(Self(raw.to_string()))
    }

    /// For verifying a login attempt: any length up to MAX is hashed, so a short
    /// wrong password costs the same as a right one.
    pub fn for_login(raw: &str) -> Result<Self, InvalidInput> {
        if raw.chars().count() > Self::MAX {
            return Err(InvalidInput::new(
                "invalid_password",
                "password",
                "password is too long",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A short machine-ish label such as a framework (`openwebui`) or a model name
/// (`gpt-4o-mini`, `ollama/llama3.1`): 1 to 100 characters, no spaces or controls.
pub fn parse_label(raw: &str, field: &'static str) -> Result<String, InvalidInput> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 || n > 100 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput::new(
            "invalid_label",
            field,
            format!("{field} must be 1 to 100 characters without spaces"),
        ));
    }
    Ok(s.to_string())
}

/// Signup keys: 8 to 64 of `[A-Za-z0-9_-]`.
pub fn parse_signup_key(raw: &str) -> Result<String, InvalidInput> {
    let ok = (8..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(InvalidInput::new(
            "invalid_signup_key_format",
            "key",
            "a signup key is 8 to 64 of A-Z, a-z, 0-9, '-' and '_'",
        ));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Acme ", "name").unwrap().as_str(), "Acme");
        assert!(Name::parse("   ", "name").is_err());
        assert!(Name::parse(&"x".repeat(201), "name").is_err());
        assert!(Name::parse("a\u{0}b", "name").is_err());
        assert!(Name::parse(&"é".repeat(200), "name").is_ok());
    }

    #[test]
    fn password_bounds_and_redaction() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"p".repeat(1025)).is_err());
        let p = Password::parse("long enough").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
