//! Writing a referral from the pages — the form on the resident's page, the receiver chosen
//! from the institution tree, the diagnosis found by code or Chinese name — and the printable
//! referral slip (转诊单) with the QR code of its number.

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::Error;
use super::model::{Direction, GreenChannel, NewReferral, Urgency};
use crate::ctx::Ctx;
use crate::http::extract::{Path, Query, WebActor};
use crate::web::{WebError, institution_names, once, render, role_label};
use crate::{clock, health_record, institution, resident};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/residents/{id}/referrals",
            get(new_page).post(create_referral),
        )
        .route("/referrals/{id}/slip", get(slip))
}

/// The form as typed; every field kept when the form is refused.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct ReferralForm {
    direction: String,
    /// `INSTITUTION` or `INSTITUTION:DEPARTMENT`.
    to: String,
    /// The code, perhaps followed by its name as the list offered it (`I21.0 急性…`).
    diagnosis: String,
    reason: String,
    urgency: String,
    green_channel: String,
    ecg_id: String,
    /// One per ticked lab report.
    lab_report_id: Vec<String>,
    catalogue_exception_reason: String,
    /// Present when the referral is kept as a draft instead of submitted.
    draft: Option<String>,
    form_key: String,
}

struct Receiver {
    value: String,
    label: String,
}

struct ReceiverGroup {
    label: &'static str,
    receivers: Vec<Receiver>,
}

#[derive(Template)]
#[template(path = "referral_new.html")]
struct NewReferralPage {
    user_name: String,
    user_role: String,
    resident_id: i64,
    resident_name: String,
    direction: &'static str,
    groups: Vec<ReceiverGroup>,
    /// The resident's ECGs and lab reports to attach: (id, label).
    ecgs: Vec<(i64, String)>,
    lab_reports: Vec<(i64, String)>,
    urgencies: Vec<(&'static str, &'static str)>,
    green_channels: Vec<(&'static str, &'static str)>,
    form: ReferralForm,
    /// What to fix, in Chinese, and the field it concerns ("" when nothing).
    error_text: String,
    error_field: &'static str,
}

#[derive(Deserialize)]
struct NewQuery {
    direction: Option<String>,
}

async fn new_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Query(query): Query<NewQuery>,
) -> Result<Html<String>, WebError> {
    let direction = query
        .direction
        .as_deref()
        .and_then(Direction::parse)
        .unwrap_or(Direction::Up);
    let form = ReferralForm {
        direction: direction.as_str().to_owned(),
        urgency: Urgency::Routine.as_str().to_owned(),
        form_key: crate::http::guard::new_token(),
        ..Default::default()
    };
    Ok(render(&form_page(&ctx, &actor, id, form, None).await?))
}

