//! The resident pages: search (ID number, name, pinyin, phone), registration with the ID check
//! and probable duplicates before saving, the resident page with the record and who looked at
//! it, and editing contact details. They call the operations in this module, never its store.

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::access::Actor;
use crate::ctx::Ctx;
use crate::http::extract::{Path, Query, WebActor};
use crate::resident::{self, model::ResidentQuery};
use crate::web::{WebError, institution_names, render, role_label};
use crate::{clock, institution};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/residents", get(residents_page))
        .route(
            "/residents/new",
            get(new_resident_page).post(register_resident),
        )
        .route(
            "/residents/duplicates",
            get(super::merge_page::duplicates_page),
        )
        .route(
            "/residents/merge",
            axum::routing::post(super::merge_page::merge),
        )
        .route("/residents/{id}", get(resident_page))
        .route(
            "/residents/{id}/contact",
            get(contact_page).post(update_contact),
        )
}

struct ResidentRow {
    id: i64,
    name: String,
    sex: &'static str,
    birth_date: String,
    id_number: String,
    village: String,
}

#[derive(Template)]
#[template(path = "residents.html")]
struct ResidentsPage {
    user_name: String,
    user_role: String,
    q: String,
    searched: bool,
    error: Option<String>,
    rows: Vec<ResidentRow>,
    /// This page's number, and whether another follows.
    page: i64,
    more: bool,
}

#[derive(Deserialize)]
struct SearchForm {
    q: Option<String>,
    /// 1 for the first page of results.
    page: Option<i64>,
}

/// Residents on one page of search results.
const RESIDENTS_PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "resident_new.html")]
struct NewResidentPage {
    user_name: String,
    user_role: String,
    /// The village clinics the user may register residents at: (id, name).
    clinics: Vec<(i64, String)>,
    form: NewResidentForm,
    /// What to fix, in Chinese, and the field it concerns.
    error: Option<(String, &'static str)>,
    /// Residents who may be the same person: (id, name, birth date, phone, why).
    similar: Vec<(i64, String, String, String, &'static str)>,
}

#[derive(Clone, Default, Deserialize)]
struct NewResidentForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    village_clinic_id: Option<i64>,
    /// Present when the user has seen the probable duplicates and says this is someone else.
    #[serde(default)]
    confirmed: Option<String>,
}

/// The village clinics where the user's institution registers residents: a village clinic its
/// own; a township centre its villages; county staff every village clinic.
async fn registering_clinics(ctx: &Ctx, actor: &Actor) -> Vec<(i64, String)> {
    use crate::institution::model::InstitutionKind;
    let Some(own) = actor.institution else {
        return Vec::new();
    };
    institution::list(ctx, actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.kind == InstitutionKind::VillageClinic)
        .filter(|i| match own.kind {
            InstitutionKind::VillageClinic => i.id == own.id,
            InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre => {
                i.township_id == own.township_id
            }
            _ => true,
        })
        .map(|i| (i.id, i.name))
        .collect()
}

async fn new_resident_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let clinics = registering_clinics(&ctx, &actor).await;
    Ok(render(&NewResidentPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        form: NewResidentForm {
            village_clinic_id: clinics.first().map(|c| c.0),
            ..Default::default()
        },
        clinics,
        error: None,
        similar: Vec::new(),
    }))
}

