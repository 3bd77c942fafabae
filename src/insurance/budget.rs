//! The global budget (总额预付、结余留用、超支分担): a yearly budget per community, packaged to the
//! group less a risk reserve, prepaid monthly, reviewed quarterly and settled at year end — a
//! surplus retained and shared out to the members (performance pay and development fund, by
//! their scores), an overrun shared with the fund within a band and borne by the group beyond
//! it. Every movement is a double-entry row in `ledger_entries`, made once; a settled year is
//! closed.
//!
//! Accounts: `fund` (the insurance fund), `budget` (packaged, not yet paid out), `reserve` (held
//! back), `group` (paid to the group), `spending` (claims in and out of county), and
//! `member:{id}:performance` / `member:{id}:development` (a surplus shared out).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::{Error, require_officer, require_reader};
use crate::access::Actor;
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::db::Db;

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewBudget {
    /// `per_capita` (insured × per_capita_fen) or `historical` (the average spending of the last
    /// three years, grown by growth_pp).
    pub method: String,
    #[serde(default)]
    pub per_capita_fen: i64,
    #[serde(default)]
    pub growth_pp: i64,
    #[serde(default = "ninety")]
    pub packaged_pp: i64,
    #[serde(default = "ten")]
    pub risk_reserve_pp: i64,
    #[serde(default = "seventy")]
    pub performance_pp: i64,
    #[serde(default = "ten")]
    pub overrun_band_pp: i64,
    #[serde(default = "fifty")]
    pub overrun_fund_pp: i64,
}

fn ninety() -> i64 {
    90
}
fn ten() -> i64 {
    10
}
fn seventy() -> i64 {
    70
}
fn fifty() -> i64 {
    50
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Budget {
    pub year: i64,
    pub method: String,
    pub basis_fen: i64,
    pub insured_count: i64,
    pub growth_pp: i64,
    pub total_fen: i64,
    pub packaged_pp: i64,
    pub risk_reserve_pp: i64,
    pub performance_pp: i64,
    pub overrun_band_pp: i64,
    pub overrun_fund_pp: i64,
    pub settled_at_ms: Option<i64>,
}

impl Budget {
    pub fn packaged_fen(&self) -> i64 {
        self.total_fen * self.packaged_pp / 100
    }

    pub fn reserve_fen(&self) -> i64 {
        self.packaged_fen() * self.risk_reserve_pp / 100
    }

    /// The prepayment of `month` (1–12): the package less the reserve in twelve parts, the
    /// remainder in December.
    pub fn prepayment_fen(&self, month: u32) -> i64 {
        let prepayable = self.packaged_fen() - self.reserve_fen();
        let part = prepayable / 12;
        if month == 12 {
            prepayable - part * 11
        } else {
            part
        }
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Review {
    pub quarter: i64,
    pub budget_to_date_fen: i64,
    pub spent_to_date_fen: i64,
    /// Spending to date extended to twelve months.
    pub projected_fen: i64,
    pub reviewed_at_ms: i64,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LedgerEntry {
    pub kind: String,
    pub period: String,
    pub from_account: String,
    pub to_account: String,
    pub amount_fen: i64,
    pub at_ms: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MonthPoint {
    pub month: String,
    /// The package spread evenly, cumulated.
    pub budget_to_date_fen: i64,
    /// Fund spending in and out of county, cumulated.
    pub spent_to_date_fen: i64,
    pub in_county_fen: i64,
    pub out_of_county_fen: i64,
}

/// Where the year's budget stands.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Position {
    pub budget: Budget,
    pub packaged_fen: i64,
    pub reserve_fen: i64,
    pub prepaid_fen: i64,
    pub spent_in_county_fen: i64,
    pub spent_out_of_county_fen: i64,
    /// Package − spending, once settled: positive a surplus, negative an overrun.
    pub balance_fen: i64,
    pub months: Vec<MonthPoint>,
    pub reviews: Vec<Review>,
    /// Each account's balance (money in − money out); they sum to zero.
    pub accounts: BTreeMap<String, i64>,
    pub ledger: Vec<LedgerEntry>,
}

const BUDGET_COLUMNS: &str = "year, method, basis_fen, insured_count, growth_pp, total_fen, \
     packaged_pp, risk_reserve_pp, performance_pp, overrun_band_pp, overrun_fund_pp, settled_at_ms";

async fn budget_of(db: &Db, community_id: i64, year: i64) -> Result<Option<Budget>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BUDGET_COLUMNS} FROM budgets WHERE community_id = $1 AND year = $2"
    )))
    .bind(community_id)
    .bind(year)
    .fetch_optional(&db.pool)
    .await
}

