//! Assistants (SPEC §2, §3, §6): made in a home org by its editors, changed by their
//! owner or the org's admins, shared with other orgs (M:N), re-derived from the org's
//! defaults on request, and resolved into the provider settings a platform calls.

use orgbase_domain::config::{Layer, resolve};
use orgbase_domain::entities::assistant::parse_metadata;
use orgbase_domain::{
    Assistant, AssistantId, AuditAction, Description, FieldChange, FieldSource, Name, OrgId, Page,
    PageRequest, ProjectId, Scope, UserId, parse_label,
};
use orgbase_store::AssistantFilter;
use serde_json::{Value, json};

use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::Event;
use crate::shared::authz::{AssistantAccess, OrgAccess, perm};
use crate::shared::provision::limits_of;
use crate::shared::secrets::{config_context, stored_config};

/// A new assistant. `framework` / `language_model` left out take the org's defaults
/// (derived); given, they are explicit.
#[derive(Debug, Clone, Default)]
pub struct AssistantInput {
    pub name: String,
    pub description: Option<String>,
    pub project_id: Option<ProjectId>,
    pub framework: Option<String>,
    pub language_model: Option<String>,
    pub metadata: Option<Value>,
    /// Admins (and service keys) may make one for another member.
    pub owner_id: Option<UserId>,
}

/// A change. For the nullable fields, `Some(None)` clears: `framework` and
/// `language_model` go back to the org's default (derived), `project_id` to none.
#[derive(Debug, Clone, Default)]
pub struct AssistantPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub project_id: Option<Option<ProjectId>>,
    pub framework: Option<Option<String>>,
    pub language_model: Option<Option<String>>,
    pub metadata: Option<Value>,
}

/// An assistant with the orgs it belongs to (home first), for callers who may change
/// it; others see only the assistant.
pub struct AssistantDetail {
    pub assistant: Assistant,
    pub organizations: Option<Vec<OrgId>>,
}

pub struct RederiveReport {
    pub dry_run: bool,
    pub changed: Vec<(Assistant, Vec<FieldChange>)>,
    pub unchanged: usize,
}

/// What a platform needs to call the model for an assistant.
pub struct ResolvedConfig {
    pub assistant: AssistantId,
    pub framework: Option<String>,
    pub provider: String,
    pub provider_source: &'static str,
    pub model: Option<String>,
    pub model_source: Option<&'static str>,
    pub base_url: Option<String>,
    /// Only for callers holding `secrets.read` in the home org.
    pub api_key: Option<String>,
    /// Whether a key exists (shown to everyone; the key itself is not).
    pub has_api_key: bool,
}

pub struct Assistants<'a>(pub(crate) &'a Core);

