//! The family doctor pages: signing on the resident page, the contract sheet (printable) with
//! what it delivered, renewal and termination; the clinic's contracts with the renewal tasks and
//! the measures of its area.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::measures::{AreaMeasures, MeasuresQuery};
use super::model::{
    Contract, ContractDetail, ContractQuery, KeyGroup, NewContract, PackageKind, Renewal,
    TeamQuery, Termination,
};
use crate::access::Actor;
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, WebActor};
use crate::web::{WebError, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/family-doctor", get(work_page))
        .route("/family-doctor/contracts/{id}", get(contract_page))
        .route("/family-doctor/contracts/{id}/renewal", post(renew))
        .route("/family-doctor/contracts/{id}/termination", post(terminate))
        .route("/residents/{id}/family-doctor", post(sign))
}

/// The key groups a doctor states at signing (the others the record shows).
const STATED_GROUPS: [KeyGroup; 5] = [
    KeyGroup::Pregnant,
    KeyGroup::Disabled,
    KeyGroup::SevereMentalIllness,
    KeyGroup::Tuberculosis,
    KeyGroup::Poverty,
];

#[derive(Template)]
#[template(path = "family_doctor_section.html")]
struct Section {
    resident_id: i64,
    contracts: Vec<Contract>,
    can_sign: bool,
    /// (staff id, "name · team", team id) of the teams with a member from the caller's clinic.
    doctors: Vec<(i64, String, i64)>,
    packages: Vec<(String, String)>,
    groups: Vec<(&'static str, &'static str)>,
    today: String,
}

impl Section {
    fn status_zh(&self, contract: &Contract) -> &'static str {
        contract.status.label_zh()
    }
}

/// The family doctor part of the resident page: the contracts, and the form to sign one.
pub async fn resident_section(
    ctx: &Ctx,
    actor: &Actor,
    resident_id: i64,
) -> Result<String, WebError> {
    let (now, today) = (clock::now_ms(), clock::today_cst());
    let contracts = super::of_resident(ctx, now, today, actor, resident_id).await?;
    let in_force = contracts.iter().any(|c| {
        matches!(
            c.status,
            super::model::ContractStatus::Active | super::model::ContractStatus::Upcoming
        )
    });
    let own = actor.institution.map(|i| i.id);
    let signer = actor.has_role(crate::access::Role::VillageDoctor)
        || actor.has_role(crate::access::Role::Doctor);
    let mut doctors = Vec::new();
    if signer && own.is_some() {
        for team in super::teams(ctx, actor, &TeamQuery { institution: own }).await? {
            for m in &team.members {
                doctors.push((m.staff_id, format!("{} · {}", m.name, team.name), team.id));
            }
        }
    }
    let packages = super::packages(ctx, actor)
        .await?
        .into_iter()
        .filter(|p| p.kind == PackageKind::Personalised)
        .map(|p| (p.code, p.name))
        .collect();
    let section = Section {
        resident_id,
        can_sign: signer && !in_force && !doctors.is_empty(),
        contracts,
        doctors,
        packages,
        groups: STATED_GROUPS
            .iter()
            .map(|g| (g.as_str(), g.label_zh()))
            .collect(),
        today: today.to_string(),
    };
    Ok(render(&section).0)
}

/// The sign form: the doctor carries the team ("staff:team").
#[derive(Deserialize)]
struct SignForm {
    doctor: String,
    start_date: String,
    #[serde(default)]
    packages: Vec<String>,
    #[serde(default)]
    key_groups: Vec<String>,
}

async fn sign(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(form): Form<SignForm>,
) -> Result<Response, WebError> {
    let (doctor, team) = form
        .doctor
        .split_once(':')
        .and_then(|(d, t)| Some((d.parse().ok()?, t.parse().ok()?)))
        .ok_or(super::Error::Invalid {
            field: "doctor_staff_id",
            reason: "choose the responsible doctor",
        })?;
    let new = NewContract {
        resident_id,
        team_id: team,
        doctor_staff_id: doctor,
        start_date: form.start_date,
        end_date: None,
        packages: form
            .packages
            .into_iter()
            .map(serde_json::Value::from)
            .collect(),
        key_groups: form
            .key_groups
            .iter()
            .filter_map(|g| KeyGroup::parse(g))
            .collect(),
    };
    let signed = super::sign(&ctx, clock::now_ms(), clock::today_cst(), &actor, &new).await?;
    Ok(Redirect::to(&format!("/family-doctor/contracts/{}", signed.contract.id)).into_response())
}

