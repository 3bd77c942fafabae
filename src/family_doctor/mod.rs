//! Family doctor contracts (家庭医生签约服务): care teams "1+1+N" with members from any member
//! institution, service packages as data, and contracts — one resident with one team and a
//! responsible doctor, for at least a year, with the basic package and any personalised ones —
//! signed at the clinic, renewed (a task 30 days before the end) or terminated with a reason.
//! What a contract delivered is counted from the records that deliver it (follow-ups, visits,
//! ECGs), never typed twice. Every operation on a resident's contract passes
//! `resident::authorize` (checked and audited).

pub mod http;
pub mod measures;
pub mod model;
mod store;
pub mod views;

pub(crate) use store::insert_package;

use std::collections::HashMap;

use time::Date;

use crate::access::{self, Access, Actor, Purpose, Role};
use crate::audit::{self, Entry};
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::institution::InstitutionKind;
use crate::resident;
use model::{
    Contract, ContractDetail, ContractQuery, ContractStatus, Delivery, KeyGroup, NewContract,
    NewPackage, NewTeam, Package, PackageKind, Renewal, Team, TeamQuery, Termination,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such contract, team or package")]
    NotFound,
    #[error("the resident has a contract for these days already (contract {0})")]
    ContractExists(i64),
    #[error("the contract is terminated or renewed already")]
    Closed,
    #[error("a package with this code exists already")]
    Duplicate,
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Denied(#[from] access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid { field, reason }
}

/// The last day of a year that starts on `start`.
pub fn year_end(start: Date) -> Date {
    clock::years_after(start, 1) - time::Duration::days(1)
}

fn require_admin(actor: &Actor) -> Result<(), Error> {
    if actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(access::Denied.into())
    }
}

/// Creates a team led by an institution, its members from any member institution.
pub async fn create_team(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewTeam,
) -> Result<Team, Error> {
    require_admin(actor)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(invalid("name", "1 to 60 characters"));
    }
    crate::institution::store::institution_by_id(&ctx.db, actor.community_id, new.institution_id)
        .await?
        .ok_or(invalid(
            "institution_id",
            "an institution of this community",
        ))?;
    if new.members.is_empty() {
        return Err(invalid("members", "at least one member"));
    }
    for member in &new.members {
        crate::staff::store::staff_by_id(&ctx.db, actor.community_id, member.staff_id)
            .await?
            .filter(|s| s.active && s.institution_id.is_some())
            .ok_or(invalid(
                "members.staff_id",
                "active staff of a member institution",
            ))?;
    }
    let mut tx = ctx.db.begin().await?;
    let id = store::insert_team(&mut tx, actor.community_id, new.institution_id, name).await?;
    for member in &new.members {
        store::insert_member(
            &mut tx,
            actor.community_id,
            id,
            member.staff_id,
            member.role,
        )
        .await
        .map_err(|e| {
            if crate::db::is_unique_violation(
                &e,
                "care_team_members_unique",
                "care_team_members.team_id",
            ) {
                invalid("members", "each member once")
            } else {
                e.into()
            }
        })?;
    }
    let entry = Entry::by(
        actor,
        now,
        "family_doctor.team.create",
        "care_team",
        Some(id),
    );
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    teams(ctx, actor, &TeamQuery::default())
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(Error::NotFound)
}

/// The community's teams with their members; with an institution, those it leads or has a
/// member in.
pub async fn teams(ctx: &Ctx, actor: &Actor, query: &TeamQuery) -> Result<Vec<Team>, Error> {
    if !actor.is_staff() {
        return Err(access::Denied.into());
    }
    let mut members = store::members(&ctx.db, actor.community_id).await?;
    Ok(store::teams(&ctx.db, actor.community_id)
        .await?
        .into_iter()
        .map(|t| Team {
            members: members.remove(&t.id).unwrap_or_default(),
            id: t.id,
            institution_id: t.institution_id,
            name: t.name,
        })
        .filter(|t| {
            query.institution.is_none_or(|i| {
                t.institution_id == i || t.members.iter().any(|m| m.institution_id == Some(i))
            })
        })
        .collect())
}

