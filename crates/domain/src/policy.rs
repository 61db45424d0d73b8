//! Who may sign up, log in and own organizations (SPEC §4), as pure functions.
//!
//! The service looks up what a request names (an invitation, a signup key, a claimed
//! domain) and hands the facts to [`decide_signup`], which applies the eight steps in
//! order. Nothing here does I/O, so every step and every precedence is table-tested.

use crate::email::{Email, domain_covers};
use crate::error::ErrorKind;
use crate::ids::OrgId;
use crate::role::Role;

/// `ORGBASE_SIGNUP_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignupMode {
    /// Nobody signs up without an invitation, a signup key or a claimed domain.
    #[default]
    Restricted,
    /// Anyone admitted by the lists may sign up.
    Open,
}

/// A comma-separated list of domains, trimmed and lower-cased. A domain matches itself
/// and its subdomains (`aarhus.dk` matches `skole.aarhus.dk`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainList(Vec<String>);

impl DomainList {
    pub fn parse(csv: &str) -> Self {
        Self(
            split(csv)
                .map(|d| {
                    d.trim_start_matches('@')
                        .trim_start_matches('.')
                        .to_string()
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, domain: &str) -> bool {
        self.0.iter().any(|d| domain_covers(d, domain))
    }
}

/// A comma-separated list of e-mail addresses, trimmed and lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailList(Vec<String>);

impl EmailList {
    pub fn parse(csv: &str) -> Self {
        Self(split(csv).collect())
    }

    pub fn contains(&self, email: &Email) -> bool {
        self.0.iter().any(|e| e == email.as_str())
    }
}

fn split(csv: &str) -> impl Iterator<Item = String> + '_ {
    csv.split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

/// The access lists and the sign-up mode, from the environment.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    pub mode: SignupMode,
    pub allowed_domains: DomainList,
    pub blocked_domains: DomainList,
    pub blocked_emails: EmailList,
    /// `None` when `ORGBASE_ACCESS_ALLOWED_OWNER_EMAILS` is unset: everyone may own.
    pub allowed_owner_emails: Option<EmailList>,
}

/// Why someone is turned away. Each maps to one stable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    EmailBlocked,
    DomainNotAllowed,
    DomainBlocked,
    InvitationNotFound,
    InvitationUsed,
    InvitationExpired,
    InvitationEmailMismatch,
    InvalidSignupKey,
    SignupClosed,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::EmailBlocked => "email_blocked",
            Refusal::DomainNotAllowed => "domain_not_allowed",
            Refusal::DomainBlocked => "domain_blocked",
            Refusal::InvitationNotFound => "invitation_not_found",
            Refusal::InvitationUsed => "invitation_used",
            Refusal::InvitationExpired => "invitation_expired",
            Refusal::InvitationEmailMismatch => "invitation_email_mismatch",
            Refusal::InvalidSignupKey => "invalid_signup_key",
            Refusal::SignupClosed => "signup_closed",
        }
    }

    /// The kind SPEC §4 and §8 give each refusal (the HTTP edge picks the status).
    pub fn kind(self) -> ErrorKind {
        match self {
            Refusal::InvitationNotFound => ErrorKind::NotFound,
            Refusal::InvitationUsed => ErrorKind::Conflict,
            Refusal::InvitationExpired => ErrorKind::Gone,
            _ => ErrorKind::Forbidden,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::EmailBlocked => "this e-mail address may not use this server",
            Refusal::DomainNotAllowed => "e-mail addresses of this domain may not use this server",
            Refusal::DomainBlocked => "e-mail addresses of this domain are blocked",
            Refusal::InvitationNotFound => "no such invitation",
            Refusal::InvitationUsed => "this invitation was already used",
            Refusal::InvitationExpired => "this invitation has expired",
            Refusal::InvitationEmailMismatch => "this invitation is for another e-mail address",
            Refusal::InvalidSignupKey => "the signup key is not valid",
            Refusal::SignupClosed => "sign-up is closed on this server",
        }
    }
}

impl AccessPolicy {
    /// Steps 2 and 3: the lists that gate sign-up, login and invitations. A blocked
    /// e-mail beats everything; a non-empty allow-list decides alone; otherwise the
    /// block-list applies.
    pub fn admits(&self, email: &Email) -> Result<(), Refusal> {
        if self.blocked_emails.contains(email) {
            return Err(Refusal::EmailBlocked);
        }
        let domain = email.domain();
        if !self.allowed_domains.is_empty() {
            if !self.allowed_domains.matches(domain) {
                return Err(Refusal::DomainNotAllowed);
            }
        } else if self.blocked_domains.matches(domain) {
            return Err(Refusal::DomainBlocked);
        }
        Ok(())
    }

    /// May this person own (create) organizations?
    pub fn may_own(&self, email: &Email) -> bool {
        self.allowed_owner_emails
            .as_ref()
            .is_none_or(|l| l.contains(email))
    }
}

