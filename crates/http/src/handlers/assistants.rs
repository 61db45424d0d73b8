//! Assistants: an org's list and creation, one assistant, its sharing with other orgs,
//! re-derivation from the org's defaults, and its resolved provider configuration.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use orgbase_domain::{Assistant, FieldChange, FieldSource, ProjectId, Timestamp, UserId};
use orgbase_service::{
    AssistantDetail, AssistantFilter, AssistantInput, AssistantPatch, Error, ResolvedConfig, perm,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::extract::{AssistantAuth, AssistantQuery, Body, OrgAuth, Query};
use crate::paths::{AssistantOrgPath, AssistantPath, OrgPath};
use crate::problem::{ApiResult, Problem};
use crate::views::{PageView, page};

/// Where a snapshotted field's value came from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Taken from the home org's default (re-derivable).
    Derived,
    /// Set on the assistant.
    Explicit,
}

impl From<FieldSource> for Source {
    fn from(s: FieldSource) -> Self {
        match s {
            FieldSource::Derived => Source::Derived,
            FieldSource::Explicit => Source::Explicit,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AssistantView {
    pub id: Uuid,
    /// The home organization.
    pub org_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub framework: Option<String>,
    pub framework_source: Source,
    pub language_model: Option<String>,
    pub language_model_source: Source,
    /// Platform fields, kept as given.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// The orgs it belongs to, home first (only for callers who may change it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizations: Option<Vec<Uuid>>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Assistant> for AssistantView {
    fn from(a: Assistant) -> Self {
        Self {
            id: a.id.0,
            org_id: a.org_id.0,
            owner_id: a.owner_id.map(|u| u.0),
            project_id: a.project_id.map(|p| p.0),
            name: a.name,
            description: a.description,
            framework: a.framework,
            framework_source: a.framework_source.into(),
            language_model: a.language_model,
            language_model_source: a.language_model_source.into(),
            metadata: a.metadata,
            organizations: None,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

impl From<AssistantDetail> for AssistantView {
    fn from(d: AssistantDetail) -> Self {
        let mut v = AssistantView::from(d.assistant);
        v.organizations = d
            .organizations
            .map(|o| o.into_iter().map(|o| o.0).collect());
        v
    }
}

fn uuid_query<T: From<Uuid>>(raw: Option<&str>, name: &str) -> Result<Option<T>, Problem> {
    raw.map(|r| {
        Uuid::parse_str(r)
            .map(T::from)
            .map_err(|_| Error::bad_request("invalid_query", format!("{name} is not an id")).into())
    })
    .transpose()
}

/// The org's assistants: its own and those shared with it.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/assistants", tag = "assistants",
    params(OrgPath, AssistantQuery), responses((status = 200, body = PageView<AssistantView>)))]
pub async fn list_assistants(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::AssistantsRead>,
    Query(q): Query<AssistantQuery>,
) -> ApiResult<Json<PageView<AssistantView>>> {
    let filter = AssistantFilter {
        owner: uuid_query::<UserId>(q.owner.as_deref(), "owner")?,
        project: uuid_query::<ProjectId>(q.project.as_deref(), "project")?,
    };
    let p = s.svc.assistants().list(&access, filter, q.page()?).await?;
    Ok(Json(page(p, AssistantView::from)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssistantBody {
    name: String,
    description: Option<String>,
    project_id: Option<Uuid>,
    /// Left out: the org's `default_framework` (derived).
    framework: Option<String>,
    /// Left out: the org's `default_language_model` (derived).
    language_model: Option<String>,
    /// Platform fields (a JSON object of at most 16 KiB), kept as given.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
    /// Admins may make an assistant for another member (default: the caller).
    owner_id: Option<Uuid>,
}

/// Create an assistant (editors and above).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/assistants", tag = "assistants",
    params(OrgPath), request_body = AssistantBody,
    responses((status = 201, body = AssistantView)))]
pub async fn create_assistant(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::AssistantsCreate>,
    Body(b): Body<AssistantBody>,
) -> ApiResult<(StatusCode, Json<AssistantView>)> {
    let input = AssistantInput {
        name: b.name,
        description: b.description,
        project_id: b.project_id.map(ProjectId),
        framework: b.framework,
        language_model: b.language_model,
        metadata: b.metadata,
        owner_id: b.owner_id.map(UserId),
    };
    let a = s.svc.assistants().create(&access, input).await?;
    Ok((StatusCode::CREATED, Json(AssistantView::from(a))))
}

/// One assistant (members of its home org and of orgs it is shared with).
#[utoipa::path(get, path = "/api/v1/assistants/{id}", tag = "assistants",
    params(AssistantPath), responses((status = 200, body = AssistantView)))]
pub async fn get_assistant(
    State(s): State<AppState>,
    AssistantAuth(access): AssistantAuth<perm::AssistantsRead>,
) -> ApiResult<Json<AssistantView>> {
    Ok(Json(s.svc.assistants().get(&access).await?.into()))
}

/// `null` given is `Some(None)`; absent is `None`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssistantPatchBody {
    name: Option<String>,
    description: Option<String>,
    /// `null`: no project.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    project_id: Option<Option<Uuid>>,
    /// A value is explicit; `null` goes back to the org's default (derived).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    framework: Option<Option<String>>,
    /// A value is explicit; `null` goes back to the org's default (derived).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    language_model: Option<Option<String>>,
    /// Replaces the metadata.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

/// Change an assistant (its owner, or an admin of its home org).
#[utoipa::path(patch, path = "/api/v1/assistants/{id}", tag = "assistants",
    params(AssistantPath), request_body = AssistantPatchBody,
    responses((status = 200, body = AssistantView)))]
pub async fn patch_assistant(
    State(s): State<AppState>,
    AssistantAuth(access): AssistantAuth<perm::AssistantsEditOwn>,
    Body(b): Body<AssistantPatchBody>,
) -> ApiResult<Json<AssistantView>> {
    let patch = AssistantPatch {
        name: b.name,
        description: b.description,
        project_id: b.project_id.map(|p| p.map(ProjectId)),
        framework: b.framework,
        language_model: b.language_model,
        metadata: b.metadata,
    };
    Ok(Json(
        s.svc.assistants().update(&access, patch).await?.into(),
    ))
}

/// Delete an assistant (its owner, or an admin of its home org).
#[utoipa::path(delete, path = "/api/v1/assistants/{id}", tag = "assistants",
    params(AssistantPath), responses((status = 204, description = "Deleted")))]