/// Adds a service package (the administrator's: the county's packages are data).
pub async fn create_package(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewPackage,
) -> Result<Package, Error> {
    require_admin(actor)?;
    let code_ok = !new.code.is_empty()
        && new.code.len() <= 40
        && new
            .code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !code_ok {
        return Err(invalid("code", "1 to 40 of a–z, 0–9 and _"));
    }
    if (new.code == "basic") != (new.kind == PackageKind::Basic) {
        return Err(invalid(
            "kind",
            "the basic package, and only it, has the code `basic`",
        ));
    }
    if new.name.trim().is_empty() || new.name.chars().count() > 60 {
        return Err(invalid("name", "1 to 60 characters"));
    }
    if !(0..=10_000_000).contains(&new.price_fen) {
        return Err(invalid("price_fen", "0 to 100,000 yuan"));
    }
    let services_ok = !new.services.is_empty()
        && new.services.len() <= 30
        && new.services.iter().all(|s| {
            (1..=365).contains(&s.per_year)
                && !s.code.trim().is_empty()
                && !s.name.trim().is_empty()
                && s.name.chars().count() <= 60
        });
    if !services_ok {
        return Err(invalid(
            "services",
            "1 to 30 services, each with a code, a name and 1 to 365 a year",
        ));
    }
    let mut tx = ctx.db.begin().await?;
    let id = match store::insert_package(&mut tx, actor.community_id, new).await {
        Ok(id) => id,
        Err(e)
            if crate::db::is_unique_violation(
                &e,
                "service_packages_unique",
                "service_packages.community_id",
            ) =>
        {
            return Err(Error::Duplicate);
        }
        Err(e) => return Err(e.into()),
    };
    let entry = Entry::by(
        actor,
        now,
        "family_doctor.package.create",
        "service_package",
        Some(id),
    );
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    packages(ctx, actor)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(Error::NotFound)
}

pub async fn packages(ctx: &Ctx, actor: &Actor) -> Result<Vec<Package>, Error> {
    if !actor.is_staff() && !actor.has_role(Role::Resident) {
        return Err(access::Denied.into());
    }
    Ok(store::packages(&ctx.db, actor.community_id).await?)
}

/// The packages chosen by id or code, with the basic package always among them.
fn chosen_packages(all: &[Package], wanted: &[serde_json::Value]) -> Result<Vec<Package>, Error> {
    let mut chosen: Vec<Package> = all
        .iter()
        .filter(|p| p.kind == PackageKind::Basic)
        .cloned()
        .collect();
    if chosen.is_empty() {
        return Err(invalid("packages", "the county has no basic package yet"));
    }
    for value in wanted {
        let package = all
            .iter()
            .find(|p| match value {
                serde_json::Value::Number(n) => n.as_i64() == Some(p.id),
                serde_json::Value::String(code) => *code == p.code,
                _ => false,
            })
            .ok_or(invalid("packages", "package ids or codes of this county"))?;
        if !chosen.iter().any(|p| p.id == package.id) {
            chosen.push(package.clone());
        }
    }
    Ok(chosen)
}

/// The key groups the record shows on a day: age, and the chronic registry.
async fn key_groups_of(
    ctx: &Ctx,
    resident: &resident::model::Resident,
    on: Date,
    stated: &[KeyGroup],
) -> Result<Vec<KeyGroup>, Error> {
    let mut groups: Vec<KeyGroup> = Vec::new();
    let age = resident.age_on(on);
    if age >= 65 {
        groups.push(KeyGroup::Elderly);
    }
    if age < 7 {
        groups.push(KeyGroup::Children);
    }
    for program in
        crate::chronic::open_programs(&ctx.db, resident.community_id, resident.id).await?
    {
        groups.push(match program {
            crate::chronic::rules::Program::Hypertension => KeyGroup::Hypertension,
            crate::chronic::rules::Program::Diabetes => KeyGroup::Diabetes,
        });
    }
    for group in stated {
        if !groups.contains(group) {
            groups.push(*group);
        }
    }
    Ok(groups)
}

/// Signs a contract at the caller's clinic.
pub async fn sign(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    new: &NewContract,
) -> Result<ContractDetail, Error> {
    write_contract(ctx, (now, today), actor, new, None).await
}

