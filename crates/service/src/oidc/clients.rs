//! The platforms registered to sign their users in through Orgbase: platform-wide
//! clients of the system admins, and an org's own clients, managed by its admins.

use orgbase_domain::{
    AuditAction, GroupsStyle, Name, OidcClient, OidcClientId, Org, OrgId, Page, PageRequest,
    RedirectUri, SigningAlg, Slug, UserId,
};
use serde_json::json;

use super::Oidc;
use crate::error::{Error, Result};
use crate::shared::audit::{AuditCtx, Event};
use crate::shared::authz::{OrgAccess, SystemAdmin, perm};
use crate::shared::crypto::{TokenKind, new_token, random_hex};

/// At most this many redirect URIs (and as many post-logout ones) per client.
const MAX_URIS: usize = 20;

/// Who manages a set of clients: a system admin (the platform-wide ones) or an admin of
/// an org (the org's own). Sealed: only these two proofs.
pub trait ClientAuthority: sealed::Sealed {}
impl ClientAuthority for SystemAdmin {}
impl ClientAuthority for OrgAccess<perm::OidcClientsManage> {}

mod sealed {
    use super::*;

    pub trait Sealed {
        /// The org whose clients these are; `None`: the platform-wide ones.
        fn owner(&self) -> Option<&Org>;
        fn audit(&self) -> AuditCtx;
        fn user(&self) -> Option<UserId>;
        /// People only: a service key cannot register clients (a leaked key must not
        /// be able to send the org's members to a site of its choosing).
        fn people_only(&self) -> Result<()>;
    }

    impl Sealed for SystemAdmin {
        fn owner(&self) -> Option<&Org> {
            None
        }
        fn audit(&self) -> AuditCtx {
            AuditCtx::from(self.actor())
        }
        fn user(&self) -> Option<UserId> {
            Some(self.actor().id())
        }
        fn people_only(&self) -> Result<()> {
            Ok(())
        }
    }

    impl Sealed for OrgAccess<perm::OidcClientsManage> {
        fn owner(&self) -> Option<&Org> {
            Some(self.org())
        }
        fn audit(&self) -> AuditCtx {
            OrgAccess::audit(self)
        }
        fn user(&self) -> Option<UserId> {
            self.caller().user_id()
        }
        fn people_only(&self) -> Result<()> {
            if self.caller().service_key().is_some() {
                return Err(Error::forbidden(
                    "service_key_not_allowed",
                    "OpenID Connect clients are registered by people, not by service keys",
                ));
            }
            Ok(())
        }
    }
}

/// What an admin asks for; on a change, absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Confidential (a secret, the default) or public (PKCE only). Fixed at creation.
    pub confidential: Option<bool>,
    /// Platform-wide clients only: the orgs (ids or slugs) whose members may sign in.
    pub allowed_orgs: Option<Vec<String>>,
    /// Platform-wide clients only: skip the consent page.
    pub first_party: Option<bool>,
    pub groups: Option<String>,
    pub admin_role: Option<bool>,
    pub id_token_signed_response_alg: Option<String>,
}

/// A client just made, or its secret just replaced: the secret is shown this once.
pub struct ClientWithSecret {
    pub client: OidcClient,
    pub client_secret: Option<String>,
}

fn uris(raw: &[String], field: &'static str) -> Result<Vec<RedirectUri>> {
    if raw.len() > MAX_URIS {
        return Err(Error::bad_request(
            "too_many_redirect_uris",
            format!("{field}: at most {MAX_URIS}"),
        ));
    }
    let mut out: Vec<RedirectUri> = Vec::with_capacity(raw.len());
    for r in raw {
        let u = RedirectUri::parse(r, field)?;
        if !out.contains(&u) {
            out.push(u);
        }
    }
    Ok(out)
}

