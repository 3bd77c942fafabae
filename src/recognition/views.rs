//! The ordering page: a doctor orders a test or examination from the resident page; when the
//! resident already has a recognised result, that result is shown first, with the choice to use
//! it or to repeat the item with a reason.

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::{NewOrder, RecognisedResult};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new().route("/residents/{id}/orders", post(order))
}

#[derive(Deserialize)]
struct OrderForm {
    item_code: String,
    #[serde(default)]
    use_recognised: Option<String>,
    #[serde(default)]
    repeat_reason: Option<String>,
}

struct Shown {
    item: String,
    at: String,
    institution: String,
    valid_until: String,
    link: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    user_name: String,
    user_role: String,
    resident_id: i64,
    item_code: String,
    /// The order taken, when it was.
    outcome: Option<&'static str>,
    /// The recognised results shown before a repeat.
    recognised: Vec<Shown>,
}

fn shown(result: RecognisedResult) -> Shown {
    Shown {
        link: match result.source.as_str() {
            "lab_report" => format!("/api/v1/lab-reports/{}", result.report_id),
            _ => format!("/api/v1/exam-reports/{}", result.report_id),
        },
        item: result.item_name,
        at: clock::format_cst(result.at_ms),
        institution: result.institution_name,
        valid_until: clock::format_cst(result.valid_until_ms),
    }
}

async fn order(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(form): Form<OrderForm>,
) -> Response {
    let now = clock::now_ms();
    let new = NewOrder {
        resident_id,
        item_code: form.item_code.clone(),
        use_recognised: form.use_recognised.is_some(),
        repeat_reason: form.repeat_reason.filter(|r| !r.trim().is_empty()),
    };
    let mut page = OrderPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        resident_id,
        item_code: form.item_code.trim().to_ascii_uppercase(),
        outcome: None,
        recognised: Vec::new(),
    };
    match super::order(&ctx, now, &actor, &new).await {
        Ok(order) => {
            page.outcome = Some(match order.outcome.as_str() {
                "avoided" => "已采用互认结果，未重复检查",
                "repeated" => "已开具（重复检查，理由已记录）",
                _ => "已开具",
            });
            page.recognised = order.recognised.into_iter().map(shown).collect();
        }
        Err(super::Error::RecentResult { .. }) => {
            match super::recognised_for(&ctx, now, &actor, resident_id, Some(&new.item_code)).await
            {
                Ok(found) => page.recognised = found.into_iter().map(shown).collect(),
                Err(error) => return WebError::from(error).into_response(),
            }
        }
        Err(error) => return WebError::from(error).into_response(),
    }
    render(&page).into_response()
}
