//! The chronic care pages: an enrolment with its follow-up form (pre-filled from the last
//! visit, the rules' decision shown as the values are typed), its history and BP/FPG chart;
//! enrolling from the resident page; the village doctor's call list with one-press results.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::follow_up::{self, Adherence, FollowUp, Medicine, Mode, NewFollowUp, Override};
use super::model::{Basis, Enrolment, NewEnrolment};
use super::rules::{Classification, NextStep, Program, Symptom};
use super::schedule::{self, CallResult, DueItem, NewCall, RemoveReason, ScheduleQuery};
use crate::access::Actor;
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, Query, WebActor};
use crate::web::{WebError, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/chronic/enrolments/{id}", get(enrolment_page))
        .route(
            "/chronic/enrolments/{id}/follow-ups",
            post(record_follow_up),
        )
        .route("/chronic/enrolments/{id}/decision", get(decision_fragment))
        .route("/chronic/enrolments/{id}/calls", post(record_call))
        .route("/chronic/follow-ups/{id}", get(follow_up_link))
        .route("/residents/{id}/chronic", post(enrol))
        .route("/chronic/overdue", get(overdue_page))
}

/// The follow-up form as typed: every field text, so what was typed comes back on a refusal.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct FollowUpForm {
    followed_up_at: String,
    mode: String,
    symptoms: Vec<String>,
    sbp: String,
    dbp: String,
    heart_rate: String,
    weight_kg: String,
    height_cm: String,
    fpg_mmol: String,
    adherence: String,
    adverse_reaction: String,
    complication: String,
    medicine_name: Vec<String>,
    medicine_dose: Vec<String>,
    medicine_frequency: Vec<String>,
    override_classification: String,
    override_next_step: String,
    override_reason: String,
}

impl FollowUpForm {
    /// The API's form; a number that is not one is refused by its field.
    fn to_new(&self) -> Result<NewFollowUp, &'static str> {
        fn number(text: &str, field: &'static str) -> Result<Option<f64>, &'static str> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| field)
        }
        let medicines = self
            .medicine_name
            .iter()
            .enumerate()
            .filter(|(_, name)| !name.trim().is_empty())
            .map(|(i, name)| Medicine {
                name: name.trim().to_owned(),
                dose: self.medicine_dose.get(i).cloned().unwrap_or_default(),
                frequency: self.medicine_frequency.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        let override_decision = match (
            self.override_classification.parse::<i64>(),
            self.override_next_step.parse::<i64>(),
        ) {
            (Ok(classification), Ok(next_step)) => Some(Override {
                classification,
                next_step,
                reason: self.override_reason.clone(),
            }),
            _ => None,
        };
        Ok(NewFollowUp {
            followed_up_at: clock::from_page(&self.followed_up_at),
            mode: Mode::parse(&self.mode),
            symptoms: self
                .symptoms
                .iter()
                .filter_map(|s| Symptom::parse(s))
                .collect(),
            sbp: number(&self.sbp, "sbp")?,
            dbp: number(&self.dbp, "dbp")?,
            heart_rate: number(&self.heart_rate, "heart_rate")?,
            weight_kg: number(&self.weight_kg, "weight_kg")?,
            height_cm: number(&self.height_cm, "height_cm")?,
            fpg_mmol: number(&self.fpg_mmol, "fpg_mmol")?,
            adherence: Adherence::parse(&self.adherence),
            adverse_reaction: !self.adverse_reaction.is_empty(),
            complication: !self.complication.is_empty(),
            medicines,
            override_decision,
            ..NewFollowUp::default()
        })
    }

    /// The next visit's form, pre-filled from the last one (not its readings).
    fn after(last: Option<&FollowUp>, now: i64) -> FollowUpForm {
        let text = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        let mut form = FollowUpForm {
            followed_up_at: clock::to_page(now),
            mode: "clinic".into(),
            adherence: "regular".into(),
            ..FollowUpForm::default()
        };
        if let Some(last) = last {
            form.weight_kg = text(last.weight_kg);
            form.height_cm = text(last.height_cm);
            form.adherence = last.adherence.as_str().into();
            for m in &last.medicines {
                form.medicine_name.push(m.name.clone());
                form.medicine_dose.push(m.dose.clone());
                form.medicine_frequency.push(m.frequency.clone());
            }
        }
        while form.medicine_name.len() < 3 {
            form.medicine_name.push(String::new());
            form.medicine_dose.push(String::new());
            form.medicine_frequency.push(String::new());
        }
        form
    }
}

struct HistoryRow {
    follow_up: FollowUp,
    at: String,
    mode: &'static str,
    bp: String,
    fpg: String,
    overridden: bool,
}

