//! Ways into an org besides sign-up by key: claimed e-mail domains and invitations.

use crate::email::{Email, domain_covers};
use crate::ids::{InvitationId, OrgId, ProjectId, UserId, WorkspaceId};
use crate::policy::InvitationFact;
use crate::role::{DomainStatus, InvitationStatus, Role};
use crate::time::Timestamp;

/// An e-mail domain an org claims. Several orgs may claim a domain while their claims
/// are pending; at most one claim of a domain is verified, and only a verified claim
/// acts (auto-join, home org, accounts made by org admins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgDomain {
    pub domain: String,
    pub org_id: OrgId,
    /// New users of this domain join the org at sign-up.
    pub auto_join: bool,
    pub role: Role,
    pub status: DomainStatus,
    /// What the org publishes in DNS to prove the domain is theirs (not a secret: the
    /// proof is the power to publish it).
    pub token: String,
    pub created_at: Timestamp,
    pub verified_at: Option<Timestamp>,
}

/// The DNS name whose TXT record proves a claim.
pub const CHALLENGE_PREFIX: &str = "_orgbase-challenge";

impl OrgDomain {
    pub fn is_verified(&self) -> bool {
        self.status == DomainStatus::Verified
    }

    /// The TXT record to publish: its name ...
    pub fn txt_name(&self) -> String {
        format!("{CHALLENGE_PREFIX}.{}", self.domain)
    }

    /// ... and its value.
    pub fn txt_value(&self) -> String {
        format!("orgbase-verification={}", self.token)
    }

    /// Whether this claim covers the e-mail: its domain or a subdomain of it.
    pub fn covers(&self, email: &Email) -> bool {
        domain_covers(&self.domain, email.domain())
    }
}

/// An invitation to an org, optionally into a workspace and project. Only the hash of
/// its token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub workspace_id: Option<WorkspaceId>,
    pub project_id: Option<ProjectId>,
    pub email: Email,
    pub role: Role,
    pub token_hash: String,
    /// As stored: a pending invitation past its expiry is still stored as pending
    /// (expiry is read, not swept; see [`Invitation::effective_status`]).
    pub status: InvitationStatus,
    pub invited_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    /// The link was shown to the inviting admin (no mail configured), not only mailed:
    /// using it then proves nothing about the address.
    pub link_shown: bool,
}

impl Invitation {
    /// The status people see: a pending invitation past its expiry is expired.
    pub fn effective_status(&self, now: Timestamp) -> InvitationStatus {
        if self.status == InvitationStatus::Pending && self.expires_at <= now {
            InvitationStatus::Expired
        } else {
            self.status
        }
    }

    /// What this invitation, found by its token, means for `email` now.
    pub fn fact(&self, email: &Email, now: Timestamp) -> InvitationFact {
        match self.effective_status(now) {
            InvitationStatus::Accepted | InvitationStatus::Declined => InvitationFact::Used,
            InvitationStatus::Revoked => InvitationFact::NotFound,
            InvitationStatus::Expired => InvitationFact::Expired,
            InvitationStatus::Pending => InvitationFact::Pending {
                email_matches: &self.email == email,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(now: Timestamp) -> Invitation {
        Invitation {
            link_shown: true,
            id: InvitationId::new(now),
            org_id: OrgId::new(now),
            workspace_id: None,
            project_id: None,
            email: Email::parse("bo@example.com").unwrap(),
            role: Role::Editor,
            token_hash: "h".into(),
            status: InvitationStatus::Pending,
            invited_by: None,
            created_at: now,
            updated_at: now,
            expires_at: now.plus_seconds(60),
            accepted_at: None,
        }
    }

    #[test]
    fn a_pending_invitation_expires_when_read_after_its_expiry() {
        let now = Timestamp::from_millis(1_000_000);
        let i = invitation(now);
        assert_eq!(i.effective_status(now), InvitationStatus::Pending);
        let later = now.plus_seconds(60);
        assert_eq!(i.effective_status(later), InvitationStatus::Expired);
        assert_eq!(i.fact(&i.email, later), InvitationFact::Expired);
    }

    #[test]
    fn facts_follow_the_status_and_the_email() {
        let now = Timestamp::from_millis(1_000_000);
        let mut i = invitation(now);
        let other = Email::parse("eve@example.com").unwrap();
        assert_eq!(
            i.fact(&i.email, now),
            InvitationFact::Pending {
                email_matches: true
            }
        );
        assert_eq!(
            i.fact(&other, now),
            InvitationFact::Pending {
                email_matches: false
            }
        );
        i.status = InvitationStatus::Accepted;
        assert_eq!(i.fact(&other, now), InvitationFact::Used);
        i.status = InvitationStatus::Declined;
        assert_eq!(i.fact(&other, now), InvitationFact::Used);
        i.status = InvitationStatus::Revoked;
        assert_eq!(i.fact(&other, now), InvitationFact::NotFound);
        i.status = InvitationStatus::Expired;
        assert_eq!(i.fact(&other, now), InvitationFact::Expired);
    }

    #[test]
    fn a_claim_covers_its_domain_and_subdomains() {
        let d = OrgDomain {
            domain: "aarhus.dk".into(),
            org_id: OrgId::new(Timestamp::from_millis(0)),
            auto_join: true,
            role: Role::Viewer,
            status: DomainStatus::Pending,
            token: "abc".into(),
            created_at: Timestamp::from_millis(0),
            verified_at: None,
        };
        assert_eq!(d.txt_name(), "_orgbase-challenge.aarhus.dk");
        assert_eq!(d.txt_value(), "orgbase-verification=abc");
        assert!(d.covers(&Email::parse("a@aarhus.dk").unwrap()));
        assert!(d.covers(&Email::parse("a@it.aarhus.dk").unwrap()));
        assert!(!d.covers(&Email::parse("a@notaarhus.dk").unwrap()));
    }
}
