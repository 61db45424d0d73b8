//! How users prove who they are: sessions, API keys, one-time set-password links, and
//! password hashes. Only token hashes are kept, never the tokens.

use std::fmt;

use crate::ids::{ApiKeyId, OrgId, SessionId, UserId};
use crate::role::{KeyScope, Permission, Role};
use crate::time::Timestamp;

use super::user::User;

/// A stored password hash (an argon2id PHC string). It is not a field of [`User`]:
/// the store hands it out only through the credential read that authentication uses,
/// and it never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string made by the password hasher or read from the store.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Session {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// A personal API key: acts as its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the token, shown to tell keys apart.
    pub prefix: String,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|e| e > now)
    }
}

/// An organization's service key: a service account of that org (not a person) with
/// a role there, capped at admin, and optional scopes. It never reaches another org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    /// The first characters of the token, shown to tell keys apart.
    pub prefix: String,
    pub token_hash: String,
    pub role: Role,
    pub scopes: Vec<KeyScope>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

impl OrgApiKey {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|e| e > now)
    }

    pub fn has(&self, scope: KeyScope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Whether the key holds `p` in its org: its role must allow it, and reading
    /// secrets also takes the `secrets:read` scope (an admin key without it does not).
    pub fn allows(&self, p: Permission) -> bool {
        self.role.allows(p) && (p != Permission::SecretsRead || self.has(KeyScope::SecretsRead))
    }

    /// Scopes as stored: their names, comma-separated, in a stable order.
    pub fn scopes_text(&self) -> String {
        let mut names: Vec<&str> = KeyScope::ALL
            .iter()
            .filter(|s| self.has(**s))
            .map(|s| s.as_str())
            .collect();
        names.dedup();
        names.join(",")
    }
}

/// A one-time e-mail verification link (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailToken {
    pub token_hash: String,
    pub user_id: UserId,
    /// The address the link was mailed to: it proves only that one.
    pub email: crate::Email,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A one-time set-password link; only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordToken {
    pub token_hash: String,
    pub user_id: UserId,
    /// Mailed to the user's address (a reset): using it proves the address too.
    pub mailed: bool,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A live session found by its token hash, with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAuth {
    pub id: SessionId,
    pub token_hash: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// A live API key found by its token hash, with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyAuth {
    pub id: ApiKeyId,
    pub token_hash: String,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub user: User,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_keys_read_secrets_only_with_the_scope() {
        let now = Timestamp::from_millis(1_000);
        let mut k = OrgApiKey {
            id: ApiKeyId::new(now),
            org_id: OrgId::new(now),
            name: "ci".into(),
            prefix: "obo_".into(),
            token_hash: "h".into(),
            role: Role::Admin,
            scopes: vec![],
            created_by: None,
            created_at: now,
            expires_at: None,
            last_used_at: None,
        };
        assert!(k.allows(Permission::ConfigManage));
        assert!(!k.allows(Permission::SecretsRead));
        k.scopes = vec![KeyScope::Check, KeyScope::SecretsRead];
        assert!(k.allows(Permission::SecretsRead));
        assert_eq!(k.scopes_text(), "secrets:read,check");
        k.role = Role::Editor;
        assert!(!k.allows(Permission::SecretsRead));
        assert!(!k.allows(Permission::OrgUpdate));
    }

    #[test]
    fn a_password_hash_does_not_print() {
        let h = PasswordHash::from_phc("$argon2id$v=19$secret".into());
        assert_eq!(format!("{h:?}"), "PasswordHash(..)");
        assert_eq!(h.as_str(), "$argon2id$v=19$secret");
    }

    #[test]
    fn keys_without_expiry_stay_live() {
        let now = Timestamp::from_millis(1_000);
        let mut k = ApiKey {
            id: ApiKeyId::new(now),
            user_id: UserId::new(now),
            name: "ci".into(),
            prefix: "obk_".into(),
            token_hash: "h".into(),
            created_at: now,
            expires_at: None,
            last_used_at: None,
        };
        assert!(k.is_live(now.plus_seconds(1_000_000)));
        k.expires_at = Some(now.plus_seconds(1));
        assert!(k.is_live(now));
        assert!(!k.is_live(now.plus_seconds(1)));
    }
}
