//! The insurance officer's budget page: the year's package, reserve, prepayments and spending,
//! a month-by-month chart of spending against the budget to date, the reviews and the ledger.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;

use crate::app::Ctx;
use crate::clock;
use crate::http::extract::WebActor;
use crate::web::{WebError, chart, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new().route("/budget", get(budget_page))
}

/// Fen as yuan with thousands separators: `1234567` → `12,345.67`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

#[derive(Deserialize)]
struct YearForm {
    year: Option<i64>,
}

struct Line {
    label: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "budget.html")]
struct BudgetPage {
    user_name: String,
    user_role: String,
    year: i64,
    exists: bool,
    settled: bool,
    figures: Vec<Line>,
    chart: String,
    reviews: Vec<(i64, String, String, String)>,
    accounts: Vec<Line>,
    ledger: Vec<(String, String, String, String, String)>,
}

fn account_label(account: &str, names: &std::collections::HashMap<i64, String>) -> String {
    match account {
        "fund" => "医保基金".into(),
        "budget" => "打包预算（未拨付）".into(),
        "reserve" => "风险金".into(),
        "group" => "医共体".into(),
        "spending" => "医保支出（县内+县外）".into(),
        other => {
            let mut parts = other.split(':');
            match (
                parts.next(),
                parts.next().and_then(|id| id.parse().ok()),
                parts.next(),
            ) {
                (Some("member"), Some(id), Some(pool)) => format!(
                    "{} · {}",
                    names.get(&id).cloned().unwrap_or_default(),
                    if pool == "performance" {
                        "绩效"
                    } else {
                        "发展基金"
                    }
                ),
                _ => other.to_owned(),
            }
        }
    }
}

async fn budget_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(form): Query<YearForm>,
) -> Result<Html<String>, WebError> {
    let year = form
        .year
        .unwrap_or_else(|| super::month_of(clock::now_ms()).0);
    let mut page = BudgetPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        year,
        exists: false,
        settled: false,
        figures: Vec::new(),
        chart: String::new(),
        reviews: Vec::new(),
        accounts: Vec::new(),
        ledger: Vec::new(),
    };
    let position = match super::budget::position(&ctx, &actor, year).await {
        Ok(position) => position,
        Err(super::Error::NoBudget(_)) => return Ok(render(&page)),
        Err(error) => return Err(error.into()),
    };
    let names = institution_names(&ctx, &actor).await;
    page.exists = true;
    page.settled = position.budget.settled_at_ms.is_some();
    let line = |label: &str, fen: i64| Line {
        label: label.to_owned(),
        amount: yuan(fen),
    };
    page.figures = vec![
        line("基金预算总额", position.budget.total_fen),
        line(
            &format!("打包给医共体（{}%）", position.budget.packaged_pp),
            position.packaged_fen,
        ),
        line(
            &format!("风险金（{}%）", position.budget.risk_reserve_pp),
            position.reserve_fen,
        ),
        line("已预付", position.prepaid_fen),
        line("县内医保支出", position.spent_in_county_fen),
        line("县外医保支出", position.spent_out_of_county_fen),
        line(
            if position.balance_fen >= 0 {
                "结余"
            } else {
                "超支"
            },
            position.balance_fen.abs(),
        ),
    ];
    let labels: Vec<String> = (1..=12).map(|m| format!("{m}月")).collect();
    let spent: Vec<i64> = position
        .months
        .iter()
        .map(|m| m.spent_to_date_fen / 100)
        .collect();
    let budget: Vec<i64> = position
        .months
        .iter()
        .map(|m| m.budget_to_date_fen / 100)
        .collect();
    page.chart = chart::bars_and_line(
        &labels,
        &spent,
        &budget,
        "累计医保支出（柱）与累计预算（线），元",
    );
    page.reviews = position
        .reviews
        .iter()
        .map(|r| {
            (
                r.quarter,
                yuan(r.budget_to_date_fen),
                yuan(r.spent_to_date_fen),
                yuan(r.projected_fen),
            )
        })
        .collect();
    page.accounts = position
        .accounts
        .iter()
        .map(|(account, fen)| Line {
            label: account_label(account, &names),
            amount: yuan(*fen),
        })
        .collect();
    page.ledger = position
        .ledger
        .iter()
        .map(|e| {
            (
                e.period.clone(),
                e.kind.clone(),
                account_label(&e.from_account, &names),
                account_label(&e.to_account, &names),
                yuan(e.amount_fen),
            )
        })
        .collect();
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fen_read_as_yuan() {
        assert_eq!(super::yuan(123_456_789), "1,234,567.89");
        assert_eq!(super::yuan(-5), "-0.05");
        assert_eq!(super::yuan(100_000), "1,000.00");
    }
}
