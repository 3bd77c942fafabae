//! The supervisor's dashboard: every indicator by dimension with its numerator and denominator,
//! charts of the monthly trend of the main shares, and a drill-down to one institution.

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::IndicatorQuery;
use super::basis::{self, DefinitionChange, DefinitionView, MeasureView};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, chart, done, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/indicators", get(dashboard))
        .route("/indicators/definitions", get(definitions_page))
        .route("/indicators/{code}", get(breakdown_page))
        .route("/indicators/definitions/{code}", post(put_definition))
        .route(
            "/indicators/definitions/{code}/reset",
            post(reset_definition),
        )
        .route("/indicators/targets/{code}", post(put_target))
        .route("/indicators/targets/{code}/reset", post(reset_target))
}

#[derive(Deserialize)]
struct DashboardForm {
    year: Option<i64>,
    month: Option<String>,
    institution: Option<String>,
}

/// An indicator's value, numerator, denominator and note as the tables show them.
struct Cells {
    value: String,
    numerator: String,
    denominator: String,
    note: String,
    /// The target, `≥ 75 %`, or a dash.
    target: String,
}

impl Cells {
    fn of(v: &super::Value) -> Cells {
        Cells {
            value: format!("{} {}", number(v.value), v.unit),
            numerator: number(v.numerator),
            denominator: number(v.denominator),
            note: v.note.unwrap_or_default().to_owned(),
            target: v
                .target
                .as_ref()
                .map_or_else(|| "—".to_owned(), |t| t.label(&v.unit)),
        }
    }
}

/// The year asked for (this year when absent) and the month, if one was asked for.
fn period(year: Option<i64>, month: Option<&str>) -> (i64, Option<u32>) {
    let year = year.unwrap_or_else(|| crate::insurance::month_of(clock::now_ms()).0);
    (year, month.and_then(|m| m.parse::<u32>().ok()))
}

