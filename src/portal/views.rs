//! The portal's pages, for a phone screen: the resident's record, an ECG report with its
//! tracing, a lab report, and who has looked at the record; and the clinic's page that issues
//! the credentials.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::clock;
use crate::ctx::Ctx;
use crate::health_record::model::{ItemKind, TimelineQuery};
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/portal", get(record_page))
        .route("/portal/ecgs/{id}", get(ecg_page))
        .route("/portal/lab-reports/{id}", get(lab_page))
        .route("/residents/{id}/portal-account", post(issue))
        .route(
            "/api/v1/residents/{id}/portal-account",
            post(create_portal_account),
        )
}

struct Item {
    at: String,
    kind: &'static str,
    institution: String,
    summary: String,
    critical: bool,
    link: Option<String>,
}

struct Access {
    at: String,
    who: String,
    institution: String,
    action: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct RecordPage {
    user_name: String,
    items: Vec<Item>,
    accesses: Vec<Access>,
}

/// The resident's own record and the accesses to it.
async fn record_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let resident = super::own_resident(&actor)?;
    let now = clock::now_ms();
    let query = TimelineQuery::default();
    let items = crate::health_record::timeline(&ctx, now, &actor, resident, &query, 100, 0)
        .await?
        .into_iter()
        .map(|item| Item {
            at: clock::format_cst(item.at_ms),
            kind: item.kind.label_zh(),
            institution: item.institution_name,
            summary: item.summary,
            critical: item.critical.0,
            link: match item.kind {
                ItemKind::Ecg => Some(format!("/portal/ecgs/{}", item.id)),
                ItemKind::LabReport => Some(format!("/portal/lab-reports/{}", item.id)),
                _ => None,
            },
        })
        .collect();
    let accesses = crate::resident::accesses(&ctx, now, &actor, resident, 100, 0)
        .await?
        .into_iter()
        .map(|a| Access {
            at: clock::format_cst(a.at_ms),
            who: a.actor_name.unwrap_or_else(|| "系统".into()),
            institution: a.actor_institution_name.unwrap_or_else(|| "—".into()),
            action: crate::audit::action_label_zh(&a.action).to_owned(),
        })
        .collect();
    Ok(render(&RecordPage {
        user_name: actor.name,
        items,
        accesses,
    }))
}

struct Report {
    signed: String,
    critical: bool,
    conclusion: String,
}

#[derive(Template)]
#[template(path = "portal_ecg.html")]
struct EcgPage {
    user_name: String,
    recorded: String,
    site: String,
    reports: Vec<Report>,
    svg: String,
}

async fn ecg_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    super::own_resident(&actor)?;
    let now = clock::now_ms();
    let detail = crate::ecg::get(&ctx, now, &actor, id).await?;
    let waveform = crate::ecg::waveform(&ctx, now, &actor, id).await?;
    let names = institution_names(&ctx, &actor).await;
    Ok(render(&EcgPage {
        user_name: actor.name,
        recorded: clock::format_cst(detail.ecg.recorded_at_ms),
        site: names
            .get(&detail.ecg.site_institution_id)
            .cloned()
            .unwrap_or_default(),
        reports: detail
            .reports
            .iter()
            .rev()
            .map(|r| Report {
                signed: clock::format_cst(r.signed_at_ms),
                critical: r.critical.0,
                conclusion: r.conclusion.clone(),
            })
            .collect(),
        svg: crate::ecg::views::tracing_svg(&waveform, &detail.analysis),
    }))
}

#[derive(Template)]
#[template(path = "portal_lab.html")]
struct LabPage {
    user_name: String,
    order: String,
    observed: String,
    lab: String,
    results: Vec<crate::health_record::model::LabResult>,
}

async fn lab_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    super::own_resident(&actor)?;
    let report = crate::health_record::lab::get(&ctx, clock::now_ms(), &actor, id).await?;
    let names = institution_names(&ctx, &actor).await;
    Ok(render(&LabPage {
        user_name: actor.name,
        order: report.order_name,
        observed: clock::format_cst(report.observed_at_ms),
        lab: names
            .get(&report.lab_institution_id)
            .cloned()
            .unwrap_or_default(),
        results: report.results,
    }))
}

#[derive(Template)]
#[template(path = "portal_issued.html")]
struct IssuedPage {
    user_name: String,
    user_role: String,
    credentials: super::PortalCredentials,
}

/// The clinic issues the resident's credentials and prints this page for them.
async fn issue(State(ctx): State<Ctx>, WebActor(actor): WebActor, Path(id): Path<i64>) -> Response {
    match super::issue(&ctx, clock::now_ms(), &actor, id).await {
        Ok(credentials) => render(&IssuedPage {
            user_role: role_label(&actor),
            user_name: actor.name,
            credentials,
        })
        .into_response(),
        Err(error) => WebError::from(error).into_response(),
    }
}

/// Issue (or reissue) a resident's portal credentials; the password is shown this once.
#[utoipa::path(post, path = "/api/v1/residents/{id}/portal-account", tag = "portal",
    responses((status = 201, body = super::PortalCredentials), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn create_portal_account(
    State(ctx): State<Ctx>,
    crate::http::extract::ApiActor(actor): crate::http::extract::ApiActor,
    Path(id): Path<i64>,
) -> Result<
    (
        axum::http::StatusCode,
        crate::http::extract::Json<super::PortalCredentials>,
    ),
    crate::http::error::ApiError,
> {
    Ok((
        axum::http::StatusCode::CREATED,
        crate::http::extract::Json(super::issue(&ctx, clock::now_ms(), &actor, id).await?),
    ))
}
