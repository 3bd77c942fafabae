//! JSON endpoints of the imaging centre's reading workflow (the images themselves are at
//! `/dicomweb`).

use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get, post};

use super::modality::{Modality, NewModality};
use super::order::{NewOrder, Order, OrderItem};
use super::study::{self, StudyDetail, StudyItem};
use super::templates::Template;
use super::unmatched::{Assignment, UnmatchedStudy};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiActor, Json, Path};
use crate::reading::NewReport;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/v1/imaging/worklist", get(list_worklist))
        .route("/api/v1/imaging/inbox", get(list_inbox))
        .route("/api/v1/imaging/studies/{id}", get(get_study))
        .route("/api/v1/imaging/studies/{id}/claim", post(claim_study))
        .route("/api/v1/imaging/studies/{id}/reports", post(sign_study))
        .route(
            "/api/v1/imaging/studies/{id}/acknowledge",
            post(acknowledge_study),
        )
        .route(
            "/api/v1/imaging/orders",
            post(create_order).get(list_orders),
        )
        .route("/api/v1/imaging/orders/{id}/cancel", post(cancel_order))
        .route(
            "/api/v1/imaging/modalities",
            get(list_modalities).post(create_modality),
        )
        .route("/api/v1/imaging/modalities/{id}", delete(delete_modality))
        .route(
            "/api/v1/imaging/templates",
            get(list_templates).put(save_template),
        )
        .route("/api/v1/imaging/templates/{id}", delete(delete_template))
        .route("/api/v1/imaging/unmatched", get(list_unmatched))
        .route("/api/v1/imaging/unmatched/assign", post(assign_unmatched))
}

/// The imaging centre's report templates per examination (the standard set until the centre
/// keeps its own); its readers only.
#[utoipa::path(get, path = "/api/v1/imaging/templates", tag = "imaging", responses((status = 200, body = [Template]), (status = 403, body = ErrorBody)))]
pub async fn list_templates(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Template>>, ApiError> {
    Ok(Json(
        super::templates::list(&ctx, clock::now_ms(), &actor).await?,
    ))
}

/// Save a report template by its name (a new one, or a change to the one of that name).
#[utoipa::path(put, path = "/api/v1/imaging/templates", tag = "imaging", request_body = Template, responses((status = 200, body = Template), (status = 422, body = ErrorBody)))]
pub async fn save_template(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(template): Json<Template>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(
        super::templates::save(&ctx, clock::now_ms(), &actor, &template).await?,
    ))
}

/// Remove a report template.
#[utoipa::path(delete, path = "/api/v1/imaging/templates/{id}", tag = "imaging", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_template(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    super::templates::remove(&ctx, clock::now_ms(), &actor, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The reconciliation list: studies held because their Patient ID is no resident's ID
/// number, oldest first; the imaging centre's readers only.
#[utoipa::path(get, path = "/api/v1/imaging/unmatched", tag = "imaging", responses((status = 200, body = [UnmatchedStudy]), (status = 403, body = ErrorBody)))]
pub async fn list_unmatched(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<UnmatchedStudy>>, ApiError> {
    Ok(Json(
        super::unmatched::list(&ctx, clock::now_ms(), &actor).await?,
    ))
}

/// Assign a held study to the resident with this ID number: its instances are filed for them
/// and the study joins the worklist. Answers the study.
#[utoipa::path(post, path = "/api/v1/imaging/unmatched/assign", tag = "imaging", request_body = Assignment, responses((status = 200, body = StudyDetail), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_unmatched(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(assignment): Json<Assignment>,
) -> Result<Json<StudyDetail>, ApiError> {
    let now = clock::now_ms();
    let study = super::unmatched::assign(&ctx, now, &actor, &assignment).await?;
    Ok(Json(study::get(&ctx, now, &actor, study).await?))
}

/// The modalities allowed to call the DICOM listener (C-ECHO, C-STORE, Modality Worklist), by
/// calling AE title; administrators only.
#[utoipa::path(get, path = "/api/v1/imaging/modalities", tag = "imaging", responses((status = 200, body = [Modality]), (status = 403, body = ErrorBody)))]
pub async fn list_modalities(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<Modality>>, ApiError> {
    Ok(Json(super::modality::list(&ctx, &actor).await?))
}

/// Allow-list a calling AE title for a modality machine account (role `modality_interface`);
/// the modality's studies are then its institution's. 422 `imaging.invalid` for an AE title
/// listed already or an account of another role.
#[utoipa::path(post, path = "/api/v1/imaging/modalities", tag = "imaging", request_body = NewModality, responses((status = 201, body = Modality), (status = 422, body = ErrorBody)))]
pub async fn create_modality(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Json(new): Json<NewModality>,
) -> Result<(axum::http::StatusCode, Json<Modality>), ApiError> {
    let added = super::modality::add(&ctx, clock::now_ms(), &actor, &new).await?;
    Ok((axum::http::StatusCode::CREATED, Json(added)))
}

/// Take a calling AE title off the list; its next association is refused.
#[utoipa::path(delete, path = "/api/v1/imaging/modalities/{id}", tag = "imaging", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_modality(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    super::modality::remove(&ctx, clock::now_ms(), &actor, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Order an examination for a resident; it is performed at the orderer's township centre (a
/// village clinic's) or own institution and offered on that modality's worklist. Send
/// `Idempotency-Key` to make retries safe: a retry answers 200 with the first order.
#[utoipa::path(post, path = "/api/v1/imaging/orders", tag = "imaging", request_body = NewOrder,
    responses((status = 201, body = Order), (status = 200, description = "a retry", body = Order), (status = 422, body = ErrorBody)))]
