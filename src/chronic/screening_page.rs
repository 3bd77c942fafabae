//! The clinic's hypertension screening page: who is to be measured, re-checked, referred to
//! confirm or followed up after the referral; a reading typed in the row, the referral in one
//! press.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::screening::{self, NewScreening, RiskFactor, ScreeningItem, ScreeningQuery};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, Query, WebActor};
use crate::web::{WebError, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/chronic/screening", get(screening_page))
        .route("/chronic/screening/{resident}/readings", post(record))
        .route("/chronic/screening/{resident}/referral", post(refer))
}

/// The list's filter (and where a form returns to).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Filter {
    institution: Option<String>,
    days: Option<String>,
}

impl Filter {
    fn query(&self) -> ScreeningQuery {
        ScreeningQuery {
            institution: self.institution.as_deref().and_then(|i| i.parse().ok()),
            days: self.days.as_deref().and_then(|d| d.parse().ok()),
        }
    }

    fn back(&self) -> String {
        let query = self.query();
        let mut url = "/chronic/screening?".to_owned();
        if let Some(institution) = query.institution {
            url.push_str(&format!("institution={institution}&"));
        }
        url.push_str(&format!("days={}", query.days.unwrap_or(0)));
        url
    }
}

/// The most rows a page shows; the rest is a page further.
const ROWS: usize = 200;

#[derive(Template)]
#[template(path = "chronic_screening.html")]
struct ScreeningPage {
    user_name: String,
    user_role: String,
    choices: Vec<(i64, String)>,
    institution: Option<i64>,
    days: i64,
    total: usize,
    items: Vec<ScreeningItem>,
    risk_factors: Vec<(&'static str, &'static str)>,
    /// A refused reading: whose, and what to fix.
    error: Option<(i64, String)>,
}

impl ScreeningPage {
    fn chosen(&self, id: &i64) -> bool {
        self.institution == Some(*id)
    }

    fn status_zh(&self, item: &ScreeningItem) -> &'static str {
        item.state.status.label_zh()
    }

    fn suspected(&self, item: &ScreeningItem) -> bool {
        item.state.status == screening::ScreeningStatus::Suspected
    }

    fn error_for(&self, item: &ScreeningItem) -> String {
        match &self.error {
            Some((resident, text)) if *resident == item.resident_id => text.clone(),
            _ => String::new(),
        }
    }
}

async fn page(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    filter: &Filter,
    error: Option<(i64, String)>,
) -> Result<ScreeningPage, WebError> {
    let query = filter.query();
    let (now, today) = (clock::now_ms(), clock::today_cst());
    let (total, items) = screening::list(ctx, now, today, actor, &query, (ROWS, 0)).await?;
    let mut choices = Vec::new();
    for institution in super::monthly::choices(ctx, actor).await? {
        if crate::access::may_list(actor, &institution) {
            choices.push((institution.id, institution.name));
        }
    }
    Ok(ScreeningPage {
        user_name: actor.name.clone(),
        user_role: role_label(actor),
        choices,
        institution: query.institution,
        days: query.days.unwrap_or(0).clamp(0, 90),
        total,
        items,
        risk_factors: RiskFactor::ALL
            .iter()
            .map(|f| (f.as_str(), f.label_zh()))
            .collect(),
        error,
    })
}

async fn screening_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, WebError> {
    Ok(render(&page(&ctx, &actor, &filter, None).await?))
}

/// A reading typed in a row: pressures, waist, the factors asked about.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReadingForm {
    sbp: String,
    dbp: String,
    waist_cm: String,
    risk_factors: Vec<String>,
    institution: Option<String>,
    days: Option<String>,
}

/// What to fix in a refused reading, in Chinese.
fn error_zh(error: &super::Error) -> Option<String> {
    use super::Error as E;
    Some(match error {
        E::Implausible(i) => format!(
            "{}不可信：应在 {} 至 {} 之间。",
            field_zh(i.field),
            i.low,
            i.high
        ),
        E::Invalid { field, .. } => format!("{}填写有误。", field_zh(field)),
        E::ScreeningRecorded => "这一时间的血压已记录。".to_owned(),
        _ => return None,
    })
}

fn field_zh(field: &str) -> &str {
    match field {
        "sbp" => "收缩压",
        "dbp" => "舒张压",
        "waist_cm" => "腰围",
        other => other,
    }
}

async fn record(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(form): Form<ReadingForm>,
) -> Result<Response, WebError> {
    let filter = Filter {
        institution: form.institution.clone(),
        days: form.days.clone(),
    };
    let number = |text: &str| text.trim().parse::<f64>().ok();
    let refused = |text: &str| Some((resident_id, text.to_owned()));
    let (Some(sbp), Some(dbp)) = (number(&form.sbp), number(&form.dbp)) else {
        let error = refused("请填写收缩压与舒张压（mmHg）。");
        return Ok(render(&page(&ctx, &actor, &filter, error).await?).into_response());
    };
    let waist_cm = number(&form.waist_cm);
    if !form.waist_cm.trim().is_empty() && waist_cm.is_none() {
        let error = refused("腰围应为数字（cm）。");
        return Ok(render(&page(&ctx, &actor, &filter, error).await?).into_response());
    }
    let now = clock::now_ms();
    let new = NewScreening {
        resident_id,
        measured_at: clock::rfc3339_cst(now),
        sbp,
        dbp,
        weight_kg: None,
        height_cm: None,
        waist_cm,
        risk_factors: form
            .risk_factors
            .iter()
            .filter_map(|f| RiskFactor::parse(f))
            .collect(),
    };
    match screening::record(&ctx, now, clock::today_cst(), &actor, &new).await {
        Ok(_) => Ok(Redirect::to(&filter.back()).into_response()),
        Err(error) => match error_zh(&error) {
            Some(text) => {
                let error = refused(&text);
                Ok(render(&page(&ctx, &actor, &filter, error).await?).into_response())
            }
            None => Err(error.into()),
        },
    }
}

async fn refer(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(filter): Form<Filter>,
) -> Result<Response, WebError> {
    screening::refer_to_confirm(
        &ctx,
        clock::now_ms(),
        clock::today_cst(),
        &actor,
        resident_id,
    )
    .await?;
    Ok(Redirect::to(&filter.back()).into_response())
}
