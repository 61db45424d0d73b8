//! An organization's configuration document (SPEC §6): its language-model providers,
//! knowledge base, features, limits and free-form extensions. Parsed, not validated:
//! a [`OrgConfig`] exists only when every key is known and every value well-formed.
//!
//! Secret fields (`api_key`) hold whatever the layer above puts there: the service
//! stores them sealed and shows them masked; this module only says where they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::InvalidInput;

/// The top-level keys; anything else is refused, naming the key.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "providers",
    "knowledge_base",
    "features",
    "limits",
    "inherit_system_providers",
    "extensions",
];

/// Largest document accepted, serialized (extensions included).
pub const MAX_CONFIG_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge_base: Option<KnowledgeBase>,
    #[serde(default, skip_serializing_if = "Features::is_empty")]
    pub features: Features,
    #[serde(default, skip_serializing_if = "Limits::is_empty")]
    pub limits: Limits,
    /// Whether the org may use the server's own providers (set by system admins only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherit_system_providers: bool,
    /// Free-form, for platforms.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBase {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_model: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rag_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing_enabled: Option<bool>,
}

impl Features {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `null` or absent: no limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_assistants: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_assistants_per_user: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_month: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u64>,
}

impl Limits {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Where a secret lives in the document, as the path that names it (`providers.openai.
/// api_key`): the same string binds its sealing to the org and the place.
pub type SecretPath = String;

fn bad(field: &'static str, message: String) -> InvalidInput {
    InvalidInput::new("invalid_config", field, message)
}

fn check_url(path: &str, url: &str) -> Result<(), InvalidInput> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    if url.len() > 2048
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
        || host.is_none_or(|h| h.is_empty() || h.starts_with(':'))
    {
        return Err(bad(
            "config",
            format!("{path} must be an http:// or https:// URL"),
        ));
    }
    Ok(())
}

fn check_name(path: &str, name: &str) -> Result<(), InvalidInput> {
    if name.is_empty()
        || name.chars().count() > 200
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(
            "config",
            format!("{path} must be 1 to 200 characters without spaces"),
        ));
    }
    Ok(())
}

impl OrgConfig {
    /// Parses a document: an object of known keys with well-formed values. Unknown
    /// keys are named in the refusal.
    pub fn parse(doc: &Value) -> Result<Self, InvalidInput> {
        let Some(obj) = doc.as_object() else {
            return Err(bad("config", "the configuration is a JSON object".into()));
        };
        if let Some(k) = obj.keys().find(|k| !TOP_LEVEL_KEYS.contains(&k.as_str())) {
            return Err(InvalidInput::new(
                "unknown_config_key",
                "config",
                format!(
                    "unknown key '{k}'; the keys are {} (free-form data goes under extensions)",
                    TOP_LEVEL_KEYS.join(", ")
                ),
            ));
        }
        if doc.to_string().len() > MAX_CONFIG_BYTES {
            return Err(bad(
                "config",
                format!("the configuration may be at most {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        if has_nul(doc) {
            return Err(bad(
                "config",
                "the configuration may not contain NUL characters".into(),
            ));
        }
        let config: OrgConfig =
            serde_json::from_value(doc.clone()).map_err(|e| bad("config", e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), InvalidInput> {
        for (name, p) in &self.providers {
            let ok_name = !name.is_empty()
                && name.len() <= 40
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !ok_name {
                return Err(bad(
                    "config",
                    format!("provider name '{name}' must be 1 to 40 of a-z, 0-9, '_' and '-'"),
                ));
            }
            if let Some(u) = &p.base_url {
                check_url(&format!("providers.{name}.base_url"), u)?;
            }
            for m in &p.models {
                check_name(&format!("providers.{name}.models"), m)?;
            }
            if let Some(m) = &p.default_model {
                check_name(&format!("providers.{name}.default_model"), m)?;
                if !p.models.is_empty() && !p.models.contains(m) {
                    return Err(bad(
                        "config",
                        format!("providers.{name}.default_model must be one of its models"),
                    ));
                }
            }
        }
        if let Some(kb) = &self.knowledge_base {
            if let Some(u) = &kb.url {
                check_url("knowledge_base.url", u)?;
            }
            if let Some(m) = &kb.embedding_model {
                check_name("knowledge_base.embedding_model", m)?;
            }
        }
        Ok(())
    }

    /// The document's secret fields, by path, mutable: the service seals, masks and
    /// carries them over.
    pub fn secrets_mut(&mut self) -> Vec<(SecretPath, &mut Option<String>)> {
        let mut out: Vec<(SecretPath, &mut Option<String>)> = self
            .providers
            .iter_mut()
            .map(|(name, p)| (format!("providers.{name}.api_key"), &mut p.api_key))
            .collect();
        if let Some(kb) = &mut self.knowledge_base {
            out.push(("knowledge_base.api_key".to_string(), &mut kb.api_key));
        }
        out
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()))
    }
}

/// Applies a JSON merge patch (RFC 7396) to `target`: objects merge key by key, `null`
/// removes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(t) = target.as_object_mut() {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// How a secret is shown: its first three and last four characters (`sk-…abcd`), or
/// only `…` when it is short. Enough to tell keys apart, never enough to use one.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "…".to_string();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Whether a value looks like a mask rather than a secret (it holds the ellipsis).
pub fn is_masked(value: &str) -> bool {
    value.contains('…')
}

/// Whether any string or key in the document holds a NUL character, which PostgreSQL's
/// `jsonb` cannot store (and nothing legitimate needs): refused on both backends alike.
pub fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Which layer of the configuration a resolved value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The server's own providers: the system organization's configuration.
    System,
    /// The assistant's home organization.
    Organization,
    /// The assistant itself (its explicit `language_model`).
    Assistant,
    /// The chosen provider's `default_model`.
    Provider,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::System => "system",
            Layer::Organization => "organization",
            Layer::Assistant => "assistant",
            Layer::Provider => "provider",
        }
    }
}