impl Assistants<'_> {
    pub async fn create(
        &self,
        access: &OrgAccess<perm::AssistantsCreate>,
        input: AssistantInput,
    ) -> Result<Assistant> {
        let core = self.0;
        let org_id = access.org().id;
        let name = Name::parse(&input.name, "name")?;
        let description =
            Description::parse(input.description.as_deref().unwrap_or(""), "description")?;
        let framework = input
            .framework
            .map(|f| parse_label(&f, "framework"))
            .transpose()?;
        let model = input
            .language_model
            .map(|m| parse_label(&m, "language_model"))
            .transpose()?;
        let metadata = parse_metadata(input.metadata.unwrap_or_else(|| json!({})))
            .map_err(Error::unprocessable)?;
        let owner = match input.owner_id {
            Some(owner) if Some(owner) != access.caller().user_id() => {
                access.require::<perm::AssistantsManage>()?;
                let member = core.store.membership(Scope::Org(org_id), owner).await?;
                if !member.is_some_and(|m| m.is_active()) {
                    return Err(Error::Unprocessable {
                        code: "owner_not_member",
                        message: "the owner must be a member of the organization".into(),
                    });
                }
                Some(owner)
            }
            Some(owner) => Some(owner),
            None => access.caller().user_id(),
        };
        if let Some(p) = input.project_id {
            self.project_of(org_id, p).await?;
        }
        let now = core.clock.now();
        let mut change = core.change(access.audit()).await?;
        // Under the org's lock: the limits hold under concurrent creations, and the
        // defaults snapshotted are the current ones.
        let home = change
            .lock_org(org_id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let limits = limits_of(&home);
        if let Some(max) = limits.max_assistants {
            let n = u64::try_from(change.count_assistants(org_id).await?).unwrap_or(0);
            if n >= max {
                return Err(Error::conflict(
                    "limit_exceeded",
                    format!("max_assistants: the organization has {n} of {max} assistants"),
                ));
            }
        }
        if let (Some(max), Some(owner)) = (limits.max_assistants_per_user, owner) {
            let n = u64::try_from(change.count_assistants_owned(org_id, owner).await?).unwrap_or(0);
            if n >= max {
                return Err(Error::conflict(
                    "limit_exceeded",
                    format!("max_assistants_per_user: this user owns {n} of {max} assistants"),
                ));
            }
        }
        let mut a = Assistant {
            id: AssistantId::new(now),
            org_id,
            owner_id: owner,
            project_id: input.project_id,
            name: name.as_str().to_string(),
            description: description.as_str().to_string(),
            framework: None,
            framework_source: FieldSource::Derived,
            language_model: None,
            language_model_source: FieldSource::Derived,
            metadata,
            created_at: now,
            updated_at: now,
        };
        a.set_framework(framework, &home);
        a.set_language_model(model, &home);
        change.insert_assistant(&a).await?;
        change
            .record(
                Event::new(AuditAction::AssistantCreate, "assistant", a.id)
                    .org(org_id)
                    .details(json!({
                        "name": a.name,
                        "owner_id": a.owner_id,
                        "framework": a.framework,
                        "framework_source": a.framework_source,
                        "language_model": a.language_model,
                        "language_model_source": a.language_model_source,
                    })),
            )
            .await?;
        change.commit().await?;
        Ok(a)
    }

    pub async fn list(
        &self,
        access: &OrgAccess<perm::AssistantsRead>,
        filter: AssistantFilter,
        page: PageRequest,
    ) -> Result<Page<Assistant>> {
        Ok(self
            .0
            .store
            .assistants_in(access.org().id, filter, page)
            .await?)
    }

    pub async fn get(
        &self,
        access: &AssistantAccess<perm::AssistantsRead>,
    ) -> Result<AssistantDetail> {
        self.detail(access.assistant().clone(), access.may_edit())
            .await
    }

    async fn detail(&self, assistant: Assistant, full: bool) -> Result<AssistantDetail> {
        let organizations = if full {
            Some(self.0.store.assistant_orgs(assistant.id).await?)
        } else {
            None
        };
        Ok(AssistantDetail {
            assistant,
            organizations,
        })
    }

    pub async fn update(
        &self,
        access: &AssistantAccess<perm::AssistantsEditOwn>,
        patch: AssistantPatch,
    ) -> Result<AssistantDetail> {
        let core = self.0;
        let home = access.home();
        let mut a = access.assistant().clone();
        let mut fields = Vec::new();
        if let Some(n) = &patch.name {
            a.name = Name::parse(n, "name")?.as_str().to_string();
            fields.push("name");
        }
        if let Some(d) = &patch.description {
            a.description = Description::parse(d, "description")?.as_str().to_string();
            fields.push("description");
        }
        if let Some(p) = patch.project_id {
            if let Some(p) = p {
                self.project_of(home.id, p).await?;
            }
            a.project_id = p;
            fields.push("project_id");
        }
        if let Some(f) = patch.framework {
            let f = f.map(|f| parse_label(&f, "framework")).transpose()?;
            a.set_framework(f, home);
            fields.push("framework");
        }
        if let Some(m) = patch.language_model {
            let m = m.map(|m| parse_label(&m, "language_model")).transpose()?;
            a.set_language_model(m, home);
            fields.push("language_model");
        }
        if let Some(md) = patch.metadata {
            a.metadata = parse_metadata(md).map_err(Error::unprocessable)?;
            fields.push("metadata");
        }
        if fields.is_empty() {
            return self.detail(a, true).await;
        }
        a.updated_at = core.clock.now();
        let mut change = core.change(access.audit()).await?;
        change.update_assistant(&a).await?;
        change
            .record(
                Event::new(AuditAction::AssistantUpdate, "assistant", a.id)
                    .org(a.org_id)
                    .details(json!({"fields": fields})),
            )
            .await?;
        change.commit().await?;
        self.detail(a, true).await
    }

    pub async fn delete(&self, access: &AssistantAccess<perm::AssistantsEditOwn>) -> Result<()> {
        let a = access.assistant();
        let mut change = self.0.change(access.audit()).await?;
        if !change.delete_assistant(a.id).await? {
            return Err(Error::not_found("assistant_not_found", "assistant"));
        }
        change
            .record(
                Event::new(AuditAction::AssistantDelete, "assistant", a.id)
                    .org(a.org_id)
                    .details(json!({"name": a.name})),
            )
            .await?;
        change.commit().await
    }

    /// Shares with `target`: the caller may change the assistant and holds
    /// `assistants.create` (editor or above) in the target org. Sharing twice is a
    /// no-op.
    pub async fn share(
        &self,
        access: &AssistantAccess<perm::AssistantsEditOwn>,
        target: &OrgAccess<perm::AssistantsCreate>,
    ) -> Result<AssistantDetail> {
        let a = access.assistant();
        let to = target.org().id;
        if to == a.org_id {
            return Err(Error::conflict(
                "home_org",
                "the assistant already belongs to its home organization",
            ));
        }
        if access.home().config["features"]["sharing_enabled"] == Value::Bool(false) {
            return Err(Error::forbidden(
                "sharing_disabled",
                "the assistant's organization has sharing turned off",
            ));
        }
        let now = self.0.clock.now();
        let mut change = self.0.change(access.audit()).await?;
        if change
            .share_assistant(a.id, to, access.caller().user_id(), now)
            .await?
        {
            for org in [a.org_id, to] {
                change
                    .record(
                        Event::new(AuditAction::AssistantShare, "assistant", a.id)
                            .org(org)
                            .details(json!({"home": a.org_id, "shared_with": to})),
                    )
                    .await?;
            }
            change.commit().await?;
        }
        self.detail(a.clone(), true).await
    }

    /// Unshares from `target` (never the home org): someone who may change the
    /// assistant and is editor or above in the target, or an admin of the target.
    /// Effective at once: its members no longer see it.
    pub async fn unshare(
        &self,
        access: &AssistantAccess<perm::AssistantsRead>,
        target: &OrgAccess<perm::AssistantsRead>,
    ) -> Result<()> {
        let a = access.assistant();
        let from = target.org().id;
        if from == a.org_id {
            return Err(Error::conflict(
                "home_org_protected",
                "an assistant cannot be removed from its home organization",
            ));
        }
        let sharer = access.may_edit() && target.require::<perm::AssistantsCreate>().is_ok();
        if !sharer {
            target.require::<perm::AssistantsManage>()?;
        }
        let mut change = self.0.change(access.audit()).await?;
        if !change.unshare_assistant(a.id, from).await? {
            return Err(Error::not_found("assistant_not_shared", "share"));
        }
        for org in [a.org_id, from] {
            change
                .record(
                    Event::new(AuditAction::AssistantUnshare, "assistant", a.id)
                        .org(org)
                        .details(json!({"home": a.org_id, "unshared_from": from})),
                )
                .await?;
        }
        change.commit().await
    }

    /// Re-applies the org's current defaults to its assistants' fields still marked
    /// derived; a dry run only reports.
    pub async fn rederive(
        &self,
        access: &OrgAccess<perm::AssistantsManage>,
        dry_run: bool,
    ) -> Result<RederiveReport> {
        let core = self.0;
        let now = core.clock.now();
        let mut change = core.change(access.audit()).await?;
        let home = change
            .lock_org(access.org().id)
            .await?
            .ok_or_else(Error::org_not_found)?;
        let all = change.assistants_homed_in(home.id).await?;
        let total = all.len();
        let mut changed = Vec::new();
        for mut a in all {
            let changes = a.rederive(&home);
            if !changes.is_empty() {
                a.updated_at = now;
                changed.push((a, changes));
            }
        }
        let report = RederiveReport {
            dry_run,
            unchanged: total - changed.len(),
            changed,
        };
        if dry_run {
            return Ok(report);
        }
        for (a, _) in &report.changed {
            change.update_assistant(a).await?;
        }
        let ids: Vec<AssistantId> = report.changed.iter().map(|(a, _)| a.id).collect();
        change
            .record(
                Event::new(AuditAction::AssistantRederive, "org", home.id)
                    .org(home.id)
                    .details(json!({
                        "changed": ids,
                        "framework": home.default_framework,
                        "language_model": home.default_language_model,
                    })),
            )
            .await?;
        change.commit().await?;
        Ok(report)
    }

    /// System defaults < home org < assistant (SPEC §6). The server's own providers
    /// count only for the system org and orgs a system admin let inherit them; without
    /// a provider: 409 `provider_not_configured`.
    pub async fn resolved_config(
        &self,
        access: &AssistantAccess<perm::AssistantsRead>,
    ) -> Result<ResolvedConfig> {
        let core = self.0;
        let home = access.home();
        let a = access.assistant();
        let org_config = stored_config(&home.config)?;
        let system_org = if home.is_system {
            None
        } else if org_config.inherit_system_providers {
            core.store.system_org().await?
        } else {
            None
        };
        let system_config = system_org
            .as_ref()
            .map(|o| stored_config(&o.config))
            .transpose()?;
        let model = match (&a.language_model, a.language_model_source) {
            (Some(m), FieldSource::Explicit) => Some((m.as_str(), Layer::Assistant)),
            (Some(m), FieldSource::Derived) => Some((m.as_str(), Layer::Organization)),
            (None, _) => match (&home.default_language_model, &system_org) {
                (Some(m), _) => Some((m.as_str(), Layer::Organization)),
                (None, Some(s)) => s
                    .default_language_model
                    .as_deref()
                    .map(|m| (m, Layer::System)),
                (None, None) => None,
            },
        };
        let r = resolve(model, &org_config, system_config.as_ref()).ok_or_else(|| {
            Error::conflict(
                "provider_not_configured",
                match model {
                    Some((m, _)) => format!(
                        "no provider of the organization serves the model '{m}'; configure one in its configuration"
                    ),
                    None => "the organization has no language-model provider configured".into(),
                },
            )
        })?;
        let has_api_key = r.api_key.is_some();
        // The server's own key goes to system admins only (and to the system org's
        // holders of secrets.read): an org allowed to use the server's providers uses
        // them through the platform, it does not get the operator's key.
        let may_read = match r.api_key.as_ref().map(|(_, l)| *l) {
            Some(Layer::System) => access.caller().is_system_admin(),
            _ => access.may_read_secrets(),
        };
        let api_key = match (&r.api_key, may_read) {
            (Some((sealed, layer)), true) => {
                let org = match (layer, &system_org) {
                    (Layer::System, Some(s)) => s.id,
                    _ => home.id,
                };
                let path = format!("providers.{}.api_key", r.provider);
                Some(core.secrets.open_for(&config_context(org, &path), sealed)?)
            }
            _ => None,
        };
        Ok(ResolvedConfig {
            assistant: a.id,
            framework: a.framework.clone(),
            provider: r.provider,
            provider_source: r.provider_layer.as_str(),
            model: r.model,
            model_source: r.model_layer.map(Layer::as_str),
            base_url: r.base_url,
            api_key,
            has_api_key,
        })
    }

    async fn project_of(&self, org: OrgId, p: ProjectId) -> Result<()> {
        match self.0.store.project(p).await? {
            Some(pr) if pr.org_id == org => Ok(()),
            _ => Err(Error::not_found("project_not_found", "project")),
        }
    }
}
