//! Organizations: the tenants.

use crate::ids::{OrgId, UserId};
use crate::role::{OrgStatus, Role};
use crate::slug::Slug;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub id: OrgId,
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub is_system: bool,
    pub status: OrgStatus,
    pub owner_id: Option<UserId>,
    pub default_framework: Option<String>,
    pub default_language_model: Option<String>,
    pub public: bool,
    /// Sign-up through the org's key: on or off, the key, the role it grants.
    pub signup_enabled: bool,
    pub signup_key: Option<String>,
    pub signup_role: Role,
    /// The org's configuration document (secrets inside are sealed).
    pub config: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Soft delete: set while the org is deleted (restorable for a while).
    pub deleted_at: Option<Timestamp>,
}

impl Org {
    /// Takes part in sign-up and invitations: not deleted, not suspended.
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none() && self.status == OrgStatus::Active
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Suspended by a system admin: nobody but system admins acts in it (ADR 0022).
    pub fn is_suspended(&self) -> bool {
        self.status == OrgStatus::Suspended
    }

    /// Whether its signup key lets people in now: enabled, and the org is live.
    pub fn accepts_signup_key(&self) -> bool {
        self.signup_enabled && self.is_live()
    }
}

/// An org as one of a user's orgs: the org plus the user's role in it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgWithRole {
    pub org: Org,
    pub role: Role,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn org(now: Timestamp) -> Org {
        Org {
            id: OrgId::new(now),
            slug: Slug::parse("acme").unwrap(),
            name: "Acme".into(),
            description: String::new(),
            is_system: false,
            status: OrgStatus::Active,
            owner_id: None,
            default_framework: None,
            default_language_model: None,
            public: false,
            signup_enabled: false,
            signup_key: None,
            signup_role: Role::Viewer,
            config: serde_json::json!({}),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        }
    }

    #[test]
    fn live_means_active_and_not_deleted() {
        let now = Timestamp::from_millis(1_000);
        let mut o = org(now);
        assert!(o.is_live());
        o.status = OrgStatus::Suspended;
        assert!(!o.is_live());
        o.status = OrgStatus::Active;
        o.deleted_at = Some(now);
        assert!(!o.is_live());
        assert!(o.is_deleted());
    }

    #[test]
    fn a_signup_key_works_only_when_enabled_on_a_live_org() {
        let now = Timestamp::from_millis(1_000);
        let mut o = org(now);
        assert!(!o.accepts_signup_key());
        o.signup_enabled = true;
        assert!(o.accepts_signup_key());
        o.status = OrgStatus::Suspended;
        assert!(!o.accepts_signup_key());
    }
}
