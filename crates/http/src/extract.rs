//! Extractors: the request's parts parsed into what handlers need, with every
//! rejection turned into a problem document.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use orgbase_domain::entities::PageRequest;
use orgbase_domain::{AssistantId, ProjectId, WorkspaceId};
use orgbase_service::authz::Perm;
use orgbase_service::{
    Actor, AssistantAccess, CheckAuthority, Error, OrgAccess, OrgRef, Origin, ScopeAccess,
    ScopePath, SystemAdmin,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::AppState;
use crate::middleware::{ClientAddr, RequestId};
use crate::problem::Problem;

/// A JSON body. Bad JSON, wrong types, unknown fields and oversized bodies are 4xx.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rej) => Err(match rej {
                JsonRejection::JsonDataError(e) => {
                    Error::bad_request("invalid_body", e.body_text()).into()
                }
                JsonRejection::JsonSyntaxError(_) => {
                    Error::bad_request("invalid_json", "the body is not valid JSON").into()
                }
                JsonRejection::MissingJsonContentType(_) => Problem::unsupported_media_type(),
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    Problem::payload_too_large()
                }
                other => Error::bad_request("invalid_body", other.body_text()).into(),
            }),
        }
    }
}

/// Reads a raw body of at most `limit` bytes. A larger one is still read on, up to
/// `limit` more bytes (at most 4 MiB more), before the 413 is answered: a client that is
/// still sending then reads the problem document instead of finding the connection
/// closed under it.
pub async fn body_bytes(
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, Problem> {
    let slack = limit.saturating_add(limit.min(4 * 1024 * 1024));
    let bytes = axum::body::to_bytes(body, slack)
        .await
        .map_err(|_| Problem::payload_too_large())?;
    if bytes.len() > limit {
        return Err(Problem::payload_too_large());
    }
    Ok(bytes)
}

/// Where the request came from.
pub fn origin(parts: &Parts) -> Origin {
    let client_addr = parts
        .extensions
        .get::<ClientAddr>()
        .map(|c| c.0)
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .map(|ip| ip.to_string());
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map(|r| r.as_str().to_string());
    Origin {
        client_addr,
        request_id,
    }
}

fn bearer(parts: &Parts) -> Result<&str, Problem> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or(Problem::from(Error::Unauthenticated))
}

/// The named path parameters of a request.
async fn path_params(
    parts: &mut Parts,
    state: &AppState,
) -> Result<axum::extract::RawPathParams, Problem> {
    axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| Error::not_found("not_found", "route").into())
}

fn param<'a>(params: &'a axum::extract::RawPathParams, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn org_param(params: &axum::extract::RawPathParams) -> OrgRef {
    param(params, "org").map_or(OrgRef::Invalid, OrgRef::parse)
}

/// An id path parameter. One that does not parse names nothing: it becomes the nil
/// id, which no row has, so it is "not found" once the caller is authenticated (a
/// malformed id must not answer 404 before a missing token answers 401).
fn id_param<T: From<Uuid>>(params: &axum::extract::RawPathParams, name: &str) -> Option<T> {
    param(params, name).map(|raw| T::from(Uuid::parse_str(raw).unwrap_or(Uuid::nil())))
}

/// Proof that the caller holds `P` in the org named by the `{org}` path parameter:
/// the hot path of org-scoped routes (one query for a session).
pub struct OrgAuth<P>(pub OrgAccess<P>);

impl<P: Perm + Send + Sync + 'static> FromRequestParts<AppState> for OrgAuth<P> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.to_string();
        let org = org_param(&path_params(parts, state).await?);
        let access = state
            .svc
            .authz()
            .org::<P>(&token, &org, origin(parts))
            .await?;
        Ok(OrgAuth(access))
    }
}

/// Proof that the caller holds `P` at the scope the path names: `{org}`, optionally
/// `{ws}` and `{project}` below it, each checked to belong to the one above.
pub struct ScopeAuth<P>(pub ScopeAccess<P>);

impl<P: Perm + Send + Sync + 'static> FromRequestParts<AppState> for ScopeAuth<P> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.to_string();
        let params = path_params(parts, state).await?;
        let org = org_param(&params);
        let path = ScopePath {
            workspace: id_param::<WorkspaceId>(&params, "ws"),
            project: id_param::<ProjectId>(&params, "project"),
        };
        let access = state
            .svc
            .authz()
            .scope::<P>(&token, &org, path, origin(parts))
            .await?;
        Ok(ScopeAuth(access))
    }
}

/// Proof about the assistant named by the `{id}` path parameter (see
/// `AssistantAccess`): `AssistantsRead` to see it, `AssistantsEditOwn` to change it.
pub struct AssistantAuth<P>(pub AssistantAccess<P>);

