use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;
use crate::problem::Problem;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers.
pub async fn readyz(State(s): State<AppState>) -> Result<impl IntoResponse, Problem> {
    let backend = s.svc.ready().await?;
    Ok(Json(json!({"status": "ready", "database": backend})))
}

pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

pub async fn openapi(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi.to_string(),
    )
}
