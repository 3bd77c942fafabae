//! Medical insurance inside the group (医保): the year's reimbursement rules as data, a claim per
//! encounter of an insured resident computed to the fen, out-of-county care from the insurance
//! bureau, the global budget with its ledger (`budget`), and DIP case points (`dip`). Money is
//! an integer number of fen everywhere.

pub mod budget;
pub mod claim;
pub mod dip;
pub mod http;
pub mod import;
pub mod views;

use serde::{Deserialize, Serialize};

use crate::access::{self, Actor, Role};
use crate::audit;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no budget for {0}")]
    NoBudget(i64),
    #[error("the budget of {0} already exists")]
    BudgetExists(i64),
    #[error("{0} is settled and closed; nothing in it can change")]
    PeriodClosed(i64),
    #[error("no rules for {year}, scheme {scheme}, level {level}")]
    NoRules {
        year: i64,
        scheme: String,
        level: i64,
    },
    #[error(transparent)]
    Denied(#[from] access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

/// Insurance work is the insurance officer's (administrators may read).
fn require_officer(actor: &Actor) -> Result<(), Error> {
    if actor.has_role(Role::InsuranceOfficer) {
        Ok(())
    } else {
        Err(access::Denied.into())
    }
}

fn require_reader(actor: &Actor) -> Result<(), Error> {
    if actor.has_role(Role::InsuranceOfficer) || actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(access::Denied.into())
    }
}

/// The reimbursement rule of one year, scheme and care level (1 village, 2 township, 3 county,
/// 4 out of county).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Rule {
    pub year: i64,
    /// `resident` (城乡居民) or `employee` (职工).
    pub scheme: String,
    pub level: i64,
    /// 起付线 per episode.
    pub deductible_fen: i64,
    /// Share of the cost the scheme covers at all, in percent.
    pub eligible_pp: i64,
    /// 报销比例 in percent.
    pub rate_pp: i64,
    /// 封顶线: the most the fund pays for one person in a year.
    pub annual_cap_fen: i64,
}

/// Demo rules after a county's 城乡居民医保: deductible, eligible share, rate by level; the cap.
pub const DEMO_RULES: [(i64, i64, i64, i64); 4] = [
    (1, 0, 95, 70),
    (2, 20_000, 92, 80),
    (3, 50_000, 88, 65),
    (4, 100_000, 85, 50),
];
pub const DEMO_ANNUAL_CAP_FEN: i64 = 15_000_000;

fn check_rule(rule: &Rule) -> Result<(), Error> {
    let ok = (2000..=2100).contains(&rule.year)
        && matches!(rule.scheme.as_str(), "resident" | "employee")
        && (1..=4).contains(&rule.level)
        && (0..=10_000_000).contains(&rule.deductible_fen)
        && (0..=100).contains(&rule.eligible_pp)
        && (0..=100).contains(&rule.rate_pp)
        && (0..=1_000_000_000).contains(&rule.annual_cap_fen);
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: "rule",
            reason: "year 2000–2100, scheme resident|employee, level 1–4, deductible and cap in fen, eligible_pp and rate_pp 0–100",
        })
    }
}

pub async fn upsert_rule_in(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    rule: &Rule,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO insurance_rules (community_id, year, scheme, level, deductible_fen, \
         eligible_pp, rate_pp, annual_cap_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (community_id, year, scheme, level) DO UPDATE SET \
         deductible_fen = excluded.deductible_fen, eligible_pp = excluded.eligible_pp, \
         rate_pp = excluded.rate_pp, annual_cap_fen = excluded.annual_cap_fen",
    )
    .bind(community_id)
    .bind(rule.year)
    .bind(&rule.scheme)
    .bind(rule.level)
    .bind(rule.deductible_fen)
    .bind(rule.eligible_pp)
    .bind(rule.rate_pp)
    .bind(rule.annual_cap_fen)
    .execute(conn)
    .await?;
    Ok(())
}

/// The insurance officer sets a rule; a settled year's rules cannot change.
pub async fn put_rule(
    ctx: &crate::ctx::Ctx,
    now: crate::clock::Millis,
    actor: &Actor,
    rule: &Rule,
) -> Result<Vec<Rule>, Error> {
    require_officer(actor)?;
    check_rule(rule)?;
    budget::require_open(&ctx.db, actor.community_id, rule.year).await?;
    let mut tx = ctx.db.begin().await?;
    upsert_rule_in(&mut tx, actor.community_id, rule).await?;
    let entry =
        audit::Entry::by(actor, now, "insurance.rule.set", "insurance_rule", None).detail(format!(
            "year={} scheme={} level={}",
            rule.year, rule.scheme, rule.level
        ));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    rules(ctx, actor, rule.year).await
}

pub async fn rules(ctx: &crate::ctx::Ctx, actor: &Actor, year: i64) -> Result<Vec<Rule>, Error> {
    require_reader(actor)?;
    Ok(sqlx::query_as(
        "SELECT year, scheme, level, deductible_fen, eligible_pp, rate_pp, annual_cap_fen \
         FROM insurance_rules WHERE community_id = $1 AND year = $2 ORDER BY scheme, level",
    )
    .bind(actor.community_id)
    .bind(year)
    .fetch_all(&ctx.db.pool)
    .await?)
}

/// The `YYYY-MM` (China Standard Time) a time falls in, and its year.
pub fn month_of(ms: crate::clock::Millis) -> (i64, String) {
    let month = crate::clock::month_cst(ms);
    (month[..4].parse().unwrap_or(0), month)
}

/// The demo's insurance: every resident insured in the residents' scheme for `year`, the demo
/// rules and the demo DIP groups.
pub async fn load_demo(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    year: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO insured_persons (community_id, resident_id, year, scheme) \
         SELECT community_id, id, $2, 'resident' FROM residents WHERE community_id = $1",
    )
    .bind(community_id)
    .bind(year)
    .execute(&mut *conn)
    .await?;
    for (level, deductible_fen, eligible_pp, rate_pp) in DEMO_RULES {
        let rule = Rule {
            year,
            scheme: "resident".into(),
            level,
            deductible_fen,
            eligible_pp,
            rate_pp,
            annual_cap_fen: DEMO_ANNUAL_CAP_FEN,
        };
        upsert_rule_in(conn, community_id, &rule).await?;
    }
    for (code, name, icd10_prefix, procedure_code, points) in dip::DEMO {
        let group = dip::Group {
            code: code.into(),
            name: name.into(),
            icd10_prefix: icd10_prefix.into(),
            procedure_code: procedure_code.into(),
            points,
        };
        dip::insert_group(conn, community_id, &group).await?;
    }
    Ok(())
}
