//! JSON endpoints of supervision.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::RuleSet;
use super::model::{Alert, AlertDetail, AlertQuery, NewRun, RunResult, Transition};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/supervision/rules", get(get_rules).put(put_rules))
        .route("/api/v1/supervision/runs", post(create_run))
        .route("/api/v1/supervision/alerts", get(list_alerts))
        .route("/api/v1/supervision/alerts/{id}", get(get_alert))
        .route(
            "/api/v1/supervision/alerts/{id}/transitions",
            post(create_transition),
        )
}

/// The encounter rules in force: enabled codes, parameters, version (0: national defaults).
#[utoipa::path(get, path = "/api/v1/supervision/rules", tag = "supervision",
    responses((status = 200, body = RuleSet), (status = 403, body = ErrorBody)))]
pub async fn get_rules(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<RuleSet>, ApiError> {
    Ok(Json(super::rule_set(&ctx, &actor).await?))
}

/// Set a new version of the rules (the office or an administrator).
#[utoipa::path(put, path = "/api/v1/supervision/rules", request_body = RuleSet, tag = "supervision",
    responses((status = 200, body = RuleSet), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_rules(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(set): Json<RuleSet>,
) -> Result<Json<RuleSet>, ApiError> {
    Ok(Json(
        super::set_rules(&ctx, clock::now_ms(), &actor, &set).await?,
    ))
}

/// Run the rules over a period's encounters; a hit already alerted is not raised again.
#[utoipa::path(post, path = "/api/v1/supervision/runs", request_body = NewRun, tag = "supervision",
    responses((status = 201, body = RunResult), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_run(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewRun>,
) -> Result<(StatusCode, Json<RunResult>), ApiError> {
    let result = super::run(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// Alerts by institution, rule, state and month, the newest period first.
#[utoipa::path(get, path = "/api/v1/supervision/alerts", tag = "supervision",
    params(AlertQuery, PageParams),
    responses((status = 200, body = Page<Alert>), (status = 403, body = ErrorBody)))]
pub async fn list_alerts(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<AlertQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Alert>>, ApiError> {
    let alerts = super::alerts(
        &ctx,
        clock::today_cst(),
        &actor,
        &query,
        (page.fetch_limit(), page.offset()),
    )
    .await?;
    Ok(Json(page.page(alerts)))
}

/// An alert with its evidence (encounters, without who the resident is) and its steps.
#[utoipa::path(get, path = "/api/v1/supervision/alerts/{id}", tag = "supervision",
    responses((status = 200, body = AlertDetail), (status = 404, body = ErrorBody)))]
pub async fn get_alert(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<AlertDetail>, ApiError> {
    Ok(Json(
        super::get(&ctx, clock::now_ms(), clock::today_cst(), &actor, id).await?,
    ))
}

/// Move an alert one step through rectification; an illegal step is 409.
#[utoipa::path(post, path = "/api/v1/supervision/alerts/{id}/transitions", request_body = Transition,
    tag = "supervision",
    responses((status = 200, body = AlertDetail),
              (status = 409, description = "supervision.illegal_step or supervision.not_rectified", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_transition(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(t): Json<Transition>,
) -> Result<Json<AlertDetail>, ApiError> {
    Ok(Json(
        super::transition(&ctx, clock::now_ms(), clock::today_cst(), &actor, id, &t).await?,
    ))
}