/// What the service found for the invitation token given with a sign-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationFact {
    NotFound,
    Used,
    Expired,
    /// A pending invitation; whether it was made out to this e-mail.
    Pending {
        email_matches: bool,
    },
}

impl InvitationFact {
    /// Ok when the invitation may be used by this e-mail now; otherwise why not.
    pub fn usable(self) -> Result<(), Refusal> {
        match self {
            InvitationFact::NotFound => Err(Refusal::InvitationNotFound),
            InvitationFact::Used => Err(Refusal::InvitationUsed),
            InvitationFact::Expired => Err(Refusal::InvitationExpired),
            InvitationFact::Pending {
                email_matches: false,
            } => Err(Refusal::InvitationEmailMismatch),
            InvitationFact::Pending {
                email_matches: true,
            } => Ok(()),
        }
    }
}

/// An org to join and the role to join it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinTarget {
    pub org: OrgId,
    pub role: Role,
}

/// The facts of one sign-up request.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignupFacts {
    /// `Some` when a token was given.
    pub invitation: Option<InvitationFact>,
    /// `Some` when a key was given: the org it opens, or `None` for an unknown key, a
    /// disabled one or one of an inactive org (all answered alike).
    pub signup_key: Option<Option<JoinTarget>>,
    /// The org that claims the e-mail's domain with auto-join on, if any.
    pub claimed_domain: Option<JoinTarget>,
}

/// Where a new user lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupOutcome {
    /// Joins through the invitation (its org, workspace and project).
    Invitation,
    /// Joins an org through its signup key; it becomes the home org.
    SignupKey(JoinTarget),
    /// Joins the org that claims the domain; it becomes the home org.
    ClaimedDomain(JoinTarget),
    /// Open mode: gets a personal org as its owner.
    PersonalOrg,
    /// Open mode, but not allowed to own orgs: signs up without an org.
    OrgLess,
}

