//! The insurance officer's pages. The budget page: the year's package, reserve, prepayments
//! and spending, a month-by-month chart of spending against the budget to date, the reviews and
//! the ledger, with the officer's forms to set the budget, pay a month's prepayment, review a
//! quarter and settle the year. Forms post to the same operations as the JSON API and come
//! back to the page.

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::budget::{self, NewBudget};
use super::claim::{self, Claim, MonthTotals};
use super::dip::{self, Group, MonthScores};
use super::{Rule, import::yuan_to_fen};
use crate::access::Role;
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, chart, done, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/budget", get(budget_page))
        .route("/budget/{year}", post(create_budget))
        .route("/budget/{year}/prepayments", post(prepay))
        .route("/budget/{year}/reviews", post(review))
        .route("/budget/{year}/settlement", post(settle))
        .route("/budget/{year}/scores", post(set_scores))
        .route("/claims", get(claims_page))
        .route("/claims/settle", post(settle_claims))
        .route("/claims/rules", post(put_rule))
        .route("/dip", get(dip_page))
        .route("/dip/groups", post(put_dip_group))
}

mod filters {
    /// Fen as yuan in a template: `{{ claim.fund_paid_fen|yuan }}`.
    #[askama::filter_fn]
    pub fn yuan(fen: &i64, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(crate::money::yuan(*fen))
    }
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
    /// The insurance officer, who sets the budget and moves its money.
    may_act: bool,
    /// The first month not yet prepaid and the first quarter not yet reviewed.
    next_month: u32,
    next_quarter: i64,
    figures: Vec<Line>,
    chart: String,
    reviews: Vec<(i64, String, String, String)>,
    /// Members with claims this year: (id, name, score), the weights of a surplus's shares.
    /// (institution, name, score, where it comes from).
    scores: Vec<(i64, String, i64, String)>,
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
        may_act: actor.has_role(Role::InsuranceOfficer),
        next_month: 1,
        next_quarter: 1,
        figures: Vec::new(),
        chart: String::new(),
        reviews: Vec::new(),
        scores: Vec::new(),
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
    let prepaid = |month: &u32| {
        let period = format!("{year}-{month:02}");
        position
            .ledger
            .iter()
            .any(|e| e.kind == "prepayment" && e.period == period)
    };
    page.next_month = (1..=12).find(|m| !prepaid(m)).unwrap_or(12);
    page.next_quarter = (1..=4)
        .find(|q| position.reviews.iter().all(|r| r.quarter != *q))
        .unwrap_or(4);
    let line = |label: &str, fen: i64| Line {
        label: label.to_owned(),
        amount: crate::money::yuan(fen),
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
                crate::money::yuan(r.budget_to_date_fen),
                crate::money::yuan(r.spent_to_date_fen),
                crate::money::yuan(r.projected_fen),
            )
        })
        .collect();
    page.scores = budget::scores(&ctx, &actor, year)
        .await?
        .into_iter()
        .map(|m| {
            let name = names.get(&m.institution_id).cloned().unwrap_or_default();
            let source = match m.source.as_str() {
                "typed" => format!("手工调整：{}", m.reason.unwrap_or_default()),
                "assessment" => "绩效考核（已冻结）".to_owned(),
                _ => "未考核，按 100 分".to_owned(),
            };
            (m.institution_id, name, m.score, source)
        })
        .collect();
    page.accounts = position
        .accounts
        .iter()
        .map(|(account, fen)| Line {
            label: account_label(account, &names),
            amount: crate::money::yuan(*fen),
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
                crate::money::yuan(e.amount_fen),
            )
        })
        .collect();
    Ok(render(&page))
}

/// The budget form: shares in whole percent, the per-capita amount in yuan.
#[derive(Deserialize)]
struct BudgetForm {
    method: String,
    #[serde(default)]
    per_capita_yuan: String,
    growth_pp: i64,
    packaged_pp: i64,
    risk_reserve_pp: i64,
    performance_pp: i64,
    overrun_band_pp: i64,
    overrun_fund_pp: i64,
}

