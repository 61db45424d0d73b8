//! The OpenID Connect provider's own records (issue 11, ADR 0025).

use crate::error::InvalidInput;
use crate::{OidcClientId, OrgId, Role, Timestamp, UserId};

/// An algorithm the provider signs ID tokens with: RS256 for every client (it is the
/// one OpenID Connect requires), EdDSA (Ed25519) for clients that ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlg {
    Rs256,
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [SigningAlg::Rs256, SigningAlg::EdDsa];

    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One signing key. The private key (PKCS#8 DER) is stored sealed with the master key;
/// the public half is kept as the JWK the key set publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKey {
    /// The key id (`kid`): random, never reused.
    pub kid: String,
    pub alg: SigningAlg,
    /// Numbers the keys of one algorithm in the order they were made (set by the
    /// store on insert): the highest signs.
    pub generation: i64,
    /// `enc:v1:…` of the PKCS#8 DER, bound to the context `oidc-key:<kid>`.
    pub private_sealed: String,
    /// The public JWK (with `kid`, `alg`, `use`).
    pub public_jwk: serde_json::Value,
    pub created_at: Timestamp,
}

/// How a client's `groups` claim names a user's organizations (ADR 0025).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupsStyle {
    /// `acme`: one entry per organization.
    Orgs,
    /// `acme` and `acme:admin`: the organization and the role in it.
    Roles,
    /// Also workspaces and projects with a role of their own: `acme/research:editor`,
    /// `acme/research/thesis:admin`.
    Full,
}

impl GroupsStyle {
    pub const ALL: [GroupsStyle; 3] = [GroupsStyle::Orgs, GroupsStyle::Roles, GroupsStyle::Full];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupsStyle::Orgs => "orgs",
            GroupsStyle::Roles => "roles",
            GroupsStyle::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                InvalidInput::new(
                    "invalid_groups_style",
                    "groups",
                    format!("groups must be one of orgs, roles, full (not '{s}')"),
                )
            })
    }
}

/// A redirect URI a client registered: matched exactly, byte for byte, as OAuth 2.0
/// Security Best Current Practice asks. Absolute, no fragment, no user info; `https`,
/// or `http` only on a loopback host (a platform on the same machine, tests), or a
/// private-use scheme (`com.example.app:/callback`) for native apps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, InvalidInput> {
        let bad = |why: String| InvalidInput::new("invalid_redirect_uri", field, why);
        if raw.len() > 2000 {
            return Err(bad("a redirect URI is at most 2000 characters".into()));
        }
        if raw.trim() != raw || raw.is_empty() {
            return Err(bad("a redirect URI has no surrounding spaces".into()));
        }
        let url = url::Url::parse(raw)
            .map_err(|e| bad(format!("'{raw}' is not an absolute URI: {e}")))?;
        if url.fragment().is_some() {
            return Err(bad(format!("'{raw}' has a fragment (#...)")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(format!("'{raw}' holds user information")));
        }
        // Only URIs already in their normal form: what is registered is byte for byte
        // what browsers are sent to (no `\`, spaces, control characters, raw non-ASCII
        // or look-alike hosts that a browser would read otherwise).
        if url.as_str() != raw || raw.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(bad(format!(
                "'{raw}' is not in its normal form (as a browser would write it: {})",
                url.as_str()
            )));
        }
        if let Some(url::Host::Domain(d)) = url.host()
            && !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(bad(format!(
                "'{raw}': the host may hold letters, digits, '-' and '.' only"
            )));
        }
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if loopback => {}
            "http" => {
                return Err(bad(format!(
                    "'{raw}': plain http only on a loopback host (127.0.0.1, [::1], localhost); use https"
                )));
            }
            "https" | "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => {
                return Err(bad(format!("'{raw}' cannot be a redirect URI")));
            }
            // A private-use scheme of a native app: reverse-DNS, so it holds a dot.
            s if s.contains('.') => {}
            _ => {
                return Err(bad(format!(
                    "'{raw}': use https (or a reverse-DNS private-use scheme)"
                )));
            }
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from storage, which only ever holds parsed URIs.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// A platform registered to sign its users in through Orgbase.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcClient {
    pub id: OidcClientId,
    /// The public identifier the platform sends (`client_id`).
    pub client_id: String,
    pub name: String,
    /// SHA-256 of the client secret; `None` for a public client (PKCE only).
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The organization that registered it (its admins manage it, and only its members
    /// sign in); `None` for a platform-wide client of the system admins.
    pub org_id: Option<OrgId>,
    /// A platform-wide client limited to the members of these orgs; empty: anyone with
    /// an organization.
    pub allowed_orgs: Vec<OrgId>,
    /// Skips the consent page (system admins' clients only).
    pub first_party: bool,
    pub groups: GroupsStyle,
    /// Puts `admin` in the `roles` claim of users who administer an org the client
    /// sees (Open WebUI's `OAUTH_ADMIN_ROLES`).
    pub admin_role: bool,
    pub id_token_alg: SigningAlg,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_absolute_https_or_loopback_http() {
        for ok in [
            "https://chat.example.org/oauth/oidc/callback",
            "https://chat.example.org:8443/cb?x=1",
            "http://127.0.0.1:8080/oauth/oidc/callback",
            "http://localhost/cb",
            "http://[::1]:3000/cb",
            "com.example.app:/callback",
        ] {
            assert_eq!(RedirectUri::parse(ok, "f").unwrap().as_str(), ok);
        }
        for bad in [
            "",
            " https://a.example/cb",
            "/relative/cb",
            "http://chat.example.org/cb",
            "http://10.0.0.1/cb",
            "https://a.example/cb#frag",
            "https://user:pw@a.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "myapp:/cb",
            "https://a.example/c b",
            "https://a.example/cb\r\nSet-Cookie: x=1",
            "https://evil.example\\@good.example/cb",
            "https:evil.example/cb",
            "https:///evil.example",
            "https://*/cb",
            "https://\"q\".example/cb",
            "https://раураl.com/cb",
            "HTTPS://a.example/cb",
            "https://a.example",
        ] {
            let e = RedirectUri::parse(bad, "f").unwrap_err();
            assert_eq!(e.code, "invalid_redirect_uri", "{bad}");
        }
    }

    #[test]
    fn groups_styles_and_algorithms_round_trip() {
        for g in GroupsStyle::ALL {
            assert_eq!(GroupsStyle::parse(g.as_str()).unwrap(), g);
        }
        assert!(GroupsStyle::parse("everything").is_err());
        for a in SigningAlg::ALL {
            assert_eq!(SigningAlg::parse(a.as_str()), Some(a));
        }
    }
}