async fn write_contract(
    ctx: &Ctx,
    (now, today): (Millis, Date),
    actor: &Actor,
    new: &NewContract,
    renewal_of: Option<i64>,
) -> Result<ContractDetail, Error> {
    let signing_at = actor
        .institution
        .filter(|i| {
            matches!(
                i.kind,
                InstitutionKind::VillageClinic
                    | InstitutionKind::TownshipCentre
                    | InstitutionKind::CommunityCentre
            ) && (actor.has_role(Role::VillageDoctor) || actor.has_role(Role::Doctor))
        })
        .ok_or(access::Denied)?;
    let start = clock::parse_date(&new.start_date)
        .filter(|d| {
            *d >= today - time::Duration::days(31) && *d <= today + time::Duration::days(366)
        })
        .ok_or(invalid(
            "start_date",
            "a date YYYY-MM-DD from a month ago to a year ahead",
        ))?;
    let end = match &new.end_date {
        None => year_end(start),
        Some(text) => clock::parse_date(text)
            .filter(|d| {
                *d >= year_end(start) && *d <= year_end(year_end(start)) + time::Duration::days(366)
            })
            .ok_or(invalid(
                "end_date",
                "at least a year after the start, at most three",
            ))?,
    };
    let team = teams(ctx, actor, &TeamQuery::default())
        .await?
        .into_iter()
        .find(|t| t.id == new.team_id)
        .ok_or(invalid("team_id", "a care team of this community"))?;
    if !team
        .members
        .iter()
        .any(|m| m.staff_id == new.doctor_staff_id)
    {
        return Err(invalid("doctor_staff_id", "a member of the team"));
    }
    let packages = chosen_packages(
        &store::packages(&ctx.db, actor.community_id).await?,
        &new.packages,
    )?;
    let resident = resident::load_authorized(
        ctx,
        now,
        actor,
        new.resident_id,
        Purpose::Clinical,
        Access::Write,
        "family_doctor.contract.sign",
    )
    .await?;
    if resident.merged_into_id.is_some() {
        return Err(resident::Error::AlreadyMerged.into());
    }
    let key_groups = key_groups_of(ctx, &resident, start, &new.key_groups).await?;
    let (start_text, end_text) = (start.to_string(), end.to_string());
    let mut tx = ctx.db.begin().await?;
    if let Some(existing) = store::overlapping(
        &mut tx,
        actor.community_id,
        resident.id,
        (&start_text, &end_text),
    )
    .await?
    {
        return Err(Error::ContractExists(existing));
    }
    let row = store::NewContractRow {
        community_id: actor.community_id,
        resident_id: resident.id,
        team_id: team.id,
        doctor_staff_id: new.doctor_staff_id,
        institution_id: signing_at.id,
        dates: (&start_text, &end_text),
        span_ms: (
            clock::midnight_cst(start),
            clock::midnight_cst(end + time::Duration::days(1)),
        ),
        key_groups: store::key_groups_text(&key_groups),
        renewal_of_id: renewal_of,
        signed_by_staff_id: actor.staff_id,
        signed_at_ms: now,
    };
    let package_ids: Vec<i64> = packages.iter().map(|p| p.id).collect();
    let id = match store::insert_contract(&mut tx, &row, &package_ids).await {
        Ok(id) => id,
        Err(e)
            if crate::db::is_unique_violation(
                &e,
                "family_doctor_contracts_start",
                "family_doctor_contracts.community_id",
            ) =>
        {
            return Err(Error::ContractExists(0));
        }
        Err(e) => return Err(e.into()),
    };
    let action = if renewal_of.is_some() {
        "family_doctor.contract.renew"
    } else {
        "family_doctor.contract.sign"
    };
    let entry = Entry::by(actor, now, action, "family_doctor_contract", Some(id))
        .about_resident(resident.id)
        .detail(format!("team={} doctor={}", team.id, new.doctor_staff_id));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    detail(ctx, (now, today), actor.community_id, id).await
}