async fn create_budget(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(year): Path<i64>,
    Form(form): Form<BudgetForm>,
) -> Response {
    let per_capita_fen = match (form.method.as_str(), yuan_to_fen(&form.per_capita_yuan)) {
        ("per_capita", None) => {
            return WebError::from(super::Error::Invalid {
                field: "per_capita_yuan",
                reason: "yuan with at most two decimals",
            })
            .into_response();
        }
        (_, fen) => fen.unwrap_or(0),
    };
    let new = NewBudget {
        method: form.method,
        per_capita_fen,
        growth_pp: form.growth_pp,
        packaged_pp: form.packaged_pp,
        risk_reserve_pp: form.risk_reserve_pp,
        performance_pp: form.performance_pp,
        overrun_band_pp: form.overrun_band_pp,
        overrun_fund_pp: form.overrun_fund_pp,
    };
    done(
        budget::create(&ctx, clock::now_ms(), &actor, year, &new).await,
        &format!("/budget?year={year}"),
    )
}

#[derive(Deserialize)]
struct MonthForm {
    month: u32,
}

async fn prepay(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(year): Path<i64>,
    Form(form): Form<MonthForm>,
) -> Response {
    done(
        budget::prepay(&ctx, clock::now_ms(), &actor, year, form.month).await,
        &format!("/budget?year={year}"),
    )
}

/// Scores as the form sends them: institution id → score, and the reason for those typed.
async fn set_scores(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(year): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let reason = fields
        .iter()
        .find(|(key, _)| key == "reason")
        .map(|(_, reason)| reason.clone());
    let scores: Option<Vec<budget::MemberScore>> = fields
        .iter()
        .filter(|(key, _)| key != "reason")
        .map(|(id, score)| {
            Some(budget::MemberScore {
                institution_id: id.parse().ok()?,
                score: score.trim().parse().ok()?,
                reason: reason.clone(),
                source: String::new(),
                weight: 0,
            })
        })
        .collect();
    let Some(scores) = scores else {
        return WebError::from(super::Error::Invalid {
            field: "score",
            reason: "a whole number 0 to 100 for each member",
        })
        .into_response();
    };
    done(
        budget::set_scores(&ctx, clock::now_ms(), &actor, year, &scores).await,
        &format!("/budget?year={year}"),
    )
}

#[derive(Deserialize)]
struct QuarterForm {
    quarter: i64,
}

async fn review(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(year): Path<i64>,
    Form(form): Form<QuarterForm>,
) -> Response {
    done(
        budget::review(&ctx, clock::now_ms(), &actor, year, form.quarter).await,
        &format!("/budget?year={year}"),
    )
}

async fn settle(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(year): Path<i64>,
) -> Response {
    done(
        budget::settle(&ctx, clock::now_ms(), &actor, year).await,
        &format!("/budget?year={year}"),
    )
}

/// The month a page shows: `YYYY-MM` as asked, else this month (CST).
fn month_or_now(month: Option<String>) -> String {
    month
        .filter(|m| clock::month_bounds_cst(m).is_some())
        .unwrap_or_else(|| super::month_of(clock::now_ms()).1)
}

const CLAIMS_PER_PAGE: i64 = 50;

#[derive(Deserialize)]
struct ClaimsQuery {
    month: Option<String>,
    #[serde(default)]
    offset: i64,
    /// Set after settling: what the run did.
    settled: Option<i64>,
    already: Option<i64>,
    uninsured: Option<i64>,
}

struct ClaimRow {
    claim: Claim,
    institution: String,
}

#[derive(Template)]
#[template(path = "claims.html")]
struct ClaimsPage {
    user_name: String,
    user_role: String,
    may_act: bool,
    month: String,
    rules: Vec<Rule>,
    totals: MonthTotals,
    claims: Vec<ClaimRow>,
    previous_offset: Option<i64>,
    next_offset: Option<i64>,
    /// (settled, already settled, uninsured) after a run.
    run: Option<(i64, i64, i64)>,
}

