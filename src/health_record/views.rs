//! Pages of the health record: the institution's critical lab values, acknowledged with one
//! click, and a lab report with its results, comments, specimen, corrections and attached
//! documents (the resident's record itself is on the resident page).

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
        .route("/lab-reports/{id}", get(lab_report_page))
        .route(
            "/lab-reports/{id}/results/{position}/attachment",
            get(attachment),
        )
        .merge(super::visit_form::routes())
}

/// A time as precisely as the lab gave it: a result "on 2026-11-23" stays a date.
pub fn at_precision(ms: i64, precision: &str) -> String {
    let full = clock::format_cst(ms);
    match precision {
        "year" => full[..4].to_owned(),
        "month" => full[..7].to_owned(),
        "day" => full[..10].to_owned(),
        "hour" | "minute" => full[..16].to_owned(),
        _ => full,
    }
}

/// OBX-11 and OBR-25 statuses in Chinese.
pub fn status_zh(status: &str) -> &'static str {
    match status {
        "F" => "最终",
        "P" => "初步",
        "C" => "更正",
        "X" => "无法检测",
        "I" => "标本已接收",
        "R" => "未审核",
        "A" => "部分结果",
        "S" => "部分结果",
        "D" => "已删除",
        "W" => "已作废",
        _ => "—",
    }
}

struct ResultRow {
    position: i64,
    name: String,
    code: String,
    loinc: String,
    value: String,
    unit: String,
    reference_range: String,
    flag: String,
    critical: bool,
    status: &'static str,
    superseded: bool,
    comment: String,
    attachment: bool,
}

#[derive(Template)]
#[template(path = "lab_report.html")]
struct LabReportPage {
    user_name: String,
    user_role: String,
    id: i64,
    resident_id: i64,
    order: String,
    order_code: String,
    status: &'static str,
    observed: String,
    received: String,
    lab: String,
    orderer: String,
    specimen: String,
    comment: String,
    results: Vec<ResultRow>,
}

async fn lab_report_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let report = super::lab::get(&ctx, clock::now_ms(), &actor, id).await?;
    let names = institution_names(&ctx, &actor).await;
    let name_of = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let specimen = [
        report.specimen_type.clone(),
        if report.specimen_id.is_empty() {
            String::new()
        } else {
            format!("标本号 {}", report.specimen_id)
        },
        report
            .specimen_collected_at_ms
            .map(|at| format!("采集于 {}", clock::format_cst(at)))
            .unwrap_or_default(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join("，");
    let page = LabReportPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        id,
        resident_id: report.resident_id,
        order: report.order_name.clone(),
        order_code: report.order_code.clone(),
        status: status_zh(&report.status),
        observed: at_precision(report.observed_at_ms, &report.observed_precision),
        received: clock::format_cst(report.received_at_ms),
        lab: name_of(report.lab_institution_id),
        orderer: if report.ordering_facility_given.is_empty() {
            name_of(report.ordering_institution_id)
        } else {
            report.ordering_facility_given.clone()
        },
        specimen,
        comment: report.comment.clone(),
        results: report
            .results
            .iter()
            .map(|r| ResultRow {
                position: r.position,
                name: r.name.clone(),
                code: r.code.clone(),
                loinc: r.loinc_code.clone(),
                value: r.value.clone(),
                unit: r.unit.clone(),
                reference_range: r.reference_range.clone(),
                flag: r.abnormal_flag.clone(),
                critical: r.critical.0,
                status: status_zh(&r.status),
                superseded: r.superseded.0,
                comment: r.comment.clone(),
                attachment: !r.attachment_type.is_empty(),
            })
            .collect(),
    };
    Ok(render(&page))
}

async fn attachment(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path((id, position)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let (media_type, bytes) =
        super::lab::attachment(&ctx, clock::now_ms(), &actor, id, position).await?;
    Ok(super::lab::attachment_response(media_type, bytes))
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
