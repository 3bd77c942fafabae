//! The assessment pages: the scores table with the freeze for the insurance office, a member's
//! scorecard with every input and its source (the member's own staff see theirs), and the scheme
//! editor for administrators.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::scheme::{Input, Item, MemberKind, Scoring};
use super::{MemberScore, ScoreQuery, Scores};
use crate::access::{Actor, Role};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, Query, WebActor};
use crate::web::{WebError, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/assessments", get(scores_page))
        .route("/assessments/members/{id}", get(scorecard_page))
        .route("/assessments/{year}/freeze", post(freeze))
        .route("/assessments/schemes", get(schemes_page))
        .route("/assessments/schemes/{year}/{kind}", post(put_scheme))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Filter {
    year: String,
    period: String,
}

impl Filter {
    fn year(&self) -> i32 {
        self.year
            .trim()
            .parse()
            .unwrap_or_else(|_| clock::today_cst().year())
    }

    fn period(&self) -> String {
        match self.period.trim() {
            "" => "year".to_owned(),
            other => other.to_owned(),
        }
    }
}

const PERIODS: [(&str, &str); 5] = [
    ("year", "全年"),
    ("q1", "第一季度"),
    ("q2", "第二季度"),
    ("q3", "第三季度"),
    ("q4", "第四季度"),
];

#[derive(Template)]
#[template(path = "assessments.html")]
struct ScoresPage {
    user_name: String,
    user_role: String,
    year: i32,
    period: String,
    periods: [(&'static str, &'static str); 5],
    scores: Scores,
    may_freeze: bool,
}

impl ScoresPage {
    fn kind_name(&self, m: &MemberScore) -> &'static str {
        m.kind.label_zh()
    }

    fn frozen(&self) -> String {
        self.scores
            .frozen_at_ms
            .map(clock::format_cst)
            .unwrap_or_default()
    }
}

async fn scores_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(filter): Query<Filter>,
) -> Result<Response, WebError> {
    let (year, period) = (filter.year(), filter.period());
    let query = ScoreQuery {
        period: Some(period.clone()),
        institution: None,
    };
    let assessed = actor
        .institution
        .is_some_and(|i| MemberKind::of(i.kind).is_some());
    let scores = if super::sees_all(&actor) || assessed {
        super::scores(&ctx, clock::now_ms(), &actor, year, &query).await?
    } else {
        // County staff are not assessed as members: nothing to show.
        Scores {
            year,
            period: period.clone(),
            frozen_at_ms: None,
            members: Vec::new(),
        }
    };
    if !super::sees_all(&actor)
        && let Some(own) = scores.members.first()
    {
        let to = format!(
            "/assessments/members/{}?year={year}&period={period}",
            own.institution_id
        );
        return Ok(Redirect::to(&to).into_response());
    }
    Ok(render(&ScoresPage {
        user_name: actor.name.clone(),
        user_role: role_label(&actor),
        year,
        may_freeze: actor.has_role(Role::InsuranceOfficer)
            && period == "year"
            && scores.frozen_at_ms.is_none(),
        period,
        periods: PERIODS,
        scores,
    })
    .into_response())
}

#[derive(Template)]
#[template(path = "assessment_member.html")]
struct ScorecardPage {
    user_name: String,
    user_role: String,
    year: i32,
    period: String,
    periods: [(&'static str, &'static str); 5],
    frozen: String,
    member: MemberScore,
}

/// A number as the pages show it: `—` when absent.
fn shown(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
}

impl ScorecardPage {
    fn value(&self, v: &Option<f64>) -> String {
        shown(*v)
    }
}

async fn scorecard_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, WebError> {
    let (year, period) = (filter.year(), filter.period());
    let query = ScoreQuery {
        period: Some(period.clone()),
        institution: Some(id),
    };
    let scores = super::scores(&ctx, clock::now_ms(), &actor, year, &query).await?;
    let member = scores
        .members
        .into_iter()
        .next()
        .ok_or(WebError(crate::http::error::ApiError::not_found()))?;
    Ok(render(&ScorecardPage {
        user_name: actor.name.clone(),
        user_role: role_label(&actor),
        year,
        period,
        periods: PERIODS,
        frozen: scores
            .frozen_at_ms
            .map(clock::format_cst)
            .unwrap_or_default(),
        member,
    }))
}

async fn freeze(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(year): Path<i32>,
) -> Result<Response, WebError> {
    super::freeze(&ctx, clock::now_ms(), &actor, year).await?;
    Ok(Redirect::to(&format!("/assessments?year={year}")).into_response())
}

/// One row of the editor: an item, or a blank to add one.
struct Row {
    name: String,
    input: String,
    weight: String,
    target: String,
    scoring: &'static str,
    lower_is_better: bool,
    points_per_case: String,
}

fn input_value(input: &Input) -> String {
    match input {
        Input::Indicator(code) => format!("indicator:{code}"),
        Input::ContractFulfilment => "contract_fulfilment".to_owned(),
        Input::ContractCoverage => "contract_coverage".to_owned(),
        Input::Supervision => "supervision".to_owned(),
    }
}

fn scoring_value(scoring: Scoring) -> &'static str {
    match scoring {
        Scoring::ProRata => "pro_rata",
        Scoring::PassFail => "pass_fail",
        Scoring::Deduction => "deduction",
    }
}