/// The registration form again, as typed, with what to fix or the probable duplicates.
async fn registration_page(
    ctx: &Ctx,
    actor: &Actor,
    form: NewResidentForm,
    error: Option<(String, &'static str)>,
    similar: Vec<(i64, String, String, String, &'static str)>,
) -> NewResidentPage {
    NewResidentPage {
        user_role: role_label(actor),
        user_name: actor.name.clone(),
        clinics: registering_clinics(ctx, actor).await,
        form,
        error,
        similar,
    }
}

/// Residents in the user's scope who may be the person being registered: the same name and
/// birth date, or the same phone.
async fn similar_residents(
    ctx: &Ctx,
    actor: &Actor,
    form: &NewResidentForm,
) -> Vec<(i64, String, String, String, &'static str)> {
    let now = clock::now_ms();
    let birth_date = resident::id_number::IdNumber::parse(&form.id_number, clock::today_cst())
        .map(|n| n.birth_date().to_string())
        .ok();
    let mut similar = Vec::new();
    // Someone with this very ID number: registering says so (a duplicate), nothing to compare.
    let same_number = ResidentQuery {
        id_number: Some(form.id_number.trim().to_owned()),
        ..Default::default()
    };
    if resident::search(ctx, now, actor, &same_number, 1, 0)
        .await
        .is_ok_and(|found| !found.is_empty())
    {
        return similar;
    }
    let searches = [
        (
            ResidentQuery {
                name: Some(form.name.trim().to_owned()),
                ..Default::default()
            },
            "同名同出生日期",
        ),
        (
            ResidentQuery {
                phone: Some(form.phone.trim().to_owned()),
                ..Default::default()
            },
            "同一电话",
        ),
    ];
    for (query, why) in searches {
        let Ok(found) = resident::search(ctx, now, actor, &query, 20, 0).await else {
            continue;
        };
        for r in found {
            let same_birth = birth_date.as_deref() == Some(r.birth_date.as_str());
            let by_name = why == "同名同出生日期";
            if (by_name && (!same_birth || r.name != form.name.trim()))
                || similar.iter().any(|s: &(i64, _, _, _, _)| s.0 == r.id)
            {
                continue;
            }
            similar.push((r.id, r.name, r.birth_date, r.phone, why));
        }
    }
    similar
}

/// What to fix in a refused registration, in Chinese, and the field it concerns.
fn registration_error_zh(error: &resident::Error) -> Option<(String, &'static str)> {
    Some(match error {
        resident::Error::InvalidIdNumber(reason) => (
            format!("身份证号无效：请核对位数、出生日期与最后一位校验码（{reason}）"),
            "id_number",
        ),
        resident::Error::Invalid { field, .. } => (
            match *field {
                "name" => "姓名应为 1 至 50 个字。".to_owned(),
                "phone" => "电话应为 7 至 15 位数字。".to_owned(),
                "address" => "住址最多 200 个字。".to_owned(),
                other => format!("{other} 填写有误。"),
            },
            field,
        ),
        resident::Error::Duplicate => (
            "该身份证号已经登记，请先查找该居民，不要重复建档。".to_owned(),
            "id_number",
        ),
        resident::Error::UnknownVillageClinic => {
            ("请选择居民所在的村卫生室。".to_owned(), "village_clinic_id")
        }
        _ => return None,
    })
}

async fn register_resident(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<NewResidentForm>,
) -> Result<Response, WebError> {
    if form.confirmed.is_none() {
        let similar = similar_residents(&ctx, &actor, &form).await;
        if !similar.is_empty() {
            // Shown before saving: the user opens the one it is, or confirms someone new.
            let page = registration_page(&ctx, &actor, form, None, similar).await;
            return Ok((StatusCode::CONFLICT, render(&page)).into_response());
        }
    }
    let new = resident::model::NewResident {
        id_number: form.id_number.clone(),
        name: form.name.clone(),
        phone: form.phone.clone(),
        village_clinic_id: form.village_clinic_id.unwrap_or_default(),
        address: form.address.clone(),
        grid_id: None,
    };
    match resident::register(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await {
        Ok(registered) => {
            Ok(Redirect::to(&format!("/residents/{}", registered.id)).into_response())
        }
        Err(error) => match registration_error_zh(&error) {
            // Refused for what was typed: the form again, as typed, saying what to fix.
            Some(what) => {
                let page = registration_page(&ctx, &actor, form, Some(what), Vec::new()).await;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
            }
            None => Err(error.into()),
        },
    }
}

async fn residents_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(form): Query<SearchForm>,
) -> Result<Html<String>, WebError> {
    if actor.has_role(crate::access::Role::Resident) {
        return Err(crate::access::Denied.into());
    }
    let q = form.q.unwrap_or_default().trim().to_owned();
    let mut page = ResidentsPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        q: q.clone(),
        searched: false,
        error: None,
        rows: vec![],
        page: 1,
        more: false,
    };
    if q.is_empty() {
        return Ok(render(&page));
    }
    let query = ResidentQuery {
        q: Some(q),
        ..Default::default()
    };
    let number = form.page.unwrap_or(1).clamp(1, 1000);
    // One more than a page, to know whether there is a next one.
    let mut found = resident::search(
        &ctx,
        clock::now_ms(),
        &actor,
        &query,
        RESIDENTS_PER_PAGE + 1,
        (number - 1) * RESIDENTS_PER_PAGE,
    )
    .await?;
    page.more = found.len() as i64 > RESIDENTS_PER_PAGE;
    found.truncate(RESIDENTS_PER_PAGE as usize);
    page.page = number;
    let names = institution_names(&ctx, &actor).await;
    page.searched = true;
    page.rows = found
        .into_iter()
        .map(|r| ResidentRow {
            id: r.id,
            sex: r.sex.label_zh(),
            village: names.get(&r.village_clinic_id).cloned().unwrap_or_default(),
            name: r.name,
            birth_date: r.birth_date,
            id_number: r.id_number,
        })
        .collect();
    Ok(render(&page))
}

struct AccessRow {
    at: String,
    who: String,
    institution: String,
    action: String,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "resident.html")]