pub async fn delete_assistant(
    State(s): State<AppState>,
    AssistantAuth(access): AssistantAuth<perm::AssistantsEditOwn>,
) -> ApiResult<StatusCode> {
    s.svc.assistants().delete(&access).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Share an assistant with another org: the caller may change the assistant and is an
/// editor or above in that org. Sharing twice changes nothing.
#[utoipa::path(post, path = "/api/v1/assistants/{id}/organizations/{org}", tag = "assistants",
    params(AssistantOrgPath), responses((status = 200, body = AssistantView)))]
pub async fn share_assistant(
    State(s): State<AppState>,
    AssistantAuth(access): AssistantAuth<perm::AssistantsEditOwn>,
    OrgAuth(target): OrgAuth<perm::AssistantsCreate>,
) -> ApiResult<Json<AssistantView>> {
    Ok(Json(
        s.svc.assistants().share(&access, &target).await?.into(),
    ))
}

/// Stop sharing an assistant with an org (never its home): whoever could share it, or
/// an admin of that org. Its members stop seeing it at once.
#[utoipa::path(delete, path = "/api/v1/assistants/{id}/organizations/{org}", tag = "assistants",
    params(AssistantOrgPath), responses((status = 204, description = "Unshared")))]
pub async fn unshare_assistant(
    State(s): State<AppState>,
    AssistantAuth(access): AssistantAuth<perm::AssistantsRead>,
    OrgAuth(target): OrgAuth<perm::AssistantsRead>,
) -> ApiResult<StatusCode> {
    s.svc.assistants().unshare(&access, &target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RederiveBody {
    /// Only report what would change (default `true`).
    dry_run: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldChangeView {
    pub field: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl From<FieldChange> for FieldChangeView {
    fn from(c: FieldChange) -> Self {
        Self {
            field: c.field,
            from: c.from,
            to: c.to,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RederivedView {
    pub id: Uuid,
    pub name: String,
    pub changes: Vec<FieldChangeView>,
}

#[derive(Serialize, ToSchema)]
pub struct RederiveView {
    pub dry_run: bool,
    /// The assistants whose derived fields differ from the org's defaults now.
    pub changed: Vec<RederivedView>,
    pub unchanged: usize,
}

/// Re-apply the org's current defaults to its assistants' fields still marked derived
/// (admins; a dry run first, by default).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/assistants/rederive", tag = "assistants",
    params(OrgPath), request_body = RederiveBody,
    responses((status = 200, body = RederiveView)))]
pub async fn rederive_assistants(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::AssistantsManage>,
    Body(b): Body<RederiveBody>,
) -> ApiResult<Json<RederiveView>> {
    let r = s
        .svc
        .assistants()
        .rederive(&access, b.dry_run.unwrap_or(true))
        .await?;
    Ok(Json(RederiveView {
        dry_run: r.dry_run,
        unchanged: r.unchanged,
        changed: r
            .changed
            .into_iter()
            .map(|(a, changes)| RederivedView {
                id: a.id.0,
                name: a.name,
                changes: changes.into_iter().map(FieldChangeView::from).collect(),
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ResolvedConfigView {
    pub assistant_id: Uuid,
    pub framework: Option<String>,
    pub provider: String,
    /// `organization` or `system` (the server's own, only where allowed).
    pub provider_source: &'static str,
    pub model: Option<String>,
    /// `assistant`, `organization`, `system` or `provider` (its default model).
    pub model_source: Option<&'static str>,
    pub base_url: Option<String>,
    /// Only for callers holding `secrets.read` in the home org (its admins, service keys
    /// with `secrets:read`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    pub has_api_key: bool,
}

impl From<ResolvedConfig> for ResolvedConfigView {
    fn from(r: ResolvedConfig) -> Self {
        Self {
            assistant_id: r.assistant.0,
            framework: r.framework,
            provider: r.provider,
            provider_source: r.provider_source,
            model: r.model,
            model_source: r.model_source,
            base_url: r.base_url,
            api_key: r.api_key,
            has_api_key: r.has_api_key,
        }
    }
}

/// The effective provider configuration: system defaults < home org < assistant.
/// 409 `provider_not_configured` when the org has no provider for it (the server's own
/// providers count only for the system org and where a system admin allowed them).
#[utoipa::path(get, path = "/api/v1/assistants/{id}/resolved-config", tag = "assistants",
    params(AssistantPath), responses((status = 200, body = ResolvedConfigView)))]
pub async fn resolved_config(
    State(s): State<AppState>,
    AssistantAuth(access): AssistantAuth<perm::AssistantsRead>,
) -> ApiResult<Json<ResolvedConfigView>> {
    Ok(Json(
        s.svc.assistants().resolved_config(&access).await?.into(),
    ))
}