#[derive(Template)]
#[template(path = "assessment_schemes.html")]
struct SchemesPage {
    user_name: String,
    user_role: String,
    year: i32,
    /// (kind, name, customised, rows).
    schemes: Vec<(&'static str, &'static str, bool, Vec<Row>)>,
    inputs: Vec<(String, String)>,
    may_edit: bool,
    error: String,
}

impl SchemesPage {
    fn picked(&self, row: &Row, value: &str) -> bool {
        row.input == value
    }
}

async fn schemes_view(
    ctx: &Ctx,
    actor: &Actor,
    year: i32,
    error: String,
) -> Result<Response, WebError> {
    let schemes = super::schemes(ctx, actor, year).await?;
    let mut inputs: Vec<(String, String)> = crate::indicator::definitions::DEFINITIONS
        .iter()
        .filter(|d| !matches!(d.formula, crate::indicator::Formula::Qualitative))
        .map(|d| {
            (
                format!("indicator:{}", d.code),
                format!("{} {}", d.code, d.name),
            )
        })
        .collect();
    inputs.extend([
        (
            "contract_fulfilment".to_owned(),
            "家庭医生签约履约率".to_owned(),
        ),
        (
            "contract_coverage".to_owned(),
            "家庭医生签约覆盖率".to_owned(),
        ),
        ("supervision".to_owned(), "监管发现问题（扣分）".to_owned()),
    ]);
    let blank = || Row {
        name: String::new(),
        input: String::new(),
        weight: String::new(),
        target: String::new(),
        scoring: "pro_rata",
        lower_is_better: false,
        points_per_case: String::new(),
    };
    let schemes = schemes
        .into_iter()
        .map(|s| {
            let mut rows: Vec<Row> = s
                .items
                .iter()
                .map(|i| Row {
                    name: i.name.clone(),
                    input: input_value(&i.input),
                    weight: i.weight.to_string(),
                    target: i.target.to_string(),
                    scoring: scoring_value(i.scoring),
                    lower_is_better: i.lower_is_better,
                    points_per_case: i.points_per_case.to_string(),
                })
                .collect();
            rows.extend([blank(), blank()]);
            (s.kind.as_str(), s.kind_name, s.customised, rows)
        })
        .collect();
    Ok(render(&SchemesPage {
        user_name: actor.name.clone(),
        user_role: role_label(actor),
        year,
        schemes,
        inputs,
        may_edit: actor.has_role(Role::Admin),
        error,
    })
    .into_response())
}

async fn schemes_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(filter): Query<Filter>,
) -> Result<Response, WebError> {
    schemes_view(&ctx, &actor, filter.year(), String::new()).await
}

/// The editor's rows back into items: `name`, `input`, `weight`, `target`, `scoring`,
/// `lower_is_better`, `points_per_case`, repeated per row in order; a row without a name is
/// left out.
fn items_of(fields: &[(String, String)]) -> Option<Vec<Item>> {
    let column = |key: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .collect()
    };
    let (names, inputs, weights, targets, scorings, points) = (
        column("name"),
        column("input"),
        column("weight"),
        column("target"),
        column("scoring"),
        column("points_per_case"),
    );
    let lower: Vec<usize> = column("lower_is_better")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let number = |v: Option<&&str>| match v.copied().unwrap_or_default() {
        "" => Some(0.0),
        text => text.parse::<f64>().ok(),
    };
    let mut items = Vec::new();
    for (row, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let input = match inputs.get(row).copied().unwrap_or_default() {
            "contract_fulfilment" => Input::ContractFulfilment,
            "contract_coverage" => Input::ContractCoverage,
            "supervision" => Input::Supervision,
            other => Input::Indicator(other.strip_prefix("indicator:")?.to_owned()),
        };
        let scoring = match scorings.get(row).copied().unwrap_or_default() {
            "pass_fail" => Scoring::PassFail,
            "deduction" => Scoring::Deduction,
            _ => Scoring::ProRata,
        };
        items.push(Item {
            name: (*name).to_owned(),
            input,
            weight: number(weights.get(row))?,
            target: number(targets.get(row))?,
            scoring,
            lower_is_better: lower.contains(&row),
            points_per_case: number(points.get(row))?,
        });
    }
    Some(items)
}

async fn put_scheme(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path((year, kind)): Path<(i32, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let kind =
        MemberKind::parse(&kind).ok_or(WebError(crate::http::error::ApiError::not_found()))?;
    let Some(items) = items_of(&fields) else {
        return schemes_view(
            &ctx,
            &actor,
            year,
            "请检查数字（权重、目标值、每项扣分）。".to_owned(),
        )
        .await;
    };
    match super::set_scheme(&ctx, clock::now_ms(), &actor, (year, kind), &items).await {
        Ok(_) => Ok(Redirect::to(&format!("/assessments/schemes?year={year}")).into_response()),
        Err(super::Error::Invalid { reason, .. }) => {
            let text = match reason {
                "the weights sum to 100" => "各项权重之和须为 100。".to_owned(),
                "supervision findings are scored by deduction, and only they" => {
                    "监管发现问题按扣分计，且只有它按扣分计。".to_owned()
                }
                other => format!("方案有误：{other}"),
            };
            schemes_view(&ctx, &actor, year, text).await
        }
        Err(super::Error::Frozen(_)) => {
            schemes_view(
                &ctx,
                &actor,
                year,
                "本年度考核已冻结，方案不能再改。".to_owned(),
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}