/// Refuses when the year is settled: a closed period cannot change.
pub async fn require_open(db: &Db, community_id: i64, year: i64) -> Result<(), Error> {
    match budget_of(db, community_id, year).await? {
        Some(budget) if budget.settled_at_ms.is_some() => Err(Error::PeriodClosed(year)),
        _ => Ok(()),
    }
}

async fn load_open(db: &Db, community_id: i64, year: i64) -> Result<Budget, Error> {
    let budget = budget_of(db, community_id, year)
        .await?
        .ok_or(Error::NoBudget(year))?;
    if budget.settled_at_ms.is_some() {
        return Err(Error::PeriodClosed(year));
    }
    Ok(budget)
}

/// One movement, made once: a second identical request changes nothing.
async fn move_money(
    conn: &mut AnyConnection,
    community_id: i64,
    year: i64,
    (kind, period): (&str, &str),
    (from, to): (&str, &str),
    amount_fen: i64,
    now: Millis,
) -> Result<(), sqlx::Error> {
    if amount_fen == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ledger_entries (community_id, year, kind, period, from_account, to_account, \
         amount_fen, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (community_id, year, kind, period, from_account, to_account) DO NOTHING",
    )
    .bind(community_id)
    .bind(year)
    .bind(kind)
    .bind(period)
    .bind(from)
    .bind(to)
    .bind(amount_fen)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Fund spending in county (claims) and out of county over the months `first..=last`
/// ('YYYY-MM'), summed.
async fn spending(
    db: &Db,
    community_id: i64,
    months: (&str, &str),
) -> Result<(i64, i64), sqlx::Error> {
    Ok(spending_by_month(db, community_id, months)
        .await?
        .values()
        .fold((0, 0), |(a, b), (x, y)| (a + x, b + y)))
}

/// Fund spending in county and out of county per month of `first..=last`: one grouped query
/// per table.
async fn spending_by_month(
    db: &Db,
    community_id: i64,
    (first, last): (&str, &str),
) -> Result<BTreeMap<String, (i64, i64)>, sqlx::Error> {
    let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (table, out_of_county) in [("claims", false), ("out_of_county_claims", true)] {
        // Only the two fixed table names are written into the SQL.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT month, CAST(SUM(fund_paid_fen) AS BIGINT) AS fund FROM {table} \
             WHERE community_id = $1 AND month >= $2 AND month <= $3 GROUP BY month"
        )))
        .bind(community_id)
        .bind(first)
        .bind(last)
        .fetch_all(&db.pool)
        .await?;
        for row in rows {
            let fund: i64 = row.try_get("fund")?;
            let month = months.entry(row.try_get("month")?).or_default();
            if out_of_county {
                month.1 += fund;
            } else {
                month.0 += fund;
            }
        }
    }
    Ok(months)
}

