//! The referral board: the referrals an institution sent and received, green channel first,
//! with a button for each step the viewer's side may take next. Live.

use std::collections::HashMap;

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{self, Party, ReferralQuery, ReferralState};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Path, Query, WebActor};
use crate::web::{WebError, done, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/referrals", get(board))
        .route("/referrals/{id}/transition", post(transition))
        .route("/referrals/figures", get(figures_page))
        .route("/referrals/{id}", get(case_page))
        .merge(super::form::routes())
}

fn action_label(to: ReferralState) -> &'static str {
    match to {
        ReferralState::Submitted => "提交",
        ReferralState::Accepted => "接收",
        ReferralState::Rejected => "拒绝",
        ReferralState::Arrived => "患者到达",
        ReferralState::Completed => "完成",
        ReferralState::Received => "接诊",
        ReferralState::FollowUpPlanned => "制定随访计划",
        ReferralState::Closed => "闭环",
        ReferralState::Cancelled => "取消",
        ReferralState::Draft => "",
    }
}

const ALL_STATES: [ReferralState; 10] = [
    ReferralState::Draft,
    ReferralState::Submitted,
    ReferralState::Accepted,
    ReferralState::Rejected,
    ReferralState::Arrived,
    ReferralState::Completed,
    ReferralState::Received,
    ReferralState::FollowUpPlanned,
    ReferralState::Closed,
    ReferralState::Cancelled,
];

