//! `GET /api/v1/indicators`: every indicator with its numerator and denominator, as JSON or CSV.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};

use super::basis::{self, DefinitionChange, DefinitionView, MeasureView};
use super::target::{self, Target, TargetChange};
use super::{Breakdown, IndicatorQuery, Value};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/indicators", get(list_indicators))
        .route("/api/v1/indicators.csv", get(export_indicators))
        .route(
            "/api/v1/indicators/definitions",
            get(list_indicator_definitions),
        )
        .route(
            "/api/v1/indicators/definitions/{code}",
            put(put_indicator_definition).delete(reset_indicator_definition),
        )
        .route(
            "/api/v1/indicators/targets/{code}",
            put(put_indicator_target).delete(reset_indicator_target),
        )
        .route("/api/v1/indicators/measures", get(list_indicator_measures))
        .route(
            "/api/v1/indicators/{code}/institutions",
            get(list_indicator_by_institution),
        )
}

#[derive(Clone, Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    pub year: i64,
    /// 1–12; the whole year when absent.
    pub month: Option<u32>,
}

/// One indicator drilled down from the county to every member institution, each with its
/// numerator and denominator.
#[utoipa::path(get, path = "/api/v1/indicators/{code}/institutions", tag = "indicators",
    params(PeriodQuery),
    responses((status = 200, body = Breakdown), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_indicator_by_institution(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    Query(period): Query<PeriodQuery>,
) -> Result<Json<Breakdown>, ApiError> {
    Ok(Json(
        super::breakdown(&ctx, &actor, &code, period.year, period.month).await?,
    ))
}

/// Every indicator's definition as the county uses it: built in, or the county's own 口径.
#[utoipa::path(get, path = "/api/v1/indicators/definitions", tag = "indicators",
    responses((status = 200, body = Vec<DefinitionView>), (status = 403, body = ErrorBody)))]
pub async fn list_indicator_definitions(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<DefinitionView>>, ApiError> {
    Ok(Json(basis::definitions(&ctx, &actor).await?))
}

/// The county's own definition of a derived indicator (administrator or health bureau), with
/// the reason for it.
#[utoipa::path(put, path = "/api/v1/indicators/definitions/{code}", tag = "indicators",
    request_body = DefinitionChange,
    responses((status = 200, body = DefinitionView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_indicator_definition(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    Json(change): Json<DefinitionChange>,
) -> Result<Json<DefinitionView>, ApiError> {
    Ok(Json(
        basis::put(&ctx, clock::now_ms(), &actor, &code, &change).await?,
    ))
}

/// Puts the built-in definition back in force.
#[utoipa::path(delete, path = "/api/v1/indicators/definitions/{code}", tag = "indicators",
    responses((status = 200, body = DefinitionView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reset_indicator_definition(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
) -> Result<Json<DefinitionView>, ApiError> {
    Ok(Json(
        basis::reset(&ctx, clock::now_ms(), &actor, &code).await?,
    ))
}

/// The county's target for a computed indicator (administrator or health bureau), with the
/// rule it comes from; the indicator's values then say whether they meet it.
#[utoipa::path(put, path = "/api/v1/indicators/targets/{code}", tag = "indicators",
    request_body = TargetChange,
    responses((status = 200, body = Target), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_indicator_target(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    Json(change): Json<TargetChange>,
) -> Result<Json<Target>, ApiError> {
    Ok(Json(
        target::put(&ctx, clock::now_ms(), &actor, &code, &change).await?,
    ))
}

/// Removes the county's target: the one that comes with the indicator's source (or none) holds.
#[utoipa::path(delete, path = "/api/v1/indicators/targets/{code}", tag = "indicators",
    responses((status = 200, body = Option<Target>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn reset_indicator_target(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
) -> Result<Json<Option<Target>>, ApiError> {
    Ok(Json(
        target::reset(&ctx, clock::now_ms(), &actor, &code).await?,
    ))
}

/// The measures a definition may be made of.
#[utoipa::path(get, path = "/api/v1/indicators/measures", tag = "indicators",
    responses((status = 200, body = Vec<MeasureView>)))]
pub async fn list_indicator_measures(ApiActor(_actor): ApiActor) -> Json<Vec<MeasureView>> {
    Json(basis::measures())
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