fn status_of(row: &store::ContractRow, today: Date) -> ContractStatus {
    let today = today.to_string();
    if row.status == "terminated" {
        ContractStatus::Terminated
    } else if row.start_date > today {
        ContractStatus::Upcoming
    } else if row.end_date < today {
        ContractStatus::Expired
    } else {
        ContractStatus::Active
    }
}

async fn contracts(
    ctx: &Ctx,
    community_id: i64,
    today: Date,
    rows: Vec<store::ContractRow>,
) -> Result<Vec<Contract>, Error> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut package_ids = store::packages_of(&ctx.db, community_id, &ids).await?;
    let all: HashMap<i64, Package> = store::packages(&ctx.db, community_id)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| Contract {
            status: status_of(&r, today),
            packages: package_ids
                .remove(&r.id)
                .unwrap_or_default()
                .iter()
                .filter_map(|id| all.get(id).cloned())
                .collect(),
            key_groups: store::key_groups_of(&r.key_groups),
            id: r.id,
            resident_id: r.resident_id,
            resident_name: r.resident_name,
            team_id: r.team_id,
            team_name: r.team_name,
            doctor_staff_id: r.doctor_staff_id,
            doctor_name: r.doctor_name,
            institution_id: r.institution_id,
            start_date: r.start_date,
            end_date: r.end_date,
            terminated_on: r.terminated_on,
            termination_reason: r.termination_reason,
            renewal_of_id: r.renewal_of_id,
            renewed_by_id: r.renewed_by_id,
            signed_at: clock::rfc3339_cst(r.signed_at_ms),
        })
        .collect())
}

/// A contract's days as stored: start, last day, the day it was terminated.
pub(crate) struct Span<'a> {
    pub start: &'a str,
    pub end: &'a str,
    pub terminated_on: Option<&'a str>,
}

/// Each service of the contract's packages: due by today (the contract's count prorated over
/// its days so far) and delivered.
pub(crate) fn deliveries(
    id: i64,
    span: &Span,
    packages: &[Package],
    today: Date,
    delivered: &HashMap<(i64, model::Source), i64>,
) -> Vec<Delivery> {
    let (Some(start), Some(end)) = (clock::parse_date(span.start), clock::parse_date(span.end))
    else {
        return Vec::new();
    };
    let last = match span.terminated_on.and_then(clock::parse_date) {
        Some(on) => on.min(end).min(today),
        None => end.min(today),
    };
    let days = ((last - start).whole_days() + 1).max(0);
    let length = ((end - start).whole_days() + 1).max(1);
    let mut rows = Vec::new();
    for package in packages {
        for service in &package.services {
            let total = (service.per_year as f64 * length as f64 / 365.0).round() as i64;
            rows.push(Delivery {
                package_code: package.code.clone(),
                due: (total * days + length - 1) / length,
                delivered: delivered.get(&(id, service.source)).copied().unwrap_or(0),
                service: service.clone(),
            });
        }
    }
    rows
}

/// Delivered (each service counted up to what is due) over due, in percent.
pub(crate) fn fulfilment(rows: &[Delivery]) -> Option<f64> {
    let due: i64 = rows.iter().map(|d| d.due).sum();
    let met: i64 = rows.iter().map(|d| d.delivered.min(d.due)).sum();
    (due > 0).then(|| (met as f64 * 1000.0 / due as f64).round() / 10.0)
}

