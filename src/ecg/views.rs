//! The ECG pages: the readers' live worklist, the reading page (waveform, automatic findings,
//! claim, sign, amend) that also prints as the report, and the site's live inbox.

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use super::model::{NewReport, State as EcgState};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::error::ApiError;
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, done, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/ecg/worklist", get(worklist_page))
        .route("/ecg/inbox", get(inbox_page))
        .route("/ecg/{id}", get(ecg_page))
        .route("/ecg/{id}/claim", post(claim))
        .route("/ecg/{id}/report", post(sign))
        .route("/ecg/{id}/acknowledge", post(acknowledge))
        .route(
            "/residents/{id}/ecgs",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                super::MAX_UPLOAD_BYTES + (1 << 20),
            )),
        )
}

/// The resident page's upload form: the cart's file (or a WFDB pair), the recording time and
/// the note; on success the reading page with the automatic analysis at once. A refusal for
/// what was sent shows the resident page again saying what to fix. The form's hidden key makes
/// a second press of the button the same upload, never a duplicate.
async fn upload(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let mut upload = match super::http::read_upload(&headers, multipart).await {
        Ok(upload) => upload,
        Err(error) => return refused(&ctx, &actor, id, error, String::new()).await,
    };
    upload.resident = super::model::ResidentRef::Id(id);
    let note = upload.clinical_note.clone();
    let now = clock::now_ms();
    match super::upload(&ctx, now, clock::today_cst(), &actor, upload).await {
        Ok((ecg, _)) => {
            Ok(axum::response::Redirect::to(&format!("/ecg/{}", ecg.id)).into_response())
        }
        Err(error) => refused(&ctx, &actor, id, error.into(), note).await,
    }
}

async fn refused(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    id: i64,
    error: ApiError,
    note: String,
) -> Result<Response, WebError> {
    match upload_error_zh(&error) {
        Some(what) => crate::resident::views::upload_refused(ctx, actor, id, what, note).await,
        None => Err(WebError(error)),
    }
}

/// What to fix in a refused upload, in Chinese, and the form field it concerns; `None` when the
/// refusal is not about what was sent (no access, no such resident).
fn upload_error_zh(error: &ApiError) -> Option<(String, &'static str)> {
    let message = &error.message;
    Some(match error.code {
        "ecg.unreadable" => (
            format!(
                "心电图文件无法读取：请选择心电图机导出的原始文件；WFDB 记录需同时选择 .hea 与 .dat（{message}）"
            ),
            "file",
        ),
        "ecg.invalid" if message.contains("does not say when") => (
            "文件中没有记录时间，请填写记录时间后重新上传。".into(),
            "recorded_at",
        ),
        "ecg.invalid" if message.starts_with("recorded_at") => (
            "记录时间应在 1990 年以后，且不能晚于现在。".into(),
            "recorded_at",
        ),
        "ecg.invalid" if message.starts_with("clinical_note") => {
            ("临床信息最多 2000 字。".into(), "clinical_note")
        }
        "ecg.idempotency_key_reused" => (
            "这份表单已用于另一次上传，请刷新页面后重新选择文件上传。".into(),
            "file",
        ),
        "ecg.invalid" | "http.bad_request" => {
            (format!("上传内容有误，请重新选择文件（{message}）"), "file")
        }
        _ => return None,
    })
}

fn state_label(state: EcgState) -> &'static str {
    match state {
        EcgState::Waiting => "待阅",
        EcgState::Claimed => "阅读中",
        EcgState::Reported => "已签发",
    }
}

fn rhythm_label(rhythm: &str) -> &'static str {
    match rhythm {
        "sinus_rhythm" => "窦性心律",
        "sinus_bradycardia" => "窦性心动过缓",
        "sinus_tachycardia" => "窦性心动过速",
        "irregular_rhythm" => "心律不齐（提示心房颤动）",
        _ => "无法判断",
    }
}

/// The STEMI screening in Chinese, from its structured leads.
fn stemi_zh(screening: &serde_json::Value) -> String {
    if screening["suspected"] != true {
        return "未见 STEMI 证据".into();
    }
    let leads: Vec<String> = screening["elevated"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|e| {
                    format!(
                        "{} 抬高 {:.1} mm（阈值 {:.1} mm）",
                        e["lead"].as_str().unwrap_or_default(),
                        e["mm"].as_f64().unwrap_or(0.0),
                        e["limit_mm"].as_f64().unwrap_or(0.0)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!("疑似 STEMI：相邻导联 J 点抬高 — {}", leads.join("，"))
}

/// The automatic critical-value reasons in Chinese.
pub(crate) fn critical_zh(analysis: &serde_json::Value) -> String {
    let reasons: Vec<String> = analysis["critical_reasons"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|r| r.as_str())
                .map(critical_reason_zh)
                .collect()
        })
        .unwrap_or_default();
    if reasons.is_empty() {
        "无".into()
    } else {
        reasons.join("；")
    }
}

fn critical_reason_zh(reason: &str) -> String {
    let rate = || analysis_rate(reason);
    if reason.starts_with("suspected STEMI") {
        "疑似 ST 段抬高型心肌梗死".into()
    } else if reason.contains("< 40") {
        format!("心率 {} 次/分，低于 40", rate())
    } else if reason.contains("> 150") {
        format!("心率 {} 次/分，高于 150", rate())
    } else if reason.starts_with("run of wide") {
        "连续宽大快速心搏（可能室性心动过速）".into()
    } else {
        reason.to_owned()
    }
}

fn analysis_rate(reason: &str) -> String {
    reason
        .split_whitespace()
        .find_map(|word| word.strip_suffix("/min"))
        .unwrap_or("?")
        .to_owned()
}

struct WorklistRow {
    id: i64,
    stat: bool,
    resident: String,
    site: String,
    received: String,
    waiting_min: i64,
    overdue: bool,
    findings: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "ecg_worklist.html")]
