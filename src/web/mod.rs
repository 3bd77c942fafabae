//! Server-rendered pages in Chinese: login, the institution tree, resident search and the
//! resident page. They call the same operations as the JSON API (never a store), and sign in
//! with an HttpOnly, Secure, SameSite session cookie instead of a bearer token.

use std::collections::HashMap;

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::access::Actor;
use crate::ctx::Ctx;
use crate::http::error::ApiError;
use crate::http::extract::{ClientAddress, Query, SESSION_COOKIE, WebActor, session_cookie};
use crate::staff::model::Credentials;
use crate::{clock, institution, staff};

mod catalogues;
pub mod chart;
mod home;
pub(crate) mod once;

pub use home::menu;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/institutions", get(institutions_page))
        .route("/events", get(events))
        .route("/static/live.js", get(live_js))
        .route("/static/forms.js", get(forms_js))
        .route("/static/viewer.js", get(viewer_js))
        .route("/icd10", get(icd10_search))
        .merge(catalogues::routes())
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

async fn viewer_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/viewer.js"),
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

/// The roles of the signed-in user in Chinese; a reader is named by the centre they read for
/// (心电诊断医师, 影像诊断医师), which is also what their menu follows.
pub(crate) fn role_label(actor: &Actor) -> String {
    use crate::institution::model::CentreService;
    actor
        .roles
        .iter()
        .map(|r| match r {
            crate::access::Role::Reader if actor.reads_for(CentreService::Ecg) => "心电诊断医师",
            crate::access::Role::Reader if actor.reads_for(CentreService::Imaging) => {
                "影像诊断医师"
            }
            _ => r.label_zh(),
        })
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
