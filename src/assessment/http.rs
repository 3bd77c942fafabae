//! JSON endpoints of the member performance assessment.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post, put};

use super::scheme::{Item, MemberKind};
use super::{Scheme, ScoreQuery, Scores};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/assessments/{year}/schemes", get(list_schemes))
        .route("/api/v1/assessments/{year}/schemes/{kind}", put(put_scheme))
        .route("/api/v1/assessments/{year}/scores", get(list_scores))
        .route("/api/v1/assessments/{year}/freeze", post(freeze))
}

/// A scheme's items, as sent to set it.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemeItems {
    pub items: Vec<Item>,
}

/// The year's assessment schemes, for township centres and village clinics.
#[utoipa::path(get, path = "/api/v1/assessments/{year}/schemes", tag = "assessment",
    responses((status = 200, body = Vec<Scheme>), (status = 403, body = ErrorBody)))]
pub async fn list_schemes(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i32>,
) -> Result<Json<Vec<Scheme>>, ApiError> {
    Ok(Json(super::schemes(&ctx, &actor, year).await?))
}

/// Set a kind's scheme for the year (administrators): weights sum to 100.
#[utoipa::path(put, path = "/api/v1/assessments/{year}/schemes/{kind}", request_body = SchemeItems,
    tag = "assessment",
    responses((status = 200, body = Scheme), (status = 403, body = ErrorBody),
              (status = 409, description = "assessment.frozen", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_scheme(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((year, kind)): Path<(i32, String)>,
    Json(body): Json<SchemeItems>,
) -> Result<Json<Scheme>, ApiError> {
    let kind = MemberKind::parse(&kind).ok_or(super::Error::Invalid {
        field: "kind",
        reason: "township or village_clinic",
    })?;
    Ok(Json(
        super::set_scheme(&ctx, clock::now_ms(), &actor, (year, kind), &body.items).await?,
    ))
}

/// Members' scores for a quarter or the year, each item with its value, points and source.
#[utoipa::path(get, path = "/api/v1/assessments/{year}/scores", tag = "assessment",
    params(ScoreQuery),
    responses((status = 200, body = Scores), (status = 403, body = ErrorBody)))]
pub async fn list_scores(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i32>,
    Query(query): Query<ScoreQuery>,
) -> Result<Json<Scores>, ApiError> {
    Ok(Json(
        super::scores(&ctx, clock::now_ms(), &actor, year, &query).await?,
    ))
}

/// Freeze the year's scores into the snapshot the budget's surplus split reads (the insurance
/// office); once only.
#[utoipa::path(post, path = "/api/v1/assessments/{year}/freeze", tag = "assessment",
    responses((status = 201, body = Scores), (status = 403, body = ErrorBody),
              (status = 409, description = "assessment.frozen", body = ErrorBody)))]
pub async fn freeze(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i32>,
) -> Result<(StatusCode, Json<Scores>), ApiError> {
    let scores = super::freeze(&ctx, clock::now_ms(), &actor, year).await?;
    Ok((StatusCode::CREATED, Json(scores)))
}
