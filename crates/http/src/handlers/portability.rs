//! Exporting an organization to one JSON document, and importing one (ADR 0018). The
//! schema types below describe the document for the OpenAPI document; the rules live
//! in the service (`orgbase_service::OrgDocument` and the import's checks).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use orgbase_service::{ImportOptions, OrgDocument, perm};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{AdminAuth, OrgAuth, Query};
use crate::handlers::config::ConfigDocument;
use crate::paths::OrgPath;
use crate::problem::{ApiResult, Problem};
use crate::views::{DomainStatusName, GrantableRoleName, RoleName};

/// Largest document `POST /orgs/import` takes (its own limit: ten thousand members fit).
pub const IMPORT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The signup settings of an exported organization.
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSignup {
    enabled: Option<bool>,
    #[schema(value_type = Option<GrantableRoleName>)]
    default_role: Option<String>,
    /// Only in documents exported with secrets.
    key: Option<String>,
}

/// The organization's own fields.
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportOrg {
    slug: String,
    name: String,
    description: Option<String>,
    public: Option<bool>,
    default_framework: Option<String>,
    default_language_model: Option<String>,
    signup: Option<ExportSignup>,
}

/// A claimed e-mail domain.
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportDomain {
    domain: String,
    auto_join: Option<bool>,
    #[schema(value_type = Option<GrantableRoleName>)]
    role: Option<String>,
    /// Where it was exported from. Imported pending unless `verify_domains=true`.
    #[schema(value_type = Option<DomainStatusName>)]
    status: Option<String>,
}

/// A member of the organization (exactly one is its owner).
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportMember {
    email: String,
    /// The account's name: used only when the import creates the account.
    name: Option<String>,
    #[schema(value_type = RoleName)]
    role: String,
}

/// A member of a workspace or project, who is also a member of the organization.
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportScopedMember {
    email: String,
    #[schema(value_type = GrantableRoleName)]
    role: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportProject {
    name: String,
    members: Option<Vec<ExportScopedMember>>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportWorkspace {
    name: String,
    members: Option<Vec<ExportScopedMember>>,
    projects: Option<Vec<ExportProject>>,
}

/// An organization as one document, without ids or times (format version 1).
#[derive(ToSchema)]
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportDocument {
    /// The format version: 1.
    #[schema(minimum = 1, maximum = 1)]
    version: u64,
    /// Whether secrets (config `api_key` fields, the signup key) are in the document.
    secrets_included: Option<bool>,
    org: ExportOrg,
    /// Secrets in the clear when exported with them; left out otherwise.
    config: Option<ConfigDocument>,
    domains: Option<Vec<ExportDomain>>,
    workspaces: Option<Vec<ExportWorkspace>>,
    members: Option<Vec<ExportMember>>,
    /// Reserved for assistants: empty for now, ignored on import.
    #[schema(value_type = Option<Vec<Object>>)]
    assistants: Option<Vec<Value>>,
}

/// `?include_secrets=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Put the secrets in, in the clear (the organization's owner only).
    include_secrets: Option<bool>,
}

/// Export the organization as one document (admins). Secrets are left out unless the
/// owner asks for them with `include_secrets=true` (anyone else: 403
/// `export_secrets_owner_only`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/export", tag = "orgs",
    params(OrgPath, ExportQuery), responses((status = 200, body = ExportDocument)))]
pub async fn export_org(
    State(s): State<AppState>,
    OrgAuth(access): OrgAuth<perm::OrgExport>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Json<OrgDocument>> {
    let doc = s
        .svc
        .portability()
        .export(&access, q.include_secrets.unwrap_or(false))
        .await?;
    Ok(Json(doc))
}

/// `?verify_domains=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Verify here the domains the document says are verified (you vouch for them, as
    /// when approving a claim). Default: they are imported pending.
    verify_domains: Option<bool>,
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct OrgImportView {
    #[schema(value_type = uuid::Uuid)]
    pub org_id: orgbase_domain::OrgId,
    pub slug: String,
    /// The organization was created by this import.
    pub created: bool,
    /// Anything was written (false: it matched the document already).
    pub changed: bool,
    /// Accounts made for members who had none: no password, address unproven.
    pub accounts_created: Vec<String>,
    /// Domains marked verified in the document that are pending here.
    pub domains_pending: Vec<String>,
}

/// Import an organization from an export document (system admins): creates it, or
/// brings the organization with its slug to match the document, in one transaction.
/// Nothing the document does not name is removed. Members are matched by e-mail;
/// members without an account get one with no password. An unknown `version` is 422
/// `unsupported_export_version`. At most 4 MiB.
#[utoipa::path(post, path = "/api/v1/orgs/import", tag = "orgs", params(ImportQuery),
    request_body = ExportDocument,
    responses((status = 200, body = OrgImportView,
        description = "Created, updated, or already matching (see `created` and `changed`)")))]
pub async fn import_org(
    State(s): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<OrgImportView>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Problem::unsupported_media_type());
    }
    let bytes = crate::extract::body_bytes(body, IMPORT_BODY_LIMIT).await?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| {
        Problem::from(orgbase_service::Error::bad_request(
            "invalid_json",
            "the body is not valid JSON",
        ))
    })?;
    let opts = ImportOptions {
        verify_domains: q.verify_domains.unwrap_or(false),
    };
    let r = s.svc.portability().import(&admin, doc, opts).await?;
    Ok(Json(OrgImportView {
        org_id: r.org_id,
        slug: r.slug,
        created: r.created,
        changed: r.changed,
        accounts_created: r.accounts_created,
        domains_pending: r.domains_pending,
    }))
}
