use std::fmt;

use crate::error::InvalidInput;

/// An organization slug: 2 to 63 of `[a-z0-9-]`, not starting or ending with '-'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Slug(String);

/// Words user organizations may not take: they collide with paths or mean something.
pub const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "export",
    "help",
    "import",
    "login",
    "logout",
    "me",
    "new",
    "org-admin",
    "orgs",
    "root",
    "settings",
    "signup",
    "static",
    "support",
    "system",
    "www",
];

/// Whether an id parser would take this for an id (a UUID in any of its text forms
/// that a slug's alphabet allows: hyphenated or 32 hex digits).
fn looks_like_id(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

impl Slug {
    pub const MIN: usize = 2;
    pub const MAX: usize = 63;

    /// Parses a slug a user asked for. Reserved words are refused, and so are slugs an
    /// id parser would read as an id (`{org}` in a path is tried as an id first, so such
    /// a slug would be unreachable, or name another org).
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = Self::parse_any(raw)?;
        if looks_like_id(&s.0) {
            return Err(InvalidInput::new(
                "invalid_slug",
                "slug",
                "a slug may not have the shape of an id",
            ));
        }
        if s.is_reserved() {
            return Err(InvalidInput::new(
                "reserved_slug",
                "slug",
                format!("'{s}' is reserved"),
            ));
        }
        Ok(s)
    }

    /// Parses any well-formed slug, reserved or not (used for look-ups).
    pub fn parse_any(raw: &str) -> Result<Self, InvalidInput> {
        let bad = || {
            InvalidInput::new(
                "invalid_slug",
                "slug",
                "slug must be 2 to 63 of a-z, 0-9 and '-', not starting or ending with '-'",
            )
        };
        let ok_len = (Self::MIN..=Self::MAX).contains(&raw.len());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_len || !ok_chars || raw.starts_with('-') || raw.ends_with('-') {
            return Err(bad());
        }
        Ok(Self(raw.to_string()))
    }

    /// The system organization's slug.
    pub fn system() -> Self {
        Self("system".to_string())
    }

    pub fn is_reserved(&self) -> bool {
        RESERVED.contains(&self.0.as_str())
    }

    /// The slug a name suggests: lower-case ASCII letters and digits, other runs become
    /// one '-'. Short, empty or reserved results fall back to a safe form. The base leaves
    /// room for a `-N` suffix.
    pub fn base_from_name(name: &str) -> Self {
        let mut out = String::new();
        for c in name.chars().flat_map(fold_ascii) {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.truncate(Self::MAX - 8);
        while out.ends_with('-') {
            out.pop();
        }
        if out.len() < Self::MIN {
            out = format!("org-{out}").trim_end_matches('-').to_string();
        }
        if out.len() < Self::MIN {
            out = "org".to_string();
        }
        if RESERVED.contains(&out.as_str()) {
            out.push_str("-org");
        }
        if looks_like_id(&out) {
            out = format!("org-{out}");
        }
        Self(out)
    }

    /// `base`, `base-2`, `base-3`, ...: the n-th candidate (n starts at 1).
    pub fn candidate(&self, n: u32) -> Self {
        if n <= 1 {
            self.clone()
        } else {
            Self(format!("{}-{n}", self.0))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// Strips the common Latin diacritics so "Århus Kommune" gives "arhus-kommune".
fn fold_ascii(c: char) -> impl Iterator<Item = char> {
    let s: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        _ => "",
    };
    let single = if s.is_empty() { Some(c) } else { None };
    s.chars().chain(single)
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shaped_slugs_are_refused_and_never_suggested() {
        for raw in [
            "01a231db-a860-7693-9089-cac8f685ea00",
            "01a231dba8607693",
            "01a231dba86076939089cac8f685ea00",
        ] {
            let refused = Slug::parse(raw).is_err();
            assert_eq!(refused, uuid::Uuid::parse_str(raw).is_ok(), "{raw}");
            assert!(
                uuid::Uuid::parse_str(Slug::base_from_name(raw).as_str()).is_err(),
                "{raw}"
            );
        }
        assert!(Slug::parse("acme-2024").is_ok());
    }

    #[test]
    fn parses_and_refuses() {
        assert!(Slug::parse("acme").is_ok());
        assert!(Slug::parse("acme-2").is_ok());
        for bad in [
            "a",
            "-acme",
            "acme-",
            "Acme",
            "ac me",
            "acme_x",
            &"a".repeat(64),
        ] {
            assert_eq!(Slug::parse(bad).unwrap_err().code, "invalid_slug", "{bad}");
        }
        for reserved in ["admin", "api", "system", "new"] {
            assert_eq!(Slug::parse(reserved).unwrap_err().code, "reserved_slug");
            assert!(Slug::parse_any(reserved).is_ok());
        }
    }

    #[test]
    fn derives_from_names() {
        let cases = [
            ("Acme Inc.", "acme-inc"),
            ("  Århus Kommune ", "arhus-kommune"),
            ("Straße 9", "strasse-9"),
            ("!!!", "org"),
            ("X", "org-x"),
            ("Admin", "admin-org"),
            ("日本", "org"),
        ];
        for (name, want) in cases {
            let got = Slug::base_from_name(name);
            assert_eq!(got.as_str(), want, "{name}");
            assert!(Slug::parse(got.as_str()).is_ok(), "{name}");
        }
        let long = Slug::base_from_name(&"word ".repeat(40));
        assert!(long.candidate(9999).as_str().len() <= Slug::MAX);
        assert!(Slug::parse(long.candidate(9999).as_str()).is_ok());
    }

    #[test]
    fn candidates_count_up() {
        let b = Slug::base_from_name("acme");
        assert_eq!(b.candidate(1).as_str(), "acme");
        assert_eq!(b.candidate(2).as_str(), "acme-2");
    }
}
