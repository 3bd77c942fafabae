//! Staff dispatch (派驻): county staff — of the lead hospital, its campuses and centres — on site at
//! the primary institutions, from one date to another, so many days a month, for a purpose. The
//! group's personnel office (administrators) records them; the county's office and the two
//! institutions see them. Indicator 2.1 counts the doctors with a mid-level title or above
//! dispatched at least six months in the year.

pub mod http;
mod store;
pub mod views;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::access::{Actor, Role};
use crate::audit::{self, Entry};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::staff::model::TitleLevel;

/// Six months of thirty days: the least a dispatch must add up to in a year for indicator 2.1.
pub const SIX_MONTHS_DAYS: i64 = 180;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the staff member is already dispatched from {starts_on} to {ends_on}")]
    Overlap { starts_on: String, ends_on: String },
    #[error("no such dispatch")]
    NotFound,
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

/// What the dispatched do on site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 坐诊
    Clinic,
    /// 查房
    Rounds,
    /// 手术
    Surgery,
    /// 带教
    Teaching,
}

text_enum!(Purpose { Clinic => "clinic", Rounds => "rounds", Surgery => "surgery", Teaching => "teaching" });

impl Purpose {
    pub const ALL: [Purpose; 4] = [
        Purpose::Clinic,
        Purpose::Rounds,
        Purpose::Surgery,
        Purpose::Teaching,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            Purpose::Clinic => "坐诊",
            Purpose::Rounds => "查房",
            Purpose::Surgery => "手术",
            Purpose::Teaching => "带教",
        }
    }
}

/// A dispatch to record: the staff member is sent from their own institution.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDispatch {
    pub staff_id: i64,
    /// Their own institution; taken from their record when absent.
    pub from_institution_id: Option<i64>,
    pub to_institution_id: i64,
    /// `YYYY-MM-DD`, both included.
    pub starts_on: String,
    pub ends_on: String,
    /// Days on site per month (the seeds: 22 at a township centre).
    pub days_per_month: i64,
    pub purpose: Purpose,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Dispatch {
    pub id: i64,
    pub staff_id: i64,
    pub staff_name: String,
    #[sqlx(try_from = "String")]
    pub title_level: TitleLabel,
    pub from_institution_id: i64,
    pub from_institution_name: String,
    pub to_institution_id: i64,
    pub to_institution_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub days_per_month: i64,
    #[sqlx(try_from = "String")]
    pub purpose: Purpose,
    pub created_at_ms: i64,
}

/// A title level as stored (absent: no title recorded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TitleLabel(pub Option<TitleLevel>);

impl From<String> for TitleLabel {
    fn from(text: String) -> Self {
        TitleLabel(TitleLevel::parse(&text))
    }
}

impl TitleLabel {
    pub fn label_zh(self) -> &'static str {
        self.0.map_or("—", TitleLevel::label_zh)
    }
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DispatchQuery {
    /// Dispatches from or to this institution.
    pub institution: Option<i64>,
    /// Dispatches on site some day of this year.
    pub year: Option<i32>,
}

/// The county's view (administrators, the office): every dispatch.
fn sees_all(actor: &Actor) -> bool {
    crate::access::oversees_members(actor)
}

/// Records a dispatch (administrators: the group's personnel office), audited. A staff member
/// already dispatched on any of the days is 409, so a retry adds nothing.
pub async fn create(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewDispatch,
) -> Result<Dispatch, Error> {
    if !actor.has_role(Role::Admin) {
        return Err(crate::access::Denied.into());
    }
    let community = actor.community_id;
    let staff = crate::staff::store::staff_by_id(&ctx.db, community, new.staff_id)
        .await?
        .filter(|s| s.active)
        .ok_or(invalid("staff_id", "an active member of staff"))?;
    let from = staff
        .institution_id
        .ok_or(invalid("staff_id", "a member of staff of an institution"))?;
    if new.from_institution_id.is_some_and(|id| id != from) {
        return Err(invalid(
            "from_institution_id",
            "the staff member's own institution",
        ));
    }
    let level = |id: i64| async move {
        Ok::<_, Error>(
            crate::institution::store::institution_by_id(&ctx.db, community, id)
                .await?
                .map(|i| i.kind.level()),
        )
    };
    if level(from).await? != Some(3) {
        return Err(invalid(
            "staff_id",
            "staff of the lead hospital, a campus or a centre",
        ));
    }
    if !matches!(level(new.to_institution_id).await?, Some(1 | 2)) {
        return Err(invalid(
            "to_institution_id",
            "a township or community centre or a village clinic",
        ));
    }
    let date =
        |text: &str, field| clock::parse_date(text).ok_or(invalid(field, "a date YYYY-MM-DD"));
    let (starts, ends) = (
        date(&new.starts_on, "starts_on")?,
        date(&new.ends_on, "ends_on")?,
    );
    if ends < starts || (ends - starts).whole_days() > 3 * 366 {
        return Err(invalid(
            "ends_on",
            "on or after starts_on, within three years",
        ));
    }
    if !(1..=31).contains(&new.days_per_month) {
        return Err(invalid("days_per_month", "1 to 31"));
    }
    let period = (starts.to_string(), ends.to_string());
    let mut tx = ctx.db.begin().await?;
    if let Some((starts_on, ends_on)) =
        store::overlapping(&mut tx, community, new.staff_id, (&period.0, &period.1)).await?
    {
        return Err(Error::Overlap { starts_on, ends_on });
    }
    let id = store::insert(
        &mut tx,
        community,
        (new, from),
        (&period.0, &period.1),
        (actor.staff_id, now),
    )
    .await?;
    let entry = Entry::by(actor, now, "dispatch.create", "staff_dispatch", Some(id)).detail(
        format!("staff_id={} to={}", new.staff_id, new.to_institution_id),
    );
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(store::by_id(&ctx.db, community, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?)
}

/// A dispatch ended early, on `ends_on` (`YYYY-MM-DD`).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ending {
    pub ends_on: String,
}