struct Row {
    code: &'static str,
    name: String,
    customised: bool,
    cells: Cells,
    off_target: bool,
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct Dashboard {
    user_name: String,
    user_role: String,
    year: i64,
    month: String,
    institution: Option<i64>,
    institutions: Vec<(i64, String)>,
    dimensions: Vec<(&'static str, Vec<Row>)>,
    charts: Vec<String>,
    csv_link: String,
}

fn number(value: Option<f64>) -> String {
    match value {
        None => "—".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

async fn dashboard(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(form): Query<DashboardForm>,
) -> Result<Html<String>, WebError> {
    let (year, month) = period(form.year, form.month.as_deref());
    let institution = form
        .institution
        .as_deref()
        .and_then(|i| i.parse::<i64>().ok());
    let query = IndicatorQuery {
        year,
        month,
        institution,
    };
    let values = super::compute(&ctx, &actor, &query).await?;
    let mut dimensions: Vec<(&'static str, Vec<Row>)> = Vec::new();
    for v in &values {
        let row = Row {
            code: v.code,
            name: v.name.clone(),
            customised: v.customised,
            cells: Cells::of(v),
            off_target: v.on_target == Some(false),
        };
        match dimensions.iter_mut().find(|(d, _)| *d == v.dimension) {
            Some((_, rows)) => rows.push(row),
            None => dimensions.push((v.dimension, vec![row])),
        }
    }
    // The monthly trend of the shares the seeds watch most, and the chest pain centre's D2B.
    let labels: Vec<String> = (1..=12).map(|m| format!("{m}月")).collect();
    let mut series: Vec<(&str, &str, Vec<i64>)> = vec![
        ("3.1", "基层诊疗量占比（%）", Vec::new()),
        ("C.1", "县域就诊率（%）", Vec::new()),
        ("P.5", "进门至导丝通过平均时间（分钟）", Vec::new()),
    ];
    let codes: Vec<&str> = series.iter().map(|(code, _, _)| *code).collect();
    for monthly in super::monthly(&ctx, &actor, year, institution, Some(&codes)).await? {
        for (code, _, points) in &mut series {
            let value = monthly
                .iter()
                .find(|v| v.code == *code)
                .and_then(|v| v.value);
            points.push(value.map_or(0, |v| v.round() as i64));
        }
    }
    let charts = series
        .iter()
        .map(|(_, title, points)| chart::bars_and_line(&labels, points, &[], title))
        .collect();
    let names = institution_names(&ctx, &actor).await;
    let mut institutions: Vec<(i64, String)> = names.into_iter().collect();
    institutions.sort();
    let csv_link = format!(
        "/api/v1/indicators.csv?year={year}{}{}",
        month.map(|m| format!("&month={m}")).unwrap_or_default(),
        institution
            .map(|i| format!("&institution={i}"))
            .unwrap_or_default()
    );
    Ok(render(&Dashboard {
        user_role: role_label(&actor),
        user_name: actor.name,
        year,
        month: month.map(|m| m.to_string()).unwrap_or_default(),
        institution,
        institutions,
        dimensions,
        charts,
        csv_link,
    }))
}

struct BreakdownRow {
    institution_id: i64,
    name: String,
    kind: &'static str,
    cells: Cells,
}

#[derive(Template)]
#[template(path = "indicator_breakdown.html")]
struct BreakdownPage {
    user_name: String,
    user_role: String,
    code: &'static str,
    name: String,
    unit: String,
    source: String,
    year: i64,
    month: String,
    county: Cells,
    rows: Vec<BreakdownRow>,
}

#[derive(Deserialize)]
struct PeriodForm {
    year: Option<i64>,
    month: Option<String>,
}

/// One indicator for the county and each member institution, with numerators and denominators.
async fn breakdown_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(code): Path<String>,
    Query(form): Query<PeriodForm>,
) -> Result<Html<String>, WebError> {
    let (year, month) = period(form.year, form.month.as_deref());
    let breakdown = super::breakdown(&ctx, &actor, &code, year, month).await?;
    let county = &breakdown.county;
    Ok(render(&BreakdownPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        code: county.code,
        name: county.name.clone(),
        unit: county.unit.clone(),
        source: county.source.clone(),
        year,
        month: month.map(|m| m.to_string()).unwrap_or_default(),
        county: Cells::of(county),
        rows: breakdown
            .institutions
            .iter()
            .map(|i| BreakdownRow {
                institution_id: i.institution_id,
                name: i.institution_name.clone(),
                kind: i.kind,
                cells: Cells::of(&i.value),
            })
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "indicator_definitions.html")]
struct DefinitionsPage {
    user_name: String,
    user_role: String,
    /// The administrator or the health bureau, who may set the county's 口径.
    may_edit: bool,
    definitions: Vec<DefinitionView>,
    measures: Vec<MeasureView>,
}

impl DefinitionsPage {
    fn label(&self, measure: &Option<&'static str>) -> String {
        match measure {
            None => "—".into(),
            Some(name) => self
                .measures
                .iter()
                .find(|m| m.name == *name)
                .map_or_else(|| (*name).to_owned(), |m| m.label.to_owned()),
        }
    }
}

async fn definitions_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let definitions = basis::definitions(&ctx, &actor).await?;
    Ok(render(&DefinitionsPage {
        user_role: role_label(&actor),
        may_edit: basis::may_edit(&actor),
        user_name: actor.name,
        definitions,
        measures: basis::measures(),
    }))
}

#[derive(Deserialize)]
struct DefinitionForm {
    name: String,
    numerator: String,
    denominator: String,
    #[serde(default)]
    scale: Option<String>,
    unit: String,
    basis: String,
}

async fn put_definition(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(code): Path<String>,
    Form(form): Form<DefinitionForm>,
) -> Response {
    let change = DefinitionChange {
        name: form.name,
        numerator: form.numerator,
        denominator: form.denominator,
        scale: form.scale.and_then(|s| s.trim().parse().ok()),
        unit: form.unit,
        basis: form.basis,
    };
    done(
        basis::put(&ctx, clock::now_ms(), &actor, &code, &change).await,
        "/indicators/definitions",
    )
}

async fn reset_definition(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(code): Path<String>,
) -> Response {
    done(
        basis::reset(&ctx, clock::now_ms(), &actor, &code).await,
        "/indicators/definitions",
    )
}

#[derive(Deserialize)]
struct TargetForm {
    direction: String,
    value: String,
    basis: String,
}

async fn put_target(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(code): Path<String>,
    Form(form): Form<TargetForm>,
) -> Response {
    let (Some(direction), Ok(value)) = (
        super::target::Direction::parse(&form.direction),
        form.value.trim().parse::<f64>(),
    ) else {
        return WebError::from(super::Error::Invalid {
            field: "value",
            reason: "a number, at least or at most",
        })
        .into_response();
    };
    let change = super::target::TargetChange {
        direction,
        value,
        basis: form.basis,
    };
    done(
        super::target::put(&ctx, clock::now_ms(), &actor, &code, &change).await,
        "/indicators/definitions",
    )
}

async fn reset_target(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(code): Path<String>,
) -> Response {
    done(
        super::target::reset(&ctx, clock::now_ms(), &actor, &code).await,
        "/indicators/definitions",
    )
}
