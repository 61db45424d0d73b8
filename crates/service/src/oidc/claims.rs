//! What a client learns about a user: the organizations it may see, with roles.

use std::collections::BTreeMap;

use orgbase_domain::{Affiliation, OidcClient, OrgClaims, OrgId, User, org_claims};

use super::Oidc;
use crate::error::Result;

impl Oidc<'_> {
    /// The organization claims of `user` for `client`, or `None` when the user may not
    /// sign in to it: disabled, or in no live organization the client admits (an org's
    /// own client admits its members; a platform-wide one the members of its
    /// `allowed_orgs`, or of any org when that is empty). Suspended and deleted orgs
    /// count for nothing. Read afresh every time, so a removed membership is gone from
    /// the next token and userinfo answer.
    pub async fn claims_for(&self, user: &User, client: &OidcClient) -> Result<Option<OrgClaims>> {
        if !user.enabled {
            return Ok(None);
        }
        let store = &self.0.store;
        let admits = |org: OrgId| match client.org_id {
            Some(own) => org == own,
            None => client.allowed_orgs.is_empty() || client.allowed_orgs.contains(&org),
        };
        let mut places: BTreeMap<OrgId, Affiliation> = BTreeMap::new();
        for (m, slug) in store.memberships_of(user.id).await? {
            if !admits(m.org_id) {
                continue;
            }
            let live = store
                .org_by_id(m.org_id)
                .await?
                .is_some_and(|o| o.is_live());
            if !live {
                continue;
            }
            places.insert(
                m.org_id,
                Affiliation {
                    org_id: m.org_id,
                    org_slug: slug.as_str().to_string(),
                    org_role: m.role,
                    workspaces: Vec::new(),
                    projects: Vec::new(),
                },
            );
        }
        if places.is_empty() {
            return Ok(None);
        }
        for (org, ws, project, role) in store.deep_memberships_of(user.id).await? {
            if let Some(a) = places.get_mut(&org) {
                match project {
                    Some(p) => a.projects.push((ws, p, role)),
                    None => a.workspaces.push((ws, role)),
                }
            }
        }
        let places: Vec<Affiliation> = places.into_values().collect();
        Ok(Some(org_claims(&places, client.groups, client.admin_role)))
    }
}
