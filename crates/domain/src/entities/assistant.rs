//! Assistants (SPEC §2, §6): they live in a home organization and may be shared with
//! others (M:N). `framework` and `language_model` are a snapshot taken from the home
//! org's defaults, each with its provenance, so a later change of the defaults does not
//! silently change existing assistants (ADR 0017).

use serde_json::Value;

use crate::error::InvalidInput;
use crate::ids::{AssistantId, OrgId, ProjectId, UserId};
use crate::role::FieldSource;
use crate::time::Timestamp;

use super::org::Org;

/// Largest `metadata` accepted, serialized.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Assistant {
    pub id: AssistantId,
    /// The home organization.
    pub org_id: OrgId,
    /// `None`: made by a service key for the org, or its owner's account is gone.
    pub owner_id: Option<UserId>,
    pub project_id: Option<ProjectId>,
    pub name: String,
    pub description: String,
    pub framework: Option<String>,
    pub framework_source: FieldSource,
    pub language_model: Option<String>,
    pub language_model_source: FieldSource,
    /// Platform fields (a LAMB connector, a system prompt, RAG settings), untouched.
    pub metadata: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One field a re-derivation changed (or would change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Assistant {
    /// Sets `framework`: a value is explicit; `None` takes the org's default (derived).
    pub fn set_framework(&mut self, value: Option<String>, home: &Org) {
        match value {
            Some(v) => {
                self.framework = Some(v);
                self.framework_source = FieldSource::Explicit;
            }
            None => {
                self.framework = home.default_framework.clone();
                self.framework_source = FieldSource::Derived;
            }
        }
    }

    /// Sets `language_model` the same way.
    pub fn set_language_model(&mut self, value: Option<String>, home: &Org) {
        match value {
            Some(v) => {
                self.language_model = Some(v);
                self.language_model_source = FieldSource::Explicit;
            }
            None => {
                self.language_model = home.default_language_model.clone();
                self.language_model_source = FieldSource::Derived;
            }
        }
    }

    /// Re-applies the home org's current defaults to the fields still marked derived;
    /// what changed. Explicit fields are never touched.
    pub fn rederive(&mut self, home: &Org) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        if self.framework_source == FieldSource::Derived && self.framework != home.default_framework
        {
            changes.push(FieldChange {
                field: "framework",
                from: self.framework.take(),
                to: home.default_framework.clone(),
            });
            self.framework = home.default_framework.clone();
        }
        if self.language_model_source == FieldSource::Derived
            && self.language_model != home.default_language_model
        {
            changes.push(FieldChange {
                field: "language_model",
                from: self.language_model.take(),
                to: home.default_language_model.clone(),
            });
            self.language_model = home.default_language_model.clone();
        }
        changes
    }
}

/// Metadata is a JSON object of at most [`MAX_METADATA_BYTES`], kept as given.
pub fn parse_metadata(v: Value) -> Result<Value, InvalidInput> {
    if !v.is_object() {
        return Err(InvalidInput::new(
            "invalid_metadata",
            "metadata",
            "metadata must be a JSON object",
        ));
    }
    if crate::config::has_nul(&v) {
        return Err(InvalidInput::new(
            "invalid_metadata",
            "metadata",
            "metadata may not contain NUL characters",
        ));
    }
    if v.to_string().len() > MAX_METADATA_BYTES {
        return Err(InvalidInput::new(
            "metadata_too_large",
            "metadata",
            format!("metadata may be at most {MAX_METADATA_BYTES} bytes"),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::org::tests::org;

    #[test]
    fn rederive_touches_only_derived_fields() {
        let now = Timestamp::from_millis(1_000);
        let mut home = org(now);
        home.default_framework = Some("openwebui".into());
        home.default_language_model = Some("gpt-4o-mini".into());
        let mut a = Assistant {
            id: AssistantId::new(now),
            org_id: home.id,
            owner_id: None,
            project_id: None,
            name: "Tutor".into(),
            description: String::new(),
            framework: None,
            framework_source: FieldSource::Derived,
            language_model: None,
            language_model_source: FieldSource::Derived,
            metadata: serde_json::json!({}),
            created_at: now,
            updated_at: now,
        };
        a.set_framework(None, &home);
        a.set_language_model(Some("llama3.1".into()), &home);
        assert_eq!(a.framework.as_deref(), Some("openwebui"));
        home.default_framework = Some("lamb".into());
        home.default_language_model = Some("gpt-4.1".into());
        let changes = a.rederive(&home);
        assert_eq!(
            changes,
            vec![FieldChange {
                field: "framework",
                from: Some("openwebui".into()),
                to: Some("lamb".into())
            }]
        );
        assert_eq!(a.language_model.as_deref(), Some("llama3.1"));
        assert!(a.rederive(&home).is_empty());
    }

    #[test]
    fn metadata_is_an_object_of_bounded_size() {
        assert!(parse_metadata(serde_json::json!({"system_prompt": "hi"})).is_ok());
        assert_eq!(
            parse_metadata(serde_json::json!([1])).unwrap_err().code,
            "invalid_metadata"
        );
        let big = "x".repeat(MAX_METADATA_BYTES);
        assert_eq!(
            parse_metadata(serde_json::json!({"p": big}))
                .unwrap_err()
                .code,
            "metadata_too_large"
        );
    }
}
