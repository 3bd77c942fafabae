//! JSON endpoints of the family doctor service.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::measures::{FamilyDoctorMeasures, MeasuresQuery};
use super::model::{
    Contract, ContractDetail, ContractQuery, NewContract, NewPackage, NewTeam, Package, Renewal,
    Team, TeamQuery, Termination,
};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/api/v1/family-doctor/teams",
            post(create_team).get(list_teams),
        )
        .route(
            "/api/v1/family-doctor/packages",
            post(create_package).get(list_packages),
        )
        .route(
            "/api/v1/family-doctor/contracts",
            post(create_contract).get(list_contracts),
        )
        .route("/api/v1/family-doctor/contracts/{id}", get(get_contract))
        .route(
            "/api/v1/family-doctor/contracts/{id}/termination",
            post(terminate_contract),
        )
        .route(
            "/api/v1/family-doctor/contracts/{id}/renewal",
            post(renew_contract),
        )
        .route(
            "/api/v1/family-doctor/measures",
            get(family_doctor_measures),
        )
}

/// Create a care team (administrators).
#[utoipa::path(post, path = "/api/v1/family-doctor/teams", tag = "family_doctor", request_body = NewTeam,
    responses((status = 201, body = Team), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_team(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewTeam>,
) -> Result<(StatusCode, Json<Team>), ApiError> {
    let team = super::create_team(&ctx, clock::now_ms(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// The care teams with their members.
#[utoipa::path(get, path = "/api/v1/family-doctor/teams", tag = "family_doctor", params(TeamQuery),
    responses((status = 200, body = Vec<Team>)))]
pub async fn list_teams(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<TeamQuery>,
) -> Result<Json<Vec<Team>>, ApiError> {
    Ok(Json(super::teams(&ctx, &actor, &query).await?))
}

/// Add a service package (administrators).
#[utoipa::path(post, path = "/api/v1/family-doctor/packages", tag = "family_doctor", request_body = NewPackage,
    responses((status = 201, body = Package), (status = 409, description = "family_doctor.duplicate", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_package(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewPackage>,
) -> Result<(StatusCode, Json<Package>), ApiError> {
    let package = super::create_package(&ctx, clock::now_ms(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(package)))
}

/// The service packages that can be chosen, the basic package first.
#[utoipa::path(get, path = "/api/v1/family-doctor/packages", tag = "family_doctor",
    responses((status = 200, body = Vec<Package>)))]
pub async fn list_packages(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Package>>, ApiError> {
    Ok(Json(super::packages(&ctx, &actor).await?))
}

/// Sign a contract at the caller's clinic.
#[utoipa::path(post, path = "/api/v1/family-doctor/contracts", tag = "family_doctor", request_body = NewContract,
    responses((status = 201, body = ContractDetail),
              (status = 409, description = "family_doctor.contract_exists", body = ErrorBody),
              (status = 422, description = "family_doctor.invalid", body = ErrorBody)))]
pub async fn create_contract(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewContract>,
) -> Result<(StatusCode, Json<ContractDetail>), ApiError> {
    let contract = super::sign(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok((StatusCode::CREATED, Json(contract)))
}

/// The contracts signed at an institution, of one state (`expiring`: the renewal tasks).
#[utoipa::path(get, path = "/api/v1/family-doctor/contracts", tag = "family_doctor",
    params(ContractQuery, PageParams), responses((status = 200, body = Page<Contract>)))]
pub async fn list_contracts(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ContractQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Contract>>, ApiError> {
    let contracts = super::list(
        &ctx,
        clock::now_ms(),
        clock::today_cst(),
        &actor,
        &query,
        (page.fetch_limit(), page.offset()),
    )
    .await?;
    Ok(Json(page.page(contracts)))
}

/// One contract with each service due and delivered so far.
#[utoipa::path(get, path = "/api/v1/family-doctor/contracts/{id}", tag = "family_doctor",
    responses((status = 200, body = ContractDetail), (status = 404, body = ErrorBody)))]
pub async fn get_contract(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<ContractDetail>, ApiError> {
    let contract = super::get(&ctx, clock::now_ms(), clock::today_cst(), &actor, id).await?;
    Ok(Json(contract))
}

/// Terminate a contract with the reason.
#[utoipa::path(post, path = "/api/v1/family-doctor/contracts/{id}/termination", tag = "family_doctor",
    request_body = Termination, responses((status = 200, body = ContractDetail),
        (status = 409, description = "family_doctor.closed", body = ErrorBody)))]
pub async fn terminate_contract(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(termination): Json<Termination>,
) -> Result<Json<ContractDetail>, ApiError> {
    let contract = super::terminate(
        &ctx,
        clock::now_ms(),
        clock::today_cst(),
        &actor,
        id,
        &termination,
    )
    .await?;
    Ok(Json(contract))
}

/// Renew a contract from the day after it ends.
#[utoipa::path(post, path = "/api/v1/family-doctor/contracts/{id}/renewal", tag = "family_doctor",
    request_body = Renewal, responses((status = 201, body = ContractDetail),
        (status = 409, description = "family_doctor.closed or family_doctor.contract_exists", body = ErrorBody)))]
pub async fn renew_contract(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(renewal): Json<Renewal>,
) -> Result<(StatusCode, Json<ContractDetail>), ApiError> {
    let contract = super::renew(
        &ctx,
        clock::now_ms(),
        clock::today_cst(),
        &actor,
        id,
        &renewal,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(contract)))
}

/// Coverage, key-group coverage, renewal rate, fulfilment and the managed chronic patients
/// under contract, per village, township and team.
#[utoipa::path(get, path = "/api/v1/family-doctor/measures", tag = "family_doctor", params(MeasuresQuery),
    responses((status = 200, body = FamilyDoctorMeasures), (status = 403, body = ErrorBody)))]
pub async fn family_doctor_measures(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MeasuresQuery>,
) -> Result<Json<FamilyDoctorMeasures>, ApiError> {
    let measures =
        super::measures::measures(&ctx, (clock::now_ms(), clock::today_cst()), &actor, &query)
            .await?;
    Ok(Json(measures))
}
