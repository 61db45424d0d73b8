//! Export and import of an organization (SPEC §6 "Import and export", ADR 0018).
//!
//! An org exports to one JSON document ([`OrgDocument`], format [`EXPORT_VERSION`])
//! without ids or times: its metadata and signup settings, its configuration, its
//! claimed domains, its workspaces and projects, its members by e-mail and role at each
//! scope, and the assistants whose home it is (owners by e-mail, projects by name;
//! sharing with other orgs is a relation between orgs and stays out). Secrets are left
//! out unless the owner (or the operator at the console) asks for them; then they are
//! in the clear, opened from their sealed form.
//!
//! A system admin (or the operator) imports a document in one change, idempotently by
//! slug: a new slug creates the org, a known one is brought to match the document.
//! Importing adds and updates; it never removes what the document does not name
//! (members, workspaces, projects, domains), and an import that would change nothing
//! writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use orgbase_domain::config::{OrgConfig, is_masked};
use orgbase_domain::email::{is_public_email_domain, is_valid_domain};
use orgbase_domain::entities::assistant::parse_metadata;
use orgbase_domain::text::parse_signup_key;
use orgbase_domain::{
    Assistant, AssistantId, AuditAction, Description, DomainStatus, Email, FieldSource,
    InvalidInput, Member, Membership, Name, Org, OrgDomain, OrgId, PageRequest, Project, ProjectId,
    Role, Scope, Slug, User, UserId, Workspace, WorkspaceId, parse_label,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{AuditCtx, Change, Event};
use crate::shared::authz::sealed::Sealed as _;
use crate::shared::authz::{Operator, OrgAccess, OrgRef, Platform, perm};
use crate::shared::crypto::random_hex;
use crate::shared::provision::NewOrgInput;
use crate::shared::secrets::{config_context, is_sealed, stored_config};

/// The document format this server writes and reads.
pub const EXPORT_VERSION: u64 = 1;
/// Most members (at org scope) a document may hold.
pub const MAX_EXPORT_MEMBERS: usize = 10_000;
/// Most workspaces, and most projects in all, a document may hold.
pub const MAX_EXPORT_WORKSPACES: usize = 1_000;
pub const MAX_EXPORT_PROJECTS: usize = 10_000;
/// Longest secret accepted (as for the configuration).
const MAX_SECRET_LEN: usize = 4096;
/// Rows read per page while exporting.
const PAGE: u32 = 200;

/// One organization as a document: no ids, no times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgDocument {
    /// The format; this server reads and writes [`EXPORT_VERSION`].
    pub version: u64,
    /// Whether the secrets (config `api_key` fields, the signup key) are in it.
    #[serde(default)]
    pub secrets_included: bool,
    pub org: OrgMeta,
    /// The configuration (SPEC §6); secrets in the clear or left out.
    #[serde(default = "empty_object")]
    pub config: Value,
    #[serde(default)]
    pub domains: Vec<DomainEntry>,
    #[serde(default)]
    pub workspaces: Vec<WorkspaceEntry>,
    /// Org-scope members; exactly one is the owner.
    #[serde(default)]
    pub members: Vec<MemberEntry>,
    /// The assistants whose home is the org, by name.
    #[serde(default)]
    pub assistants: Vec<AssistantEntry>,
}

/// An assistant, without ids or times. Matched on import by name (the n-th of a name
/// in the document with the n-th of that name in the org, oldest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistantEntry {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The owner's e-mail: a member of the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// `derived` (the default) or `explicit` (ADR 0017).
    #[serde(default = "derived")]
    pub framework_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_model: Option<String>,
    #[serde(default = "derived")]
    pub language_model_source: String,
    #[serde(default = "empty_object")]
    pub metadata: Value,
}

/// A project by its workspace's name and its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectRef {
    pub workspace: String,
    pub project: String,
}

fn derived() -> String {
    FieldSource::Derived.as_str().to_string()
}