pub async fn create_order(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    headers: axum::http::HeaderMap,
    Json(order): Json<NewOrder>,
) -> Result<(axum::http::StatusCode, Json<Order>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (order, created) =
        super::order::create(&ctx, clock::now_ms(), &actor, &order, key.as_deref()).await?;
    let status = if created {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(order)))
}

#[derive(serde::Deserialize)]
pub struct OrderQuery {
    /// `scheduled` (the default: what the modality's worklist offers) or `all`.
    pub state: Option<String>,
}

/// The orders to be performed at the caller's institution.
#[utoipa::path(get, path = "/api/v1/imaging/orders", tag = "imaging", responses((status = 200, body = Vec<OrderItem>)))]
pub async fn list_orders(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    crate::http::extract::Query(query): crate::http::extract::Query<OrderQuery>,
) -> Result<Json<Vec<OrderItem>>, ApiError> {
    let scheduled_only = query.state.as_deref() != Some("all");
    Ok(Json(
        super::order::at_site(&ctx, clock::now_ms(), &actor, scheduled_only).await?,
    ))
}

/// The imaging centre's worklist: STAT first, then by waiting time (readers of the centre).
#[utoipa::path(get, path = "/api/v1/imaging/worklist", tag = "imaging", responses((status = 200, body = Vec<StudyItem>), (status = 403, body = ErrorBody)))]
pub async fn list_worklist(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<StudyItem>>, ApiError> {
    Ok(Json(study::worklist(&ctx, clock::now_ms(), &actor).await?))
}

/// Studies sent from the caller's institution, newest first.
#[utoipa::path(get, path = "/api/v1/imaging/inbox", tag = "imaging", responses((status = 200, body = Vec<StudyItem>)))]
pub async fn list_inbox(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<StudyItem>>, ApiError> {
    Ok(Json(study::inbox(&ctx, clock::now_ms(), &actor).await?))
}

/// A study with its series, instances and signed reports.
#[utoipa::path(get, path = "/api/v1/imaging/studies/{id}", tag = "imaging", responses((status = 200, body = StudyDetail), (status = 404, body = ErrorBody)))]
pub async fn get_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<StudyDetail>, ApiError> {
    Ok(Json(study::get(&ctx, clock::now_ms(), &actor, id).await?))
}

/// Claim a study; 409 `imaging.already_claimed` when another reader holds it.
#[utoipa::path(post, path = "/api/v1/imaging/studies/{id}/claim", tag = "imaging", responses((status = 200, body = StudyDetail), (status = 409, body = ErrorBody)))]
pub async fn claim_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<StudyDetail>, ApiError> {
    Ok(Json(study::claim(&ctx, clock::now_ms(), &actor, id).await?))
}

/// Sign a report (the reader holding the study), or amend a signed one by a new version.
#[utoipa::path(post, path = "/api/v1/imaging/studies/{id}/reports", tag = "imaging", request_body = NewReport, responses((status = 200, body = StudyDetail), (status = 409, body = ErrorBody)))]
pub async fn sign_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
    Json(report): Json<NewReport>,
) -> Result<Json<StudyDetail>, ApiError> {
    Ok(Json(
        study::sign(&ctx, clock::now_ms(), &actor, id, &report).await?,
    ))
}

/// The site confirms it has seen the signed report.
#[utoipa::path(post, path = "/api/v1/imaging/studies/{id}/acknowledge", tag = "imaging", responses((status = 200, body = StudyDetail), (status = 409, body = ErrorBody)))]
pub async fn acknowledge_study(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<StudyDetail>, ApiError> {
    Ok(Json(
        study::acknowledge(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}

/// Cancel a scheduled order; 422 `imaging.invalid` once it is performed.
#[utoipa::path(post, path = "/api/v1/imaging/orders/{id}/cancel", tag = "imaging", responses((status = 200, body = Order), (status = 422, body = ErrorBody)))]
pub async fn cancel_order(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(id): Path<i64>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(
        super::order::cancel(&ctx, clock::now_ms(), &actor, id).await?,
    ))
}
