//! The supervision pages: the alert board (by rule, by institution, month by month, the
//! rectification rate, a run of the rules for the office) and an alert's page with its
//! evidence, its timeline and the steps the caller may take.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{AlertDetail, AlertQuery, AlertState, Count, NewRun, Party, Transition};
use super::rules::RuleCode;
use crate::access::Actor;
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, Query, WebActor};
use crate::money::yuan;
use crate::web::{WebError, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/supervision", get(board_page))
        .route("/supervision/runs", post(run))
        .route("/supervision/alerts/{id}", get(alert_page))
        .route("/supervision/alerts/{id}/transitions", post(transition))
        .merge(super::rules_page::routes())
}

/// The board's filter as the form sends it (an empty choice is "all").
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Filter {
    month: String,
    rule: String,
    state: String,
    institution: String,
}

impl Filter {
    fn query(&self) -> AlertQuery {
        let some = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        AlertQuery {
            institution: self.institution.trim().parse().ok(),
            rule: some(&self.rule),
            state: some(&self.state),
            month: some(&self.month),
        }
    }
}

/// A row of counts: a name and its alerts, confirmed, verified, and the rate.
struct Tally {
    name: String,
    alerts: i64,
    confirmed: i64,
    verified: i64,
}

impl Tally {
    fn new(name: String) -> Tally {
        Tally {
            name,
            alerts: 0,
            confirmed: 0,
            verified: 0,
        }
    }

    fn add(&mut self, c: &Count) {
        self.alerts += c.alerts;
        if c.state.confirmed() {
            self.confirmed += c.alerts;
        }
        if c.state == AlertState::Verified {
            self.verified += c.alerts;
        }
    }

    /// 整改率: verified of confirmed.
    fn rate(&self) -> String {
        if self.confirmed == 0 {
            "—".to_owned()
        } else {
            format!(
                "{:.1}%",
                self.verified as f64 * 100.0 / self.confirmed as f64
            )
        }
    }
}

struct Row {
    id: i64,
    rule: String,
    institution: String,
    period: String,
    amount: String,
    detail: String,
    state: &'static str,
    due_on: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct BoardPage {
    user_name: String,
    user_role: String,
    office: bool,
    filter: Filter,
    rules: Vec<(&'static str, &'static str)>,
    states: Vec<(&'static str, &'static str)>,
    institutions: Vec<(i64, String)>,
    total: Tally,
    by_rule: Vec<Tally>,
    by_institution: Vec<Tally>,
    by_month: Vec<Tally>,
    alerts: Vec<Row>,
    today: String,
    run_from: String,
}

impl BoardPage {
    fn chosen_institution(&self, id: &i64) -> bool {
        self.filter.institution == id.to_string()
    }
}

async fn board_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, WebError> {
    let today = clock::today_cst();
    let counts = super::counts(&ctx, &actor).await?;
    let names = institution_names(&ctx, &actor).await;
    let alerts = super::alerts(&ctx, today, &actor, &filter.query(), (200, 0)).await?;
    Ok(render(&board(
        &actor, filter, &counts, &names, alerts, today,
    )))
}

fn board(
    actor: &Actor,
    filter: Filter,
    counts: &[Count],
    names: &HashMap<i64, String>,
    alerts: Vec<super::model::Alert>,
    today: time::Date,
) -> BoardPage {
    let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let mut total = Tally::new("合计".to_owned());
    let mut by_rule: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut by_institution: BTreeMap<i64, Tally> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Tally> = BTreeMap::new();
    for c in counts {
        total.add(c);
        by_rule
            .entry(c.rule.as_str())
            .or_insert_with(|| Tally::new(format!("{} {}", c.rule.as_str(), c.rule.name_zh())))
            .add(c);
        by_institution
            .entry(c.institution_id)
            .or_insert_with(|| Tally::new(name(c.institution_id)))
            .add(c);
        by_month
            .entry(c.period.clone())
            .or_insert_with(|| Tally::new(c.period.clone()))
            .add(c);
    }
    let institutions = by_institution
        .iter()
        .map(|(id, t)| (*id, t.name.clone()))
        .collect();
    let mut by_institution: Vec<Tally> = by_institution.into_values().collect();
    by_institution.sort_by_key(|t| std::cmp::Reverse(t.alerts));
    BoardPage {
        user_name: actor.name.clone(),
        user_role: role_label(actor),
        office: super::is_office(actor),
        filter,
        rules: RuleCode::ALL
            .iter()
            .map(|r| (r.as_str(), r.name_zh()))
            .collect(),
        states: AlertState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label_zh()))
            .collect(),
        institutions,
        total,
        by_rule: by_rule.into_values().collect(),
        by_institution,
        by_month: by_month.into_values().rev().take(12).collect(),
        alerts: alerts
            .into_iter()
            .map(|a| Row {
                id: a.id,
                rule: format!("{} {}", a.rule_code.as_str(), a.rule_name),
                institution: a.institution_name,
                period: a.period,
                amount: yuan(a.amount_fen),
                detail: a.detail,
                state: a.state.label_zh(),
                due_on: a.due_on.unwrap_or_default(),
                overdue: a.overdue,
            })
            .collect(),
        today: today.to_string(),
        run_from: (today - time::Duration::days(30)).to_string(),
    }
}

#[derive(Deserialize)]
struct RunForm {
    from: String,
    to: String,
}

