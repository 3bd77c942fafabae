//! Pages of the health record: the institution's critical lab values, acknowledged with one
//! click (the resident's record itself is on the resident page).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, Response};
use axum::routing::{get, post};

use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, done, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/critical-values", get(critical_values_page))
        .route("/critical-values/{id}/acknowledge", post(acknowledge))
}

struct Row {
    id: i64,
    resident_id: i64,
    received: String,
    lab: String,
    order: String,
    results: String,
    state: &'static str,
    open: bool,
}

#[derive(Template)]
#[template(path = "critical_values.html")]
struct CriticalValuesPage {
    user_name: String,
    user_role: String,
    rows: Vec<Row>,
}

async fn critical_values_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let now = clock::now_ms();
    let reports = super::lab::critical_values(&ctx, now, &actor, 100, 0).await?;
    let names = institution_names(&ctx, &actor).await;
    let mut rows = Vec::with_capacity(reports.len());
    for report in reports {
        let results = report
            .results
            .iter()
            .filter(|r| r.critical.0)
            .map(|r| format!("{} {} {}（{}）", r.name, r.value, r.unit, r.abnormal_flag))
            .collect::<Vec<_>>()
            .join("；");
        rows.push(Row {
            id: report.id,
            resident_id: report.resident_id,
            received: clock::format_cst(report.received_at_ms),
            lab: names
                .get(&report.lab_institution_id)
                .cloned()
                .unwrap_or_default(),
            order: report.order_name,
            results,
            state: match (report.acknowledged_at_ms, report.escalated_at_ms) {
                (Some(_), _) => "已确认",
                (None, Some(_)) => "超时未确认，已升级",
                (None, None) => "待确认",
            },
            open: report.acknowledged_at_ms.is_none(),
        });
    }
    Ok(render(&CriticalValuesPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        rows,
    }))
}

async fn acknowledge(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    done(
        super::lab::acknowledge(&ctx, clock::now_ms(), &actor, id).await,
        "/critical-values",
    )
}