/// Sets the year's budget and moves the package and the reserve; one budget per year.
pub async fn create(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    year: i64,
    new: &NewBudget,
) -> Result<Position, Error> {
    require_officer(actor)?;
    let percent = |p: i64| (0..=100).contains(&p);
    if !(2000..=2100).contains(&year)
        || ![
            new.packaged_pp,
            new.risk_reserve_pp,
            new.performance_pp,
            new.overrun_band_pp,
            new.overrun_fund_pp,
        ]
        .into_iter()
        .all(percent)
        || !(-50..=100).contains(&new.growth_pp)
    {
        return Err(Error::Invalid {
            field: "budget",
            reason: "year 2000–2100; shares 0–100 %; growth_pp −50–100",
        });
    }
    if budget_of(&ctx.db, actor.community_id, year)
        .await?
        .is_some()
    {
        return Err(Error::BudgetExists(year));
    }
    let insured_count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM insured_persons WHERE community_id = $1 AND year = $2",
    )
    .bind(actor.community_id)
    .bind(year)
    .fetch_one(&ctx.db.pool)
    .await?;
    let (basis_fen, total_fen) = match new.method.as_str() {
        "per_capita" if new.per_capita_fen > 0 => {
            (new.per_capita_fen, new.per_capita_fen * insured_count)
        }
        "historical" => {
            let (a, b) = spending(
                &ctx.db,
                actor.community_id,
                (&format!("{}-01", year - 3), &format!("{}-12", year - 1)),
            )
            .await?;
            let average = (a + b) / 3;
            if average == 0 {
                return Err(Error::Invalid {
                    field: "method",
                    reason: "no spending recorded in the last three years; use per_capita",
                });
            }
            (average, average * (100 + new.growth_pp) / 100)
        }
        _ => {
            return Err(Error::Invalid {
                field: "method",
                reason: "per_capita (with per_capita_fen > 0) or historical",
            });
        }
    };
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO budgets (community_id, year, method, basis_fen, insured_count, growth_pp, \
         total_fen, packaged_pp, risk_reserve_pp, performance_pp, overrun_band_pp, \
         overrun_fund_pp, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(actor.community_id)
    .bind(year)
    .bind(&new.method)
    .bind(basis_fen)
    .bind(insured_count)
    .bind(new.growth_pp)
    .bind(total_fen)
    .bind(new.packaged_pp)
    .bind(new.risk_reserve_pp)
    .bind(new.performance_pp)
    .bind(new.overrun_band_pp)
    .bind(new.overrun_fund_pp)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let budget = Budget {
        year,
        method: new.method.clone(),
        basis_fen,
        insured_count,
        growth_pp: new.growth_pp,
        total_fen,
        packaged_pp: new.packaged_pp,
        risk_reserve_pp: new.risk_reserve_pp,
        performance_pp: new.performance_pp,
        overrun_band_pp: new.overrun_band_pp,
        overrun_fund_pp: new.overrun_fund_pp,
        settled_at_ms: None,
    };
    let period = year.to_string();
    let c = actor.community_id;
    move_money(
        &mut tx,
        c,
        year,
        ("package", &period),
        ("fund", "budget"),
        budget.packaged_fen(),
        now,
    )
    .await?;
    move_money(
        &mut tx,
        c,
        year,
        ("reserve", &period),
        ("budget", "reserve"),
        budget.reserve_fen(),
        now,
    )
    .await?;
    let entry = Entry::by(actor, now, "budget.create", "budget", Some(year));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    position(ctx, actor, year).await
}

/// The month's prepayment to the group; made once per month.
pub async fn prepay(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    year: i64,
    month: u32,
) -> Result<Position, Error> {
    require_officer(actor)?;
    if !(1..=12).contains(&month) {
        return Err(Error::Invalid {
            field: "month",
            reason: "1 to 12",
        });
    }
    let budget = load_open(&ctx.db, actor.community_id, year).await?;
    let mut tx = ctx.db.begin().await?;
    let period = format!("{year}-{month:02}");
    move_money(
        &mut tx,
        actor.community_id,
        year,
        ("prepayment", &period),
        ("budget", "group"),
        budget.prepayment_fen(month),
        now,
    )
    .await?;
    let entry = Entry::by(actor, now, "budget.prepay", "budget", Some(year)).detail(period);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    position(ctx, actor, year).await
}

