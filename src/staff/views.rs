//! The accounts page: the community's staff and machine accounts, a page at a time and by
//! institution, and the administrator's form for a new account (refusals said by the field,
//! what was typed kept, the password never shown back).

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::model::{NewStaff, TitleLevel};
use crate::access::{Actor, Role};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Query, WebActor};
use crate::web::{WebError, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new().route("/staff", get(staff_page).post(create))
}

/// Accounts on one page of the list.
const STAFF_PER_PAGE: i64 = 50;

/// The roles an administrator gives here (a resident's portal account is issued by their clinic).
const GRANTABLE: [Role; 8] = [
    Role::VillageDoctor,
    Role::Doctor,
    Role::Reader,
    Role::InsuranceOfficer,
    Role::Supervisor,
    Role::Admin,
    Role::Interface,
    Role::ModalityInterface,
];

struct Row {
    username: String,
    name: String,
    institution: String,
    roles: String,
    title: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    user_name: String,
    user_role: String,
    rows: Vec<Row>,
    /// The institutions to filter by and to create at: (id, name).
    institutions: Vec<(i64, String)>,
    institution_id: i64,
    page: i64,
    more: bool,
    /// The new-account form, for administrators.
    can_create: bool,
    form: AccountForm,
    /// (role value, label, ticked) for the form's role boxes.
    roles: Vec<(&'static str, &'static str, bool)>,
    titles: Vec<(&'static str, &'static str)>,
    error_text: String,
    error_field: &'static str,
    /// The account just created, to say so.
    created: String,
}

#[derive(Deserialize)]
struct ListQuery {
    institution_id: Option<i64>,
    page: Option<i64>,
    created: Option<String>,
}

/// The new-account form as typed (the password is never shown back).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct AccountForm {
    username: String,
    name: String,
    password: String,
    institution_id: i64,
    title_level: String,
    /// One per ticked box.
    roles: Vec<String>,
}

async fn list_page(
    ctx: &Ctx,
    actor: &Actor,
    query: &ListQuery,
    form: AccountForm,
    error: Option<(String, &'static str)>,
) -> Result<StaffPage, WebError> {
    let number = query.page.unwrap_or(1).clamp(1, 1000);
    let institution_id = query.institution_id.unwrap_or(0);
    let mut staff = super::list(
        ctx,
        actor,
        (institution_id > 0).then_some(institution_id),
        STAFF_PER_PAGE + 1,
        (number - 1) * STAFF_PER_PAGE,
    )
    .await?;
    let more = staff.len() as i64 > STAFF_PER_PAGE;
    staff.truncate(STAFF_PER_PAGE as usize);
    let names = institution_names(ctx, actor).await;
    let mut institutions: Vec<(i64, String)> =
        names.iter().map(|(id, name)| (*id, name.clone())).collect();
    institutions.sort();
    let rows = staff
        .into_iter()
        .map(|s| Row {
            institution: s
                .institution_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "医共体".into()),
            roles: s
                .roles
                .iter()
                .map(|r| r.label_zh())
                .collect::<Vec<_>>()
                .join("、"),
            title: s.title_level.map(TitleLevel::label_zh).unwrap_or(""),
            active: s.active,
            username: s.username,
            name: s.name,
        })
        .collect();
    let (error_text, error_field) = error.unwrap_or_default();
    Ok(StaffPage {
        user_role: role_label(actor),
        user_name: actor.name.clone(),
        rows,
        institutions,
        institution_id,
        page: number,
        more,
        can_create: actor.has_role(Role::Admin),
        roles: GRANTABLE
            .iter()
            .map(|r| {
                (
                    r.as_str(),
                    r.label_zh(),
                    form.roles.iter().any(|v| v == r.as_str()),
                )
            })
            .collect(),
        titles: TitleLevel::ALL
            .iter()
            .map(|t| (t.as_str(), t.label_zh()))
            .collect(),
        form,
        error_text,
        error_field,
        created: query.created.clone().unwrap_or_default(),
    })
}

async fn staff_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let form = AccountForm {
        institution_id: query.institution_id.unwrap_or(0),
        ..Default::default()
    };
    Ok(render(&list_page(&ctx, &actor, &query, form, None).await?))
}

/// What to fix in a refused account, in Chinese, and the field it concerns.
fn account_error_zh(error: &super::Error) -> Option<(String, &'static str)> {
    Some(match error {
        super::Error::Invalid { field, .. } => (
            match *field {
                "username" => "用户名应为 3 至 40 个字母、数字或 - _ .".to_owned(),
                "password" => "初始密码至少 10 个字符。".to_owned(),
                "name" => "姓名应为 1 至 50 个字。".to_owned(),
                "roles" => "请至少选择一个角色。".to_owned(),
                "institution_id" => "这些角色须在某一机构工作，请选择机构。".to_owned(),
                other => format!("{other} 填写有误。"),
            },
            field,
        ),
        super::Error::DuplicateUsername => ("该用户名已被使用。".to_owned(), "username"),
        _ => return None,
    })
}

async fn create(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(mut form): Form<AccountForm>,
) -> Result<Response, WebError> {
    let password = std::mem::take(&mut form.password);
    let roles: Option<Vec<Role>> = form.roles.iter().map(|r| Role::parse(r)).collect();
    let new = NewStaff {
        username: form.username.trim().to_owned(),
        password,
        name: form.name.clone(),
        institution_id: (form.institution_id > 0).then_some(form.institution_id),
        department_id: None,
        title_level: TitleLevel::parse(&form.title_level),
        roles: roles.unwrap_or_default(),
        resident_id: None,
    };
    match super::create(&ctx, clock::now_ms(), &actor, &new).await {
        Ok(created) => Ok(Redirect::to(&format!(
            "/staff?institution_id={}&created={}",
            created.institution_id.unwrap_or(0),
            created.username
        ))
        .into_response()),
        Err(error) => match account_error_zh(&error) {
            Some(what) => {
                let query = ListQuery {
                    institution_id: None,
                    page: None,
                    created: None,
                };
                let page = list_page(&ctx, &actor, &query, form, Some(what)).await?;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
            }
            None => Err(error.into()),
        },
    }
}