async fn detail(
    ctx: &Ctx,
    (now, today): (Millis, Date),
    community_id: i64,
    id: i64,
) -> Result<ContractDetail, Error> {
    let row = store::contract_by_id(&ctx.db, community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let contract = contracts(ctx, community_id, today, vec![row])
        .await?
        .remove(0);
    let delivered = store::delivered(&ctx.db, community_id, now, Some(id)).await?;
    let span = Span {
        start: &contract.start_date,
        end: &contract.end_date,
        terminated_on: contract.terminated_on.as_deref(),
    };
    let delivery = deliveries(contract.id, &span, &contract.packages, today, &delivered);
    Ok(ContractDetail {
        fulfilment_percent: fulfilment(&delivery),
        contract,
        delivery,
    })
}

/// One contract with what it delivered, if the caller may see the resident's record.
pub async fn get(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    id: i64,
) -> Result<ContractDetail, Error> {
    let row = store::contract_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    resident::load_authorized(
        ctx,
        now,
        actor,
        row.resident_id,
        Purpose::Clinical,
        Access::Read,
        "family_doctor.contract.read",
    )
    .await?;
    detail(ctx, (now, today), actor.community_id, id).await
}

/// A resident's contracts, the latest first.
pub async fn of_resident(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    resident_id: i64,
) -> Result<Vec<Contract>, Error> {
    resident::load_authorized(
        ctx,
        now,
        actor,
        resident_id,
        Purpose::Clinical,
        Access::Read,
        "family_doctor.contract.read",
    )
    .await?;
    let rows = store::contracts_of_resident(&ctx.db, actor.community_id, resident_id).await?;
    contracts(ctx, actor.community_id, today, rows).await
}

/// The contracts signed at an institution (the caller's own unless the caller sees the whole
/// community), of one state; each resident listed is recorded as read.
pub async fn list(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    query: &ContractQuery,
    page: (i64, i64),
) -> Result<Vec<Contract>, Error> {
    let institution = crate::institution::listed(&ctx.db, actor, query.institution)
        .await??
        .id;
    let status = query.status.as_deref().unwrap_or("active");
    if !matches!(
        status,
        "active" | "upcoming" | "expired" | "terminated" | "expiring" | "all"
    ) {
        return Err(invalid(
            "status",
            "active, upcoming, expired, terminated, expiring or all",
        ));
    }
    let soon = (today + time::Duration::days(30)).to_string();
    let rows = store::contracts_of(
        &ctx.db,
        actor.community_id,
        institution,
        (status, &today.to_string(), &soon),
        page,
    )
    .await?;
    let entries = rows
        .iter()
        .map(|c| {
            Entry::by(
                actor,
                now,
                "family_doctor.contract.list",
                "family_doctor_contract",
                Some(c.id),
            )
            .about_resident(c.resident_id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    contracts(ctx, actor.community_id, today, rows).await
}

/// Ends a contract early with the reason.
pub async fn terminate(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    id: i64,
    termination: &Termination,
) -> Result<ContractDetail, Error> {
    let row = store::contract_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let reason = termination.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(invalid("reason", "the reason, 1 to 200 characters"));
    }
    let on = match &termination.terminated_on {
        None => today,
        Some(text) => clock::parse_date(text)
            .filter(|d| *d <= today + time::Duration::days(31))
            .ok_or(invalid("terminated_on", "a date YYYY-MM-DD"))?,
    };
    resident::load_authorized(
        ctx,
        now,
        actor,
        row.resident_id,
        Purpose::Clinical,
        Access::Write,
        "family_doctor.contract.terminate",
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    if !store::terminate(&mut tx, actor.community_id, id, (&on.to_string(), reason)).await? {
        return Err(Error::Closed);
    }
    let entry = Entry::by(
        actor,
        now,
        "family_doctor.contract.terminate",
        "family_doctor_contract",
        Some(id),
    )
    .about_resident(row.resident_id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    detail(ctx, (now, today), actor.community_id, id).await
}

/// Renews a contract from the day after it ends, with the same team and doctor.
pub async fn renew(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    id: i64,
    renewal: &Renewal,
) -> Result<ContractDetail, Error> {
    let old = get(ctx, now, today, actor, id).await?.contract;
    if old.status == ContractStatus::Terminated || old.renewed_by_id.is_some() {
        return Err(Error::Closed);
    }
    let start = clock::parse_date(&old.end_date).ok_or(Error::NotFound)? + time::Duration::days(1);
    let new = NewContract {
        resident_id: old.resident_id,
        team_id: old.team_id,
        doctor_staff_id: old.doctor_staff_id,
        start_date: start.to_string(),
        end_date: renewal.end_date.clone(),
        packages: renewal.packages.clone().unwrap_or_else(|| {
            old.packages
                .iter()
                .map(|p| serde_json::Value::from(p.id))
                .collect()
        }),
        key_groups: old.key_groups.clone(),
    };
    write_contract(ctx, (now, today), actor, &new, Some(old.id)).await
}
