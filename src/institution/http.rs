//! JSON endpoints of the institution tree.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;

use super::model::{Department, Institution, NewInstitution};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Path};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/institutions",
            get(list_institutions).post(create_institution),
        )
        .route("/api/v1/institutions/{id}", get(get_institution))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InstitutionDetail {
    #[serde(flatten)]
    pub institution: Institution,
    pub departments: Vec<Department>,
}

/// Every institution of the caller's community, parents before children; `parent_id` gives the tree.
#[utoipa::path(get, path = "/api/v1/institutions", tag = "institutions",
    responses((status = 200, body = Vec<Institution>)))]
pub async fn list_institutions(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Institution>>, ApiError> {
    Ok(Json(super::list(&ctx, &actor).await?))
}

/// One institution with its departments.
#[utoipa::path(get, path = "/api/v1/institutions/{id}", tag = "institutions",
    responses((status = 200, body = InstitutionDetail), (status = 404, body = ErrorBody)))]
pub async fn get_institution(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<InstitutionDetail>, ApiError> {
    let (institution, departments) = super::get(&ctx, &actor, id).await?;
    Ok(Json(InstitutionDetail {
        institution,
        departments,
    }))
}

/// Add an institution to the tree (administrators).
#[utoipa::path(post, path = "/api/v1/institutions", tag = "institutions", request_body = NewInstitution,
    responses((status = 201, body = Institution), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_institution(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewInstitution>,
) -> Result<(StatusCode, Json<Institution>), ApiError> {
    let institution = super::create(&ctx, clock::now_ms(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(institution)))
}