/// SPEC §4's sign-up decision, steps 2 to 8 (step 1 is parsing the [`Email`]).
pub fn decide_signup(
    policy: &AccessPolicy,
    email: &Email,
    facts: &SignupFacts,
) -> Result<SignupOutcome, Refusal> {
    policy.admits(email)?;
    if let Some(inv) = facts.invitation {
        return inv.usable().map(|()| SignupOutcome::Invitation);
    }
    if let Some(key) = facts.signup_key {
        return key
            .map(SignupOutcome::SignupKey)
            .ok_or(Refusal::InvalidSignupKey);
    }
    if let Some(target) = facts.claimed_domain {
        return Ok(SignupOutcome::ClaimedDomain(target));
    }
    match policy.mode {
        SignupMode::Open if policy.may_own(email) => Ok(SignupOutcome::PersonalOrg),
        SignupMode::Open => Ok(SignupOutcome::OrgLess),
        SignupMode::Restricted => Err(Refusal::SignupClosed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn policy(
        mode: SignupMode,
        allowed: &str,
        blocked: &str,
        blocked_emails: &str,
        owners: Option<&str>,
    ) -> AccessPolicy {
        AccessPolicy {
            mode,
            allowed_domains: DomainList::parse(allowed),
            blocked_domains: DomainList::parse(blocked),
            blocked_emails: EmailList::parse(blocked_emails),
            allowed_owner_emails: owners.map(EmailList::parse),
        }
    }

    #[test]
    fn lists_are_trimmed_case_insensitive_and_match_subdomains() {
        let l = DomainList::parse(" Aarhus.DK , ,@example.org,.kommune.dk ");
        assert!(l.matches("aarhus.dk"));
        assert!(l.matches("skole.aarhus.dk"));
        assert!(l.matches("example.org"));
        assert!(l.matches("x.kommune.dk"));
        assert!(!l.matches("notaarhus.dk"), "a suffix is not a subdomain");
        assert!(!l.matches("aarhus.dk.evil.com"));
        let e = EmailList::parse(" Boss@Aarhus.dk ,x@y.io");
        assert!(e.contains(&email("boss@aarhus.dk")));
        assert!(!e.contains(&email("boss2@aarhus.dk")));
        assert!(DomainList::parse("").is_empty());
    }

    /// Every step of SPEC §4 and every precedence between them.
    #[test]
    fn signup_decision_table() {
        use InvitationFact as I;
        use Refusal as R;
        use SignupMode::{Open, Restricted};
        use SignupOutcome as O;
        let org = OrgId::new(Timestamp::from_millis(1));
        let key = JoinTarget {
            org,
            role: Role::Editor,
        };
        let dom = JoinTarget {
            org,
            role: Role::Viewer,
        };
        let none = SignupFacts::default();
        let inv = |f| SignupFacts {
            invitation: Some(f),
            ..Default::default()
        };
        let with_key = |k| SignupFacts {
            signup_key: Some(k),
            ..Default::default()
        };
        let with_domain = SignupFacts {
            claimed_domain: Some(dom),
            ..Default::default()
        };
        let everything = SignupFacts {
            invitation: Some(I::Pending {
                email_matches: true,
            }),
            signup_key: Some(Some(key)),
            claimed_domain: Some(dom),
        };
        let key_and_domain = SignupFacts {
            signup_key: Some(Some(key)),
            claimed_domain: Some(dom),
            ..Default::default()
        };
        let bad_key_and_domain = SignupFacts {
            signup_key: Some(None),
            claimed_domain: Some(dom),
            ..Default::default()
        };

        let open = policy(Open, "", "", "", None);
        let restricted = policy(Restricted, "", "", "", None);
        type Case = (
            &'static str,
            AccessPolicy,
            &'static str,
            SignupFacts,
            Result<O, R>,
        );
        let cases: Vec<Case> = vec![
            // step 7 and 8: the mode
            (
                "open, nothing else",
                open.clone(),
                "a@x.io",
                none,
                Ok(O::PersonalOrg),
            ),
            (
                "restricted, nothing else",
                restricted.clone(),
                "a@x.io",
                none,
                Err(R::SignupClosed),
            ),
            // step 2: a blocked e-mail beats everything, even an allow-list and an invitation
            (
                "blocked e-mail",
                policy(Open, "x.io", "", " A@X.io ", None),
                "a@x.io",
                everything,
                Err(R::EmailBlocked),
            ),
            // step 3: allow-list
            (
                "domain not allowed",
                policy(Open, "aarhus.dk", "", "", None),
                "a@x.io",
                everything,
                Err(R::DomainNotAllowed),
            ),
            (
                "subdomain allowed",
                policy(Open, "aarhus.dk", "", "", None),
                "a@skole.aarhus.dk",
                none,
                Ok(O::PersonalOrg),
            ),
            (
                "allow-list wins over block-list",
                policy(Open, "aarhus.dk", "aarhus.dk", "", None),
                "a@aarhus.dk",
                none,
                Ok(O::PersonalOrg),
            ),
            (
                "block-list without allow-list",
                policy(Open, "", "x.io", "", None),
                "a@sub.x.io",
                everything,
                Err(R::DomainBlocked),
            ),
            (
                "block-list other domain",
                policy(Open, "", "y.io", "", None),
                "a@x.io",
                none,
                Ok(O::PersonalOrg),
            ),
            // step 4: invitations, before keys and domains, even in restricted mode
            (
                "invitation",
                restricted.clone(),
                "a@x.io",
                everything,
                Ok(O::Invitation),
            ),
            (
                "invitation unknown",
                open.clone(),
                "a@x.io",
                inv(I::NotFound),
                Err(R::InvitationNotFound),
            ),
            (
                "invitation used",
                open.clone(),
                "a@x.io",
                inv(I::Used),
                Err(R::InvitationUsed),
            ),
            (
                "invitation expired",
                open.clone(),
                "a@x.io",
                inv(I::Expired),
                Err(R::InvitationExpired),
            ),
            (
                "invitation for someone else",
                open.clone(),
                "a@x.io",
                inv(I::Pending {
                    email_matches: false,
                }),
                Err(R::InvitationEmailMismatch),
            ),
            // step 5: signup keys, before domains, in restricted mode too
            (
                "signup key",
                restricted.clone(),
                "a@x.io",
                with_key(Some(key)),
                Ok(O::SignupKey(key)),
            ),
            (
                "key beats domain",
                restricted.clone(),
                "a@x.io",
                key_and_domain,
                Ok(O::SignupKey(key)),
            ),
            (
                "bad key",
                open.clone(),
                "a@x.io",
                with_key(None),
                Err(R::InvalidSignupKey),
            ),
            (
                "bad key is not rescued by a domain",
                open.clone(),
                "a@x.io",
                bad_key_and_domain,
                Err(R::InvalidSignupKey),
            ),
            // step 6: claimed domains, in restricted mode too
            (
                "claimed domain",
                restricted.clone(),
                "a@x.io",
                with_domain,
                Ok(O::ClaimedDomain(dom)),
            ),
            // step 7: owners
            (
                "open, may own",
                policy(Open, "", "", "", Some("a@x.io")),
                "A@x.io",
                none,
                Ok(O::PersonalOrg),
            ),
            (
                "open, may not own",
                policy(Open, "", "", "", Some("boss@x.io")),
                "a@x.io",
                none,
                Ok(O::OrgLess),
            ),
            (
                "restricted ignores owners",
                policy(Restricted, "", "", "", Some("a@x.io")),
                "a@x.io",
                none,
                Err(R::SignupClosed),
            ),
        ];
        for (name, p, e, facts, want) in cases {
            assert_eq!(decide_signup(&p, &email(e), &facts), want, "{name}");
        }
    }

    #[test]
    fn refusal_kinds() {
        assert_eq!(Refusal::InvitationNotFound.kind(), ErrorKind::NotFound);
        assert_eq!(Refusal::InvitationUsed.kind(), ErrorKind::Conflict);
        assert_eq!(Refusal::InvitationExpired.kind(), ErrorKind::Gone);
        assert_eq!(
            Refusal::InvitationEmailMismatch.kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(Refusal::SignupClosed.code(), "signup_closed");
    }
}
