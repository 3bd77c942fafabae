//! Endpoints of the mutual recognition of results.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};

use super::{Item, MonthFigures, NewItem, NewOrder, Order, RecognisedQuery, RecognisedResult};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Path, Query};
use crate::referral::figures::MonthQuery;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/recognition-items",
            get(list_recognition_items).post(create_recognition_item),
        )
        .route(
            "/api/v1/recognition-items/{id}",
            delete(delete_recognition_item),
        )
        .route(
            "/api/v1/residents/{id}/recognised-results",
            get(list_recognised_results),
        )
        .route("/api/v1/orders", post(create_order))
        .route("/api/v1/recognition/figures", get(get_recognition_figures))
}

/// The mutual recognition catalogue: items and the days their results are recognised.
#[utoipa::path(get, path = "/api/v1/recognition-items", tag = "recognition", responses((status = 200, body = Vec<Item>)))]
pub async fn list_recognition_items(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Item>>, ApiError> {
    Ok(Json(super::list_items(&ctx, &actor).await?))
}

/// Add an item (administrators).
#[utoipa::path(post, path = "/api/v1/recognition-items", tag = "recognition", request_body = NewItem,
    responses((status = 201, body = Item), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_recognition_item(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(item): Json<NewItem>,
) -> Result<(StatusCode, Json<Item>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::create_item(&ctx, clock::now_ms(), &actor, &item).await?),
    ))
}

/// Remove an item (administrators).
#[utoipa::path(delete, path = "/api/v1/recognition-items/{id}", tag = "recognition", responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_recognition_item(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    super::delete_item(&ctx, clock::now_ms(), &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Results the resident already has that every member recognises, newest first.
#[utoipa::path(get, path = "/api/v1/residents/{id}/recognised-results", tag = "recognition", params(RecognisedQuery),
    responses((status = 200, body = Vec<RecognisedResult>), (status = 403, body = ErrorBody)))]
pub async fn list_recognised_results(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Query(query): Query<RecognisedQuery>,
) -> Result<Json<Vec<RecognisedResult>>, ApiError> {
    Ok(Json(
        super::recognised_for(&ctx, clock::now_ms(), &actor, id, query.item.as_deref()).await?,
    ))
}

/// Order a test or examination: 409 `recognition.recent_result` when a recognised result is
/// within its window and neither `use_recognised` nor `repeat_reason` is given.
#[utoipa::path(post, path = "/api/v1/orders", tag = "recognition", request_body = NewOrder,
    responses((status = 201, body = Order), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_order(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewOrder>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::order(&ctx, clock::now_ms(), &actor, &new).await?),
    ))
}

/// Orders, avoided repeats and their saving per institution for a month.
#[utoipa::path(get, path = "/api/v1/recognition/figures", tag = "recognition", params(MonthQuery),
    responses((status = 200, body = Vec<MonthFigures>), (status = 403, body = ErrorBody)))]
pub async fn get_recognition_figures(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MonthQuery>,
) -> Result<Json<Vec<MonthFigures>>, ApiError> {
    Ok(Json(
        super::month_figures(&ctx, &actor, &query.month).await?,
    ))
}