#[derive(Template)]
#[template(path = "chronic_enrolment.html")]
struct EnrolmentPage {
    user_name: String,
    user_role: String,
    enrolment: Enrolment,
    resident_name: String,
    program: &'static str,
    institution: String,
    status: &'static str,
    diabetes: bool,
    can_record: bool,
    form: FollowUpForm,
    now_local: String,
    modes: Vec<(&'static str, &'static str)>,
    symptoms: Vec<(&'static str, &'static str)>,
    adherences: Vec<(&'static str, &'static str)>,
    classifications: Vec<(i64, &'static str)>,
    next_steps: Vec<(i64, &'static str)>,
    history: Vec<HistoryRow>,
    chart: String,
    error_text: String,
    error_field: &'static str,
}

fn status_zh(enrolment: &Enrolment) -> &'static str {
    match enrolment.status {
        super::model::Status::Managed => "管理中",
        super::model::Status::Lost => "暂时失访",
        super::model::Status::Ended => "已终止管理",
    }
}

/// The readings over time as a line chart (SBP, or FPG × 10 for diabetes), oldest first.
fn chart(history: &[FollowUp], diabetes: bool) -> String {
    let points: Vec<&FollowUp> = history.iter().rev().collect();
    let labels: Vec<String> = points
        .iter()
        .map(|f| f.followed_up_on[5..].to_owned())
        .collect();
    let line = |f: &&FollowUp| {
        if diabetes {
            f.fpg_mmol.map_or(0, |v| (v * 10.0).round() as i64)
        } else {
            f.sbp.map_or(0, |v| v.round() as i64)
        }
    };
    let bars: Vec<i64> = points
        .iter()
        .map(|f| f.dbp.map_or(0, |v| v.round() as i64))
        .collect();
    let line: Vec<i64> = points.iter().map(line).collect();
    let title = if diabetes {
        "空腹血糖 ×10（线）与舒张压（柱）"
    } else {
        "收缩压（线）与舒张压（柱），mmHg"
    };
    crate::web::chart::bars_and_line(&labels, &bars, &line, title)
}

async fn page(
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    form: Option<FollowUpForm>,
    error: Option<(String, &'static str)>,
) -> Result<EnrolmentPage, WebError> {
    let now = clock::now_ms();
    let enrolment = super::get(ctx, now, actor, id).await?;
    let history = follow_up::history(ctx, now, actor, id).await?;
    let resident = crate::resident::get(ctx, now, actor, enrolment.resident_id).await?;
    let names = institution_names(ctx, actor).await;
    let diabetes = enrolment.program == Program::Diabetes;
    let (error_text, error_field) = error.unwrap_or_default();
    Ok(EnrolmentPage {
        user_name: actor.name.clone(),
        user_role: role_label(actor),
        resident_name: resident.name,
        program: enrolment.program.label_zh(),
        institution: names
            .get(&enrolment.institution_id)
            .cloned()
            .unwrap_or_default(),
        status: status_zh(&enrolment),
        diabetes,
        can_record: enrolment.status != super::model::Status::Ended
            && actor.institution.is_some()
            && (actor.has_role(crate::access::Role::VillageDoctor)
                || actor.has_role(crate::access::Role::Doctor)),
        form: form.unwrap_or_else(|| FollowUpForm::after(history.first(), now)),
        now_local: clock::to_page(now),
        modes: Mode::ALL
            .iter()
            .map(|m| (m.as_str(), m.label_zh()))
            .collect(),
        symptoms: Symptom::ALL
            .iter()
            .map(|s| (s.as_str(), s.label_zh()))
            .collect(),
        adherences: vec![
            (Adherence::Regular.as_str(), "规律"),
            (Adherence::Intermittent.as_str(), "间断"),
            (Adherence::None.as_str(), "不服药"),
        ],
        classifications: Classification::ALL
            .iter()
            .map(|c| (c.as_number(), c.label_zh()))
            .collect(),
        next_steps: NextStep::ALL
            .iter()
            .map(|n| (n.as_number(), n.label_zh()))
            .collect(),
        chart: chart(&history, diabetes),
        history: history
            .into_iter()
            .map(|f| HistoryRow {
                at: clock::format_cst(f.followed_up_at_ms)[..16].to_owned(),
                mode: f.mode.label_zh(),
                bp: match (f.sbp, f.dbp) {
                    (Some(s), Some(d)) => format!("{s}/{d}"),
                    _ => "未测".into(),
                },
                fpg: f.fpg_mmol.map(|v| v.to_string()).unwrap_or_default(),
                overridden: !f.override_reason.is_empty(),
                follow_up: f,
            })
            .collect(),
        enrolment,
        error_text,
        error_field,
    })
}

async fn enrolment_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    Ok(render(&page(&ctx, &actor, id, None, None).await?))
}

/// What to fix in a refused follow-up, in Chinese, and the field it concerns.
fn follow_up_error_zh(error: &super::Error) -> Option<(String, &'static str)> {
    use super::Error as E;
    Some(match error {
        E::Implausible(i) => (
            format!("该数值不可信：应在 {} 至 {} 之间。", i.low, i.high),
            i.field,
        ),
        E::Invalid { field, .. } => (
            match *field {
                "followed_up_at" => "随访时间应为入组之后、不晚于现在。".to_owned(),
                "mode" => "请选择随访方式。".to_owned(),
                "adherence" => "请选择服药依从性。".to_owned(),
                "dbp" => "收缩压与舒张压须同时填写。".to_owned(),
                "medicines" => "每种药物须有药名，剂量与用法不超过 50 字。".to_owned(),
                "override.reason" => "与规则判定不同的分类或措施须写明理由。".to_owned(),
                other => format!("{other} 填写有误。"),
            },
            field,
        ),
        E::FollowUpRecorded => ("该时间的随访已记录。".to_owned(), "followed_up_at"),
        E::Ended => ("已终止管理，不能再记录随访。".to_owned(), ""),
        _ => return None,
    })
}

async fn record_follow_up(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<FollowUpForm>,
) -> Result<Response, WebError> {
    let refused = |what: (String, &'static str)| async {
        let page = page(&ctx, &actor, id, Some(form.clone()), Some(what)).await?;
        Ok::<Response, WebError>((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
    };
    let new = match form.to_new() {
        Ok(new) => new,
        Err(field) => return refused(("请填写数字。".to_owned(), field)).await,
    };
    match follow_up::record(&ctx, clock::now_ms(), &actor, id, &new).await {
        Ok(_) => Ok(Redirect::to(&format!("/chronic/enrolments/{id}#history")).into_response()),
        Err(error) => match follow_up_error_zh(&error) {
            Some(what) => refused(what).await,
            None => Err(error.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "chronic_decision.html")]
struct DecisionFragment {
    decision: Option<follow_up::DecisionView>,
    problem: String,
}

/// The rules' decision on the form as typed so far, as a fragment the page puts in place.
async fn decision_fragment(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Query(form): Query<FollowUpForm>,
) -> Result<Html<String>, WebError> {
    let decided = match form.to_new() {
        Ok(new) => follow_up::preview(&ctx, clock::now_ms(), &actor, id, &new)
            .await
            .map_err(|e| follow_up_error_zh(&e).map(|(text, _)| text).ok_or(e)),
        Err(_) => Err(Ok("请填写数字。".to_owned())),
    };
    let fragment = match decided {
        Ok(decision) => DecisionFragment {
            decision: Some(decision),
            problem: String::new(),
        },
        Err(Ok(problem)) => DecisionFragment {
            decision: None,
            problem,
        },
        Err(Err(error)) => return Err(error.into()),
    };
    Ok(render(&fragment))
}

async fn follow_up_link(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let enrolment = follow_up::enrolment_of(&ctx, clock::now_ms(), &actor, id).await?;
    Ok(Redirect::to(&format!("/chronic/enrolments/{enrolment}#history")).into_response())
}

#[derive(Deserialize)]
struct EnrolForm {
    program: String,
    basis: String,
    enrolled_on: String,
}

/// Enrols the resident from their page, managed by the doctor's own institution.
async fn enrol(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(form): Form<EnrolForm>,
) -> Result<Response, WebError> {
    let (Some(program), Some(basis), Some(institution)) = (
        Program::parse(&form.program),
        Basis::parse(&form.basis),
        actor.institution,
    ) else {
        return Err(super::Error::Invalid {
            field: "program",
            reason: "choose the programme and how it was diagnosed",
        }
        .into());
    };
    let new = NewEnrolment {
        resident_id,
        program,
        enrolled_on: form.enrolled_on,
        basis,
        institution_id: institution.id,
        doctor_staff_id: actor.staff_id,
        team_id: None,
    };
    let enrolment = super::enrol(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok(Redirect::to(&format!("/chronic/enrolments/{}", enrolment.id)).into_response())
}

#[derive(Template)]
#[template(path = "chronic_overdue.html")]
struct OverduePage {
    user_name: String,
    user_role: String,
    overdue: Vec<DueItem>,
    due: Vec<DueItem>,
    tasks: Vec<schedule::ReferralTask>,
    reasons: Vec<(&'static str, &'static str)>,
}

impl OverduePage {
    fn program_zh(&self, program: &Program) -> &'static str {
        program.label_zh()
    }
}

async fn overdue_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let (now, today) = (clock::now_ms(), clock::today_cst());
    let query = ScheduleQuery::default();
    let (overdue, due) = schedule::overdue_and_due(&ctx, now, today, &actor, &query).await?;
    Ok(render(&OverduePage {
        user_name: actor.name.clone(),
        user_role: role_label(&actor),
        overdue,
        due,
        tasks: schedule::referral_tasks(&ctx, now, today, &actor, &query).await?,
        reasons: RemoveReason::ALL
            .iter()
            .map(|r| (r.as_str(), r.label_zh()))
            .collect(),
    }))
}

#[derive(Deserialize)]
struct CallForm {
    result: String,
    #[serde(default)]
    reason: String,
}

async fn record_call(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<CallForm>,
) -> Result<Response, WebError> {
    let result = CallResult::parse(&form.result).ok_or(super::Error::Invalid {
        field: "result",
        reason: "agreed, call_later or removed",
    })?;
    let call = NewCall {
        result,
        reason: form.reason,
    };
    schedule::record_call(&ctx, clock::now_ms(), clock::today_cst(), &actor, id, &call).await?;
    Ok(Redirect::to("/chronic/overdue").into_response())
}