impl<P: Perm + Send + Sync + 'static> FromRequestParts<AppState> for AssistantAuth<P> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.to_string();
        let params = path_params(parts, state).await?;
        let id = id_param::<AssistantId>(&params, "id")
            .ok_or_else(|| Problem::from(Error::not_found("assistant_not_found", "assistant")))?;
        let access = state
            .svc
            .authz()
            .assistant::<P>(&token, id, origin(parts))
            .await?;
        Ok(AssistantAuth(access))
    }
}

/// Proof that the caller is a system admin.
pub struct AdminAuth(pub SystemAdmin);

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let admin = state.svc.authz().system_admin(token, origin(parts)).await?;
        Ok(AdminAuth(admin))
    }
}

/// Someone who may ask permission checks: a system admin, or a service key with the
/// `check` scope (about its own org).
pub struct CheckAuth(pub CheckAuthority);

impl FromRequestParts<AppState> for CheckAuth {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let by = state.svc.authz().checker(token, origin(parts)).await?;
        Ok(CheckAuth(by))
    }
}

/// The authenticated caller. Missing, malformed, unknown or expired credentials and
/// disabled accounts are all 401.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let actor = state.svc.authz().authenticate(token, origin(parts)).await?;
        Ok(Auth(actor))
    }
}

/// Request metadata for unauthenticated use cases (signup, login).
pub struct ClientOrigin(pub Origin);

impl<S: Send + Sync> FromRequestParts<S> for ClientOrigin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientOrigin(origin(parts)))
    }
}

/// Paging parameters of a list: `?limit=&cursor=`.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// The page asked for; a bad limit or cursor is a 400 problem.
fn page_request(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, Problem> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(Error::bad_request(
                    "invalid_limit",
                    format!("limit must be 1 to {MAX_LIMIT}"),
                )
                .into());
            }
        },
    };
    let after = match cursor {
        None => None,
        Some(c) => Some(Uuid::parse_str(c).map_err(|_| {
            Error::bad_request("invalid_cursor", "cursor is not one this server gave out")
        })?),
    };
    Ok(PageRequest { after, limit })
}

/// Declares a list's query struct: the paging parameters plus the list's own filters.
/// `limit` is kept as text so that a bad one gets this server's own problem document.
macro_rules! list_query {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Items per page (1 to 200, default 50).
            #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
            pub limit: Option<String>,
            /// `next_cursor` of the previous page.
            pub cursor: Option<String>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            pub fn page(&self) -> Result<PageRequest, Problem> {
                page_request(self.limit.as_deref(), self.cursor.as_deref())
            }
        }
    };
}

list_query!(
    /// `?limit=&cursor=`.
    PageQuery {}
);
list_query!(
    /// An org's audit log: paging and an action filter.
    AuditQuery {
        /// Only events of this action, e.g. `org.create`.
        #[param(value_type = Option<crate::views::AuditActionName>)]
        action: Option<String>,
    }
);
list_query!(
    /// The global audit log: paging, an org filter and an action filter.
    AdminAuditQuery {
        /// Only events of this organization (its id).
        #[param(value_type = Option<uuid::Uuid>)]
        org: Option<String>,
        /// Only events of this action, e.g. `org.create`.
        #[param(value_type = Option<crate::views::AuditActionName>)]
        action: Option<String>,
    }
);
list_query!(
    /// All organizations: paging, and whether to include deleted ones.
    AdminOrgsQuery {
        /// Include soft-deleted organizations.
        include_deleted: Option<bool>,
        /// Only organizations whose slug or name contains this text.
        q: Option<String>,
    }
);
list_query!(
    /// Members of a scope: paging and a search.
    MemberQuery {
        /// Only members whose e-mail or name contains this text.
        q: Option<String>,
    }
);
list_query!(
    /// All users: paging and a search.
    AdminUsersQuery {
        /// Only users whose e-mail or name contains this text.
        q: Option<String>,
    }
);
list_query!(
    /// An org's assistants: paging, and filters by owner and project.
    AssistantQuery {
        /// Only assistants this user owns.
        #[param(value_type = Option<uuid::Uuid>)]
        owner: Option<String>,
        /// Only assistants of this project.
        #[param(value_type = Option<uuid::Uuid>)]
        project: Option<String>,
    }
);
list_query!(
    /// Invitations: paging and a status filter.
    InvitationQuery {
        /// Only invitations in this state.
        #[param(value_type = Option<crate::views::InvitationStatusName>)]
        status: Option<String>,
    }
);

/// The query of a list without paging or filters: any parameter is refused (400
/// `invalid_query`) rather than ignored.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// Query strings, with bad ones as a 400 problem.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| Error::bad_request("invalid_query", e.body_text()).into())
    }
}