struct PlannedAssistant {
    name: String,
    description: String,
    owner: Option<Email>,
    /// Indexes into the plan's workspaces and that workspace's projects.
    project: Option<(usize, usize)>,
    framework: Option<String>,
    framework_source: FieldSource,
    language_model: Option<String>,
    language_model_source: FieldSource,
    metadata: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

fn viewer() -> String {
    Role::Viewer.as_str().to_string()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgMeta {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_framework: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_language_model: Option<String>,
    #[serde(default)]
    pub signup: SignupEntry,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupEntry {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "viewer")]
    pub default_role: String,
    /// Only with secrets: the key lets people join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Default for SignupEntry {
    fn default() -> Self {
        Self {
            enabled: false,
            default_role: viewer(),
            key: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainEntry {
    pub domain: String,
    #[serde(default = "yes")]
    pub auto_join: bool,
    #[serde(default = "viewer")]
    pub role: String,
    /// `pending` or `verified` where it was exported from; see [`ImportOptions`].
    #[serde(default = "pending")]
    pub status: String,
}

fn pending() -> String {
    DomainStatus::Pending.as_str().to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceEntry {
    pub name: String,
    #[serde(default)]
    pub members: Vec<ScopedMember>,
    #[serde(default)]
    pub projects: Vec<ProjectEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectEntry {
    pub name: String,
    #[serde(default)]
    pub members: Vec<ScopedMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    pub email: String,
    /// The account's display name: used only when the import creates the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: String,
}

/// A member of a workspace or project (who must also be an org member).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopedMember {
    pub email: String,
    pub role: String,
}

/// How an import treats what it cannot check itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Domains marked `verified` in the document are verified here too: the importing
    /// system admin vouches for them, as when approving a claim. Without it they are
    /// imported pending (listed in [`ImportSummary::domains_pending`]).
    pub verify_domains: bool,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub org_id: OrgId,
    pub slug: String,
    /// The org was created by this import.
    pub created: bool,
    /// Anything was written (false: the org matched the document already).
    pub changed: bool,
    /// Accounts made for members without one: no password, address unproven.
    pub accounts_created: Vec<String>,
    /// Domains the document says are verified that stay pending here.
    pub domains_pending: Vec<String>,
}

/// Exporting and importing organizations.
pub struct Portability<'a>(pub(crate) &'a Core);

fn unprocessable(code: &'static str, message: impl Into<String>) -> Error {
    Error::Unprocessable {
        code,
        message: message.into(),
    }
}

/// A refusal of a value at a place in the document.
fn at(place: impl std::fmt::Display) -> impl FnOnce(InvalidInput) -> Error {
    move |e| unprocessable(e.code, format!("{place}: {}", e.message))
}

// ---- the document, checked ----

struct PlannedDomain {
    domain: String,
    auto_join: bool,
    role: Role,
    verified: bool,
}

struct PlannedWorkspace {
    name: String,
    members: Vec<(Email, Role)>,
    projects: Vec<(String, Vec<(Email, Role)>)>,
}

/// A document that passed every check: what the import writes.
struct Plan {
    slug: Slug,
    name: String,
    description: String,
    public: bool,
    framework: Option<String>,
    model: Option<String>,
    signup_enabled: bool,
    signup_role: Role,
    signup_key: Option<String>,
    /// Secrets in the clear.
    config: OrgConfig,
    domains: Vec<PlannedDomain>,
    members: Vec<(Email, Name, Role)>,
    owner: Email,
    workspaces: Vec<PlannedWorkspace>,
    assistants: Vec<PlannedAssistant>,
}

/// The version, then the shape, then every value.
fn plan(doc: Value, core: &Core) -> Result<Plan> {
    let Some(obj) = doc.as_object() else {
        return Err(unprocessable(
            "invalid_export",
            "an export document is a JSON object",
        ));
    };
    match obj.get("version") {
        Some(v) if v.as_u64() == Some(EXPORT_VERSION) => {}
        Some(v) => {
            return Err(unprocessable(
                "unsupported_export_version",
                format!("this server reads export version {EXPORT_VERSION}, not {v}"),
            ));
        }
        None => {
            return Err(unprocessable(
                "unsupported_export_version",
                format!(
                    "the document names no version; this server reads version {EXPORT_VERSION}"
                ),
            ));
        }
    }
    let d: OrgDocument =
        serde_json::from_value(doc).map_err(|e| unprocessable("invalid_export", e.to_string()))?;

    let m = &d.org;
    let slug = Slug::parse(&m.slug).map_err(at("org.slug"))?;
    let name = Name::parse(&m.name, "name").map_err(at("org.name"))?;
    let description =
        Description::parse(&m.description, "description").map_err(at("org.description"))?;
    let framework = m
        .default_framework
        .as_deref()
        .map(|f| parse_label(f, "default_framework"))
        .transpose()
        .map_err(at("org.default_framework"))?;
    let model = m
        .default_language_model
        .as_deref()
        .map(|f| parse_label(f, "default_language_model"))
        .transpose()
        .map_err(at("org.default_language_model"))?;
    let signup_role =
        Role::parse_grantable(&m.signup.default_role).map_err(at("org.signup.default_role"))?;
    let signup_key = m
        .signup
        .key
        .as_deref()
        .map(parse_signup_key)
        .transpose()
        .map_err(at("org.signup.key"))?;

    let config = plan_config(&d.config)?;

    if d.domains.len() > core.cfg.max_domains_per_org {
        return Err(unprocessable(
            "too_many_domains",
            format!(
                "an organization may claim at most {} domains",
                core.cfg.max_domains_per_org
            ),
        ));
    }
    let mut domains = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, e) in d.domains.iter().enumerate() {
        let place = format!("domains[{i}]");
        let domain = e.domain.trim().trim_start_matches('@').to_lowercase();
        if !is_valid_domain(&domain) {
            return Err(unprocessable(
                "invalid_domain",
                format!("{place}.domain: give a domain such as aarhus.dk"),
            ));
        }
        if is_public_email_domain(&domain) || core.cfg.public_email_domains.matches(&domain) {
            return Err(unprocessable(
                "public_email_domain",
                format!("{place}.domain: a public mail provider's domain cannot be claimed"),
            ));
        }
        if !seen.insert(domain.clone()) {
            return Err(unprocessable(
                "duplicate_entry",
                format!("{place}.domain: {domain} is listed twice"),
            ));
        }
        let role = Role::parse_grantable(&e.role).map_err(at(format!("{place}.role")))?;
        let status: DomainStatus = e.status.parse().map_err(at(format!("{place}.status")))?;
        domains.push(PlannedDomain {
            domain,
            auto_join: e.auto_join,
            role,
            verified: status == DomainStatus::Verified,
        });
    }

    if d.members.len() > MAX_EXPORT_MEMBERS {
        return Err(unprocessable(
            "export_too_large",
            format!("at most {MAX_EXPORT_MEMBERS} members"),
        ));
    }
    let mut members = Vec::new();
    let mut owners = Vec::new();
    let mut emails = BTreeSet::new();
    for (i, e) in d.members.iter().enumerate() {
        let place = format!("members[{i}]");
        let email = Email::parse(&e.email).map_err(at(format!("{place}.email")))?;
        if !emails.insert(email.as_str().to_string()) {
            return Err(unprocessable(
                "duplicate_entry",
                format!("{place}.email: {email} is listed twice"),
            ));
        }
        let role: Role = e.role.parse().map_err(at(format!("{place}.role")))?;
        if role == Role::Owner {
            owners.push(email.clone());
        }
        let shown = e
            .name
            .clone()
            .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("").to_string());
        let name = Name::parse(&shown, "name").map_err(at(format!("{place}.name")))?;
        members.push((email, name, role));
    }
    let owner = match owners.as_slice() {
        [one] => one.clone(),
        _ => {
            return Err(unprocessable(
                "owner_required",
                format!(
                    "members: exactly one member is the owner ({} are)",
                    owners.len()
                ),
            ));
        }
    };

    if d.workspaces.len() > MAX_EXPORT_WORKSPACES {
        return Err(unprocessable(
            "export_too_large",
            format!("at most {MAX_EXPORT_WORKSPACES} workspaces"),
        ));
    }
    let scoped = |list: &[ScopedMember], place: &str| -> Result<Vec<(Email, Role)>> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, e) in list.iter().enumerate() {
            let place = format!("{place}.members[{i}]");
            let email = Email::parse(&e.email).map_err(at(format!("{place}.email")))?;
            if !emails.contains(email.as_str()) {
                return Err(unprocessable(
                    "not_an_org_member",
                    format!("{place}: {email} is not among the organization's members"),
                ));
            }
            if !seen.insert(email.as_str().to_string()) {
                return Err(unprocessable(
                    "duplicate_entry",
                    format!("{place}.email: {email} is listed twice"),
                ));
            }
            let role = Role::parse_grantable(&e.role).map_err(at(format!("{place}.role")))?;
            out.push((email, role));
        }
        Ok(out)
    };
    let mut workspaces = Vec::new();
    let mut ws_names = BTreeSet::new();
    let mut project_count = 0;
    for (i, w) in d.workspaces.iter().enumerate() {
        let place = format!("workspaces[{i}]");
        let name = Name::parse(&w.name, "name").map_err(at(format!("{place}.name")))?;
        if !ws_names.insert(name.as_str().to_string()) {
            return Err(unprocessable(
                "duplicate_entry",
                format!("{place}.name: {} is listed twice", name.as_str()),
            ));
        }
        let members = scoped(&w.members, &place)?;
        let mut projects = Vec::new();
        let mut p_names = BTreeSet::new();
        for (j, p) in w.projects.iter().enumerate() {
            let place = format!("{place}.projects[{j}]");
            let pname = Name::parse(&p.name, "name").map_err(at(format!("{place}.name")))?;
            if !p_names.insert(pname.as_str().to_string()) {
                return Err(unprocessable(
                    "duplicate_entry",
                    format!("{place}.name: {} is listed twice", pname.as_str()),
                ));
            }
            projects.push((pname.as_str().to_string(), scoped(&p.members, &place)?));
        }
        project_count += projects.len();
        if project_count > MAX_EXPORT_PROJECTS {
            return Err(unprocessable(
                "export_too_large",
                format!("at most {MAX_EXPORT_PROJECTS} projects"),
            ));
        }
        workspaces.push(PlannedWorkspace {
            name: name.as_str().to_string(),
            members,
            projects,
        });
    }

    let mut assistants = Vec::new();
    for (i, a) in d.assistants.iter().enumerate() {
        let place = format!("assistants[{i}]");
        let aname = Name::parse(&a.name, "name").map_err(at(format!("{place}.name")))?;
        let adesc = Description::parse(&a.description, "description")
            .map_err(at(format!("{place}.description")))?;
        let owner = match &a.owner {
            Some(o) => {
                let email = Email::parse(o).map_err(at(format!("{place}.owner")))?;
                if !emails.contains(email.as_str()) {
                    return Err(unprocessable(
                        "not_an_org_member",
                        format!("{place}.owner: {email} is not among the members"),
                    ));
                }
                Some(email)
            }
            None => None,
        };
        let project = match &a.project {
            Some(r) => {
                let found = workspaces.iter().enumerate().find_map(|(wi, w)| {
                    (w.name == r.workspace)
                        .then(|| w.projects.iter().position(|(p, _)| *p == r.project))
                        .flatten()
                        .map(|pi| (wi, pi))
                });
                Some(found.ok_or_else(|| {
                    unprocessable(
                        "unknown_project",
                        format!(
                            "{place}.project: no project {} in a workspace {} of the document",
                            r.project, r.workspace
                        ),
                    )
                })?)
            }
            None => None,
        };
        let label = |v: &Option<String>, f: &'static str| -> Result<Option<String>> {
            v.as_deref()
                .map(|x| parse_label(x, f).map_err(at(format!("{place}.{f}"))))
                .transpose()
        };
        let source = |v: &str, f: &str| -> Result<FieldSource> {
            v.parse().map_err(|_| {
                unprocessable(
                    "invalid_export",
                    format!("{place}.{f}: derived or explicit"),
                )
            })
        };
        let metadata = parse_metadata(a.metadata.clone())
            .map_err(|e| unprocessable(e.code, format!("{place}.metadata: {}", e.message)))?;
        assistants.push(PlannedAssistant {
            name: aname.as_str().to_string(),
            description: adesc.as_str().to_string(),
            owner,
            project,
            framework: label(&a.framework, "framework")?,
            framework_source: source(&a.framework_source, "framework_source")?,
            language_model: label(&a.language_model, "language_model")?,
            language_model_source: source(&a.language_model_source, "language_model_source")?,
            metadata,
        });
    }

    Ok(Plan {
        assistants,
        slug,
        name: name.as_str().to_string(),
        description: description.as_str().to_string(),
        public: m.public,
        framework,
        model,
        signup_enabled: m.signup.enabled,
        signup_role,
        signup_key,
        config,
        domains,
        members,
        owner,
        workspaces,
    })
}

