//! Users: who signs in. The password hash is not part of a user; it is a credential
//! (see [`super::credentials::PasswordHash`]) read only by authentication.

use crate::email::Email;
use crate::ids::{OrgId, UserId};
use crate::text::Name;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub is_system_admin: bool,
    pub enabled: bool,
    /// The org this user is from (derived at sign-up; `None`: org-less).
    pub home_org_id: Option<OrgId>,
    /// When the user proved they own their address (followed a mailed link, or
    /// accepted an invitation sent there); `None`: not proven.
    pub email_verified_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl User {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// A new, enabled user without a home org, who has never logged in.
    pub fn new(
        id: UserId,
        email: Email,
        name: Name,
        is_system_admin: bool,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            email,
            name: name.as_str().to_string(),
            is_system_admin,
            enabled: true,
            home_org_id: None,
            email_verified_at: None,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_user_is_enabled_and_org_less() {
        let now = Timestamp::from_millis(1_000);
        let u = User::new(
            UserId::new(now),
            Email::parse("Ada@Example.com").unwrap(),
            Name::parse("Ada", "name").unwrap(),
            false,
            now,
        );
        assert!(u.enabled);
        assert_eq!(u.home_org_id, None);
        assert_eq!(u.last_login_at, None);
        assert_eq!(u.email.as_str(), "ada@example.com");
        assert_eq!((u.created_at, u.updated_at), (now, now));
    }
}