/// A user's place in one organization, as the claims see it: the org role and the
/// workspace and project roles below it (active memberships of a live org).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affiliation {
    pub org_id: OrgId,
    pub org_slug: String,
    pub org_role: Role,
    /// (workspace name, role) where the user has a workspace role of their own.
    pub workspaces: Vec<(String, Role)>,
    /// (workspace name, project name, role) where the user has a project role.
    pub projects: Vec<(String, String, Role)>,
}

/// The organization claims of an ID token or userinfo answer (ADR 0025).
#[derive(Debug, Clone, PartialEq)]
pub struct OrgClaims {
    /// `acme`, `acme:admin`, `acme/research:editor`, by the client's [`GroupsStyle`].
    pub groups: Vec<String>,
    /// `user` for everyone; `admin` too for an org owner or admin when the client maps
    /// it (`admin_role`).
    pub roles: Vec<String>,
    /// Keycloak's shape: `{"acme": {"id": "…", "role": "admin"}}`.
    pub organization: serde_json::Value,
}

/// A workspace or project name as a group path segment: lower-case ASCII letters and
/// digits, runs of anything else as one `-` (`Research Team` → `research-team`).
fn segment(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "-".to_string() } else { out }
}

/// The claims of `places` (already limited to the orgs the client may see).
pub fn org_claims(places: &[Affiliation], style: GroupsStyle, admin_role: bool) -> OrgClaims {
    let mut sorted: Vec<&Affiliation> = places.iter().collect();
    sorted.sort_by(|a, b| a.org_slug.cmp(&b.org_slug));
    let mut groups = Vec::new();
    let mut organization = serde_json::Map::new();
    for a in &sorted {
        groups.push(a.org_slug.clone());
        if style != GroupsStyle::Orgs {
            groups.push(format!("{}:{}", a.org_slug, a.org_role.as_str()));
        }
        if style == GroupsStyle::Full {
            let mut deeper: Vec<String> = a
                .workspaces
                .iter()
                .map(|(w, r)| format!("{}/{}:{}", a.org_slug, segment(w), r.as_str()))
                .chain(a.projects.iter().map(|(w, p, r)| {
                    format!(
                        "{}/{}/{}:{}",
                        a.org_slug,
                        segment(w),
                        segment(p),
                        r.as_str()
                    )
                }))
                .collect();
            deeper.sort();
            deeper.dedup();
            groups.extend(deeper);
        }
        organization.insert(
            a.org_slug.clone(),
            serde_json::json!({"id": a.org_id.0, "role": a.org_role.as_str()}),
        );
    }
    let mut roles = vec!["user".to_string()];
    if admin_role && sorted.iter().any(|a| a.org_role >= Role::Admin) {
        roles.push("admin".to_string());
    }
    OrgClaims {
        groups,
        roles,
        organization: serde_json::Value::Object(organization),
    }
}

