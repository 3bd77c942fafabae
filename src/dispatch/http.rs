//! JSON endpoints of staff dispatch.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::{Dispatch, DispatchQuery, Ending, NewDispatch};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/dispatches",
            get(list_dispatches).post(create_dispatch),
        )
        .route("/api/v1/dispatches/{id}/end", post(end_dispatch))
}

/// Record a dispatch of county staff to a primary institution (the group's personnel office).
#[utoipa::path(post, path = "/api/v1/dispatches", request_body = NewDispatch, tag = "dispatch",
    responses((status = 201, body = Dispatch), (status = 403, body = ErrorBody),
              (status = 409, description = "dispatch.overlap", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_dispatch(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewDispatch>,
) -> Result<(StatusCode, Json<Dispatch>), ApiError> {
    let dispatch = super::create(&ctx, clock::now_ms(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(dispatch)))
}

/// Dispatches from or to an institution, on site in a year, the latest start first.
#[utoipa::path(get, path = "/api/v1/dispatches", tag = "dispatch",
    params(DispatchQuery, PageParams),
    responses((status = 200, body = Page<Dispatch>), (status = 403, body = ErrorBody)))]
pub async fn list_dispatches(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<DispatchQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Dispatch>>, ApiError> {
    let dispatches = super::list(&ctx, &actor, &query, (page.fetch_limit(), page.offset())).await?;
    Ok(Json(page.page(dispatches)))
}

/// End a dispatch early (the group's personnel office).
#[utoipa::path(post, path = "/api/v1/dispatches/{id}/end", request_body = Ending, tag = "dispatch",
    responses((status = 200, body = Dispatch), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn end_dispatch(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(ending): Json<Ending>,
) -> Result<Json<Dispatch>, ApiError> {
    Ok(Json(
        super::end(&ctx, clock::now_ms(), &actor, id, &ending).await?,
    ))
}
