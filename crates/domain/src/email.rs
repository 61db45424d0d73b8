use std::fmt;

use crate::error::InvalidInput;

/// A normalized e-mail address: trimmed and lower-cased, so equality is
/// case-insensitive everywhere (the database also refuses upper-case values).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let bad = |why: &str| InvalidInput::new("invalid_email", "email", why.to_string());
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(bad("e-mail is required"));
        }
        if s.len() > 254 {
            return Err(bad("e-mail is longer than 254 characters"));
        }
        let (local, domain) = s
            .split_once('@')
            .ok_or_else(|| bad("e-mail must contain '@'"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the part before '@' must be 1 to 64 characters"));
        }
        // A dot-atom (RFC 5322): what mail servers deliver without quoting, plus
        // non-ASCII letters and digits (RFC 6531). Anything else could never be mailed.
        let atext = |c: char| {
            c.is_ascii_alphanumeric()
                || "!#$%&'*+-/=?^_`{|}~".contains(c)
                || (!c.is_ascii() && c.is_alphanumeric())
        };
        if local.chars().any(|c| c != '.' && !atext(c)) {
            return Err(bad("the part before '@' has a character not allowed"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad(
                "the part before '@' may not start or end with '.', or hold '..'",
            ));
        }
        if !is_valid_domain(domain) {
            return Err(bad("the domain of the e-mail is not valid"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    /// Wraps a value read back from storage, which only ever holds parsed e-mails.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case DNS name with at least two labels, each 1..=63 of `[a-z0-9-]`, not
/// starting or ending with '-'.
pub fn is_valid_domain(d: &str) -> bool {
    if d.len() > 253 || !d.contains('.') {
        return false;
    }
    d.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_parts_are_dot_atoms() {
        for ok in [
            "a.b+tag@example.com",
            "o'neil@example.com",
            "jürgen@example.de",
            "x_y-z@example.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a,b@example.com",
            "a<b@example.com",
            "a;b@example.com",
            "a(b)@example.com",
            "a[b]@example.com",
            "a:b@example.com",
            "a\\b@example.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a>b@example.com",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().code,
                "invalid_email",
                "{bad}"
            );
        }
    }

    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        let e = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn refuses_bad_forms() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "alice@exa mple.com",
            "al ice@example.com",
            "alice@-example.com",
            "alice@example..com",
            "a@b@example.com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.code, "invalid_email", "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}

/// Whether `parent` covers `domain`: the same domain, or a subdomain of it. The one
/// place the subdomain rule is written (access lists, claimed domains).
pub fn domain_covers(parent: &str, domain: &str) -> bool {
    domain == parent
        || domain
            .strip_suffix(parent)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// A domain and its parent domains, nearest first, stopping above the registrable
/// part: `a.b.aarhus.dk` gives `a.b.aarhus.dk`, `b.aarhus.dk`, `aarhus.dk`.
pub fn domain_parents(domain: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(domain), |d| {
        d.split_once('.')
            .map(|(_, parent)| parent)
            .filter(|parent| parent.contains('.'))
    })
}

#[cfg(test)]
mod domain_tests {
    use super::*;

    #[test]
    fn covers_and_parents() {
        assert!(domain_covers("aarhus.dk", "aarhus.dk"));
        assert!(domain_covers("aarhus.dk", "it.aarhus.dk"));
        assert!(!domain_covers("aarhus.dk", "notaarhus.dk"));
        assert!(!domain_covers("it.aarhus.dk", "aarhus.dk"));
        let all: Vec<_> = domain_parents("a.b.aarhus.dk").collect();
        assert_eq!(all, ["a.b.aarhus.dk", "b.aarhus.dk", "aarhus.dk"]);
        for d in domain_parents("x.y.example.org") {
            assert!(domain_covers(d, "x.y.example.org"));
        }
    }
}

/// Domains of public mail providers: anyone can have an address there, so no org may
/// claim them (nor their subdomains). Extended by `ORGBASE_PUBLIC_EMAIL_DOMAINS`.
pub const PUBLIC_EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "hey.com",
    "fastmail.com",
    "tutanota.com",
    "tuta.io",
    "t-online.de",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "naver.com",
    "hanmail.net",
    "rediffmail.com",
    "hushmail.com",
    "mailbox.org",
    "outlook.dk",
    "hotmail.dk",
    "live.dk",
    "outlook.de",
    "hotmail.de",
    "hotmail.fr",
    "live.co.uk",
    "icloud.com.cn",
    "duck.com",
    "mailinator.com",
    "guerrillamail.com",
    "yopmail.com",
    "sharklasers.com",
    "10minutemail.com",
    "temp-mail.org",
    "jubii.dk",
    "ofir.dk",
    "sol.dk",
];

/// Whether the domain is (under) one of the built-in public mail providers' domains.
pub fn is_public_email_domain(domain: &str) -> bool {
    PUBLIC_EMAIL_DOMAINS
        .iter()
        .any(|p| domain_covers(p, domain))
}
