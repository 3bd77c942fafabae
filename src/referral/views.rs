//! The referral board: the referrals an institution sent and received, green channel first,
//! with a button for each step the viewer's side may take next. Live.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{self, Direction, Party, ReferralQuery, ReferralState};
use crate::app::Ctx;
use crate::clock;
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/referrals", get(board))
        .route("/referrals/{id}/transition", post(transition))
}

fn state_label(state: ReferralState) -> &'static str {
    match state {
        ReferralState::Draft => "草稿",
        ReferralState::Submitted => "待接收",
        ReferralState::Accepted => "已接收",
        ReferralState::Rejected => "已拒绝",
        ReferralState::Arrived => "已到达",
        ReferralState::Completed => "已完成",
        ReferralState::Received => "已接诊",
        ReferralState::FollowUpPlanned => "已制定随访计划",
        ReferralState::Closed => "已闭环",
        ReferralState::Cancelled => "已取消",
    }
}

fn action_label(to: ReferralState) -> &'static str {
    match to {
        ReferralState::Submitted => "提交",
        ReferralState::Accepted => "接收",
        ReferralState::Rejected => "拒绝",
        ReferralState::Arrived => "患者到达",
        ReferralState::Completed => "完成",
        ReferralState::Received => "接诊",
        ReferralState::FollowUpPlanned => "制定随访计划",
        ReferralState::Closed => "闭环",
        ReferralState::Cancelled => "取消",
        ReferralState::Draft => "",
    }
}

const ALL_STATES: [ReferralState; 10] = [
    ReferralState::Draft,
    ReferralState::Submitted,
    ReferralState::Accepted,
    ReferralState::Rejected,
    ReferralState::Arrived,
    ReferralState::Completed,
    ReferralState::Received,
    ReferralState::FollowUpPlanned,
    ReferralState::Closed,
    ReferralState::Cancelled,
];

struct Row {
    id: i64,
    green_channel: bool,
    direction: &'static str,
    resident_id: i64,
    from: String,
    to: String,
    diagnosis: String,
    state: &'static str,
    created: String,
    actions: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct Board {
    user_name: String,
    user_role: String,
    rows: Vec<Row>,
}

async fn board(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let referrals = super::list(&ctx, &actor, &ReferralQuery::default(), 100, 0).await?;
    let names: HashMap<i64, String> = institution_names(&ctx, &actor).await;
    let own = actor.institution.map(|i| i.id);
    let rows = referrals
        .into_iter()
        .map(|r| {
            let side = if own == Some(r.from_institution_id) {
                Party::Sender
            } else {
                Party::Receiver
            };
            let actions = ALL_STATES
                .into_iter()
                .filter(|to| model::step(r.direction, r.state, *to) == Some(side))
                .map(|to| (to.as_str(), action_label(to)))
                .collect();
            Row {
                id: r.id,
                green_channel: r.green_channel.is_some(),
                direction: if r.direction == Direction::Up {
                    "上转"
                } else {
                    "下转"
                },
                resident_id: r.resident_id,
                from: names
                    .get(&r.from_institution_id)
                    .cloned()
                    .unwrap_or_default(),
                to: names.get(&r.to_institution_id).cloned().unwrap_or_default(),
                diagnosis: r.diagnosis_icd10,
                state: state_label(r.state),
                created: clock::format_cst(r.created_at_ms),
                actions,
            }
        })
        .collect();
    Ok(render(&Board {
        user_role: role_label(&actor),
        user_name: actor.name,
        rows,
    }))
}

#[derive(Deserialize)]
struct TransitionForm {
    to: String,
}

async fn transition(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<TransitionForm>,
) -> Response {
    let Some(to) = ReferralState::parse(&form.to) else {
        return WebError::from(super::Error::Invalid {
            field: "to",
            reason: "unknown state",
        })
        .into_response();
    };
    match super::transition(&ctx, clock::now_ms(), &actor, id, to, "").await {
        Ok(_) => Redirect::to("/referrals").into_response(),
        Err(error) => WebError::from(error).into_response(),
    }
}
