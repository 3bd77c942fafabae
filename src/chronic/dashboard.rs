//! The chronic dashboard of a village clinic or township centre: the month's follow-up
//! measures per institution and team, the control chart of the last 12 months, today's call
//! list count and the week's due list.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use super::monthly::{self, Counts, Group, MeasuresQuery};
use super::rules::Program;
use super::schedule::{self, DueItem, ScheduleQuery};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Query, WebActor};
use crate::web::{WebError, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new().route("/chronic", get(dashboard_page))
}

/// The page's filter as the form sends it (an empty choice is "all").
#[derive(serde::Deserialize)]
struct Filter {
    program: Option<String>,
    month: Option<String>,
    institution: Option<String>,
}

/// A table row: a group's name and its counts.
struct Row {
    name: String,
    counts: Counts,
}

#[derive(Template)]
#[template(path = "chronic_dashboard.html")]
struct DashboardPage {
    user_name: String,
    user_role: String,
    program: &'static str,
    program_code: &'static str,
    programs: Vec<(&'static str, &'static str)>,
    month: String,
    institution: Option<i64>,
    choices: Vec<(i64, String)>,
    total: Counts,
    institutions: Vec<Row>,
    teams: Vec<Row>,
    chart: String,
    /// The caller's own call list and due list, when the caller has patients of their own.
    overdue_now: Option<usize>,
    due: Vec<DueItem>,
}

impl DashboardPage {
    fn chosen(&self, id: &i64) -> bool {
        self.institution == Some(*id)
    }

    fn percent(&self, ratio: &monthly::Ratio) -> String {
        ratio.shown()
    }
}

fn rows(groups: Vec<Group>) -> Vec<Row> {
    groups
        .into_iter()
        .map(|g| Row {
            name: g.name,
            counts: g.counts,
        })
        .collect()
}

/// Controlled (bars) and missed visits (line) as shares of the 3-month cohort, month by month.
fn control_chart(series: &[monthly::MonthlyMeasures]) -> String {
    let labels: Vec<String> = series.iter().map(|m| m.month[2..].to_owned()).collect();
    let share = |r: &monthly::Ratio| r.percent.map_or(0, |p| p.round() as i64);
    let bars: Vec<i64> = series.iter().map(|m| share(&m.total.controlled)).collect();
    let line: Vec<i64> = series
        .iter()
        .map(|m| share(&m.total.missed_visit))
        .collect();
    crate::web::chart::bars_and_line(
        &labels,
        &bars,
        &line,
        "近 3 个月控制满意（柱）与未随访（线），占 3 个月以上在管患者 %",
    )
}

async fn dashboard_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(filter): Query<Filter>,
) -> Result<Html<String>, WebError> {
    let query = MeasuresQuery {
        program: filter.program,
        month: filter.month,
        institution: filter.institution.and_then(|i| i.parse().ok()),
    };
    let (now, today) = (clock::now_ms(), clock::today_cst());
    let mut series = monthly::series(&ctx, today, &actor, &query, 12).await?;
    let chart = control_chart(&series);
    let this = series.pop().expect("twelve months");
    let own = ScheduleQuery::default();
    let has_patients = actor.institution.is_some_and(|i| {
        matches!(
            i.kind,
            crate::institution::InstitutionKind::VillageClinic
                | crate::institution::InstitutionKind::TownshipCentre
        )
    });
    let (overdue_now, due) = if has_patients {
        let (overdue, due) = schedule::overdue_and_due(&ctx, now, today, &actor, &own).await?;
        (Some(overdue.len()), due)
    } else {
        (None, Vec::new())
    };
    let choices = monthly::choices(&ctx, &actor)
        .await?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect();
    Ok(render(&DashboardPage {
        user_name: actor.name.clone(),
        user_role: role_label(&actor),
        program: this.program.label_zh(),
        program_code: this.program.as_str(),
        programs: Program::ALL
            .iter()
            .map(|p| (p.as_str(), p.label_zh()))
            .collect(),
        month: this.month,
        institution: query.institution,
        choices,
        total: this.total,
        institutions: rows(this.institutions),
        teams: rows(this.teams),
        chart,
        overdue_now,
        due,
    }))
}