/// An assistant's effective provider settings (SPEC §6). `api_key` is still sealed,
/// with the layer whose org it is sealed for.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub provider: String,
    pub provider_layer: Layer,
    pub model: Option<String>,
    pub model_layer: Option<Layer>,
    pub base_url: Option<String>,
    pub api_key: Option<(String, Layer)>,
}

/// Layers system defaults < home org < assistant. `system` is `Some` only when the org
/// may use the server's providers (it is the system org, or a system admin set
/// `inherit_system_providers`): there is no other fallback. A model named
/// `provider/model` picks that provider; otherwise the first provider (by name) that
/// lists the model, else one that lists no models (it takes any); without a model, the
/// first provider with a `default_model`. `None`: no provider can serve it.
pub fn resolve(
    model: Option<(&str, Layer)>,
    org: &OrgConfig,
    system: Option<&OrgConfig>,
) -> Option<Resolution> {
    // A provider the org defines replaces the server's of that name as a whole: a key
    // is never paired with a base URL from another layer (an org must not send the
    // server's key to an address of its choosing).
    let mut providers: BTreeMap<&str, (Provider, Layer, Option<Layer>)> = BTreeMap::new();
    for (layer, config) in [(Layer::System, system), (Layer::Organization, Some(org))] {
        let Some(config) = config else { continue };
        for (name, p) in &config.providers {
            let key_layer = p.api_key.as_ref().map(|_| layer);
            providers.insert(name.as_str(), (p.clone(), layer, key_layer));
        }
    }
    let (name, chosen_model, model_layer) = match model {
        Some((m, layer)) => {
            // `provider/model` names the provider, and the model must be one it lists
            // (when it lists any).
            let prefixed = m.split_once('/').filter(|(p, rest)| {
                !rest.is_empty()
                    && providers.get(p).is_some_and(|(pr, _, _)| {
                        pr.models.is_empty() || pr.models.iter().any(|x| x == rest)
                    })
            });
            if let Some((p, rest)) = prefixed {
                (p, Some(rest.to_string()), Some(layer))
            } else {
                let listed = providers
                    .iter()
                    .find(|(_, (p, _, _))| p.models.iter().any(|x| x == m))
                    .or_else(|| providers.iter().find(|(_, (p, _, _))| p.models.is_empty()));
                let (p, _) = listed?;
                (*p, Some(m.to_string()), Some(layer))
            }
        }
        None => match providers
            .iter()
            .find(|(_, (p, _, _))| p.default_model.is_some())
        {
            Some((p, (prov, _, _))) => (*p, prov.default_model.clone(), Some(Layer::Provider)),
            None => (*providers.keys().next()?, None, None),
        },
    };
    let (p, provider_layer, key_layer) = providers.get(name)?.clone();
    Some(Resolution {
        provider: name.to_string(),
        provider_layer,
        model: chosen_model,
        model_layer,
        base_url: p.base_url,
        api_key: p.api_key.zip(key_layer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_spec_example_parses_and_round_trips() {
        let doc = json!({
            "providers": {
                "openai": {"api_key": "sk-123", "base_url": "https://api.openai.com/v1", "models": ["gpt-4o-mini"], "default_model": "gpt-4o-mini"},
                "ollama": {"base_url": "http://ollama:11434", "models": ["llama3.1"]}
            },
            "knowledge_base": {"url": "https://kb.example", "api_key": "x", "embedding_model": "e5"},
            "features": {"rag_enabled": true, "sharing_enabled": true},
            "limits": {"max_members": null, "max_assistants": 100, "max_assistants_per_user": 10, "tokens_per_month": 1000000, "requests_per_minute": null},
            "inherit_system_providers": false,
            "extensions": {"lamb": {"anything": [1, 2]}}
        });
        let c = OrgConfig::parse(&doc).unwrap();
        assert_eq!(c.limits.max_assistants, Some(100));
        assert_eq!(OrgConfig::parse(&c.to_value()).unwrap(), c);
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let e = OrgConfig::parse(&json!({"provider": {}})).unwrap_err();
        assert_eq!(e.code, "unknown_config_key");
        assert!(e.message.contains("'provider'"), "{}", e.message);
        for bad in [
            json!([]),
            json!({"providers": {"Open AI": {}}}),
            json!({"providers": {"openai": {"base_url": "ftp://x"}}}),
            json!({"providers": {"openai": {"base_url": "https://"}}}),
            json!({"providers": {"openai": {"models": ["a b"]}}}),
            json!({"providers": {"openai": {"models": ["a"], "default_model": "b"}}}),
            json!({"providers": {"openai": {"unknown": 1}}}),
            json!({"limits": {"max_members": -1}}),
            json!({"features": {"rag_enabled": "yes"}}),
            json!({"extensions": {"big": "x".repeat(MAX_CONFIG_BYTES)}}),
        ] {
            assert!(OrgConfig::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut doc, &json!({"c": ["x"]}));
        assert_eq!(doc, json!({"a": "z", "c": ["x"]}));
    }

    #[test]
    fn masks_show_little() {
        assert_eq!(mask_secret("sk-abcdefghijklmnop"), "sk-…mnop");
        assert_eq!(mask_secret("short"), "…");
        assert!(is_masked(&mask_secret("sk-abcdefghijklmnop")));
    }

    #[test]
    fn resolution_layers_and_never_falls_back_by_itself() {
        let org = OrgConfig::parse(&serde_json::json!({"providers": {
            "openai": {"api_key": "org-key", "models": ["gpt-4o-mini", "gpt-4.1"], "default_model": "gpt-4o-mini"},
            "ollama": {"base_url": "http://ollama.local:11434"}
        }})).unwrap();
        let system = OrgConfig::parse(&serde_json::json!({"providers": {
            "openai": {"api_key": "server-key", "base_url": "https://api.openai.com/v1"},
            "anthropic": {"api_key": "server-anthropic", "models": ["claude-3"]}
        }}))
        .unwrap();
        // Explicit model listed by the org's provider.
        let r = resolve(Some(("gpt-4.1", Layer::Assistant)), &org, None).unwrap();
        assert_eq!(
            (r.provider.as_str(), r.model.as_deref()),
            ("openai", Some("gpt-4.1"))
        );
        assert_eq!(r.api_key, Some(("org-key".into(), Layer::Organization)));
        assert_eq!(r.base_url, None);
        // Prefixed model picks the provider.
        let r = resolve(Some(("ollama/llama3.1", Layer::Organization)), &org, None).unwrap();
        assert_eq!(
            (r.provider.as_str(), r.model.as_deref()),
            ("ollama", Some("llama3.1"))
        );
        assert_eq!(r.api_key, None);
        // No model: a provider's default.
        let r = resolve(None, &org, None).unwrap();
        assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(r.model_layer, Some(Layer::Provider));
        // With the system layer: an org's provider replaces the server's of that name
        // as a whole (no server key with an org's URL, nor the reverse).
        let r = resolve(Some(("gpt-4.1", Layer::Assistant)), &org, Some(&system)).unwrap();
        assert_eq!(r.api_key, Some(("org-key".into(), Layer::Organization)));
        assert_eq!(r.base_url, None);
        let url_only = OrgConfig::parse(&serde_json::json!({"providers": {
            "anthropic": {"base_url": "http://evil.example/v1"}}}))
        .unwrap();
        let r = resolve(
            Some(("anthropic/claude-3", Layer::Assistant)),
            &url_only,
            Some(&system),
        )
        .unwrap();
        assert_eq!(r.api_key, None);
        assert_eq!(r.provider_layer, Layer::Organization);
        // A prefixed model must be one the provider lists.
        assert!(
            resolve(Some(("openai/gpt-5", Layer::Assistant)), &org, None)
                .is_some_and(|r| r.provider == "ollama")
        );
        let r = resolve(Some(("claude-3", Layer::Assistant)), &org, Some(&system)).unwrap();
        assert_eq!(r.api_key, Some(("server-anthropic".into(), Layer::System)));
        assert_eq!(r.provider_layer, Layer::System);
        // Without it, the server's providers are not there.
        let only_models = OrgConfig::parse(&serde_json::json!({"providers": {
            "openai": {"models": ["gpt-4o-mini"]}}}))
        .unwrap();
        assert!(resolve(Some(("claude-3", Layer::Assistant)), &only_models, None).is_none());
        assert!(resolve(None, &OrgConfig::default(), None).is_none());
        assert!(resolve(None, &OrgConfig::default(), Some(&system)).is_some());
    }
}
