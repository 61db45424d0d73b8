//! The route registry and the OpenAPI 3.1 document built from it.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};
use serde_json::{Map, Value, json};

use crate::AppState;

/// Documentation of one operation.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: bool,
    pub success: u16,
    pub paged: bool,
}

impl Op {
    fn new(
        method: &'static str,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
    ) -> Self {
        Self {
            method,
            path,
            tag,
            summary,
            auth: true,
            success: 200,
            paged: false,
        }
    }
    pub fn get(path: &'static str, tag: &'static str, summary: &'static str) -> Self {
        Self::new("get", path, tag, summary)
    }
    pub fn post(path: &'static str, tag: &'static str, summary: &'static str) -> Self {
        Self::new("post", path, tag, summary)
    }
    pub fn patch(path: &'static str, tag: &'static str, summary: &'static str) -> Self {
        Self::new("patch", path, tag, summary)
    }
    pub fn put(path: &'static str, tag: &'static str, summary: &'static str) -> Self {
        Self::new("put", path, tag, summary)
    }
    pub fn delete(path: &'static str, tag: &'static str, summary: &'static str) -> Self {
        Self::new("delete", path, tag, summary)
    }
    pub fn public(mut self) -> Self {
        self.auth = false;
        self
    }
    pub fn created(mut self) -> Self {
        self.success = 201;
        self
    }
    pub fn no_content(mut self) -> Self {
        self.success = 204;
        self
    }
    pub fn paged(mut self) -> Self {
        self.paged = true;
        self
    }

    /// `{name}` segments of the path.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect()
    }
}

/// Routes and their documentation, added together.
#[derive(Default)]
pub struct Api {
    pub router: Router<AppState>,
    pub ops: Vec<Op>,
}

impl Api {
    pub fn op<H, T>(mut self, op: Op, method: MethodFilter, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.route(op.path, on(method, handler));
        self.ops.push(op);
        self
    }

    pub fn document(&self) -> Value {
        let mut paths = Map::new();
        for op in &self.ops {
            let mut params: Vec<Value> = op
                .path_params()
                .into_iter()
                .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            if op.paged {
                params.push(json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}));
                params.push(json!({"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor of the previous page"}));
            }
            let success = match op.success {
                204 => json!({"description": "Done"}),
                code => {
                    json!({"description": if code == 201 { "Created" } else { "OK" }, "content": {"application/json": {}}})
                }
            };
            let mut operation = json!({
                "operationId": format!("{}_{}", op.method, op.path.trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
                "summary": op.summary,
                "tags": [op.tag],
                "parameters": params,
                "responses": {
                    op.success.to_string(): success,
                    "default": {"$ref": "#/components/responses/Problem"}
                }
            });
            if !op.auth {
                operation["security"] = json!([]);
            }
            if matches!(op.method, "post" | "patch" | "put") {
                operation["requestBody"] =
                    json!({"content": {"application/json": {"schema": {"type": "object"}}}});
            }
            let entry = paths
                .entry(op.path.to_string())
                .or_insert_with(|| json!({}));
            entry[op.method] = operation;
        }
        json!({
            "openapi": "3.1.0",
            "info": {"title": "Orgbase", "version": env!("CARGO_PKG_VERSION"),
                     "description": "Organizations, users, memberships and roles for AI-assistant platforms."},
            "paths": paths,
            "security": [{"bearer": []}],
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                    "description": "A session token (obs_…) from login or a personal API key (obk_…)"}},
                "responses": {"Problem": {"description": "An RFC 9457 problem document",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
                "schemas": {"Problem": {"type": "object", "required": ["type", "title", "status", "code"],
                    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                                   "detail": {"type": "string"}, "code": {"type": "string", "description": "stable machine-readable code"}}}}
            }
        })
    }
}
