//! JSON endpoints for logging in and out, the caller's own account, and the staff registry.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::model::{Credentials, LoginToken, NewStaff, Staff};
use crate::access::Role;
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, ClientAddress, Json, Page, PageParams, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/auth/login", post(create_session))
        .route("/api/v1/auth/logout", post(delete_session))
        .route("/api/v1/me", get(get_me))
        .route("/api/v1/staff", get(list_staff).post(create_staff))
}

/// Log in; the token goes in `Authorization: Bearer <token>` on every other call.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = LoginToken),
              (status = 401, description = "auth.invalid_credentials", body = ErrorBody),
              (status = 429, description = "auth.too_many_attempts, auth.busy", body = ErrorBody)))]
pub async fn create_session(
    ctx: axum::extract::State<Ctx>,
    ClientAddress(address): ClientAddress,
    Json(credentials): Json<Credentials>,
) -> Result<Json<LoginToken>, ApiError> {
    Ok(Json(
        super::login(&ctx, clock::now_ms(), &credentials, address).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn delete_session(
    ctx: axum::extract::State<Ctx>,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "auth.unauthenticated", "no token")
        })?;
    super::logout(&ctx, token.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub staff_id: i64,
    pub community_id: i64,
    pub username: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub institution_id: Option<i64>,
    pub resident_id: Option<i64>,
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me)))]
pub async fn get_me(ApiActor(actor): ApiActor) -> Json<Me> {
    Json(Me {
        staff_id: actor.staff_id,
        community_id: actor.community_id,
        username: actor.username,
        name: actor.name,
        roles: actor.roles,
        institution_id: actor.institution.map(|i| i.id),
        resident_id: actor.resident_id,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct StaffQuery {
    pub institution_id: Option<i64>,
}

/// The staff registry of the caller's community.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", params(StaffQuery, PageParams),
    responses((status = 200, body = Page<Staff>)))]
pub async fn list_staff(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<StaffQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Staff>>, ApiError> {
    let staff = super::list(
        &ctx,
        &actor,
        query.institution_id,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(staff)))
}

/// Create an account (administrators).
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = NewStaff,
    responses((status = 201, body = Staff), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_staff(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewStaff>,
) -> Result<(StatusCode, Json<Staff>), ApiError> {
    let staff = super::create(&ctx, clock::now_ms(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(staff)))
}