/// The configuration with its secrets in the clear: validated like any configuration;
/// a mask or a sealed value is refused (it cannot be opened here).
fn plan_config(raw: &Value) -> Result<OrgConfig> {
    if raw.is_null() || raw.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(OrgConfig::default());
    }
    let mut config = OrgConfig::parse(raw).map_err(at("config"))?;
    for (path, slot) in config.secrets_mut() {
        if let Some(v) = slot.as_deref() {
            if is_masked(v) || is_sealed(v) {
                return Err(unprocessable(
                    "masked_secret",
                    format!(
                        "config.{path} holds a mask or a sealed value, not a secret; export with include_secrets=true, or leave it out"
                    ),
                ));
            }
            if v.is_empty() || v.len() > MAX_SECRET_LEN {
                return Err(unprocessable(
                    "invalid_config",
                    format!("config.{path} must be 1 to {MAX_SECRET_LEN} characters"),
                ));
            }
        }
    }
    Ok(config)
}

// ---- reading every row of a kind ----

async fn all_members(change: &Change<'_>, scope: Scope) -> Result<Vec<Member>> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(PAGE);
    loop {
        let p = change.members(scope, page).await?;
        out.extend(p.items.into_iter().filter(|m| m.membership.is_active()));
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => return Ok(out),
        }
    }
}

