//! Server-rendered pages in Chinese: login, the institution tree, resident search and the
//! resident page. They call the same operations as the JSON API (never a store), and sign in
//! with an HttpOnly, Secure, SameSite session cookie instead of a bearer token.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::access::Actor;
use crate::ctx::Ctx;
use crate::http::error::ApiError;
use crate::http::extract::{ClientAddress, Path, Query, SESSION_COOKIE, WebActor, session_cookie};
use crate::resident::model::ResidentQuery;
use crate::staff::model::Credentials;
use crate::{clock, institution, resident, staff};

pub mod chart;
mod duplicates;
mod home;
pub(crate) mod once;

pub use home::menu;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/institutions", get(institutions_page))
        .route("/residents", get(residents_page))
        .route(
            "/residents/new",
            get(new_resident_page).post(register_resident),
        )
        .route("/residents/duplicates", get(duplicates::duplicates_page))
        .route("/residents/merge", axum::routing::post(duplicates::merge))
        .route("/residents/{id}", get(resident_page))
        .route("/events", get(events))
        .route("/static/live.js", get(live_js))
        .route("/static/forms.js", get(forms_js))
        .route("/icd10", get(icd10_search))
}

/// Live updates for the pages (the cookie stands in for the bearer token EventSource cannot send).
async fn events(State(ctx): State<Ctx>, WebActor(actor): WebActor) -> impl IntoResponse {
    ctx.live.stream(actor)
}

async fn live_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/live.js"),
    )
}

async fn forms_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/forms.js"),
    )
}

#[derive(Deserialize)]
struct Icd10Query {
    q: Option<String>,
}

#[derive(serde::Serialize)]
struct Icd10Entry {
    code: &'static str,
    name: &'static str,
}

/// ICD-10 codes for the pages' diagnosis fields, by code or name.
async fn icd10_search(
    WebActor(_): WebActor,
    Query(query): Query<Icd10Query>,
) -> axum::Json<Vec<Icd10Entry>> {
    let found = crate::icd10::search(query.q.as_deref().unwrap_or_default(), 20);
    axum::Json(
        found
            .into_iter()
            .map(|(code, name)| Icd10Entry { code, name })
            .collect(),
    )
}

/// An error shown as a page.
pub struct WebError(pub(crate) ApiError);

impl<E> From<E> for WebError
where
    ApiError: From<E>,
{
    fn from(error: E) -> WebError {
        WebError(ApiError::from(error))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    /// What went wrong, for the user, in Chinese.
    explanation: &'static str,
    /// The operation's own words and the stable code, for support.
    message: String,
    code: &'static str,
}

/// A Chinese explanation of an error code, by its reason (the part after the area).
fn explain_zh(code: &str) -> &'static str {
    let reason = code.rsplit('.').next().unwrap_or(code);
    match reason {
        "invalid" | "bad_request" | "invalid_json" | "invalid_query" | "invalid_path" => {
            "填写的内容不符合要求，请核对后重新提交。"
        }
        "denied" => "您的角色或所在机构无权进行此操作。",
        "unauthenticated" => "请先登录。",
        "not_found" => "要找的记录不存在，或已不在您的权限范围内。",
        "period_closed" => "该年度已清算关闭，其规则、结算与预付款均不能再修改。",
        "exists" | "duplicate" | "duplicate_code" | "duplicate_username" => {
            "该记录已存在，不能重复建立。"
        }
        "no_rules" => "该年度、险种和级别尚无报销规则，请先设定规则。",
        "not_editable" => "官方与统计标准口径不可由县修改。",
        "invalid_transition" => "当前状态下不能进行这一步。",
        "recent_result" => "近期已有可互认的结果，请使用该结果或说明重复检查的理由。",
        "already_claimed" | "not_claimed" | "not_reported" | "already_discharged"
        | "already_merged" | "ecg_not_critical" => "记录的当前状态不允许这一操作。",
        "unreadable" => "文件无法读取，请检查格式。",
        "form_pending" => "这份表单已经提交，正在处理；请稍候到档案中查看，不要重复提交。",
        "invalid_form_key" => "表单已过期，请刷新页面后重新填写。",
        _ => "操作未能完成。",
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let title = match self.0.status {
            StatusCode::FORBIDDEN => "无权访问",
            StatusCode::NOT_FOUND => "未找到",
            status if status.is_client_error() => "请求有误",
            _ => "系统错误",
        };
        let page = ErrorPage {
            title,
            explanation: explain_zh(self.0.code),
            message: self.0.message,
            code: self.0.code,
        };
        (self.0.status, render(&page)).into_response()
    }
}