impl ClaimsPage {
    fn level(&self, level: &i64) -> &'static str {
        match level {
            1 => "村卫生室",
            2 => "乡镇卫生院",
            3 => "县级医院",
            _ => "县外",
        }
    }

    fn notes(&self, notes: &str) -> String {
        notes
            .split(',')
            .filter_map(|note| match note.trim() {
                "single_deductible" => Some("转诊一次起付"),
                "down_referral_bonus" => Some("下转提高 5 个百分点"),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// The month's claims with their totals, the year's rules, and the officer's forms to settle the
/// month and set a rule.
async fn claims_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(query): Query<ClaimsQuery>,
) -> Result<Html<String>, WebError> {
    let month = month_or_now(query.month);
    let year: i64 = month[..4].parse().unwrap_or_default();
    let offset = query.offset.max(0);
    let totals = claim::month_totals(&ctx, &actor, &month).await?;
    let mut claims = claim::list(
        &ctx,
        clock::now_ms(),
        &actor,
        &month,
        None,
        CLAIMS_PER_PAGE + 1,
        offset,
    )
    .await?;
    let more = claims.len() as i64 > CLAIMS_PER_PAGE;
    claims.truncate(CLAIMS_PER_PAGE as usize);
    let names = institution_names(&ctx, &actor).await;
    Ok(render(&ClaimsPage {
        user_role: role_label(&actor),
        may_act: actor.has_role(Role::InsuranceOfficer),
        user_name: actor.name.clone(),
        rules: super::rules(&ctx, &actor, year).await?,
        totals,
        claims: claims
            .into_iter()
            .map(|claim| ClaimRow {
                institution: names
                    .get(&claim.institution_id)
                    .cloned()
                    .unwrap_or_default(),
                claim,
            })
            .collect(),
        previous_offset: (offset > 0).then(|| (offset - CLAIMS_PER_PAGE).max(0)),
        next_offset: more.then_some(offset + CLAIMS_PER_PAGE),
        run: query.settled.map(|settled| {
            (
                settled,
                query.already.unwrap_or(0),
                query.uninsured.unwrap_or(0),
            )
        }),
        month,
    }))
}

#[derive(Deserialize)]
struct SettleForm {
    month: String,
}

async fn settle_claims(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<SettleForm>,
) -> Response {
    match claim::settle_month(&ctx, clock::now_ms(), &actor, &form.month).await {
        Ok(run) => Redirect::to(&format!(
            "/claims?month={}&settled={}&already={}&uninsured={}",
            run.month, run.settled, run.already_settled, run.uninsured
        ))
        .into_response(),
        Err(error) => WebError::from(error).into_response(),
    }
}

/// A rule as the form gives it: money in yuan, shares in whole percent.
#[derive(Deserialize)]
struct RuleForm {
    month: String,
    year: i64,
    scheme: String,
    level: i64,
    deductible_yuan: String,
    eligible_pp: i64,
    rate_pp: i64,
    annual_cap_yuan: String,
}

async fn put_rule(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<RuleForm>,
) -> Response {
    let (Some(deductible_fen), Some(annual_cap_fen)) = (
        yuan_to_fen(&form.deductible_yuan),
        yuan_to_fen(&form.annual_cap_yuan),
    ) else {
        return WebError::from(super::Error::Invalid {
            field: "rule",
            reason: "deductible and cap in yuan with at most two decimals",
        })
        .into_response();
    };
    let rule = Rule {
        year: form.year,
        scheme: form.scheme,
        level: form.level,
        deductible_fen,
        eligible_pp: form.eligible_pp,
        rate_pp: form.rate_pp,
        annual_cap_fen,
    };
    done(
        super::put_rule(&ctx, clock::now_ms(), &actor, &rule).await,
        &format!("/claims?month={}", form.month),
    )
}

#[derive(Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

#[derive(Template)]
#[template(path = "dip.html")]
struct DipPage {
    user_name: String,
    user_role: String,
    may_act: bool,
    month: String,
    scores: MonthScores,
    /// Members' names by id.
    names: std::collections::HashMap<i64, String>,
    groups: Vec<Group>,
}

impl DipPage {
    fn name(&self, id: &i64) -> String {
        self.names.get(id).cloned().unwrap_or_default()
    }

    fn point_value(&self) -> String {
        self.scores
            .point_value_fen
            .map_or_else(|| "—".to_owned(), |fen| format!("{:.4}", fen / 100.0))
    }
}

/// The month's DIP: cases scored, the point value and each member's payment; the catalogue of
/// disease groups with the officer's form to add or change one.
async fn dip_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Query(query): Query<MonthQuery>,
) -> Result<Html<String>, WebError> {
    let month = month_or_now(query.month);
    Ok(render(&DipPage {
        user_role: role_label(&actor),
        may_act: actor.has_role(Role::InsuranceOfficer),
        user_name: actor.name.clone(),
        scores: dip::month_scores(&ctx, &actor, &month).await?,
        names: institution_names(&ctx, &actor).await,
        groups: dip::groups(&ctx, &actor).await?,
        month,
    }))
}

async fn put_dip_group(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(group): Form<Group>,
) -> Response {
    done(
        dip::put_group(&ctx, clock::now_ms(), &actor, &group).await,
        "/dip",
    )
}