struct WorklistPage {
    user_name: String,
    user_role: String,
    rows: Vec<WorklistRow>,
}

async fn worklist_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let items = super::worklist(&ctx, clock::now_ms(), &actor).await?;
    let rows = items
        .into_iter()
        .map(|item| WorklistRow {
            id: item.ecg.id,
            stat: item.ecg.priority == super::model::Priority::Stat,
            resident: item.resident_name,
            site: item.site_name,
            received: clock::format_cst(item.ecg.received_at_ms),
            waiting_min: item.waiting_ms / 60_000,
            overdue: item.overdue,
            findings: item
                .automatic_findings
                .iter()
                .map(|r| critical_reason_zh(r))
                .collect::<Vec<_>>()
                .join("；"),
            state: state_label(item.ecg.state),
        })
        .collect();
    Ok(render(&WorklistPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        rows,
    }))
}

struct InboxRow {
    id: i64,
    stat: bool,
    received: String,
    state: String,
}

#[derive(Template)]
#[template(path = "ecg_inbox.html")]
struct InboxPage {
    user_name: String,
    user_role: String,
    rows: Vec<InboxRow>,
}

async fn inbox_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let ecgs = super::inbox(&ctx, clock::now_ms(), &actor, 100, 0).await?;
    let rows = ecgs
        .into_iter()
        .map(|e| InboxRow {
            id: e.id,
            stat: e.priority == super::model::Priority::Stat,
            received: clock::format_cst(e.received_at_ms),
            state: match (e.state, e.acknowledged_at_ms, e.escalated_at_ms) {
                (EcgState::Reported, Some(_), _) => "已签发，已确认".into(),
                (EcgState::Reported, None, Some(_)) => {
                    "已签发，待确认（危急值超时，已升级提醒）".into()
                }
                (EcgState::Reported, None, None) => "已签发，待确认".into(),
                (state, _, _) => state_label(state).into(),
            },
        })
        .collect();
    Ok(render(&InboxPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        rows,
    }))
}

struct ReportRow {
    version: i64,
    signed: String,
    reader: String,
    critical: bool,
    findings: String,
    conclusion: String,
}

#[derive(Template)]
#[template(path = "ecg.html")]
struct EcgPage {
    user_name: String,
    user_role: String,
    id: i64,
    stat: bool,
    resident_name: String,
    sex: &'static str,
    age: i32,
    id_number: String,
    site: String,
    recorded: String,
    received: String,
    state: &'static str,
    overdue: bool,
    note: String,
    heart_rate: String,
    rhythm: &'static str,
    intervals: String,
    /// 一家自动分析 beside 设备自动分析, one row per measurement.
    measures: Vec<MeasureRow>,
    device: Option<String>,
    device_text: Option<String>,
    disagrees: bool,
    non_ecg: String,
    stemi: String,
    critical: String,
    svg: String,
    reports: Vec<ReportRow>,
    can_claim: bool,
    can_sign: bool,
    can_acknowledge: bool,
    acknowledged: Option<String>,
}

struct MeasureRow {
    label: &'static str,
    ours: String,
    device: String,
    disagrees: bool,
}

/// yijia's and the device's automatic measurements side by side; the device column is empty
/// when the file stated nothing.
fn measure_rows(analysis: &serde_json::Value) -> Vec<MeasureRow> {
    let stated = &analysis["device_statement"];
    let flagged: Vec<&str> = analysis["disagreements"]
        .as_array()
        .map(|d| d.iter().filter_map(|x| x["measure"].as_str()).collect())
        .unwrap_or_default();
    let show = |value: &serde_json::Value, unit: &str| {
        value
            .as_f64()
            .map_or("—".to_owned(), |v| format!("{v:.0} {unit}"))
    };
    [
        ("心率", "heart_rate_bpm", "heart_rate_bpm", "次/分"),
        ("PR 间期", "pr_ms", "pr_ms", "ms"),
        ("QRS 时限", "qrs_ms", "qrs_ms", "ms"),
        ("QT 间期", "qt_ms", "qt_ms", "ms"),
        ("QTc（Bazett）", "qtc_ms", "qtc_ms", "ms"),
        ("P 电轴", "p_axis_deg", "p_axis_deg", "°"),
        ("QRS 电轴", "qrs_axis_deg", "qrs_axis_deg", "°"),
        ("T 电轴", "t_axis_deg", "t_axis_deg", "°"),
    ]
    .into_iter()
    .map(|(label, ours, theirs, unit)| MeasureRow {
        label,
        ours: match analysis["not_measured"][ours].as_str() {
            Some(_) if analysis[ours].is_null() => "未能测量".to_owned(),
            _ => show(&analysis[ours], unit),
        },
        device: show(&stated[theirs], unit),
        disagrees: flagged.contains(&ours),
    })
    .collect()
}

