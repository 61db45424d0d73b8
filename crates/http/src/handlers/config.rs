//! An organization's configuration document (admins). The schema types below describe
//! the document for the OpenAPI document; the rules live in the domain
//! (`orgbase_domain::config`), and a test keeps the two key lists equal.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use orgbase_service::perm;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Body, OrgAuth};
use crate::paths::OrgPath;
use crate::problem::ApiResult;

/// One language-model provider. `api_key` is write-only in effect: reads show a mask
/// (`sk-…abcd`), and writing the mask back keeps the stored key.
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderDoc {
    api_key: Option<String>,
    /// An http:// or https:// URL.
    base_url: Option<String>,
    models: Option<Vec<String>>,
    /// One of `models`, when those are given.
    default_model: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBaseDoc {
    url: Option<String>,
    api_key: Option<String>,
    embedding_model: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturesDoc {
    rag_enabled: Option<bool>,
    sharing_enabled: Option<bool>,
}

/// `null` or absent: no limit.
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsDoc {
    max_members: Option<u64>,
    max_assistants: Option<u64>,
    max_assistants_per_user: Option<u64>,
    tokens_per_month: Option<u64>,
    requests_per_minute: Option<u64>,
}

/// An organization's configuration (SPEC §6). Unknown keys are refused; `extensions`
/// is free-form.
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigDocument {
    /// By provider name (a-z, 0-9, `_`, `-`).
    providers: Option<BTreeMap<String, ProviderDoc>>,
    knowledge_base: Option<KnowledgeBaseDoc>,
    features: Option<FeaturesDoc>,
    limits: Option<LimitsDoc>,
    /// Whether the org may use the server's own providers; only system admins change it.
    inherit_system_providers: Option<bool>,
    #[schema(value_type = Option<Object>)]
    extensions: Option<Value>,
}

/// The organization's configuration, secrets masked (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/config", tag = "config", params(OrgPath),
    responses((status = 200, body = ConfigDocument)))]
pub async fn get_config(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::ConfigManage>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.svc.configuration().get(&access).await?))
}

/// Replace the configuration; a masked secret sent back keeps the stored one.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/config", tag = "config", params(OrgPath),
    request_body = ConfigDocument, responses((status = 200, body = ConfigDocument)))]
pub async fn put_config(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::ConfigManage>,
    Body(doc): Body<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.svc.configuration().put(&access, doc).await?))
}

/// Change the configuration with a JSON merge patch (RFC 7396): `null` removes a key.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/config", tag = "config", params(OrgPath),
    request_body(content = Object, description = "A JSON merge patch of the configuration"),
    responses((status = 200, body = ConfigDocument)))]
pub async fn patch_config(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::ConfigManage>,
    Body(patch): Body<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.svc.configuration().patch(&access, patch).await?))
}

/// Use of one limit.
#[derive(serde::Serialize, ToSchema)]
pub struct UsedView {
    pub used: u64,
    /// `null`: no limit.
    pub limit: Option<u64>,
}

/// What the organization uses against the limits of its configuration.
#[derive(serde::Serialize, ToSchema)]
pub struct UsageView {
    pub members: UsedView,
    /// Assistants whose home is the organization.
    pub assistants: UsedView,
    /// The most assistants one member may own in the organization (`null`: no limit).
    pub max_assistants_per_user: Option<u64>,
}

/// Use against each limit (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/usage", tag = "config", params(OrgPath),
    responses((status = 200, body = UsageView)))]
pub async fn get_usage(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::ConfigManage>,
) -> ApiResult<Json<UsageView>> {
    let u = s.svc.configuration().usage(&access).await?;
    Ok(Json(UsageView {
        members: UsedView {
            used: u.members,
            limit: u.max_members,
        },
        assistants: UsedView {
            used: u.assistants,
            limit: u.max_assistants,
        },
        max_assistants_per_user: u.max_assistants_per_user,
    }))
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::ConfigDocument;

    /// The documented keys are the keys the domain accepts.
    #[test]
    fn the_schema_names_the_domain_keys() {
        let schema = serde_json::to_value(ConfigDocument::schema()).unwrap_or_default();
        let mut documented: Vec<String> = schema["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        documented.sort();
        let mut keys: Vec<String> = orgbase_domain::config::TOP_LEVEL_KEYS
            .iter()
            .map(|k| (*k).to_string())
            .collect();
        keys.sort();
        assert_eq!(documented, keys);
        assert_eq!(schema["additionalProperties"], false);
    }
}