/// The quarter's review: spending to date against the budget to date, and the projection to
/// the year end. The first review of a quarter stands.
pub async fn review(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    year: i64,
    quarter: i64,
) -> Result<Position, Error> {
    require_officer(actor)?;
    if !(1..=4).contains(&quarter) {
        return Err(Error::Invalid {
            field: "quarter",
            reason: "1 to 4",
        });
    }
    let budget = load_open(&ctx.db, actor.community_id, year).await?;
    let months = quarter * 3;
    let (a, b) = spending(
        &ctx.db,
        actor.community_id,
        (&format!("{year}-01"), &format!("{year}-{months:02}")),
    )
    .await?;
    let spent = a + b;
    let mut tx = ctx.db.begin().await?;
    sqlx::query(
        "INSERT INTO budget_reviews (community_id, year, quarter, budget_to_date_fen, \
         spent_to_date_fen, projected_fen, reviewed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (community_id, year, quarter) DO NOTHING",
    )
    .bind(actor.community_id)
    .bind(year)
    .bind(quarter)
    .bind(budget.packaged_fen() * months / 12)
    .bind(spent)
    .bind(spent * 12 / months)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let entry =
        Entry::by(actor, now, "budget.review", "budget", Some(year)).detail(format!("Q{quarter}"));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    position(ctx, actor, year).await
}

/// Splits `amount` between `weights` in proportion, to the fen: the largest remainders get the
/// fen left over, so the parts always add up to the whole.
pub fn split(amount: i64, weights: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let total: i64 = weights.iter().map(|(_, w)| w).sum();
    if total <= 0 {
        return Vec::new();
    }
    let mut parts: Vec<(i64, i64, i64)> = weights
        .iter()
        .map(|&(id, w)| (id, amount * w / total, amount * w % total))
        .collect();
    let mut left = amount - parts.iter().map(|p| p.1).sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(parts[i].2), parts[i].0));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i].1 += 1;
        left -= 1;
    }
    parts.into_iter().map(|(id, part, _)| (id, part)).collect()
}

/// Settles the year: spending charged, the reserve released, the rest of the package paid, then
/// a surplus shared out to the members or an overrun shared with the fund within the band. The
/// year is then closed; settling again changes nothing.
pub async fn settle(ctx: &Ctx, now: Millis, actor: &Actor, year: i64) -> Result<Position, Error> {
    require_officer(actor)?;
    let budget = budget_of(&ctx.db, actor.community_id, year)
        .await?
        .ok_or(Error::NoBudget(year))?;
    if budget.settled_at_ms.is_some() {
        return position(ctx, actor, year).await;
    }
    let c = actor.community_id;
    let (a, b) = spending(&ctx.db, c, (&format!("{year}-01"), &format!("{year}-12"))).await?;
    let spent = a + b;
    let packaged = budget.packaged_fen();
    let reserve = budget.reserve_fen();
    let prepaid: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM ledger_entries \
         WHERE community_id = $1 AND year = $2 AND kind = 'prepayment'",
    )
    .bind(c)
    .bind(year)
    .fetch_one(&ctx.db.pool)
    .await?;
    let weights: Vec<(i64, i64)> = member_scores(&ctx.db, c, year)
        .await?
        .into_iter()
        .map(|m| (m.institution_id, m.weight))
        .collect();

    let period = year.to_string();
    let mut tx = ctx.db.begin().await?;
    move_money(
        &mut tx,
        c,
        year,
        ("spending", &period),
        ("group", "spending"),
        spent,
        now,
    )
    .await?;
    move_money(
        &mut tx,
        c,
        year,
        ("release", &period),
        ("reserve", "budget"),
        reserve,
        now,
    )
    .await?;
    move_money(
        &mut tx,
        c,
        year,
        ("final_payment", &period),
        ("budget", "group"),
        packaged - prepaid,
        now,
    )
    .await?;
    let balance = packaged - spent;
    if balance > 0 {
        let performance = balance * budget.performance_pp / 100;
        for (pool, amount) in [
            ("performance", performance),
            ("development", balance - performance),
        ] {
            for (member, part) in split(amount, &weights) {
                let account = format!("member:{member}:{pool}");
                move_money(
                    &mut tx,
                    c,
                    year,
                    ("surplus", &period),
                    ("group", &account),
                    part,
                    now,
                )
                .await?;
            }
        }
    } else if balance < 0 {
        let overrun = -balance;
        let shared = overrun.min(packaged * budget.overrun_band_pp / 100);
        let fund_part = shared * budget.overrun_fund_pp / 100;
        move_money(
            &mut tx,
            c,
            year,
            ("overrun", &period),
            ("fund", "group"),
            fund_part,
            now,
        )
        .await?;
    }
    sqlx::query("UPDATE budgets SET settled_at_ms = $1 WHERE community_id = $2 AND year = $3 AND settled_at_ms IS NULL")
        .bind(now)
        .bind(c)
        .bind(year)
        .execute(&mut *tx)
        .await?;
    let entry = Entry::by(actor, now, "budget.settle", "budget", Some(year))
        .detail(format!("balance_fen={balance}"));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    position(ctx, actor, year).await
}