#[cfg(test)]
mod claims_tests {
    use super::*;

    fn place(slug: &str, role: Role) -> Affiliation {
        Affiliation {
            org_id: OrgId(uuid::Uuid::nil()),
            org_slug: slug.into(),
            org_role: role,
            workspaces: vec![],
            projects: vec![],
        }
    }

    #[test]
    fn groups_follow_the_clients_style() {
        let mut acme = place("acme", Role::Admin);
        acme.workspaces = vec![("Research Team".into(), Role::Editor)];
        acme.projects = vec![("Research Team".into(), "Thesis 2026!".into(), Role::Owner)];
        let places = [place("zeta", Role::Viewer), acme];
        let c = org_claims(&places, GroupsStyle::Orgs, false);
        assert_eq!(c.groups, ["acme", "zeta"]);
        assert_eq!(c.roles, ["user"]);
        let c = org_claims(&places, GroupsStyle::Roles, true);
        assert_eq!(c.groups, ["acme", "acme:admin", "zeta", "zeta:viewer"]);
        assert_eq!(c.roles, ["user", "admin"]);
        let c = org_claims(&places, GroupsStyle::Full, false);
        assert_eq!(
            c.groups,
            [
                "acme",
                "acme:admin",
                "acme/research-team/thesis-2026:owner",
                "acme/research-team:editor",
                "zeta",
                "zeta:viewer"
            ]
        );
        assert_eq!(c.organization["acme"]["role"], "admin");
        assert_eq!(c.organization["zeta"]["role"], "viewer");
    }

    #[test]
    fn admin_is_only_for_org_admins_and_owners_when_mapped() {
        let viewers = [place("acme", Role::Editor)];
        assert_eq!(
            org_claims(&viewers, GroupsStyle::Roles, true).roles,
            ["user"]
        );
        let owner = [place("acme", Role::Owner)];
        assert_eq!(
            org_claims(&owner, GroupsStyle::Roles, true).roles,
            ["user", "admin"]
        );
        assert_eq!(
            org_claims(&owner, GroupsStyle::Roles, false).roles,
            ["user"]
        );
        let none = org_claims(&[], GroupsStyle::Full, true);
        assert!(none.groups.is_empty());
        assert_eq!(none.organization, serde_json::json!({}));
    }
}

/// An authorization code as `/oidc/authorize` made it (only its hash is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct OidcCode {
    pub code_hash: String,
    pub client: OidcClientId,
    pub user_id: UserId,
    /// The exact `redirect_uri` of the request: the token request must repeat it.
    pub redirect_uri: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    pub nonce: Option<String>,
    /// The PKCE S256 challenge, when the request had one.
    pub code_challenge: Option<String>,
    /// When the user last proved who they are (`auth_time`).
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// What an OpenID Connect token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcTokenKind {
    Access,
    Refresh,
}

impl OidcTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OidcTokenKind::Access => "access",
            OidcTokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "access" => Some(OidcTokenKind::Access),
            "refresh" => Some(OidcTokenKind::Refresh),
            _ => None,
        }
    }
}

/// An access or refresh token (only its hash is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct OidcToken {
    pub token_hash: String,
    pub kind: OidcTokenKind,
    /// Every token that came from one code, through refresh rotations.
    pub family: uuid::Uuid,
    pub client: OidcClientId,
    pub user_id: UserId,
    pub scope: String,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// A refresh token once rotated (presenting it again is reuse).
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl OidcToken {
    /// Usable at `now`: not expired, not revoked, and (for a refresh token) not rotated.
    pub fn live_at(&self, now: Timestamp) -> bool {
        self.expires_at > now && self.revoked_at.is_none() && self.used_at.is_none()
    }
}
