//! Roles, permissions and the one table that maps the first to the second.

use std::fmt;
use std::str::FromStr;

use crate::error::InvalidInput;

/// Roles from lowest to highest; the derived order is the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Admin, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn allows(self, p: Permission) -> bool {
        self >= p.min_role()
    }

    /// Parses a role someone may grant: `owner` only moves by ownership transfer.
    pub fn parse_grantable(raw: &str) -> Result<Self, InvalidInput> {
        match raw.parse::<Role>()? {
            Role::Owner => Err(InvalidInput::new(
                "invalid_role",
                "role",
                "the owner role is only given by transferring ownership",
            )),
            r => Ok(r),
        }
    }
}

impl FromStr for Role {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(InvalidInput::new(
                "invalid_role",
                "role",
                "role must be one of viewer, editor, admin, owner",
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

macro_rules! permissions {
    ($($variant:ident = $name:literal => $role:ident),* $(,)?) => {
        /// Named actions. Platforms ask about them by name through `POST /api/v1/check`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Permission { $($variant),* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name),* }
            }

            /// THE table: the lowest role that holds each permission.
            pub fn min_role(self) -> Role {
                match self { $(Permission::$variant => Role::$role),* }
            }
        }

        impl FromStr for Permission {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Permission::$variant),)*
                    _ => Err(InvalidInput::new("unknown_permission", "permission",
                        format!("unknown permission '{s}'"))),
                }
            }
        }
    };
}

permissions! {
    OrgRead = "org.read" => Viewer,
    MembersRead = "members.read" => Viewer,
    WorkspacesRead = "workspaces.read" => Viewer,
    ProjectsRead = "projects.read" => Viewer,
    AssistantsRead = "assistants.read" => Viewer,
    AssistantsCreate = "assistants.create" => Editor,
    AssistantsEditOwn = "assistants.edit_own" => Editor,
    MembersManage = "members.manage" => Admin,
    InvitationsManage = "invitations.manage" => Admin,
    SignupManage = "signup.manage" => Admin,
    DomainsManage = "domains.manage" => Admin,
    ConfigManage = "config.manage" => Admin,
    SecretsRead = "secrets.read" => Admin,
    WorkspacesManage = "workspaces.manage" => Admin,
    ProjectsManage = "projects.manage" => Admin,
    ApiKeysManage = "api_keys.manage" => Admin,
    AssistantsManage = "assistants.manage" => Admin,
    AuditRead = "audit.read" => Admin,
    OrgUpdate = "org.update" => Owner,
    OrgDelete = "org.delete" => Owner,
    OrgRestore = "org.restore" => Owner,
    OrgTransfer = "org.transfer" => Owner,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role that counts in a workspace: the org role when it is admin or owner, else
/// the workspace role.
pub fn effective_workspace_role(org: Option<Role>, workspace: Option<Role>) -> Option<Role> {
    let from_org = org.filter(|r| *r >= Role::Admin);
    from_org.max(workspace)
}

/// The role that counts in a project: the highest of the org role (when admin or
/// owner), the workspace role and the project role.
pub fn effective_project_role(
    org: Option<Role>,
    workspace: Option<Role>,
    project: Option<Role>,
) -> Option<Role> {
    effective_workspace_role(org, workspace).max(project)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    Org,
    Workspace,
    Project,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Org => "org",
            ScopeKind::Workspace => "workspace",
            ScopeKind::Project => "project",
        }
    }
}

macro_rules! str_enum {
    ($name:ident, $code:literal, { $($variant:ident = $s:literal),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$variant),)*
                    _ => Err(InvalidInput::new($code, "status", format!("unknown status '{s}'"))),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

str_enum!(OrgStatus, "invalid_status", { Active = "active", Suspended = "suspended" });
str_enum!(MembershipStatus, "invalid_status", { Active = "active", Revoked = "revoked" });
str_enum!(InvitationStatus, "invalid_status", {
    Pending = "pending",
    Accepted = "accepted",
    Declined = "declined",
    Revoked = "revoked",
    Expired = "expired",
});

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks every (role, permission) pair against the ladder described in SPEC §3.
    #[test]
    fn every_role_permission_pair() {
        use Permission::*;
        let viewer = [
            OrgRead,
            MembersRead,
            WorkspacesRead,
            ProjectsRead,
            AssistantsRead,
        ];
        let editor = [AssistantsCreate, AssistantsEditOwn];
        let admin = [
            MembersManage,
            InvitationsManage,
            SignupManage,
            DomainsManage,
            ConfigManage,
            SecretsRead,
            WorkspacesManage,
            ProjectsManage,
            ApiKeysManage,
            AssistantsManage,
            AuditRead,
        ];
        let owner = [OrgUpdate, OrgDelete, OrgRestore, OrgTransfer];
        let tiers: [(&[Permission], Role); 4] = [
            (&viewer, Role::Viewer),
            (&editor, Role::Editor),
            (&admin, Role::Admin),
            (&owner, Role::Owner),
        ];
        let listed: usize = tiers.iter().map(|(ps, _)| ps.len()).sum();
        assert_eq!(
            listed,
            Permission::ALL.len(),
            "every permission is in a tier"
        );
        for role in Role::ALL {
            for (perms, tier) in tiers {
                for &p in perms {
                    assert_eq!(role.allows(p), role >= tier, "{role} {p}");
                    assert_eq!(p.as_str().parse::<Permission>().unwrap(), p);
                }
            }
        }
    }

    #[test]
    fn effective_roles() {
        use Role::*;
        let cases = [
            (None, None, None, None),
            (Some(Viewer), None, None, None),
            (Some(Editor), None, Some(Viewer), Some(Viewer)),
            (Some(Admin), None, None, Some(Admin)),
            (Some(Owner), Some(Viewer), None, Some(Owner)),
            (Some(Viewer), Some(Editor), Some(Viewer), Some(Editor)),
            (None, Some(Viewer), Some(Admin), Some(Admin)),
        ];
        for (o, w, p, want) in cases {
            assert_eq!(effective_project_role(o, w, p), want, "{o:?} {w:?} {p:?}");
        }
        assert_eq!(effective_workspace_role(Some(Editor), None), None);
        assert_eq!(
            effective_workspace_role(Some(Admin), Some(Viewer)),
            Some(Admin)
        );
    }

    #[test]
    fn owner_is_not_grantable() {
        assert!(Role::parse_grantable("owner").is_err());
        assert_eq!(Role::parse_grantable("admin").unwrap(), Role::Admin);
        assert!(Role::parse_grantable("god").is_err());
    }
}
