//! Endpoints of insurance: rules, claims, the global budget, DIP.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Deserialize;

use super::Rule;
use super::budget::{MemberScore, NewBudget, Position};
use super::claim::{Claim, SettleRequest, Settlement};
use super::dip::{Group, MonthScores};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Page, PageParams, Path, Query};
use crate::referral::figures::MonthQuery;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/insurance/rules/{year}", get(list_insurance_rules))
        .route("/api/v1/insurance/rules", put(put_insurance_rule))
        .route("/api/v1/claims", get(list_claims))
        .route("/api/v1/claims/settle", post(settle_claims))
        .route("/api/v1/budget/{year}", get(get_budget).post(create_budget))
        .route(
            "/api/v1/budget/{year}/prepayments/{month}",
            post(create_prepayment),
        )
        .route(
            "/api/v1/budget/{year}/reviews/{quarter}",
            post(create_review),
        )
        .route("/api/v1/budget/{year}/settlement", post(create_settlement))
        .route(
            "/api/v1/budget/{year}/scores",
            get(list_member_scores).put(put_member_scores),
        )
        .route(
            "/api/v1/dip/groups",
            get(list_dip_groups).put(put_dip_group),
        )
        .route("/api/v1/dip/scores", get(get_dip_scores))
}

/// The year's reimbursement rules per scheme and level.
#[utoipa::path(get, path = "/api/v1/insurance/rules/{year}", tag = "insurance", responses((status = 200, body = Vec<Rule>)))]
pub async fn list_insurance_rules(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i64>,
) -> Result<Json<Vec<Rule>>, ApiError> {
    Ok(Json(super::rules(&ctx, &actor, year).await?))
}