async fn run(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<RunForm>,
) -> Result<Response, WebError> {
    let new = NewRun {
        from: form.from,
        to: form.to,
    };
    super::run(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok(Redirect::to("/supervision").into_response())
}

/// A step the caller may take from the alert's state, with what it needs.
struct Action {
    to: &'static str,
    label: &'static str,
    needs_note: bool,
    needs_due: bool,
    needs_refund: bool,
}

#[derive(Template)]
#[template(path = "supervision_alert.html")]
struct AlertPage {
    user_name: String,
    user_role: String,
    detail: AlertDetail,
    state: &'static str,
    amount: String,
    refund: String,
    evidence: Vec<(i64, String, String, String, String, String)>,
    /// An indicator's value, its peers' median and 90th percentile (with the unit), how many.
    comparison: Option<(String, String, String, i64)>,
    steps: Vec<(String, &'static str, &'static str, String, String)>,
    actions: Vec<Action>,
    error: String,
    today: String,
}

fn actions(actor: &Actor, detail: &AlertDetail) -> Vec<Action> {
    let office = super::is_office(actor);
    let own = super::is_institution(actor, detail.alert.institution_id);
    AlertState::ALL
        .iter()
        .filter_map(|to| {
            let party = super::model::step(detail.alert.state, *to)?;
            let allowed = match party {
                Party::Office => office,
                Party::Institution => own,
            };
            allowed.then(|| {
                let label = match (detail.alert.state, to) {
                    (AlertState::Appealed, AlertState::Assigned) => "复审维持",
                    (_, AlertState::Dismissed) => "初审排除",
                    (_, AlertState::Confirmed) => "初审确认",
                    (_, AlertState::Assigned) => "约谈并限期整改",
                    (_, AlertState::Appealed) => "申诉",
                    (_, AlertState::Withdrawn) => "复审撤销",
                    (_, AlertState::Rectifying) => "开始整改",
                    (_, AlertState::Submitted) => "提交整改",
                    (_, AlertState::Verified) => "核实整改",
                    (_, AlertState::Reopened) => "退回重新整改",
                    _ => to.label_zh(),
                };
                Action {
                    to: to.as_str(),
                    label,
                    // Assigning takes the interview record, if any.
                    needs_note: to.requires_note() || *to == AlertState::Assigned,
                    needs_due: *to == AlertState::Assigned
                        && detail.alert.state == AlertState::Confirmed,
                    needs_refund: *to == AlertState::Submitted,
                }
            })
        })
        .collect()
}

fn alert_view(actor: &Actor, detail: AlertDetail, error: String) -> AlertPage {
    let day = |ms: i64| clock::format_cst(ms)[..10].to_owned();
    AlertPage {
        user_name: actor.name.clone(),
        user_role: role_label(actor),
        state: detail.alert.state.label_zh(),
        amount: yuan(detail.alert.amount_fen),
        refund: detail.alert.refund_fen.map(yuan).unwrap_or_default(),
        comparison: detail.alert.comparison.map(|c| {
            let unit = detail.alert.rule_code.unit();
            let shown = |v: f64| format!("{v:.1} {unit}");
            (
                shown(c.value),
                shown(c.peer_median),
                shown(c.peer_p90),
                c.peers,
            )
        }),
        evidence: detail
            .evidence
            .iter()
            .map(|e| {
                (
                    e.encounter_id,
                    if e.kind == "inpatient" {
                        "住院"
                    } else {
                        "门诊"
                    }
                    .to_owned(),
                    day(e.started_at_ms),
                    e.ended_at_ms.map(day).unwrap_or_default(),
                    e.principal_icd10.clone().unwrap_or_default(),
                    yuan(e.total_fen),
                )
            })
            .collect(),
        steps: detail
            .steps
            .iter()
            .map(|s| {
                (
                    clock::format_cst(s.at_ms),
                    s.from_state.label_zh(),
                    s.to_state.label_zh(),
                    s.by_name.clone(),
                    s.note.clone(),
                )
            })
            .collect(),
        actions: actions(actor, &detail),
        detail,
        error,
        today: clock::today_cst().to_string(),
    }
}

async fn alert_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let detail = super::get(&ctx, clock::now_ms(), clock::today_cst(), &actor, id).await?;
    Ok(render(&alert_view(&actor, detail, String::new())))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StepForm {
    to: String,
    note: String,
    due_on: String,
    refund_yuan: String,
}

/// What to fix in a refused step, in Chinese.
fn error_zh(error: &super::Error) -> Option<String> {
    use super::Error as E;
    Some(match error {
        E::Invalid { field, .. } => match *field {
            "note" => "请填写理由（提交整改时填写原因与措施）。".to_owned(),
            "due_on" => "请填写整改期限（今天或以后）。".to_owned(),
            "refund_fen" => "请填写退回或调整金额（元，可为 0）。".to_owned(),
            other => format!("{other} 填写有误。"),
        },
        E::NotRectified(n) => format!("规则在本期之后仍发现 {n} 例，不能核实，可退回重新整改。"),
        E::IllegalStep { .. } => "预警状态已变化，请刷新后再操作。".to_owned(),
        _ => return None,
    })
}

async fn transition(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    let (now, today) = (clock::now_ms(), clock::today_cst());
    let refund_fen = match form.refund_yuan.trim() {
        "" => None,
        text => crate::money::fen_of_yuan(text).or(Some(-1)),
    };
    let step = Transition {
        to: AlertState::parse(&form.to),
        note: form.note,
        due_on: Some(form.due_on).filter(|d| !d.trim().is_empty()),
        refund_fen,
    };
    match super::transition(&ctx, now, today, &actor, id, &step).await {
        Ok(_) => Ok(Redirect::to(&format!("/supervision/alerts/{id}")).into_response()),
        Err(error) => match error_zh(&error) {
            Some(text) => {
                let detail = super::get(&ctx, now, today, &actor, id).await?;
                Ok(render(&alert_view(&actor, detail, text)).into_response())
            }
            None => Err(error.into()),
        },
    }
}
