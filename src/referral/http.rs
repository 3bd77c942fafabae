//! JSON endpoints of two-way referral.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::catalogue::{CatalogueEntry, NewCatalogueEntry};
use super::figures::{ChestPainFigures, MonthQuery, ReferralFigures};
use super::model::{
    DownSuggestion, NewReferral, Referral, ReferralDetail, ReferralQuery, Transition,
};
use super::timeline::{NewTimePoint, Timeline};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/referrals",
            post(create_referral).get(list_referrals),
        )
        .route("/api/v1/referrals/{id}", get(get_referral))
        .route(
            "/api/v1/referrals/{id}/transitions",
            post(create_referral_transition),
        )
        .route(
            "/api/v1/ecgs/{id}/green-channel",
            post(create_green_channel),
        )
        .route(
            "/api/v1/referrals/{id}/time-points",
            post(create_time_point),
        )
        .route("/api/v1/referrals/{id}/timeline", get(get_timeline))
        .route("/api/v1/referrals/figures", get(get_referral_figures))
        .route(
            "/api/v1/referrals/down-suggestions",
            get(list_down_suggestions),
        )
        .route(
            "/api/v1/referrals/chest-pain-report",
            get(get_chest_pain_report),
        )
        .route(
            "/api/v1/tier-catalogue",
            get(list_tier_catalogue).post(create_tier_catalogue_entry),
        )
        .route(
            "/api/v1/tier-catalogue/{id}",
            axum::routing::delete(delete_tier_catalogue_entry),
        )
}

/// The tiered-care catalogue: ICD-10 category ranges and the level that should treat them.
#[utoipa::path(get, path = "/api/v1/tier-catalogue", tag = "referrals", responses((status = 200, body = Vec<CatalogueEntry>)))]
pub async fn list_tier_catalogue(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<CatalogueEntry>>, ApiError> {
    Ok(Json(super::catalogue::list(&ctx, &actor).await?))
}

/// Add a range to the catalogue (administrators).
#[utoipa::path(post, path = "/api/v1/tier-catalogue", tag = "referrals", request_body = NewCatalogueEntry,
    responses((status = 201, body = CatalogueEntry), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_tier_catalogue_entry(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(entry): Json<NewCatalogueEntry>,
) -> Result<(StatusCode, Json<CatalogueEntry>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::catalogue::create(&ctx, clock::now_ms(), &actor, &entry).await?),
    ))
}

/// Remove a range from the catalogue (administrators).
#[utoipa::path(delete, path = "/api/v1/tier-catalogue/{id}", tag = "referrals", responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_tier_catalogue_entry(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    super::catalogue::delete(&ctx, clock::now_ms(), &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enter a time point staff witnessed: `{"point": "wire_crossing", "at": "2026-11-23T10:05:00+08:00"}`.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/time-points", tag = "referrals", request_body = NewTimePoint,
    responses((status = 200, body = Timeline), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_time_point(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(new): Json<NewTimePoint>,
) -> Result<Json<Timeline>, ApiError> {
    let at_ms = match &new.at {
        serde_json::Value::Number(ms) => ms.as_i64(),
        serde_json::Value::String(text) => clock::parse_time(text),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "referral.invalid",
            "at must be RFC 3339 or milliseconds",
        )
    })?;
    Ok(Json(
        super::record_time_point(&ctx, clock::now_ms(), &actor, id, &new.point, at_ms).await?,
    ))
}

/// The case timeline: time points and the chest pain centre intervals against their targets.
#[utoipa::path(get, path = "/api/v1/referrals/{id}/timeline", tag = "referrals", responses((status = 200, body = Timeline)))]
pub async fn get_timeline(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Timeline>, ApiError> {
    Ok(Json(
        super::timeline(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

/// Create a referral from the caller's institution; `submit: true` sends it at once.
#[utoipa::path(post, path = "/api/v1/referrals", tag = "referrals", request_body = NewReferral,
    responses((status = 201, body = ReferralDetail), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_referral(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewReferral>,
) -> Result<(StatusCode, Json<ReferralDetail>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::create(&ctx, clock::now_ms(), &actor, &new).await?),
    ))
}

/// One referral with every step (who and when).
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "referrals", responses((status = 200, body = ReferralDetail), (status = 403, body = ErrorBody)))]
pub async fn get_referral(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<ReferralDetail>, ApiError> {
    Ok(Json(super::get(&ctx, clock::now_ms(), &actor, id).await?))
}

/// Take a step: `{"to": "accepted", "note": "…"}`; 409 `referral.invalid_transition` when illegal.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/transitions", tag = "referrals", request_body = Transition,
    responses((status = 200, body = ReferralDetail), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_referral_transition(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(step): Json<Transition>,
) -> Result<Json<ReferralDetail>, ApiError> {
    Ok(Json(
        super::transition(&ctx, clock::now_ms(), &actor, id, step.to, &step.note).await?,
    ))
}

/// Referrals sent from or received at an institution, green channel first.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", params(ReferralQuery, PageParams), responses((status = 200, body = Page<Referral>)))]
pub async fn list_referrals(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ReferralQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Referral>>, ApiError> {
    let referrals = super::list(
        &ctx,
        clock::now_ms(),
        &actor,
        &query,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(referrals)))
}

/// From a signed critical ECG report: an up-referral with green channel to the lead hospital's
/// chest pain centre, accepted by rule, the receiving side notified live.
#[utoipa::path(post, path = "/api/v1/ecgs/{id}/green-channel", tag = "referrals", responses((status = 201, body = ReferralDetail), (status = 409, body = ErrorBody)))]
pub async fn create_green_channel(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ReferralDetail>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::green_channel_from_ecg(&ctx, clock::now_ms(), &actor, id).await?),
    ))
}

/// Referral counts per institution for a month (aggregates: managers, supervisors).
#[utoipa::path(get, path = "/api/v1/referrals/figures", tag = "referrals", params(MonthQuery), responses((status = 200, body = Vec<ReferralFigures>)))]
pub async fn get_referral_figures(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MonthQuery>,
) -> Result<Json<Vec<ReferralFigures>>, ApiError> {
    Ok(Json(
        super::figures::referral_figures(&ctx, &actor, &query.month).await?,
    ))
}

/// The month's chest pain intervals per sending institution: median and share within target.
#[utoipa::path(get, path = "/api/v1/referrals/chest-pain-report", tag = "referrals", params(MonthQuery), responses((status = 200, body = Vec<ChestPainFigures>)))]
pub async fn get_chest_pain_report(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MonthQuery>,
) -> Result<Json<Vec<ChestPainFigures>>, ApiError> {
    Ok(Json(
        super::figures::chest_pain_report(&ctx, &actor, &query.month).await?,
    ))
}

/// Post-acute patients of the caller's institution whose condition belongs at a lower level.
#[utoipa::path(get, path = "/api/v1/referrals/down-suggestions", tag = "referrals",
    responses((status = 200, body = Vec<DownSuggestion>), (status = 403, body = ErrorBody)))]
pub async fn list_down_suggestions(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<DownSuggestion>>, ApiError> {
    Ok(Json(
        super::down_suggestions(&ctx, clock::now_ms(), &actor).await?,
    ))
}
