//! The dispatch page: the group's personnel office records dispatches and sees all of them;
//! a township centre sees who is dispatched to it and when, and the lead hospital's staff who
//! of theirs are out.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Dispatch, DispatchQuery, NewDispatch, Purpose};
use crate::access::{Actor, Role};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, Query, WebActor};
use crate::web::{WebError, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/dispatches", get(page).post(create))
        .route("/dispatches/{id}/end", post(end))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Filter {
    year: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewForm {
    staff_id: String,
    to_institution_id: String,
    starts_on: String,
    ends_on: String,
    days_per_month: String,
    purpose: String,
}

#[derive(Template)]
#[template(path = "dispatches.html")]
struct DispatchPage {
    user_name: String,
    user_role: String,
    year: String,
    dispatches: Vec<Dispatch>,
    /// For the personnel office's form: (id, "name · title · institution") of county staff and
    /// (id, name) of the primary centres.
    staff: Vec<(i64, String)>,
    places: Vec<(i64, String)>,
    purposes: Vec<(&'static str, &'static str)>,
    may_create: bool,
    error: String,
    today: String,
}

async fn view(ctx: &Ctx, actor: &Actor, year: &str, error: String) -> Result<String, WebError> {
    let query = DispatchQuery {
        institution: None,
        year: year.trim().parse().ok(),
    };
    let dispatches = super::list(ctx, actor, &query, (500, 0)).await?;
    let may_create = actor.has_role(Role::Admin);
    let (mut staff, mut places) = (Vec::new(), Vec::new());
    if may_create {
        let institutions =
            crate::institution::store::institutions_in_community(&ctx.db, actor.community_id)
                .await?;
        let county: std::collections::HashMap<i64, String> = institutions
            .iter()
            .filter(|i| i.kind.level() == 3)
            .map(|i| (i.id, i.name.clone()))
            .collect();
        places = institutions
            .iter()
            .filter(|i| i.kind.level() == 2)
            .map(|i| (i.id, i.name.clone()))
            .collect();
        let all =
            crate::staff::store::staff_of_community(&ctx.db, actor.community_id, None, 5_000, 0)
                .await?;
        staff = all
            .into_iter()
            .filter(|s| {
                s.active
                    && s.roles
                        .iter()
                        .any(|r| matches!(r, Role::Doctor | Role::Reader))
            })
            .filter_map(|s| {
                let at = county.get(&s.institution_id?)?;
                let title = s.title_level.map_or("无职称", |t| t.label_zh());
                Some((s.id, format!("{} · {title} · {at}", s.name)))
            })
            .collect();
    }
    Ok(render(&DispatchPage {
        user_name: actor.name.clone(),
        user_role: role_label(actor),
        year: year.to_owned(),
        dispatches,
        staff,
        places,
        purposes: Purpose::ALL
            .iter()
            .map(|p| (p.as_str(), p.label_zh()))
            .collect(),
        may_create,
        error,
        today: clock::today_cst().to_string(),
    })
    .0)
}

async fn page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, WebError> {
    let year = match filter.year.trim() {
        "" => clock::today_cst().year().to_string(),
        text => text.to_owned(),
    };
    Ok(Html(view(&ctx, &actor, &year, String::new()).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EndForm {
    ends_on: String,
}

async fn end(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<EndForm>,
) -> Result<Response, WebError> {
    let ending = super::Ending {
        ends_on: form.ends_on,
    };
    match super::end(&ctx, clock::now_ms(), &actor, id, &ending).await {
        Ok(_) => Ok(Redirect::to("/dispatches").into_response()),
        Err(super::Error::Invalid { .. }) => {
            let year = clock::today_cst().year().to_string();
            let text = "提前结束的日期须在派驻开始之后、原定结束之前。".to_owned();
            Ok(Html(view(&ctx, &actor, &year, text).await?).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// What to fix in a refused dispatch, in Chinese.
fn error_zh(error: &super::Error) -> Option<String> {
    use super::Error as E;
    Some(match error {
        E::Invalid { field, .. } => match *field {
            "staff_id" => "请选择牵头医院、院区或中心的在职人员。".to_owned(),
            "to_institution_id" => "请选择派驻的基层机构。".to_owned(),
            "starts_on" | "ends_on" => "请填写起止日期（结束不早于开始，最长三年）。".to_owned(),
            "days_per_month" => "每月驻点天数为 1 至 31 天。".to_owned(),
            other => format!("{other} 填写有误。"),
        },
        E::Overlap { starts_on, ends_on } => {
            format!("此人在 {starts_on} 至 {ends_on} 已有派驻，同一时间只能派驻一处。")
        }
        _ => return None,
    })
}

async fn create(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<NewForm>,
) -> Result<Response, WebError> {
    let new = NewDispatch {
        staff_id: form.staff_id.trim().parse().unwrap_or_default(),
        from_institution_id: None,
        to_institution_id: form.to_institution_id.trim().parse().unwrap_or_default(),
        starts_on: form.starts_on,
        ends_on: form.ends_on,
        days_per_month: form.days_per_month.trim().parse().unwrap_or_default(),
        purpose: Purpose::parse(&form.purpose).unwrap_or(Purpose::Clinic),
    };
    match super::create(&ctx, clock::now_ms(), &actor, &new).await {
        Ok(_) => Ok(Redirect::to("/dispatches").into_response()),
        Err(error) => match error_zh(&error) {
            Some(text) => {
                let year = clock::today_cst().year().to_string();
                Ok(Html(view(&ctx, &actor, &year, text).await?).into_response())
            }
            None => Err(error.into()),
        },
    }
}