struct ResidentPage {
    user_name: String,
    user_role: String,
    id: i64,
    name: String,
    id_number: String,
    sex: &'static str,
    birth_date: String,
    age: i32,
    phone: String,
    address: String,
    village: String,
    township: String,
    merged_into: Option<i64>,
    /// The health record across institutions; `None` when the viewer may not see clinical data.
    record: Option<Vec<RecordRow>>,
    /// Items of the mutual recognition catalogue, for the ordering form.
    orderable: Vec<(String, String)>,
    accesses: Vec<AccessRow>,
    /// The ECG upload form, for staff who may write the resident's clinical record.
    can_upload: bool,
    /// Now in China Standard Time, as a `datetime-local` value.
    now_local: String,
    /// The upload form's idempotency key: a second press of the button is the same upload.
    upload_key: String,
    /// The examination order form's key: a second press is the same order.
    imaging_key: String,
    /// Why the last upload was refused, in Chinese, and the field it concerns (else empty).
    upload_error_text: String,
    upload_error_field: &'static str,
    /// The clinical note as typed, when an upload is refused.
    upload_note: String,
    /// The resident's chronic disease enrolments: (id, programme, status).
    chronic: Vec<(i64, &'static str, &'static str)>,
    /// The family doctor section (contracts and the sign form), for those who see the record.
    family_doctor: String,
    today: String,
}

struct RecordRow {
    at: String,
    kind: &'static str,
    institution: String,
    summary: String,
    critical: bool,
    link: Option<String>,
}

async fn resident_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    Ok(render(&resident_view(&ctx, &actor, id).await?))
}