async fn form_page(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    resident_id: i64,
    form: ReferralForm,
    error: Option<(String, &'static str)>,
) -> Result<NewReferralPage, WebError> {
    let now = clock::now_ms();
    let own = actor.institution.ok_or(crate::access::Denied)?;
    let resident = resident::get(ctx, now, actor, resident_id).await?;
    let direction = Direction::parse(&form.direction).unwrap_or(Direction::Up);
    let mut attachable = Vec::new();
    for kind in ["ecg", "lab_report"] {
        let query = health_record::model::TimelineQuery {
            kind: Some(kind.into()),
            ..Default::default()
        };
        let items: Vec<(i64, String)> =
            health_record::timeline(ctx, now, actor, resident_id, &query, 20, 0)
                .await?
                .into_iter()
                .map(|item| {
                    let at = clock::format_cst(item.at_ms);
                    let critical = if item.critical.0 { "危急 · " } else { "" };
                    (
                        item.id,
                        format!("{} · {critical}{}", &at[..16], item.summary),
                    )
                })
                .collect();
        attachable.push(items);
    }
    let lab_reports = attachable.pop().unwrap_or_default();
    let ecgs = attachable.pop().unwrap_or_default();
    let (error_text, error_field) = error.unwrap_or_default();
    Ok(NewReferralPage {
        user_role: role_label(actor),
        user_name: actor.name.clone(),
        resident_id,
        resident_name: resident.name,
        direction: direction.as_str(),
        groups: receivers(ctx, actor, own, direction).await?,
        ecgs,
        lab_reports,
        urgencies: Urgency::ALL
            .iter()
            .map(|u| (u.as_str(), u.label_zh()))
            .collect(),
        green_channels: GreenChannel::ALL
            .iter()
            .map(|g| (g.as_str(), g.label_zh()))
            .collect(),
        form,
        error_text,
        error_field,
    })
}

/// The institutions a referral in `direction` may go to, by kind, each with its departments.
async fn receivers(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    own: crate::access::ActorInstitution,
    direction: Direction,
) -> Result<Vec<ReceiverGroup>, WebError> {
    let mut all = institution::list(ctx, actor).await?;
    all.retain(|i| match direction {
        Direction::Up => i.kind.level() > own.kind.level(),
        Direction::Down => i.kind.level() < own.kind.level(),
    });
    // Nearest first: the sender's own township before the others.
    all.sort_by_key(|i| {
        (
            i.township_id != own.township_id,
            i.kind.level(),
            i.code.clone(),
        )
    });
    let mut groups: Vec<ReceiverGroup> = Vec::new();
    for i in all {
        let mut receivers = vec![Receiver {
            value: i.id.to_string(),
            label: i.name.clone(),
        }];
        if i.kind.level() >= 2 {
            for d in institution::store::departments_of(&ctx.db, actor.community_id, i.id).await? {
                receivers.push(Receiver {
                    value: format!("{}:{}", i.id, d.id),
                    label: format!("{} · {}", i.name, d.name),
                });
            }
        }
        let label = i.kind.label_zh();
        match groups.iter_mut().find(|g| g.label == label) {
            Some(group) => group.receivers.extend(receivers),
            None => groups.push(ReceiverGroup { label, receivers }),
        }
    }
    Ok(groups)
}

/// The referral a form describes, or what to fix and where.
fn read_form(resident_id: i64, form: &ReferralForm) -> Result<NewReferral, (String, &'static str)> {
    let refuse = |text: &str, field| Err((text.to_owned(), field));
    let Some(direction) = Direction::parse(&form.direction) else {
        return refuse("请选择上转或下转。", "direction");
    };
    let (institution, department) = match form.to.split_once(':') {
        Some((i, d)) => (i.parse().ok(), d.parse().ok()),
        None => (form.to.parse().ok(), None),
    };
    let Some(to_institution_id) = institution else {
        return refuse("请选择接收机构。", "to");
    };
    let urgency = Urgency::parse(&form.urgency).unwrap_or(Urgency::Routine);
    let green_channel = match form.green_channel.as_str() {
        "" => None,
        text => match GreenChannel::parse(text) {
            Some(kind) => Some(kind),
            None => return refuse("请选择绿色通道类别。", "green_channel"),
        },
    };
    let ecg_id = match form.ecg_id.trim() {
        "" => None,
        text => match text.parse() {
            Ok(id) => Some(id),
            Err(_) => return refuse("请从列表中选择心电图。", "ecg_id"),
        },
    };
    let Ok(lab_report_ids) = form.lab_report_id.iter().map(|id| id.parse()).collect() else {
        return refuse("请从列表中勾选检验报告。", "lab_report_ids");
    };
    let exception = form.catalogue_exception_reason.trim();
    Ok(NewReferral {
        resident_id,
        direction,
        to_institution_id,
        to_department_id: department,
        reason: form.reason.clone(),
        diagnosis_icd10: form
            .diagnosis
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
        urgency,
        green_channel,
        ecg_id,
        lab_report_ids,
        catalogue_exception_reason: (!exception.is_empty()).then(|| exception.to_owned()),
        submit: form.draft.is_none(),
    })
}

/// What to fix in a refused referral, in Chinese, and the field it concerns.
fn refusal_zh(error: &Error) -> Option<(String, &'static str)> {
    let (text, field) = match error {
        Error::Invalid {
            field: "reason", ..
        } => ("请填写转诊原因（病情摘要），最多 2000 字。", "reason"),
        Error::Invalid {
            field: "diagnosis_icd10",
            ..
        } => (
            "不是有效的 ICD-10 诊断编码：请输入编码或中文病名，从列表中选择。",
            "diagnosis",
        ),
        Error::Invalid {
            field: "to_institution_id",
            ..
        } => ("上转须转往更高级别的机构，下转须转往更低级别的机构。", "to"),
        Error::Invalid {
            field: "to_department_id",
            ..
        } => ("所选科室不属于接收机构。", "to"),
        Error::Invalid {
            field: "ecg_id", ..
        }
        | Error::Ecg(_) => ("所选心电图不属于该居民或无权查看。", "ecg_id"),
        Error::Invalid {
            field: "lab_report_ids",
            ..
        } => (
            "所选检验报告不属于该居民或无权查看；最多附 10 份。",
            "lab_report_ids",
        ),
        Error::CatalogueExceptionNeeded => (
            "按分级诊疗目录，该病种应在本级机构诊治；确需上转，请填写例外理由。",
            "catalogue_exception_reason",
        ),
        _ => return None,
    };
    Some((text.to_owned(), field))
}

async fn create_referral(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(form): Form<ReferralForm>,
) -> Result<Response, WebError> {
    let action = async {
        let new = read_form(resident_id, &form).map_err(once::Refused::Form)?;
        match super::create(&ctx, clock::now_ms(), &actor, &new).await {
            Ok(detail) => Ok(format!("/referrals/{}", detail.referral.id)),
            Err(error) => Err(match refusal_zh(&error) {
                Some(what) => once::Refused::Form(what),
                None => once::Refused::Page(error.into()),
            }),
        }
    };
    let refused = match once::act(&ctx, &actor, &form.form_key, action).await? {
        Ok(done) => return Ok(done),
        Err(what) => what,
    };
    let page = form_page(&ctx, &actor, resident_id, form, Some(refused)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "referral_slip.html")]
struct SlipPage {
    user_name: String,
    user_role: String,
    id: i64,
    number: String,
    up: bool,
    resident_name: String,
    sex: &'static str,
    age: i32,
    id_number: String,
    phone: String,
    address: String,
    from: String,
    to: String,
    department: String,
    diagnosis: String,
    reason: String,
    urgency: &'static str,
    green_channel: Option<&'static str>,
    /// Earlier diagnoses from the health record, newest first.
    history: Vec<String>,
    /// The ECG and lab results sent with the referral, one line each.
    results: Vec<String>,
    /// Year, month and day of the referral.
    date: (String, String, String),
    qr_svg: String,
}

/// The referral number printed on the slip and held by its QR code.
fn referral_number(community_id: i64, id: i64) -> String {
    format!("ZZ{community_id:03}{id:08}")
}

async fn slip(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let now = clock::now_ms();
    let detail = super::get(&ctx, now, &actor, id).await?;
    let r = &detail.referral;
    let resident = resident::get(&ctx, now, &actor, r.resident_id).await?;
    let names = institution_names(&ctx, &actor).await;
    let (_, departments) = institution::get(&ctx, &actor, r.to_institution_id).await?;
    let query = health_record::model::TimelineQuery {
        kind: Some("encounter".into()),
        ..Default::default()
    };
    let mut history: Vec<String> = Vec::new();
    for item in health_record::timeline(&ctx, now, &actor, r.resident_id, &query, 20, 0).await? {
        if history.len() < 5 && !history.contains(&item.summary) {
            history.push(item.summary);
        }
    }
    let mut results = Vec::new();
    if let Some(ecg_id) = r.ecg_id {
        let ecg = crate::ecg::get(&ctx, now, &actor, ecg_id).await?;
        let conclusion = ecg
            .reports
            .last()
            .map(|report| report.conclusion.clone())
            .unwrap_or_else(|| "尚无诊断报告".to_owned());
        results.push(format!(
            "{} 心电图：{conclusion}",
            &clock::format_cst(ecg.ecg.recorded_at_ms)[..16]
        ));
    }
    for &lab_id in &detail.lab_report_ids {
        let report = health_record::lab::get(&ctx, now, &actor, lab_id).await?;
        let values: Vec<String> = report
            .results
            .iter()
            .map(|x| {
                let flag = match x.abnormal_flag.as_str() {
                    "" | "N" => String::new(),
                    flag => format!("（{flag}）"),
                };
                format!("{} {} {}{flag}", x.name, x.value, x.unit)
            })
            .collect();
        results.push(format!(
            "{} {}：{}",
            &clock::format_cst(report.observed_at_ms)[..16],
            report.order_name,
            values.join("，")
        ));
    }
    let number = referral_number(r.community_id, r.id);
    let link = format!("{}/referrals/{}", ctx.public_url(), r.id);
    let date = clock::format_cst(r.created_at_ms);
    let page = SlipPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        id: r.id,
        qr_svg: qr_svg(&format!("{number} {link}")),
        number,
        up: r.direction == Direction::Up,
        sex: resident.sex.label_zh(),
        age: resident.age_on(clock::today_cst()),
        resident_name: resident.name,
        id_number: resident.id_number,
        phone: resident.phone,
        address: resident.address,
        from: names
            .get(&r.from_institution_id)
            .cloned()
            .unwrap_or_default(),
        to: names.get(&r.to_institution_id).cloned().unwrap_or_default(),
        department: departments
            .iter()
            .find(|d| Some(d.id) == r.to_department_id)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        diagnosis: format!(
            "{} {}",
            r.diagnosis_icd10,
            crate::icd10::display(&r.diagnosis_icd10).unwrap_or_default()
        ),
        reason: r.reason.clone(),
        urgency: r.urgency.label_zh(),
        green_channel: r
            .green_channel
            .as_deref()
            .and_then(GreenChannel::parse)
            .map(GreenChannel::label_zh),
        history,
        results,
        date: (
            date[..4].to_owned(),
            date[5..7].to_owned(),
            date[8..10].to_owned(),
        ),
    };
    Ok(render(&page))
}

/// A QR code as inline SVG.
fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(128, 128)
            .quiet_zone(true)
            .build(),
        Err(error) => {
            tracing::error!(%error, "QR code failed");
            String::new()
        }
    }
}