#[derive(Template)]
#[template(path = "family_doctor_contract.html")]
struct ContractPage {
    user_name: String,
    user_role: String,
    detail: ContractDetail,
    status: &'static str,
    groups: String,
    members: Vec<(String, &'static str)>,
    fulfilment: String,
    can_change: bool,
}

async fn contract_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let detail = super::get(&ctx, clock::now_ms(), clock::today_cst(), &actor, id).await?;
    let members = super::teams(&ctx, &actor, &TeamQuery::default())
        .await?
        .into_iter()
        .find(|t| t.id == detail.contract.team_id)
        .map(|t| {
            t.members
                .into_iter()
                .map(|m| (m.name, m.role.label_zh()))
                .collect()
        })
        .unwrap_or_default();
    let open = matches!(
        detail.contract.status,
        super::model::ContractStatus::Active | super::model::ContractStatus::Upcoming
    );
    Ok(render(&ContractPage {
        user_name: actor.name.clone(),
        user_role: role_label(&actor),
        status: detail.contract.status.label_zh(),
        groups: detail
            .contract
            .key_groups
            .iter()
            .map(|g| g.label_zh())
            .collect::<Vec<_>>()
            .join("、"),
        members,
        fulfilment: detail
            .fulfilment_percent
            .map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%")),
        can_change: open
            && (actor.has_role(crate::access::Role::VillageDoctor)
                || actor.has_role(crate::access::Role::Doctor)),
        detail,
    }))
}

async fn renew(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let renewed = super::renew(
        &ctx,
        clock::now_ms(),
        clock::today_cst(),
        &actor,
        id,
        &Renewal::default(),
    )
    .await?;
    Ok(Redirect::to(&format!("/family-doctor/contracts/{}", renewed.contract.id)).into_response())
}

async fn terminate(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(termination): Form<Termination>,
) -> Result<Response, WebError> {
    super::terminate(
        &ctx,
        clock::now_ms(),
        clock::today_cst(),
        &actor,
        id,
        &termination,
    )
    .await?;
    Ok(Redirect::to(&format!("/family-doctor/contracts/{id}")).into_response())
}

struct MeasureRow {
    name: String,
    residents: i64,
    coverage: String,
    key_groups: String,
    renewal: String,
    fulfilment: String,
    chronic: String,
}

fn measure_rows(areas: &[AreaMeasures]) -> Vec<MeasureRow> {
    areas
        .iter()
        .map(|a| MeasureRow {
            name: a.name.clone(),
            residents: a.residents,
            coverage: a.coverage.shown(),
            key_groups: a.key_group_coverage.shown(),
            renewal: a.renewal.shown(),
            fulfilment: a.fulfilment.shown(),
            chronic: a.chronic_under_contract.shown(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "family_doctor.html")]
struct WorkPage {
    user_name: String,
    user_role: String,
    expiring: Vec<Contract>,
    active: Vec<Contract>,
    has_list: bool,
    total: Vec<MeasureRow>,
    villages: Vec<MeasureRow>,
    teams: Vec<MeasureRow>,
}

async fn work_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let (now, today) = (clock::now_ms(), clock::today_cst());
    let has_list = crate::institution::listed(&ctx.db, &actor, None)
        .await?
        .is_ok();
    let list = |status: &str| ContractQuery {
        institution: None,
        status: Some(status.to_owned()),
    };
    let (expiring, active) = if has_list {
        (
            super::list(&ctx, now, today, &actor, &list("expiring"), (100, 0)).await?,
            super::list(&ctx, now, today, &actor, &list("active"), (50, 0)).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let measures =
        super::measures::measures(&ctx, (now, today), &actor, &MeasuresQuery::default()).await?;
    Ok(render(&WorkPage {
        user_name: actor.name.clone(),
        user_role: role_label(&actor),
        expiring,
        active,
        has_list,
        total: measure_rows(std::slice::from_ref(&measures.total)),
        villages: measure_rows(&measures.villages),
        teams: measure_rows(&measures.teams),
    }))
}