/// The year's position, month by month, with the ledger and each account's balance.
pub async fn position(ctx: &Ctx, actor: &Actor, year: i64) -> Result<Position, Error> {
    require_reader(actor)?;
    let c = actor.community_id;
    let budget = budget_of(&ctx.db, c, year)
        .await?
        .ok_or(Error::NoBudget(year))?;
    let ledger: Vec<LedgerEntry> = sqlx::query_as(
        "SELECT kind, period, from_account, to_account, amount_fen, at_ms FROM ledger_entries \
         WHERE community_id = $1 AND year = $2 ORDER BY id",
    )
    .bind(c)
    .bind(year)
    .fetch_all(&ctx.db.pool)
    .await?;
    let mut accounts: BTreeMap<String, i64> = BTreeMap::new();
    for entry in &ledger {
        *accounts.entry(entry.from_account.clone()).or_default() -= entry.amount_fen;
        *accounts.entry(entry.to_account.clone()).or_default() += entry.amount_fen;
    }
    let prepaid = ledger
        .iter()
        .filter(|e| e.kind == "prepayment")
        .map(|e| e.amount_fen)
        .sum();
    let packaged = budget.packaged_fen();
    let mut months = Vec::with_capacity(12);
    let (mut in_total, mut out_total) = (0, 0);
    let spent =
        spending_by_month(&ctx.db, c, (&format!("{year}-01"), &format!("{year}-12"))).await?;
    for m in 1..=12_i64 {
        let month = format!("{year}-{m:02}");
        let (a, b) = spent.get(&month).copied().unwrap_or_default();
        in_total += a;
        out_total += b;
        months.push(MonthPoint {
            month,
            budget_to_date_fen: packaged * m / 12,
            spent_to_date_fen: in_total + out_total,
            in_county_fen: a,
            out_of_county_fen: b,
        });
    }
    let reviews = sqlx::query_as(
        "SELECT quarter, budget_to_date_fen, spent_to_date_fen, projected_fen, reviewed_at_ms \
         FROM budget_reviews WHERE community_id = $1 AND year = $2 ORDER BY quarter",
    )
    .bind(c)
    .bind(year)
    .fetch_all(&ctx.db.pool)
    .await?;
    Ok(Position {
        packaged_fen: packaged,
        reserve_fen: budget.reserve_fen(),
        prepaid_fen: prepaid,
        spent_in_county_fen: in_total,
        spent_out_of_county_fen: out_total,
        balance_fen: packaged - in_total - out_total,
        budget,
        months,
        reviews,
        accounts,
        ledger,
    })
}

