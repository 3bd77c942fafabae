//! `GET /api/v1/indicators`: every indicator with its numerator and denominator, as JSON or CSV.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{IndicatorQuery, Value};
use crate::app::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/indicators", get(list_indicators))
        .route("/api/v1/indicators.csv", get(export_indicators))
}

/// The national monitoring indicators and the county figures for a year or month, for the
/// county or one institution.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators", params(IndicatorQuery),
    responses((status = 200, body = Vec<Value>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_indicators(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<IndicatorQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    Ok(Json(super::compute(&ctx, &actor, &query).await?))
}

/// The same as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Chinese).
#[utoipa::path(get, path = "/api/v1/indicators.csv", tag = "indicators", params(IndicatorQuery),
    responses((status = 200, body = String, content_type = "text/csv")))]
pub async fn export_indicators(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<IndicatorQuery>,
) -> Result<Response, ApiError> {
    let values = super::compute(&ctx, &actor, &query).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"indicators.csv\""),
            ),
        ],
        format!("\u{feff}{}", super::to_csv(&values)),
    )
        .into_response())
}