/// Set one rule (insurance officers); a settled year is closed.
#[utoipa::path(put, path = "/api/v1/insurance/rules", tag = "insurance", request_body = Rule,
    responses((status = 200, body = Vec<Rule>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn put_insurance_rule(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(rule): Json<Rule>,
) -> Result<Json<Vec<Rule>>, ApiError> {
    Ok(Json(
        super::put_rule(&ctx, clock::now_ms(), &actor, &rule).await?,
    ))
}

#[derive(Clone, Debug, Deserialize, utoipa::IntoParams)]
pub struct ClaimQuery {
    /// `YYYY-MM`
    pub month: String,
    pub institution: Option<i64>,
}

/// The month's claims (insurance officers, administrators).
#[utoipa::path(get, path = "/api/v1/claims", tag = "insurance", params(ClaimQuery, PageParams), responses((status = 200, body = Page<Claim>)))]
pub async fn list_claims(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ClaimQuery>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Claim>>, ApiError> {
    let claims = super::claim::list(
        &ctx,
        clock::now_ms(),
        &actor,
        &query.month,
        query.institution,
        page.fetch_limit(),
        page.offset(),
    )
    .await?;
    Ok(Json(page.page(claims)))
}

/// Settle the claims of the encounters closed in a month; running it again settles nothing twice.
#[utoipa::path(post, path = "/api/v1/claims/settle", tag = "insurance", request_body = SettleRequest,
    responses((status = 200, body = Settlement), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn settle_claims(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(request): Json<SettleRequest>,
) -> Result<Json<Settlement>, ApiError> {
    Ok(Json(
        super::claim::settle_month(&ctx, clock::now_ms(), &actor, &request.month).await?,
    ))
}

/// Where the year's global budget stands: package, reserve, prepayments, spending month by
/// month, reviews, the ledger and each account's balance.
#[utoipa::path(get, path = "/api/v1/budget/{year}", tag = "insurance", responses((status = 200, body = Position), (status = 404, body = ErrorBody)))]
pub async fn get_budget(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i64>,
) -> Result<Json<Position>, ApiError> {
    Ok(Json(super::budget::position(&ctx, &actor, year).await?))
}

/// Set the year's budget (insurance officers).
#[utoipa::path(post, path = "/api/v1/budget/{year}", tag = "insurance", request_body = NewBudget,
    responses((status = 201, body = Position), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_budget(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i64>,
    Json(new): Json<NewBudget>,
) -> Result<(StatusCode, Json<Position>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(super::budget::create(&ctx, clock::now_ms(), &actor, year, &new).await?),
    ))
}

/// Pay the month's prepayment to the group (once).
#[utoipa::path(post, path = "/api/v1/budget/{year}/prepayments/{month}", tag = "insurance", responses((status = 200, body = Position), (status = 409, body = ErrorBody)))]
pub async fn create_prepayment(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((year, month)): Path<(i64, u32)>,
) -> Result<Json<Position>, ApiError> {
    Ok(Json(
        super::budget::prepay(&ctx, clock::now_ms(), &actor, year, month).await?,
    ))
}

/// Review the quarter: spending to date, budget to date, projection.
#[utoipa::path(post, path = "/api/v1/budget/{year}/reviews/{quarter}", tag = "insurance", responses((status = 200, body = Position), (status = 409, body = ErrorBody)))]
pub async fn create_review(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((year, quarter)): Path<(i64, i64)>,
) -> Result<Json<Position>, ApiError> {
    Ok(Json(
        super::budget::review(&ctx, clock::now_ms(), &actor, year, quarter).await?,
    ))
}

/// Settle the year: surplus retained and shared out, or overrun shared; then the year is closed.
#[utoipa::path(post, path = "/api/v1/budget/{year}/settlement", tag = "insurance", responses((status = 200, body = Position), (status = 404, body = ErrorBody)))]
pub async fn create_settlement(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i64>,
) -> Result<Json<Position>, ApiError> {
    Ok(Json(
        super::budget::settle(&ctx, clock::now_ms(), &actor, year).await?,
    ))
}

/// Members' scores in force — typed with a reason, the frozen assessment's, or 100 — and where
/// each comes from.
#[utoipa::path(get, path = "/api/v1/budget/{year}/scores", tag = "insurance",
    responses((status = 200, body = Vec<MemberScore>), (status = 403, body = ErrorBody)))]
pub async fn list_member_scores(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i64>,
) -> Result<Json<Vec<MemberScore>>, ApiError> {
    Ok(Json(super::budget::scores(&ctx, &actor, year).await?))
}

/// Members' scores typed by hand, each with its reason: the weights of their share of a surplus.
#[utoipa::path(put, path = "/api/v1/budget/{year}/scores", tag = "insurance", request_body = Vec<MemberScore>,
    responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn put_member_scores(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(year): Path<i64>,
    Json(scores): Json<Vec<MemberScore>>,
) -> Result<StatusCode, ApiError> {
    super::budget::set_scores(&ctx, clock::now_ms(), &actor, year, &scores).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The DIP disease groups and their points.
#[utoipa::path(get, path = "/api/v1/dip/groups", tag = "insurance", responses((status = 200, body = Vec<Group>)))]
pub async fn list_dip_groups(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Group>>, ApiError> {
    Ok(Json(super::dip::groups(&ctx, &actor).await?))
}

/// Add or change a DIP group (insurance officers).
#[utoipa::path(put, path = "/api/v1/dip/groups", tag = "insurance", request_body = Group,
    responses((status = 200, body = Vec<Group>), (status = 422, body = ErrorBody)))]
pub async fn put_dip_group(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(group): Json<Group>,
) -> Result<Json<Vec<Group>>, ApiError> {
    Ok(Json(
        super::dip::put_group(&ctx, clock::now_ms(), &actor, &group).await?,
    ))
}

/// The month's DIP points, point value and each member's payment.
#[utoipa::path(get, path = "/api/v1/dip/scores", tag = "insurance", params(MonthQuery), responses((status = 200, body = MonthScores)))]
pub async fn get_dip_scores(
    ctx: axum::extract::State<Ctx>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MonthQuery>,
) -> Result<Json<MonthScores>, ApiError> {
    Ok(Json(
        super::dip::month_scores(&ctx, &actor, &query.month).await?,
    ))
}