/// The members that have claims in the year, with their scores — typed by the officer with a
/// reason, else the frozen assessment's, else 100 — the weights of their share of a surplus.
async fn member_scores(
    db: &Db,
    community_id: i64,
    year: i64,
) -> Result<Vec<MemberScore>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.institution_id, \
         CAST(COALESCE(s.score, ROUND(a.score), 100) AS BIGINT) AS score, \
         CAST(COALESCE(s.score * 10, ROUND(a.score * 10), 1000) AS BIGINT) AS weight, \
         s.reason, CASE WHEN s.score IS NOT NULL THEN 'typed' \
         WHEN a.score IS NOT NULL THEN 'assessment' ELSE 'default' END AS source FROM \
         (SELECT DISTINCT institution_id FROM claims \
          WHERE community_id = $1 AND month >= $3 AND month <= $4) m \
         LEFT JOIN member_scores s ON s.community_id = $1 AND s.year = $2 \
           AND s.institution_id = m.institution_id \
         LEFT JOIN assessment_snapshots a ON a.community_id = $1 AND a.year = $2 \
           AND a.institution_id = m.institution_id ORDER BY m.institution_id",
    )
    .bind(community_id)
    .bind(year)
    .bind(format!("{year}-01"))
    .bind(format!("{year}-12"))
    .fetch_all(&db.pool)
    .await
}

/// The members' scores for the year (insurance officers and administrators).
pub async fn scores(ctx: &Ctx, actor: &Actor, year: i64) -> Result<Vec<MemberScore>, Error> {
    require_reader(actor)?;
    Ok(member_scores(&ctx.db, actor.community_id, year).await?)
}

/// Sets members' scores for the year by hand (weights of their share of a surplus), each with
/// the stated reason, kept; a score equal to the one in force is left as it is.
pub async fn set_scores(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    year: i64,
    scores: &[MemberScore],
) -> Result<(), Error> {
    require_officer(actor)?;
    load_open(&ctx.db, actor.community_id, year).await?;
    if scores.iter().any(|s| !(0..=100).contains(&s.score)) {
        return Err(Error::Invalid {
            field: "score",
            reason: "0 to 100",
        });
    }
    let current: HashMap<i64, i64> = member_scores(&ctx.db, actor.community_id, year)
        .await?
        .into_iter()
        .map(|m| (m.institution_id, m.score))
        .collect();
    let changed: Vec<&MemberScore> = scores
        .iter()
        .filter(|s| current.get(&s.institution_id) != Some(&s.score))
        .collect();
    let reason_ok = |s: &&MemberScore| {
        s.reason
            .as_deref()
            .map(str::trim)
            .is_some_and(|r| !r.is_empty() && r.chars().count() <= 500)
    };
    if !changed.iter().all(reason_ok) {
        return Err(Error::Invalid {
            field: "reason",
            reason: "the reason for typing a score (at most 500 characters)",
        });
    }
    let mut tx = ctx.db.begin().await?;
    for score in &changed {
        sqlx::query(
            "INSERT INTO member_scores (community_id, year, institution_id, score, reason) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (community_id, year, institution_id) \
             DO UPDATE SET score = excluded.score, reason = excluded.reason",
        )
        .bind(actor.community_id)
        .bind(year)
        .bind(score.institution_id)
        .bind(score.score)
        .bind(score.reason.as_deref().map(str::trim))
        .execute(&mut *tx)
        .await?;
    }
    let typed: Vec<String> = changed
        .iter()
        .map(|s| s.institution_id.to_string())
        .collect();
    let entry = Entry::by(actor, now, "budget.scores", "budget", Some(year))
        .detail(format!("typed={}", typed.join(",")));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, Deserialize, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MemberScore {
    pub institution_id: i64,
    pub score: i64,
    /// Why the score was typed by hand (required when typing one).
    #[serde(default)]
    pub reason: Option<String>,
    /// Where the score in force comes from: `typed`, `assessment` (the frozen assessment) or
    /// `default` (100).
    #[serde(default, skip_deserializing)]
    pub source: String,
    /// The weight of the surplus share: the score in tenths.
    #[serde(skip)]
    pub weight: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_adds_up_to_the_fen() {
        let parts = split(100, &[(1, 1), (2, 1), (3, 1)]);
        assert_eq!(parts.iter().map(|p| p.1).sum::<i64>(), 100);
        assert_eq!(parts, vec![(1, 34), (2, 33), (3, 33)]);
        assert_eq!(split(7, &[(5, 90), (6, 10)]), vec![(5, 6), (6, 1)]);
        assert!(split(10, &[]).is_empty());
    }
}
