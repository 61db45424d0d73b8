//! The audit trail's vocabulary: every action an audit event can name, in one list.

use std::fmt;
use std::str::FromStr;

use crate::error::InvalidInput;

macro_rules! actions {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// What an audit event records. Stored and shown as its name (`org.create`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction { $($variant),* }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(AuditAction::$variant => $name),* }
            }
        }

        impl FromStr for AuditAction {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(AuditAction::$variant),)*
                    _ => Err(InvalidInput::new("invalid_action", "action",
                        format!("unknown action '{s}'; actions look like org.create"))),
                }
            }
        }
    };
}

actions! {
    AuthLogin = "auth.login",
    AuthLogout = "auth.logout",
    UserSignup = "user.signup",
    UserCreate = "user.create",
    UserUpdate = "user.update",
    UserPromote = "user.promote",
    UserPasswordChange = "user.password_change",
    UserPasswordSet = "user.password_set",
    UserPasswordResetRequest = "user.password_reset_request",
    ApiKeyCreate = "api_key.create",
    ApiKeyDelete = "api_key.delete",
    OrgApiKeyCreate = "org_api_key.create",
    OrgApiKeyDelete = "org_api_key.delete",
    AssistantCreate = "assistant.create",
    AssistantUpdate = "assistant.update",
    AssistantDelete = "assistant.delete",
    AssistantShare = "assistant.share",
    AssistantUnshare = "assistant.unshare",
    AssistantRederive = "assistant.rederive",
    OrgCreate = "org.create",
    OrgUpdate = "org.update",
    OrgDelete = "org.delete",
    OrgRestore = "org.restore",
    OrgSuspend = "org.suspend",
    OrgReactivate = "org.reactivate",
    OrgPurge = "org.purge",
    OrgTransfer = "org.transfer",
    WorkspaceCreate = "workspace.create",
    ProjectCreate = "project.create",
    MemberAdd = "member.add",
    MemberJoin = "member.join",
    MemberRoleChange = "member.role_change",
    MemberRemove = "member.remove",
    SignupUpdate = "signup.update",
    DomainAdd = "domain.add",
    DomainRemove = "domain.remove",
    DomainVerify = "domain.verify",
    ConfigUpdate = "config.update",
    DomainBackfill = "domain.backfill",
    UserVerifyEmail = "user.verify_email",
    UserVerifyEmailRequest = "user.verify_email_request",
    InvitationCreate = "invitation.create",
    InvitationResend = "invitation.resend",
    InvitationRevoke = "invitation.revoke",
    InvitationAccept = "invitation.accept",
    InvitationDecline = "invitation.decline",
    SystemSync = "system.sync",
    UserImport = "user.import",
    SecretsRotate = "secrets.rotate",
    OidcKeysRotate = "oidc.keys.rotate",
    OidcClientCreate = "oidc.client.create",
    OidcClientUpdate = "oidc.client.update",
    OidcClientSecret = "oidc.client.secret",
    OidcClientDelete = "oidc.client.delete",
    OidcAuthorize = "oidc.authorize",
    OidcTokenIssue = "oidc.token.issue",
    OidcTokenRevoke = "oidc.token.revoke",
    OrgExport = "org.export",
    OrgImport = "org.import",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>().unwrap(), a);
            assert!(seen.insert(a.as_str()), "{a} twice");
            let (noun, verb) = a.as_str().split_once('.').unwrap();
            assert!(!noun.is_empty() && !verb.is_empty());
        }
        assert!("org.explode".parse::<AuditAction>().is_err());
    }
}