/// Ends a dispatch early (the personnel office): the new last day is on or after its first and
/// before its planned last; audited.
pub async fn end(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    ending: &Ending,
) -> Result<Dispatch, Error> {
    if !actor.has_role(Role::Admin) {
        return Err(crate::access::Denied.into());
    }
    let dispatch = store::by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let ends = clock::parse_date(&ending.ends_on)
        .map(|d| d.to_string())
        .filter(|d| *d >= dispatch.starts_on && *d < dispatch.ends_on)
        .ok_or(invalid(
            "ends_on",
            "a date from the first day to before the planned last",
        ))?;
    let mut tx = ctx.db.begin().await?;
    store::set_end(&mut tx, (actor.community_id, id), &ends).await?;
    let entry = Entry::by(actor, now, "dispatch.end", "staff_dispatch", Some(id))
        .detail(format!("ends_on={ends}"));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    store::by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Dispatches, the latest start first: every one for the county's view, those from or to the
/// caller's own institution for its staff.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    query: &DispatchQuery,
    page: (i64, i64),
) -> Result<Vec<Dispatch>, Error> {
    let institution = if sees_all(actor) {
        query.institution
    } else {
        let own = actor
            .institution
            .filter(|_| actor.is_staff())
            .ok_or(crate::access::Denied)?
            .id;
        if query.institution.is_some_and(|i| i != own) {
            return Err(crate::access::Denied.into());
        }
        Some(own)
    };
    let year = match query.year {
        Some(year) => Some(year_bounds(year).ok_or(invalid("year", "a year such as 2026"))?),
        None => None,
    };
    let year = year.map(|(first, last)| (first.to_string(), last.to_string()));
    Ok(store::list(
        &ctx.db,
        actor.community_id,
        (
            institution,
            year.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        ),
        page,
    )
    .await?)
}

fn year_bounds(year: i32) -> Option<(Date, Date)> {
    Some((
        Date::from_calendar_date(year, time::Month::January, 1).ok()?,
        Date::from_calendar_date(year, time::Month::December, 31).ok()?,
    ))
}

/// A doctor counted by indicator 2.1: with a mid-level title or above, dispatched at least
/// `SIX_MONTHS_DAYS` days in all from the start of the period's year to its end; with the
/// institutions they came from and went to.
#[derive(Clone, Debug, PartialEq)]
pub struct Dispatched {
    pub staff_id: i64,
    pub institutions: Vec<i64>,
}

/// The doctors indicator 2.1 counts for a period ending at `to_ms` (the days of its year up to
/// its end).
pub async fn dispatched_doctors(
    db: &crate::db::Db,
    community_id: i64,
    to_ms: Millis,
) -> Result<Vec<Dispatched>, sqlx::Error> {
    let last = clock::date_cst(to_ms - 1);
    let first = year_bounds(last.year()).map_or(last, |(first, _)| first);
    let rows = store::spans(db, community_id, (&first.to_string(), &last.to_string())).await?;
    Ok(qualified(&rows, (first, last)))
}

/// From each dispatch's (staff, title, from, to, starts, ends), the doctors on site at least
/// `SIX_MONTHS_DAYS` days between `first` and `last` (included) with a mid-level title or above.
fn qualified(rows: &[store::Span], (first, last): (Date, Date)) -> Vec<Dispatched> {
    let mut by_staff: std::collections::BTreeMap<i64, (i64, Vec<i64>)> = Default::default();
    for span in rows {
        let senior = TitleLevel::parse(&span.title_level).is_some_and(|t| t != TitleLevel::Junior);
        let (Some(starts), Some(ends)) = (
            clock::parse_date(&span.starts_on),
            clock::parse_date(&span.ends_on),
        ) else {
            continue;
        };
        let (from, to) = (starts.max(first), ends.min(last));
        if !senior || to < from {
            continue;
        }
        let entry = by_staff.entry(span.staff_id).or_default();
        entry.0 += (to - from).whole_days() + 1;
        entry
            .1
            .extend([span.from_institution_id, span.to_institution_id]);
    }
    by_staff
        .into_iter()
        .filter(|(_, (days, _))| *days >= SIX_MONTHS_DAYS)
        .map(|(staff_id, (_, mut institutions))| {
            institutions.sort_unstable();
            institutions.dedup();
            Dispatched {
                staff_id,
                institutions,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(staff_id: i64, title: &str, (starts_on, ends_on): (&str, &str)) -> store::Span {
        store::Span {
            staff_id,
            title_level: title.to_owned(),
            from_institution_id: 1,
            to_institution_id: 2,
            starts_on: starts_on.to_owned(),
            ends_on: ends_on.to_owned(),
        }
    }

    #[test]
    fn six_months_in_the_year_count_added_up_and_junior_titles_do_not() {
        let year = year_bounds(2026).unwrap();
        let rows = [
            // 180 days: counted.
            span(1, "intermediate", ("2026-01-01", "2026-06-29")),
            // 179 days: not.
            span(2, "senior", ("2026-01-01", "2026-06-28")),
            // Two spells adding up to 181 days, one begun the year before: counted.
            span(3, "associate_senior", ("2025-10-01", "2026-03-31")),
            span(3, "associate_senior", ("2026-09-01", "2026-11-30")),
            // A junior doctor a whole year: not.
            span(4, "junior", ("2026-01-01", "2026-12-31")),
        ];
        let counted: Vec<i64> = qualified(&rows, year).iter().map(|d| d.staff_id).collect();
        assert_eq!(counted, [1, 3]);
    }
}