impl Oidc<'_> {
    fn not_found() -> Error {
        Error::not_found("oidc_client_not_found", "OpenID Connect client")
    }

    /// The client `id` among `by`'s: another org's client, or a platform-wide one asked
    /// for through an org, is not found, like one that does not exist.
    pub async fn client(&self, by: &impl ClientAuthority, id: OidcClientId) -> Result<OidcClient> {
        let c = self
            .0
            .store
            .oidc_client(id)
            .await?
            .ok_or_else(Self::not_found)?;
        if c.org_id != by.owner().map(|o| o.id) {
            return Err(Self::not_found());
        }
        Ok(c)
    }

    pub async fn clients(
        &self,
        by: &impl ClientAuthority,
        page: PageRequest,
    ) -> Result<Page<OidcClient>> {
        Ok(self
            .0
            .store
            .oidc_clients(by.owner().map(|o| o.id), page)
            .await?)
    }

    /// Registers a client. Confidential clients get a secret, shown once.
    pub async fn create_client(
        &self,
        by: &impl ClientAuthority,
        input: ClientInput,
    ) -> Result<ClientWithSecret> {
        by.people_only()?;
        let core = self.0;
        let now = core.clock.now();
        let name = Name::parse(input.name.as_deref().unwrap_or(""), "name")?;
        let redirect_uris = uris(
            input.redirect_uris.as_deref().unwrap_or(&[]),
            "redirect_uris",
        )?;
        if redirect_uris.is_empty() {
            return Err(Error::bad_request(
                "invalid_redirect_uri",
                "redirect_uris: give at least one",
            ));
        }
        let secret = match input.confidential.unwrap_or(true) {
            true => Some(new_token(TokenKind::OidcClientSecret)?),
            false => None,
        };
        let mut client = OidcClient {
            id: OidcClientId::new(now),
            client_id: format!("oc-{}", random_hex(12)?),
            name: name.as_str().to_string(),
            secret_hash: secret.as_ref().map(|s| s.hash.clone()),
            redirect_uris,
            post_logout_redirect_uris: Vec::new(),
            org_id: by.owner().map(|o| o.id),
            allowed_orgs: Vec::new(),
            first_party: false,
            groups: GroupsStyle::Roles,
            admin_role: false,
            id_token_alg: SigningAlg::Rs256,
            created_by: by.user(),
            created_at: now,
            updated_at: now,
        };
        self.apply(by, &mut client, input).await?;
        let mut change = core.change(by.audit()).await?;
        change.insert_oidc_client(&client).await?;
        change
            .record(event(AuditAction::OidcClientCreate, &client))
            .await?;
        change.commit().await?;
        Ok(ClientWithSecret {
            client,
            client_secret: secret.map(|s| s.plaintext),
        })
    }

    /// Changes the given fields.
    pub async fn update_client(
        &self,
        by: &impl ClientAuthority,
        id: OidcClientId,
        input: ClientInput,
    ) -> Result<OidcClient> {
        by.people_only()?;
        let mut client = self.client(by, id).await?;
        if input
            .confidential
            .is_some_and(|c| c != client.secret_hash.is_some())
        {
            return Err(Error::bad_request(
                "confidential_fixed",
                "a client stays confidential or public; register a new one to change it",
            ));
        }
        if let Some(n) = &input.name {
            client.name = Name::parse(n, "name")?.as_str().to_string();
        }
        if let Some(r) = &input.redirect_uris {
            client.redirect_uris = uris(r, "redirect_uris")?;
            if client.redirect_uris.is_empty() {
                return Err(Error::bad_request(
                    "invalid_redirect_uri",
                    "redirect_uris: give at least one",
                ));
            }
        }
        self.apply(by, &mut client, input).await?;
        client.updated_at = self.0.clock.now();
        let mut change = self.0.change(by.audit()).await?;
        if !change.update_oidc_client(&client).await? {
            return Err(Self::not_found());
        }
        change
            .record(event(AuditAction::OidcClientUpdate, &client))
            .await?;
        change.commit().await?;
        Ok(client)
    }

    /// A new secret for a confidential client (the old one stops at once), shown once.
    pub async fn new_client_secret(
        &self,
        by: &impl ClientAuthority,
        id: OidcClientId,
    ) -> Result<ClientWithSecret> {
        by.people_only()?;
        let mut client = self.client(by, id).await?;
        if client.secret_hash.is_none() {
            return Err(Error::bad_request(
                "public_client",
                "a public client has no secret",
            ));
        }
        let secret = new_token(TokenKind::OidcClientSecret)?;
        client.secret_hash = Some(secret.hash.clone());
        client.updated_at = self.0.clock.now();
        let mut change = self.0.change(by.audit()).await?;
        if !change.update_oidc_client(&client).await? {
            return Err(Self::not_found());
        }
        change
            .record(event(AuditAction::OidcClientSecret, &client))
            .await?;
        change.commit().await?;
        Ok(ClientWithSecret {
            client,
            client_secret: Some(secret.plaintext),
        })
    }

    pub async fn delete_client(&self, by: &impl ClientAuthority, id: OidcClientId) -> Result<()> {
        by.people_only()?;
        let client = self.client(by, id).await?;
        let mut change = self.0.change(by.audit()).await?;
        if !change.delete_oidc_client(id).await? {
            return Err(Self::not_found());
        }
        change
            .record(event(AuditAction::OidcClientDelete, &client))
            .await?;
        change.commit().await
    }

    /// The fields creation and changes set alike (name, redirect URIs and
    /// confidentiality are their callers').
    async fn apply(
        &self,
        by: &impl ClientAuthority,
        client: &mut OidcClient,
        input: ClientInput,
    ) -> Result<()> {
        if let Some(r) = &input.post_logout_redirect_uris {
            client.post_logout_redirect_uris = uris(r, "post_logout_redirect_uris")?;
        }
        if let Some(g) = &input.groups {
            client.groups = GroupsStyle::parse(g)?;
        }
        if let Some(a) = input.admin_role {
            client.admin_role = a;
        }
        if let Some(alg) = &input.id_token_signed_response_alg {
            client.id_token_alg = SigningAlg::parse(alg).ok_or_else(|| {
                Error::bad_request(
                    "invalid_signing_alg",
                    "id_token_signed_response_alg must be RS256 or EdDSA",
                )
            })?;
        }
        let platform_only = |what: &str| {
            Error::forbidden(
                "system_admin_required",
                format!("{what}: only for platform-wide clients of the system admins"),
            )
        };
        if let Some(f) = input.first_party {
            if by.owner().is_some() && f {
                return Err(platform_only("first_party"));
            }
            client.first_party = f;
        }
        if let Some(orgs) = &input.allowed_orgs {
            if by.owner().is_some() {
                return Err(platform_only("allowed_orgs"));
            }
            let mut ids: Vec<OrgId> = Vec::new();
            for raw in orgs {
                let unknown =
                    || Error::bad_request("org_not_found", format!("allowed_orgs: no org '{raw}'"));
                let found = match raw.parse::<OrgId>() {
                    Ok(id) => self.0.store.org_by_id(id).await?,
                    Err(_) => match Slug::parse(raw) {
                        Ok(slug) => self.0.store.org_by_slug(&slug).await?,
                        Err(_) => None,
                    },
                };
                let org = found
                    .filter(|o| o.deleted_at.is_none())
                    .ok_or_else(unknown)?;
                if !ids.contains(&org.id) {
                    ids.push(org.id);
                }
            }
            client.allowed_orgs = ids;
        }
        Ok(())
    }
}

fn event(action: AuditAction, c: &OidcClient) -> Event {
    let e = Event::new(action, "oidc_client", c.id).details(json!({
        "client_id": c.client_id,
        "name": c.name,
        "redirect_uris": c.redirect_uris,
        "confidential": c.secret_hash.is_some(),
    }));
    match c.org_id {
        Some(org) => e.org(org),
        None => e,
    }
}