struct Row {
    id: i64,
    green_channel: bool,
    direction: &'static str,
    resident_id: i64,
    resident: String,
    from: String,
    to: String,
    diagnosis: String,
    state: &'static str,
    created: String,
    actions: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct Board {
    user_name: String,
    user_role: String,
    rows: Vec<Row>,
    suggestions: Vec<SuggestionRow>,
    /// The filters and order chosen, as query values ("" for any), and the choices.
    direction: &'static str,
    state: &'static str,
    sort: &'static str,
    directions: Vec<(&'static str, &'static str)>,
    states: Vec<(&'static str, &'static str)>,
    sorts: Vec<(&'static str, &'static str)>,
    /// This page's number, whether another follows, and the filters as a query string.
    page: i64,
    more: bool,
    filters: String,
}

#[derive(Deserialize)]
struct BoardQuery {
    direction: Option<String>,
    state: Option<String>,
    sort: Option<String>,
    page: Option<i64>,
}

/// Referrals on one page of the board.
const REFERRALS_PER_PAGE: i64 = 50;

struct SuggestionRow {
    resident_id: i64,
    diagnosis: String,
    since: String,
    to: String,
}

async fn board(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(board): Query<BoardQuery>,
) -> Result<Html<String>, WebError> {
    let now = clock::now_ms();
    let query = ReferralQuery {
        institution: None,
        direction: board.direction.as_deref().and_then(model::Direction::parse),
        state: board.state.as_deref().and_then(ReferralState::parse),
        sort: board.sort.as_deref().and_then(model::ReferralSort::parse),
    };
    let number = board.page.unwrap_or(1).clamp(1, 1000);
    // One more than a page, to know whether there is a next one.
    let mut referrals = super::list(
        &ctx,
        now,
        &actor,
        &query,
        REFERRALS_PER_PAGE + 1,
        (number - 1) * REFERRALS_PER_PAGE,
    )
    .await?;
    let more = referrals.len() as i64 > REFERRALS_PER_PAGE;
    referrals.truncate(REFERRALS_PER_PAGE as usize);
    let names: HashMap<i64, String> = institution_names(&ctx, &actor).await;
    let ids: Vec<i64> = referrals.iter().map(|r| r.resident_id).collect();
    let people = crate::resident::names(&ctx, now, &actor, &ids).await?;
    let rows = referrals
        .into_iter()
        .map(|r| {
            let actions = actions_for(&actor, &r);
            Row {
                resident: people
                    .get(&r.resident_id)
                    .cloned()
                    .unwrap_or_else(|| format!("居民 {}", r.resident_id)),
                id: r.id,
                green_channel: r.green_channel.is_some(),
                direction: r.direction.label_zh(),
                resident_id: r.resident_id,
                from: names
                    .get(&r.from_institution_id)
                    .cloned()
                    .unwrap_or_default(),
                to: names.get(&r.to_institution_id).cloned().unwrap_or_default(),
                diagnosis: r.diagnosis_icd10,
                state: r.state.label_zh(),
                created: clock::format_cst(r.created_at_ms),
                actions,
            }
        })
        .collect();
    let suggestions = super::down_suggestions(&ctx, clock::now_ms(), &actor)
        .await?
        .into_iter()
        .map(|s| SuggestionRow {
            resident_id: s.resident_id,
            diagnosis: s.diagnosis_icd10,
            since: clock::format_cst(s.started_at_ms),
            to: names
                .get(&s.suggested_institution_id)
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    let direction = query.direction.map_or("", model::Direction::as_str);
    let state = query.state.map_or("", ReferralState::as_str);
    let sort = query.sort.unwrap_or_default().as_str();
    Ok(render(&Board {
        user_role: role_label(&actor),
        user_name: actor.name,
        rows,
        suggestions,
        filters: format!("direction={direction}&state={state}&sort={sort}"),
        direction,
        state,
        sort,
        directions: [model::Direction::Up, model::Direction::Down]
            .into_iter()
            .map(|d| (d.as_str(), d.label_zh()))
            .collect(),
        states: ALL_STATES
            .into_iter()
            .map(|s| (s.as_str(), s.label_zh()))
            .collect(),
        sorts: model::ReferralSort::ALL
            .into_iter()
            .map(|s| (s.as_str(), s.label_zh()))
            .collect(),
        page: number,
        more,
    }))
}

/// The steps the viewer's side of a referral may take next: (state, button label).
fn actions_for(
    actor: &crate::access::Actor,
    r: &model::Referral,
) -> Vec<(&'static str, &'static str)> {
    let side = if actor.institution.map(|i| i.id) == Some(r.from_institution_id) {
        Party::Sender
    } else {
        Party::Receiver
    };
    ALL_STATES
        .into_iter()
        .filter(|to| model::step(r.direction, r.state, *to) == Some(side))
        .map(|to| (to.as_str(), action_label(to)))
        .collect()
}

#[derive(Deserialize)]
struct TransitionForm {
    to: String,
    /// Where to go back to: the case page, or the board when absent.
    #[serde(default)]
    back: Option<String>,
}

async fn transition(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<TransitionForm>,
) -> Response {
    let Some(to) = ReferralState::parse(&form.to) else {
        return WebError::from(super::Error::Invalid {
            field: "to",
            reason: "unknown state",
        })
        .into_response();
    };
    let back = match form.back.as_deref() {
        Some("case") => format!("/referrals/{id}"),
        _ => "/referrals".to_owned(),
    };
    done(
        super::transition(&ctx, clock::now_ms(), &actor, id, to, "").await,
        &back,
    )
}

fn point_label(point: &str) -> &'static str {
    match point {
        "first_medical_contact" => "首次医疗接触",
        "ecg_recorded" => "心电图记录",
        "ecg_received" => "心电图上传",
        "report_signed" => "报告签发",
        "referral_submitted" => "转诊提交",
        "accepted" => "转诊接收",
        "departure" => "出发",
        "arrival" => "到达医院大门",
        "cath_lab_activation" => "导管室激活",
        "wire_crossing" => "导丝通过",
        _ => "其他",
    }
}

fn interval_label(name: &str) -> &'static str {
    match name {
        "fmc_to_ecg" => "首次医疗接触至心电图",
        "ecg_to_report" => "心电图至报告",
        "report_to_departure" => "报告至出发",
        "door_in_door_out" => "进门至出门（DIDO）",
        "door_to_balloon" => "门球时间（D2B）",
        "fmc_to_balloon" => "首次医疗接触至球囊",
        _ => "其他",
    }
}

struct IntervalRow {
    label: &'static str,
    minutes: String,
    target: String,
    verdict: &'static str,
    missed: bool,
}

#[derive(Template)]
#[template(path = "referral.html")]
struct CasePage {
    user_name: String,
    user_role: String,
    /// The ECG and lab reports sent with the referral: (link, label).
    attachments: Vec<(String, String)>,
    id: i64,
    direction: &'static str,
    green_channel: bool,
    from: String,
    to: String,
    diagnosis: String,
    reason: String,
    state: &'static str,
    resident_id: i64,
    resident: String,
    actions: Vec<(&'static str, &'static str)>,
    points: Vec<(&'static str, String)>,
    intervals: Vec<IntervalRow>,
}

/// The case timeline: every time point and the chest pain centre intervals against targets.
async fn case_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let now = clock::now_ms();
    let detail = super::get(&ctx, now, &actor, id).await?;
    let timeline = super::timeline(&ctx, now, &actor, id).await?;
    let names: HashMap<i64, String> = institution_names(&ctx, &actor).await;
    let r = detail.referral;
    let mut points: Vec<(i64, &'static str, String)> = timeline
        .points
        .iter()
        .map(|(point, at)| (*at, point_label(point), clock::format_cst(*at)))
        .collect();
    points.sort();
    let intervals = timeline
        .intervals
        .iter()
        .map(|i| IntervalRow {
            label: interval_label(i.name),
            minutes: i.minutes.map_or("—".into(), |m| format!("{m:.1}")),
            target: i.target_minutes.map_or("—".into(), |t| format!("≤ {t:.0}")),
            verdict: match i.within_target {
                Some(true) => "达标",
                Some(false) => "未达标",
                None => "—",
            },
            missed: i.within_target == Some(false),
        })
        .collect();
    let resident = crate::resident::get(&ctx, now, &actor, r.resident_id).await?;
    let mut attachments = Vec::new();
    if let Some(ecg_id) = r.ecg_id {
        attachments.push((format!("/ecg/{ecg_id}"), "心电图及报告".to_owned()));
    }
    for lab_id in detail.lab_report_ids {
        let report = crate::health_record::lab::get(&ctx, now, &actor, lab_id).await?;
        let at = clock::format_cst(report.observed_at_ms);
        let critical = if report.critical.0 {
            "（危急值）"
        } else {
            ""
        };
        attachments.push((
            format!("/lab-reports/{lab_id}"),
            format!("检验报告：{} · {}{critical}", report.order_name, &at[..16]),
        ));
    }
    let page = CasePage {
        attachments,
        actions: actions_for(&actor, &r),
        resident_id: r.resident_id,
        resident: resident.name,
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        id,
        direction: r.direction.label_zh(),
        green_channel: r.green_channel.is_some(),
        from: names
            .get(&r.from_institution_id)
            .cloned()
            .unwrap_or_default(),
        to: names.get(&r.to_institution_id).cloned().unwrap_or_default(),
        diagnosis: format!(
            "{} {}",
            r.diagnosis_icd10,
            crate::icd10::display(&r.diagnosis_icd10).unwrap_or_default()
        ),
        reason: r.reason,
        state: r.state.label_zh(),
        points: points
            .into_iter()
            .map(|(_, label, at)| (label, at))
            .collect(),
        intervals,
    };
    Ok(render(&page))
}

struct FiguresRow {
    institution: String,
    up_sent: i64,
    down_sent: i64,
    received: i64,
    accepted: i64,
    rejected: i64,
    closed_loop: String,
    green_channel: i64,
    exceptions: Vec<String>,
}

struct ChestPainRow {
    institution: String,
    cases: usize,
    intervals: Vec<(&'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "referral_figures.html")]
struct FiguresPage {
    user_name: String,
    user_role: String,
    month: String,
    rows: Vec<FiguresRow>,
    chest_pain: Vec<ChestPainRow>,
}

#[derive(Deserialize)]
struct MonthForm {
    month: Option<String>,
}

/// The month's referral figures and chest pain report, for managers and the health bureau.
async fn figures_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(form): Query<MonthForm>,
) -> Result<Html<String>, WebError> {
    let month = form
        .month
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| clock::month_cst(clock::now_ms()));
    let figures = super::figures::referral_figures(&ctx, &actor, &month).await?;
    let chest_pain = super::figures::chest_pain_report(&ctx, &actor, &month).await?;
    let names: HashMap<i64, String> = institution_names(&ctx, &actor).await;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let share = |value: Option<f64>| value.map_or("—".into(), |v| format!("{:.0}%", v * 100.0));
    let rows = figures
        .into_iter()
        .map(|f| FiguresRow {
            institution: name(f.institution_id),
            up_sent: f.up_sent,
            down_sent: f.down_sent,
            received: f.received,
            accepted: f.accepted,
            rejected: f.rejected,
            closed_loop: share(f.closed_loop_rate),
            green_channel: f.green_channel,
            exceptions: f.catalogue_exception_reasons,
        })
        .collect();
    let chest_pain = chest_pain
        .into_iter()
        .map(|c| ChestPainRow {
            institution: name(c.sending_institution_id),
            cases: c.cases,
            intervals: c
                .intervals
                .iter()
                .map(|i| {
                    (
                        interval_label(i.name),
                        i.median_minutes.map_or("—".into(), |m| format!("{m:.1}")),
                        share(i.within_target_share),
                    )
                })
                .collect(),
        })
        .collect();
    Ok(render(&FiguresPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        month,
        rows,
        chest_pain,
    }))
}