/// A form's answer: back to `to` once the operation is done, or its error as a page.
pub(crate) fn done<T, E>(result: Result<T, E>, to: &str) -> Response
where
    ApiError: From<E>,
{
    match result {
        Ok(_) => Redirect::to(to).into_response(),
        Err(error) => WebError::from(error).into_response(),
    }
}

pub(crate) fn render(template: &impl Template) -> Html<String> {
    Html(template.render().unwrap_or_else(|error| {
        tracing::error!(%error, "template failed");
        "页面生成失败".to_owned()
    }))
}

pub(crate) fn role_label(actor: &Actor) -> String {
    actor
        .roles
        .iter()
        .map(|r| r.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
}

async fn login_page() -> Html<String> {
    render(&LoginPage { error: None })
}

async fn login(
    State(ctx): State<Ctx>,
    ClientAddress(address): ClientAddress,
    Form(credentials): Form<Credentials>,
) -> Response {
    match staff::login(&ctx, clock::now_ms(), &credentials, address).await {
        Ok(token) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
                token.token,
                staff::SESSION_MS / 1000
            );
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => {
            let message = match &error {
                staff::Error::InvalidCredentials => "用户名或密码错误".to_owned(),
                staff::Error::TooManyAttempts { retry_after_s } => {
                    format!("登录失败次数过多，请 {retry_after_s} 秒后再试")
                }
                staff::Error::Busy => "此刻登录的人太多，请稍后再试".to_owned(),
                _ => return WebError::from(error).into_response(),
            };
            let status = ApiError::from(error).status;
            (
                status,
                render(&LoginPage {
                    error: Some(message),
                }),
            )
                .into_response()
        }
    }
}

async fn logout(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers)
        && let Err(error) = staff::logout(&ctx, token).await
    {
        return WebError::from(error).into_response();
    }
    let mut response = Redirect::to("/login").into_response();
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

struct TreeRow {
    depth: usize,
    kind: &'static str,
    name: String,
    code: String,
    address: String,
}

#[derive(Template)]
#[template(path = "institutions.html")]
struct InstitutionsPage {
    user_name: String,
    user_role: String,
    rows: Vec<TreeRow>,
}

fn flatten(nodes: &[institution::TreeNode], depth: usize, rows: &mut Vec<TreeRow>) {
    for node in nodes {
        let i = &node.institution;
        rows.push(TreeRow {
            depth,
            kind: i.kind.label_zh(),
            name: i.name.clone(),
            code: i.code.clone(),
            address: i.address.clone(),
        });
        flatten(&node.children, depth + 1, rows);
    }
}

async fn institutions_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let all = institution::list(&ctx, &actor).await?;
    let mut rows = Vec::with_capacity(all.len());
    flatten(&institution::tree(&all), 0, &mut rows);
    Ok(render(&InstitutionsPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        rows,
    }))
}

/// Institution names by id, for showing residents' villages and townships.
pub(crate) async fn institution_names(ctx: &Ctx, actor: &Actor) -> HashMap<i64, String> {
    institution::list(ctx, actor)
        .await
        .map(|all| all.into_iter().map(|i| (i.id, i.name)).collect())
        .unwrap_or_default()
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
    let now = clock::now_ms();
    let r = resident::get(&ctx, now, &actor, id).await?;
    let accesses = resident::accesses(&ctx, now, &actor, id, 50, 0).await?;
    let query = crate::health_record::model::TimelineQuery::default();
    let record = match crate::health_record::timeline(&ctx, now, &actor, id, &query, 100, 0).await {
        Ok(items) => Some(items.into_iter().map(record_row).collect()),
        Err(crate::health_record::Error::Resident(resident::Error::Denied(_))) => None,
        Err(error) => return Err(error.into()),
    };
    let orderable = match &record {
        Some(_) => crate::recognition::list_items(&ctx, &actor)
            .await?
            .into_iter()
            .map(|i| (i.code, i.name))
            .collect(),
        None => Vec::new(),
    };
    let names = institution_names(&ctx, &actor).await;
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
    let page = ResidentPage {
        can_upload,
        now_local: clock::to_page(now),
        upload_key: crate::http::guard::new_token(),
        user_role: role_label(&actor),
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
    Ok(render(&page))
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
            ItemKind::Referral => Some(format!("/referrals/{}", item.id)),
            ItemKind::LabReport => Some(format!("/lab-reports/{}", item.id)),
            ItemKind::Encounter => Some(format!("/encounters/{}", item.id)),
            _ => None,
        },
    }
}