async fn all_workspaces(change: &Change<'_>, org: OrgId) -> Result<Vec<Workspace>> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(PAGE);
    loop {
        let p = change.workspaces(org, page).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => return Ok(out),
        }
    }
}

async fn all_projects(change: &Change<'_>, ws: WorkspaceId) -> Result<Vec<Project>> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(PAGE);
    loop {
        let p = change.projects(ws, page).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => return Ok(out),
        }
    }
}

fn scoped_entries(mut members: Vec<Member>) -> Vec<ScopedMember> {
    members.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
    members
        .into_iter()
        .map(|m| ScopedMember {
            email: m.email.as_str().to_string(),
            role: m.membership.role.as_str().to_string(),
        })
        .collect()
}

/// Makes `user` an active member of `scope` with `role`; false when they were already.
async fn set_member(
    change: &mut Change<'_>,
    scope: Scope,
    org: OrgId,
    user: UserId,
    role: Role,
    now: orgbase_domain::Timestamp,
) -> Result<bool> {
    let current = change.membership(scope, user).await?;
    if current
        .as_ref()
        .is_some_and(|m| m.is_active() && m.role == role)
    {
        return Ok(false);
    }
    let mut m = Membership::active(scope, org, user, role, None, now);
    if let Some(old) = current {
        m.joined_at = old.joined_at;
        m.invited_by = old.invited_by;
    }
    change.upsert_membership(&m).await?;
    Ok(true)
}