async fn ecg_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let now = clock::now_ms();
    let detail = super::get(&ctx, now, &actor, id).await?;
    let resident = crate::resident::get(&ctx, now, &actor, detail.ecg.resident_id).await?;
    let waveform = super::waveform(&ctx, now, &actor, id).await?;
    let names = institution_names(&ctx, &actor).await;
    let analysis = &detail.analysis;
    let ms = |key: &str| {
        analysis[key]
            .as_f64()
            .map_or("—".to_owned(), |v| format!("{v:.0} ms"))
    };
    let ecg = &detail.ecg;
    let is_reader = actor.reads_for(crate::institution::model::CentreService::Ecg);
    let holds = ecg.state == EcgState::Claimed && ecg.claimed_by_staff_id == Some(actor.staff_id);
    let at_site = actor.institution.map(|i| i.id) == Some(ecg.site_institution_id);
    let page = EcgPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        id,
        stat: ecg.priority == super::model::Priority::Stat,
        resident_name: resident.name.clone(),
        sex: resident.sex.label_zh(),
        age: resident.age_on(clock::today_cst()),
        id_number: resident.id_number.clone(),
        site: names
            .get(&ecg.site_institution_id)
            .cloned()
            .unwrap_or_default(),
        recorded: clock::format_cst(ecg.recorded_at_ms),
        received: clock::format_cst(ecg.received_at_ms),
        state: state_label(ecg.state),
        overdue: detail.overdue,
        note: ecg.clinical_note.clone(),
        heart_rate: analysis["heart_rate_bpm"]
            .as_f64()
            .map_or("—".into(), |r| format!("{r:.0} 次/分")),
        rhythm: rhythm_label(analysis["rhythm"].as_str().unwrap_or_default()),
        intervals: format!("{} / {} / {}", ms("pr_ms"), ms("qrs_ms"), ms("qt_ms")),
        measures: measure_rows(analysis),
        device: analysis["device"].as_object().map(|d| {
            ["manufacturer", "model"]
                .iter()
                .filter_map(|k| d.get(*k).and_then(|v| v.as_str()))
                .collect::<Vec<_>>()
                .join(" ")
        }),
        device_text: analysis["device_statement"]["text"]
            .as_str()
            .map(str::to_owned),
        disagrees: analysis["disagreements"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        non_ecg: analysis["non_ecg_channels"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            })
            .unwrap_or_default(),
        stemi: stemi_zh(&analysis["stemi"]),
        critical: critical_zh(analysis),
        svg: tracing_svg(&waveform, analysis),
        reports: detail
            .reports
            .iter()
            .map(|r| ReportRow {
                version: r.version,
                signed: clock::format_cst(r.signed_at_ms),
                reader: r.reader_name.clone(),
                critical: r.critical.0,
                findings: r.findings.clone(),
                conclusion: r.conclusion.clone(),
            })
            .collect(),
        can_claim: is_reader && ecg.state == EcgState::Waiting,
        can_sign: is_reader && (holds || ecg.state == EcgState::Reported),
        can_acknowledge: at_site
            && ecg.state == EcgState::Reported
            && ecg.acknowledged_at_ms.is_none(),
        acknowledged: ecg.acknowledged_at_ms.map(clock::format_cst),
    };
    Ok(render(&page))
}

async fn claim(State(ctx): State<Ctx>, WebActor(actor): WebActor, Path(id): Path<i64>) -> Response {
    done(
        super::claim(&ctx, clock::now_ms(), &actor, id).await,
        &format!("/ecg/{id}"),
    )
}

async fn sign(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<crate::reading::ReportForm>,
) -> Response {
    let report = NewReport::from(form);
    done(
        super::sign_report(&ctx, clock::now_ms(), &actor, id, &report).await,
        &format!("/ecg/{id}"),
    )
}

async fn acknowledge(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    done(
        super::acknowledge(&ctx, clock::now_ms(), &actor, id).await,
        &format!("/ecg/{id}"),
    )
}

/// The 12-lead tracing as SVG, with the detected beats and ST deviations of the analysis.
pub(crate) fn tracing_svg(waveform: &yijia_ecg::Waveform, analysis: &serde_json::Value) -> String {
    let beats: Vec<usize> = analysis["beats"]
        .as_array()
        .map(|b| {
            b.iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as usize)
                .collect()
        })
        .unwrap_or_default();
    let st_mm = analysis["st_deviation_mm"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default();
    super::svg::render(waveform, &beats, &st_mm)
}