/// The resident page again after a refused ECG upload, saying what to fix by the upload form
/// and keeping the note as typed (a browser never keeps the chosen file).
pub(crate) async fn upload_refused(
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    (text, field): (String, &'static str),
    note: String,
) -> Result<Response, WebError> {
    let mut page = resident_view(ctx, actor, id).await?;
    page.upload_error_text = text;
    page.upload_error_field = field;
    page.upload_note = note;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

async fn resident_view(ctx: &Ctx, actor: &Actor, id: i64) -> Result<ResidentPage, WebError> {
    let now = clock::now_ms();
    let r = resident::get(ctx, now, actor, id).await?;
    let accesses = resident::accesses(ctx, now, actor, id, 50, 0).await?;
    let query = crate::health_record::model::TimelineQuery::default();
    let record = match crate::health_record::timeline(ctx, now, actor, id, &query, 100, 0).await {
        Ok(items) => Some(items.into_iter().map(record_row).collect()),
        Err(crate::health_record::Error::Resident(resident::Error::Denied(_))) => None,
        Err(error) => return Err(error.into()),
    };
    let orderable = match &record {
        Some(_) => crate::recognition::list_items(ctx, actor)
            .await?
            .into_iter()
            .map(|i| (i.code, i.name))
            .collect(),
        None => Vec::new(),
    };
    let names = institution_names(ctx, actor).await;
    let accesses = accesses
        .into_iter()
        .map(|a| AccessRow {
            at: clock::format_cst(a.at_ms),
            who: a.actor_name.unwrap_or_else(|| "系统".into()),
            institution: a.actor_institution_name.unwrap_or_default(),
            action: crate::audit::action_label_zh(&a.action).to_owned(),
            outcome: if a.outcome == "denied" {
                "已拒绝"
            } else {
                "允许"
            },
        })
        .collect();
    let can_upload = record.is_some()
        && actor.institution.is_some()
        && (actor.has_role(crate::access::Role::VillageDoctor)
            || actor.has_role(crate::access::Role::Doctor));
    let chronic = match &record {
        Some(_) => crate::chronic::of_resident(ctx, now, actor, id)
            .await?
            .into_iter()
            .map(|e| {
                let status = match e.status {
                    crate::chronic::model::Status::Managed => "管理中",
                    crate::chronic::model::Status::Lost => "暂时失访",
                    crate::chronic::model::Status::Ended => "已终止管理",
                };
                (e.id, e.program.label_zh(), status)
            })
            .collect(),
        None => Vec::new(),
    };
    let family_doctor = match &record {
        Some(_) => crate::family_doctor::views::resident_section(ctx, actor, id).await?,
        None => String::new(),
    };
    let page = ResidentPage {
        chronic,
        family_doctor,
        today: clock::today_cst().to_string(),
        can_upload,
        now_local: clock::to_page(now),
        upload_key: crate::http::guard::new_token(),
        imaging_key: crate::http::guard::new_token(),
        upload_error_text: String::new(),
        upload_error_field: "",
        upload_note: String::new(),
        user_role: role_label(actor),
        user_name: actor.name.clone(),
        age: r.age_on(clock::today_cst()),
        sex: r.sex.label_zh(),
        village: names.get(&r.village_clinic_id).cloned().unwrap_or_default(),
        township: names.get(&r.township_id).cloned().unwrap_or_default(),
        merged_into: r.merged_into_id,
        id: r.id,
        record,
        orderable,
        name: r.name,
        id_number: r.id_number,
        birth_date: r.birth_date,
        phone: r.phone,
        address: r.address,
        accesses,
    };
    Ok(page)
}

fn record_row(item: crate::health_record::model::TimelineItem) -> RecordRow {
    use crate::health_record::model::ItemKind;
    RecordRow {
        at: clock::format_cst(item.at_ms),
        kind: item.kind.label_zh(),
        institution: item.institution_name,
        summary: item.summary,
        critical: item.critical.0,
        link: match item.kind {
            ItemKind::Ecg => Some(format!("/ecg/{}", item.id)),
            ItemKind::ImagingStudy => Some(format!("/imaging/studies/{}", item.id)),
            ItemKind::Referral => Some(format!("/referrals/{}", item.id)),
            ItemKind::LabReport => Some(format!("/lab-reports/{}", item.id)),
            ItemKind::Encounter => Some(format!("/encounters/{}", item.id)),
            ItemKind::FollowUp => Some(format!("/chronic/follow-ups/{}", item.id)),
            _ => None,
        },
    }
}

#[derive(Template)]
#[template(path = "resident_contact.html")]
struct ContactPage {
    user_name: String,
    user_role: String,
    resident_id: i64,
    resident_name: String,
    phone: String,
    address: String,
    error_text: String,
    error_field: &'static str,
}

#[derive(Deserialize)]
struct ContactForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
}

async fn contact_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let r = resident::get(&ctx, clock::now_ms(), &actor, id).await?;
    Ok(render(&ContactPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        resident_id: r.id,
        resident_name: r.name,
        phone: r.phone,
        address: r.address,
        error_text: String::new(),
        error_field: "",
    }))
}

async fn update_contact(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<ContactForm>,
) -> Result<Response, WebError> {
    let update = resident::model::ContactUpdate {
        phone: Some(form.phone.clone()),
        address: Some(form.address.clone()),
    };
    let now = clock::now_ms();
    let error = match resident::update_contact(&ctx, now, &actor, id, &update).await {
        Ok(_) => return Ok(Redirect::to(&format!("/residents/{id}")).into_response()),
        Err(error) => error,
    };
    let Some((error_text, error_field)) = registration_error_zh(&error) else {
        return Err(error.into());
    };
    // Refused for what was typed: the form again, as typed, saying what to fix.
    let r = resident::get(&ctx, now, &actor, id).await?;
    let page = ContactPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        resident_id: r.id,
        resident_name: r.name,
        phone: form.phone,
        address: form.address,
        error_text,
        error_field,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