impl Portability<'_> {
    /// The org as a document (admins). Secrets only for its owner: anyone else asking
    /// for them gets 403 `export_secrets_owner_only`.
    pub async fn export(
        &self,
        access: &OrgAccess<perm::OrgExport>,
        include_secrets: bool,
    ) -> Result<OrgDocument> {
        let is_owner = access.caller().user().is_some() && access.role() == Some(Role::Owner);
        if include_secrets && !is_owner {
            return Err(Error::forbidden(
                "export_secrets_owner_only",
                "only the organization's owner may export its secrets",
            ));
        }
        self.export_org(access.audit(), access.org().id, include_secrets)
            .await
    }

    /// The org as a document, for the operator at the console (secrets when asked).
    pub async fn export_as(
        &self,
        by: &Operator,
        org: &OrgRef,
        include_secrets: bool,
    ) -> Result<OrgDocument> {
        let org = self
            .0
            .find_org(org)
            .await?
            .ok_or_else(Error::org_not_found)?;
        self.export_org(by.audit(), org.id, include_secrets).await
    }

    async fn export_org(
        &self,
        ctx: AuditCtx,
        org_id: OrgId,
        include_secrets: bool,
    ) -> Result<OrgDocument> {
        let core = self.0;
        let mut change = core.change(ctx).await?;
        let org = change
            .org_by_id(org_id)
            .await?
            .ok_or_else(Error::org_not_found)?;

        let mut config = stored_config(&org.config)?;
        for (path, slot) in config.secrets_mut() {
            *slot = match (include_secrets, slot.take()) {
                (true, Some(sealed)) => Some(
                    core.secrets
                        .open_for(&config_context(org.id, &path), &sealed)?,
                ),
                _ => None,
            };
        }

        let mut domains: Vec<DomainEntry> = change
            .domains_of(org.id)
            .await?
            .into_iter()
            .map(|d| DomainEntry {
                domain: d.domain,
                auto_join: d.auto_join,
                role: d.role.as_str().to_string(),
                status: d.status.as_str().to_string(),
            })
            .collect();
        domains.sort_by(|a, b| a.domain.cmp(&b.domain));

        let mut members: Vec<MemberEntry> = all_members(&change, Scope::Org(org.id))
            .await?
            .into_iter()
            .map(|m| MemberEntry {
                email: m.email.as_str().to_string(),
                name: Some(m.name),
                role: m.membership.role.as_str().to_string(),
            })
            .collect();
        members.sort_by(|a, b| a.email.cmp(&b.email));

        let mut workspaces = Vec::new();
        for ws in all_workspaces(&change, org.id).await? {
            let mut projects = Vec::new();
            for p in all_projects(&change, ws.id).await? {
                projects.push(ProjectEntry {
                    members: scoped_entries(all_members(&change, Scope::Project(p.id)).await?),
                    name: p.name,
                });
            }
            projects.sort_by(|a, b| a.name.cmp(&b.name));
            workspaces.push(WorkspaceEntry {
                members: scoped_entries(all_members(&change, Scope::Workspace(ws.id)).await?),
                name: ws.name,
                projects,
            });
        }
        workspaces.sort_by(|a, b| a.name.cmp(&b.name));

        let mut places: BTreeMap<ProjectId, ProjectRef> = BTreeMap::new();
        for ws in all_workspaces(&change, org.id).await? {
            for p in all_projects(&change, ws.id).await? {
                places.insert(
                    p.id,
                    ProjectRef {
                        workspace: ws.name.clone(),
                        project: p.name,
                    },
                );
            }
        }
        let mut assistants = Vec::new();
        for a in change.assistants_homed_in(org.id).await? {
            let owner = match a.owner_id {
                Some(u) => change
                    .user_by_id(u)
                    .await?
                    .map(|u| u.email.as_str().to_string()),
                None => None,
            };
            assistants.push(AssistantEntry {
                name: a.name,
                description: a.description,
                owner,
                project: a.project_id.and_then(|p| places.get(&p).cloned()),
                framework: a.framework,
                framework_source: a.framework_source.as_str().to_string(),
                language_model: a.language_model,
                language_model_source: a.language_model_source.as_str().to_string(),
                metadata: a.metadata,
            });
        }
        // By name; the sort is stable, so assistants of one name keep their age order,
        // which is how an import matches them.
        assistants.sort_by(|a, b| a.name.cmp(&b.name));

        let doc = OrgDocument {
            version: EXPORT_VERSION,
            secrets_included: include_secrets,
            org: OrgMeta {
                slug: org.slug.as_str().to_string(),
                name: org.name.clone(),
                description: org.description.clone(),
                public: org.public,
                default_framework: org.default_framework.clone(),
                default_language_model: org.default_language_model.clone(),
                signup: SignupEntry {
                    enabled: org.signup_enabled,
                    default_role: org.signup_role.as_str().to_string(),
                    key: org.signup_key.clone().filter(|_| include_secrets),
                },
            },
            config: config.to_value(),
            domains,
            workspaces,
            members,
            assistants,
        };
        change
            .record(
                Event::new(AuditAction::OrgExport, "org", org.id)
                    .org(org.id)
                    .details(json!({"include_secrets": include_secrets})),
            )
            .await?;
        change.commit().await?;
        Ok(doc)
    }

    /// Creates or updates the org the document names by slug, in one change (system
    /// admins and the operator). Refuses unknown versions (422
    /// `unsupported_export_version`) and any bad value (4xx, nothing written).
    pub async fn import(
        &self,
        by: &impl Platform,
        doc: Value,
        opts: ImportOptions,
    ) -> Result<ImportSummary> {
        let plan = plan(doc, self.0)?;
        self.import_plan(by.audit(), plan, opts).await
    }

    async fn import_plan(
        &self,
        ctx: AuditCtx,
        plan: Plan,
        opts: ImportOptions,
    ) -> Result<ImportSummary> {
        let core = self.0;
        let now = core.clock.now();
        let mut change = core.change(ctx).await?;
        let mut changed: Vec<&'static str> = Vec::new();

        // Accounts: matched by e-mail; made, without a password, when missing.
        let mut ids: BTreeMap<String, UserId> = BTreeMap::new();
        let mut created_accounts: Vec<(UserId, String)> = Vec::new();
        for (email, name, _) in &plan.members {
            let id = match change.user_by_email(email).await? {
                Some(u) => u.id,
                None => {
                    let u = User::new(UserId::new(now), email.clone(), name.clone(), false, now);
                    if !change.insert_user(&u, None).await? {
                        return Err(Error::conflict(
                            "email_taken",
                            format!("an account with the e-mail {email} appeared meanwhile"),
                        ));
                    }
                    created_accounts.push((u.id, email.as_str().to_string()));
                    u.id
                }
            };
            ids.insert(email.as_str().to_string(), id);
        }
        let user_of = |email: &Email| -> Result<UserId> {
            ids.get(email.as_str())
                .copied()
                .ok_or_else(|| Error::Internal("an import member without an account".into()))
        };
        let owner = user_of(&plan.owner)?;

        // The org: found by slug, or created with its default tree and its owner.
        let existing = change.org_by_slug(&plan.slug).await?;
        let (mut org, created) = match existing {
            Some(o) if o.is_deleted() => {
                return Err(Error::conflict(
                    "org_deleted",
                    format!(
                        "the organization '{}' is deleted; restore or purge it first",
                        o.slug
                    ),
                ));
            }
            Some(o) => (
                change
                    .lock_org(o.id)
                    .await?
                    .ok_or_else(Error::org_not_found)?,
                false,
            ),
            None => {
                let input = NewOrgInput {
                    name: plan.name.clone(),
                    slug: Some(plan.slug.as_str().to_string()),
                    description: Some(plan.description.clone()),
                    default_framework: plan.framework.clone(),
                    default_language_model: plan.model.clone(),
                    public: Some(plan.public),
                };
                let org = core
                    .create_org_in(&mut change, Some(owner), input, false)
                    .await?;
                (org, true)
            }
        };
        let before = org.clone();
        let previous_owner = org.owner_id.filter(|o| *o != owner);

        org.name = plan.name.clone();
        org.description = plan.description.clone();
        org.public = plan.public;
        org.default_framework = plan.framework.clone();
        org.default_language_model = plan.model.clone();
        org.owner_id = Some(owner);
        org.signup_enabled = plan.signup_enabled;
        org.signup_role = plan.signup_role;
        if let Some(k) = &plan.signup_key {
            if org.signup_key.as_deref() != Some(k.as_str()) {
                if change
                    .org_by_signup_key(k)
                    .await?
                    .is_some_and(|other| other.id != org.id)
                {
                    return Err(Error::conflict(
                        "signup_key_taken",
                        "org.signup.key: another organization uses this signup key",
                    ));
                }
                org.signup_key = Some(k.clone());
            }
        } else if org.signup_enabled && org.signup_key.is_none() {
            org.signup_key = Some(random_hex(16)?);
        }
        org.config = self.merged_config(&org, plan.config.clone())?;
        if org != before {
            org.updated_at = now;
            change.update_org(&org).await?;
            changed.push("org");
        }

        // Domains: added pending; verified only when the importer vouches for them.
        let current = change.domains_of(org.id).await?;
        let mut claims = current.len();
        let mut domains_pending = Vec::new();
        for d in &plan.domains {
            let known = current.iter().find(|c| c.domain == d.domain);
            let verified_here = match known {
                Some(c) => {
                    if c.auto_join != d.auto_join || c.role != d.role {
                        change
                            .update_domain(org.id, &d.domain, d.auto_join, d.role)
                            .await?;
                        changed.push("domains");
                    }
                    c.is_verified()
                }
                None => {
                    if claims >= core.cfg.max_domains_per_org {
                        return Err(Error::conflict(
                            "too_many_domains",
                            format!(
                                "an organization may claim at most {} domains",
                                core.cfg.max_domains_per_org
                            ),
                        ));
                    }
                    let claim = OrgDomain {
                        domain: d.domain.clone(),
                        org_id: org.id,
                        auto_join: d.auto_join,
                        role: d.role,
                        status: DomainStatus::Pending,
                        token: random_hex(16)?,
                        created_at: now,
                        verified_at: None,
                    };
                    change.insert_domain(&claim).await?;
                    claims += 1;
                    changed.push("domains");
                    false
                }
            };
            if d.verified && !verified_here {
                if opts.verify_domains {
                    let done = change
                        .verify_domain(org.id, &d.domain, now)
                        .await
                        .map_err(|e| match e {
                            orgbase_store::StoreError::Conflict(_) => Error::conflict(
                                "domain_taken",
                                format!("another organization has proven the domain {}", d.domain),
                            ),
                            other => other.into(),
                        })?;
                    if done {
                        changed.push("domains");
                    }
                } else {
                    domains_pending.push(d.domain.clone());
                }
            }
        }

        // Workspaces and projects, matched by name.
        let mut ws_ids: Vec<(WorkspaceId, Vec<ProjectId>)> = Vec::new();
        let known_ws = all_workspaces(&change, org.id).await?;
        for w in &plan.workspaces {
            let (ws_id, known_projects) = match known_ws.iter().find(|k| k.name == w.name) {
                Some(k) => (k.id, all_projects(&change, k.id).await?),
                None => {
                    let ws = Workspace {
                        id: WorkspaceId::new(now),
                        org_id: org.id,
                        name: w.name.clone(),
                        is_default: false,
                        created_at: now,
                        updated_at: now,
                    };
                    if !change.insert_workspace(&ws).await? {
                        return Err(Error::conflict(
                            "name_taken",
                            format!("a workspace named {} appeared meanwhile", w.name),
                        ));
                    }
                    changed.push("workspaces");
                    (ws.id, Vec::new())
                }
            };
            let mut project_ids = Vec::new();
            for (name, _) in &w.projects {
                let id = match known_projects.iter().find(|p| &p.name == name) {
                    Some(p) => p.id,
                    None => {
                        let p = Project {
                            id: ProjectId::new(now),
                            org_id: org.id,
                            workspace_id: ws_id,
                            name: name.clone(),
                            is_default: false,
                            created_at: now,
                            updated_at: now,
                        };
                        if !change.insert_project(&p).await? {
                            return Err(Error::conflict(
                                "name_taken",
                                format!("a project named {name} appeared meanwhile"),
                            ));
                        }
                        changed.push("projects");
                        p.id
                    }
                };
                project_ids.push(id);
            }
            ws_ids.push((ws_id, project_ids));
        }

        // Memberships: each listed member gets the listed role; nobody is removed. A
        // previous owner the document does not list stays, as admin.
        for (email, _, role) in &plan.members {
            let user = user_of(email)?;
            let is_member = change
                .membership(Scope::Org(org.id), user)
                .await?
                .is_some_and(|m| m.is_active());
            if !is_member {
                core.admit_member(&mut change, &org, user).await?;
            }
            if set_member(&mut change, Scope::Org(org.id), org.id, user, *role, now).await? {
                changed.push("members");
            }
        }
        if let Some(old) = previous_owner
            && !plan
                .members
                .iter()
                .any(|(e, _, _)| ids.get(e.as_str()) == Some(&old))
            && set_member(
                &mut change,
                Scope::Org(org.id),
                org.id,
                old,
                Role::Admin,
                now,
            )
            .await?
        {
            changed.push("members");
        }
        for (w, (ws_id, project_ids)) in plan.workspaces.iter().zip(&ws_ids) {
            for (email, role) in &w.members {
                let user = user_of(email)?;
                if set_member(
                    &mut change,
                    Scope::Workspace(*ws_id),
                    org.id,
                    user,
                    *role,
                    now,
                )
                .await?
                {
                    changed.push("members");
                }
            }
            for ((_, members), project) in w.projects.iter().zip(project_ids) {
                for (email, role) in members {
                    let user = user_of(email)?;
                    if set_member(
                        &mut change,
                        Scope::Project(*project),
                        org.id,
                        user,
                        *role,
                        now,
                    )
                    .await?
                    {
                        changed.push("members");
                    }
                }
            }
        }

        // Assistants, matched by name (the n-th of a name with the n-th, oldest first).
        let mut existing: BTreeMap<String, Vec<Assistant>> = BTreeMap::new();
        for a in change.assistants_homed_in(org.id).await? {
            existing.entry(a.name.clone()).or_default().push(a);
        }
        let mut taken: BTreeMap<String, usize> = BTreeMap::new();
        for pa in &plan.assistants {
            let owner_id = pa.owner.as_ref().map(&user_of).transpose()?;
            let project_id = pa
                .project
                .and_then(|(wi, pi)| ws_ids.get(wi).and_then(|(_, ps)| ps.get(pi).copied()));
            let n = taken.entry(pa.name.clone()).or_default();
            let found = existing.get(&pa.name).and_then(|v| v.get(*n)).cloned();
            *n += 1;
            let mut a = found.clone().unwrap_or_else(|| Assistant {
                id: AssistantId::new(now),
                org_id: org.id,
                owner_id: None,
                project_id: None,
                name: pa.name.clone(),
                description: String::new(),
                framework: None,
                framework_source: FieldSource::Derived,
                language_model: None,
                language_model_source: FieldSource::Derived,
                metadata: json!({}),
                created_at: now,
                updated_at: now,
            });
            a.owner_id = owner_id;
            a.project_id = project_id;
            a.description.clone_from(&pa.description);
            a.framework.clone_from(&pa.framework);
            a.framework_source = pa.framework_source;
            a.language_model.clone_from(&pa.language_model);
            a.language_model_source = pa.language_model_source;
            a.metadata = pa.metadata.clone();
            match found {
                None => {
                    change.insert_assistant(&a).await?;
                    changed.push("assistants");
                }
                Some(before) if before != a => {
                    a.updated_at = now;
                    change.update_assistant(&a).await?;
                    changed.push("assistants");
                }
                Some(_) => {}
            }
        }

        for (id, _) in &created_accounts {
            change.set_home_org(*id, Some(org.id), now).await?;
        }
        if !created_accounts.is_empty() {
            changed.push("accounts");
        }

        let mut summary = ImportSummary {
            org_id: org.id,
            slug: org.slug.as_str().to_string(),
            created,
            changed: created || !changed.is_empty(),
            accounts_created: created_accounts.into_iter().map(|(_, e)| e).collect(),
            domains_pending,
        };
        if !summary.changed {
            // Nothing to write: the transaction ends unused.
            return Ok(summary);
        }
        changed.sort_unstable();
        changed.dedup();
        let details = json!({
            "slug": summary.slug,
            "created": created,
            "changed": changed,
            "accounts_created": summary.accounts_created.len(),
            "domains_pending": summary.domains_pending,
            "verify_domains": opts.verify_domains,
        });
        change
            .record(
                Event::new(AuditAction::OrgImport, "org", org.id)
                    .org(org.id)
                    .details(details),
            )
            .await?;
        change.commit().await?;
        summary.accounts_created.sort();
        Ok(summary)
    }

    /// The document's configuration as stored for `org`: each secret sealed for this
    /// org and place; a secret equal to the stored one keeps its sealed value (so
    /// importing again changes nothing); a secret the document leaves out keeps the
    /// stored one at the same place.
    fn merged_config(&self, org: &Org, mut next: OrgConfig) -> Result<Value> {
        let core = self.0;
        let mut stored = stored_config(&org.config)?;
        let old: BTreeMap<String, Option<String>> = stored
            .secrets_mut()
            .into_iter()
            .map(|(p, s)| (p, s.clone()))
            .collect();
        for (path, slot) in next.secrets_mut() {
            let before = old.get(&path).cloned().flatten();
            let ctx = config_context(org.id, &path);
            *slot = match slot.take() {
                Some(plain) => {
                    let same = before.as_deref().is_some_and(|sealed| {
                        core.secrets
                            .open_for(&ctx, sealed)
                            .is_ok_and(|p| p == plain)
                    });
                    match before {
                        Some(sealed) if same => Some(sealed),
                        _ => Some(core.secrets.seal_for(&ctx, &plain)?),
                    }
                }
                None => before,
            };
        }
        Ok(next.to_value())
    }
}
