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
    ($($variant:ident = $name:literal => $role:ident @ $reach:ident),* $(,)?) => {
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

            /// The deepest scope whose own role grants the permission. Below it, the
            /// role at that scope still decides: an org viewer reads every workspace's
            /// members (`members.read` reaches only the org), while managing a
            /// workspace's members takes the role that counts in that workspace.
            pub fn reach(self) -> ScopeKind {
                match self { $(Permission::$variant => ScopeKind::$reach),* }
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

// permission = name => lowest role @ deepest scope whose role grants it
permissions! {
    OrgRead = "org.read" => Viewer @ Org,
    MembersRead = "members.read" => Viewer @ Org,
    WorkspacesRead = "workspaces.read" => Viewer @ Org,
    ProjectsRead = "projects.read" => Viewer @ Org,
    AssistantsRead = "assistants.read" => Viewer @ Org,
    AssistantsCreate = "assistants.create" => Editor @ Org,
    AssistantsEditOwn = "assistants.edit_own" => Editor @ Org,
    MembersManage = "members.manage" => Admin @ Project,
    InvitationsManage = "invitations.manage" => Admin @ Org,
    SignupManage = "signup.manage" => Admin @ Org,
    DomainsManage = "domains.manage" => Admin @ Org,
    ConfigManage = "config.manage" => Admin @ Org,
    SecretsRead = "secrets.read" => Admin @ Org,
    WorkspacesManage = "workspaces.manage" => Admin @ Org,
    ProjectsManage = "projects.manage" => Admin @ Workspace,
    ApiKeysManage = "api_keys.manage" => Admin @ Org,
    OidcClientsManage = "oidc_clients.manage" => Admin @ Org,
    AssistantsManage = "assistants.manage" => Admin @ Org,
    AuditRead = "audit.read" => Admin @ Org,
    OrgExport = "org.export" => Admin @ Org,
    OrgUpdate = "org.update" => Owner @ Org,
    OrgDelete = "org.delete" => Owner @ Org,
    OrgRestore = "org.restore" => Owner @ Org,
    OrgTransfer = "org.transfer" => Owner @ Org,
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

/// The role that decides whether a user holds `p` at a scope of kind `at`, from their
/// active roles on the path down to it (`None` where they have none). The scope
/// considered is `at`, or `p`'s reach when that is shallower.
pub fn role_for(
    p: Permission,
    at: ScopeKind,
    org: Option<Role>,
    workspace: Option<Role>,
    project: Option<Role>,
) -> Option<Role> {
    match at.min(p.reach()) {
        ScopeKind::Org => org,
        ScopeKind::Workspace => effective_workspace_role(org, workspace),
        ScopeKind::Project => effective_project_role(org, workspace, project),
    }
}

/// Org > workspace > project, shallowest first (`Ord` follows the depth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

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
str_enum!(DomainStatus, "invalid_status", { Pending = "pending", Verified = "verified" });
str_enum!(MembershipStatus, "invalid_status", { Active = "active", Revoked = "revoked" });
str_enum!(FieldSource, "invalid_source", { Derived = "derived", Explicit = "explicit" });
str_enum!(KeyScope, "invalid_scope", {
    SecretsRead = "secrets:read",
    Check = "check",
});
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
            OidcClientsManage,
            AssistantsManage,
            AuditRead,
            OrgExport,
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
    fn roles_at_scopes() {
        use Role::*;
        use ScopeKind as K;
        // An org viewer reads a workspace's members but does not manage them.
        assert_eq!(
            role_for(
                Permission::MembersRead,
                K::Workspace,
                Some(Viewer),
                None,
                None
            ),
            Some(Viewer)
        );
        assert_eq!(
            role_for(
                Permission::MembersManage,
                K::Workspace,
                Some(Viewer),
                None,
                None
            ),
            None
        );
        // A workspace admin manages it and creates its projects, not other org things.
        let ws_admin = (Some(Viewer), Some(Admin), None);
        for (p, want) in [
            (Permission::MembersManage, true),
            (Permission::ProjectsManage, true),
            (Permission::WorkspacesManage, false),
            (Permission::InvitationsManage, false),
        ] {
            let r = role_for(p, K::Workspace, ws_admin.0, ws_admin.1, ws_admin.2);
            assert_eq!(r.is_some_and(|r| r.allows(p)), want, "{p}");
        }
        // A project admin manages the project's members only.
        assert_eq!(
            role_for(
                Permission::MembersManage,
                K::Project,
                None,
                None,
                Some(Admin)
            ),
            Some(Admin)
        );
        assert_eq!(
            role_for(
                Permission::ProjectsManage,
                K::Project,
                None,
                None,
                Some(Admin)
            ),
            None
        );
        // Org admins count everywhere.
        for at in [K::Org, K::Workspace, K::Project] {
            for &p in Permission::ALL {
                let r = role_for(p, at, Some(Admin), None, None);
                assert_eq!(r, Some(Admin), "{p} at {at:?}");
            }
        }
    }

    #[test]
    fn owner_is_not_grantable() {
        assert!(Role::parse_grantable("owner").is_err());
        assert_eq!(Role::parse_grantable("admin").unwrap(), Role::Admin);
        assert!(Role::parse_grantable("god").is_err());
    }
}
