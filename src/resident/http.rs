//! JSON endpoints of the master patient index.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::model::{
    ContactUpdate, MergeRequest, NewResident, ProbableDuplicate, Resident, ResidentQuery,
};
use crate::audit::AccessRecord;
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/residents",
            post(create_resident).get(list_residents),
        )
        .route(
            "/api/v1/residents/duplicates",
            get(list_probable_duplicates),
        )
        .route("/api/v1/residents/merge", post(merge_residents))
        .route(
            "/api/v1/residents/{id}",
            get(get_resident).patch(update_resident_contact),
        )
        .route(
            "/api/v1/residents/{id}/accesses",
            get(list_resident_accesses),
        )
}

/// Register a resident at a village clinic.
#[utoipa::path(post, path = "/api/v1/residents", request_body = NewResident, tag = "residents",
    responses((status = 201, body = Resident),
              (status = 422, description = "resident.invalid_id_number, resident.invalid, resident.unknown_village_clinic", body = ErrorBody),
              (status = 409, description = "resident.duplicate", body = ErrorBody),
              (status = 403, description = "access.denied", body = ErrorBody)))]
pub async fn create_resident(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewResident>,
) -> Result<(StatusCode, Json<Resident>), ApiError> {
    let resident = super::register(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(resident)))
}

/// Change a resident's phone or address (a field left out stays as it is).
#[utoipa::path(patch, path = "/api/v1/residents/{id}", request_body = ContactUpdate, tag = "residents",
    responses((status = 200, body = Resident),
              (status = 422, description = "resident.invalid", body = ErrorBody),
              (status = 409, description = "resident.already_merged", body = ErrorBody),
              (status = 404, description = "resident.not_found", body = ErrorBody),
              (status = 403, description = "access.denied", body = ErrorBody)))]
pub async fn update_resident_contact(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(update): Json<ContactUpdate>,
) -> Result<Json<Resident>, ApiError> {
    Ok(Json(
        super::update_contact(&ctx, clock::now_ms(), &actor, id, &update).await?,
    ))
}

/// Find residents by exact ID number, name prefix or village clinic, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/residents", tag = "residents", params(ResidentQuery, PageParams),
    responses((status = 200, body = Page<Resident>)))]
pub async fn list_residents(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ResidentQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Resident>>, ApiError> {
    let found = super::search(
        &ctx,
        clock::now_ms(),
        &actor,
        &query,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(found)))
}

/// One resident.
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "residents",
    responses((status = 200, body = Resident), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_resident(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Resident>, ApiError> {
    Ok(Json(super::get(&ctx, clock::now_ms(), &actor, id).await?))
}

/// Who looked at or changed this resident's data, newest first.
#[utoipa::path(get, path = "/api/v1/residents/{id}/accesses", tag = "residents", params(PageParams),
    responses((status = 200, body = Page<AccessRecord>), (status = 403, body = ErrorBody)))]
pub async fn list_resident_accesses(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<AccessRecord>>, ApiError> {
    let records = super::accesses(
        &ctx,
        clock::now_ms(),
        &actor,
        id,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(records)))
}

/// Pairs of residents that may be one person (same name and birth date in a township, or the
/// same phone), for review.
#[utoipa::path(get, path = "/api/v1/residents/duplicates", tag = "residents", params(PageParams),
    responses((status = 200, body = Page<ProbableDuplicate>)))]
pub async fn list_probable_duplicates(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<ProbableDuplicate>>, ApiError> {
    let pairs = super::probable_duplicates(
        &ctx,
        clock::now_ms(),
        &actor,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(pairs)))
}

/// Merge one resident record into another; both stay with all their records.
#[utoipa::path(post, path = "/api/v1/residents/merge", tag = "residents", request_body = MergeRequest,
    responses((status = 200, body = Resident), (status = 409, description = "resident.already_merged", body = ErrorBody)))]
pub async fn merge_residents(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(request): Json<MergeRequest>,
) -> Result<Json<Resident>, ApiError> {
    Ok(Json(
        super::merge(&ctx, clock::now_ms(), &actor, &request).await?,
    ))
}
