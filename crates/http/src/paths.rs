//! Path parameters, one named struct per shape of path. The authorization extractors
//! read `{org}`, `{ws}` and `{project}` themselves; handlers take these structs for the
//! rest (the member, invitation or key a path ends with). Every field is a string, so
//! extraction never fails: an id that does not parse is simply not found.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use orgbase_service::Error;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::problem::Problem;

/// Path parameters as a named struct.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Params(p.0))
            .map_err(|_| Error::not_found("route_not_found", "route").into())
    }
}

/// An id from the path, or the given not-found error.
pub fn id<T: From<Uuid>>(raw: &str, code: &'static str, what: &'static str) -> Result<T, Problem> {
    Uuid::parse_str(raw)
        .map(T::from)
        .map_err(|_| Error::not_found(code, what).into())
}

/// `/orgs/{org}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgPath {
    /// The organization's id or slug.
    pub org: String,
}

/// `/orgs/{org}/workspaces/{ws}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WorkspacePath {
    /// The organization's id or slug.
    pub org: String,
    /// The workspace's id.
    #[param(format = Uuid)]
    pub ws: String,
}

/// `/orgs/{org}/workspaces/{ws}/projects/{project}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectPath {
    /// The organization's id or slug.
    pub org: String,
    /// The workspace's id.
    #[param(format = Uuid)]
    pub ws: String,
    /// The project's id.
    #[param(format = Uuid)]
    pub project: String,
}

/// `.../members/{user_id}` at org scope.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgMemberPath {
    /// The organization's id or slug.
    pub org: String,
    /// The member's user id.
    #[param(format = Uuid)]
    pub user_id: String,
}

/// `.../workspaces/{ws}/members/{user_id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WorkspaceMemberPath {
    /// The organization's id or slug.
    pub org: String,
    /// The workspace's id.
    #[param(format = Uuid)]
    pub ws: String,
    /// The member's user id.
    #[param(format = Uuid)]
    pub user_id: String,
}

/// `.../projects/{project}/members/{user_id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectMemberPath {
    /// The organization's id or slug.
    pub org: String,
    /// The workspace's id.
    #[param(format = Uuid)]
    pub ws: String,
    /// The project's id.
    #[param(format = Uuid)]
    pub project: String,
    /// The member's user id.
    #[param(format = Uuid)]
    pub user_id: String,
}

/// `/orgs/{org}/invitations/{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvitationPath {
    /// The organization's id or slug.
    pub org: String,
    /// The invitation's id.
    #[param(format = Uuid)]
    pub id: String,
}

/// `/orgs/{org}/domains/{domain}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DomainPath {
    /// The organization's id or slug.
    pub org: String,
    /// The claimed domain, e.g. `example.com`.
    pub domain: String,
}

/// `/me/api-keys/{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ApiKeyPath {
    /// The key's id.
    #[param(format = Uuid)]
    pub id: String,
}

/// `/orgs/{org}/api-keys/{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgApiKeyPath {
    /// The organization's id or slug.
    pub org: String,
    /// The key's id.
    #[param(format = Uuid)]
    pub id: String,
}

/// `/assistants/{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssistantPath {
    /// The assistant's id.
    #[param(format = Uuid)]
    pub id: String,
}

/// `/assistants/{id}/organizations/{org}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssistantOrgPath {
    /// The assistant's id.
    #[param(format = Uuid)]
    pub id: String,
    /// The organization's id or slug.
    pub org: String,
}

/// `/admin/users/{id}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's id.
    #[param(format = Uuid)]
    pub id: String,
}

/// `/oidc/clients/{client}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OidcClientPath {
    /// The client's id (not its `client_id`).
    #[param(format = Uuid)]
    pub client: String,
}

/// `/orgs/{org}/oidc/clients/{client}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrgOidcClientPath {
    /// The organization's id or slug.
    pub org: String,
    /// The client's id (not its `client_id`).
    #[param(format = Uuid)]
    pub client: String,
}
