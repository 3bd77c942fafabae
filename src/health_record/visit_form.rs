//! Recording a visit from the pages: an outpatient or emergency visit or an admission at the
//! user's institution (department, diagnoses found by code or Chinese name, costs by category),
//! the encounter's page, and discharging an inpatient.

use crate::http::extract::Form;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::Error;
use super::model::{Costs, Discharge, EncounterKind, NewEncounter};
use crate::access::Actor;
use crate::ctx::Ctx;
use crate::http::extract::{Path, WebActor};
use crate::web::{WebError, institution_names, once, render, role_label};
use crate::{clock, institution, resident};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route(
            "/residents/{id}/encounters",
            get(new_page).post(create_encounter),
        )
        .route("/encounters/{id}", get(encounter_page))
        .route("/encounters/{id}/discharge", post(discharge))
}

/// The cost categories of a visit, as the form names its fields and labels them.
const COST_FIELDS: [(&str, &str); 6] = [
    ("drugs", "药品费"),
    ("examinations", "检查费"),
    ("tests", "化验费"),
    ("treatment", "治疗费"),
    ("beds", "床位费"),
    ("materials", "卫生材料费"),
];

/// Costs typed in yuan, by category (the order of `COST_FIELDS`).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct CostsForm {
    drugs: String,
    examinations: String,
    tests: String,
    treatment: String,
    beds: String,
    materials: String,
}

impl CostsForm {
    fn values(&self) -> [&str; 6] {
        [
            &self.drugs,
            &self.examinations,
            &self.tests,
            &self.treatment,
            &self.beds,
            &self.materials,
        ]
    }

    /// The costs in fen, or the label of the first that is not an amount of yuan.
    fn read(&self) -> Result<Costs, &'static str> {
        let mut fen = [0i64; 6];
        for (i, text) in self.values().iter().enumerate() {
            fen[i] = crate::money::fen_of_yuan(text).ok_or(COST_FIELDS[i].1)?;
        }
        let [
            drugs_fen,
            examinations_fen,
            tests_fen,
            treatment_fen,
            beds_fen,
            materials_fen,
        ] = fen;
        Ok(Costs {
            drugs_fen,
            examinations_fen,
            tests_fen,
            treatment_fen,
            beds_fen,
            materials_fen,
        })
    }

    /// (field, label, value) for the template.
    fn rows(&self) -> Vec<(&'static str, &'static str, String)> {
        COST_FIELDS
            .iter()
            .zip(self.values())
            .map(|((field, label), value)| (*field, *label, value.to_owned()))
            .collect()
    }
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct VisitForm {
    kind: String,
    department_id: String,
    started_at: String,
    /// Up to three diagnoses, the principal first; each a code, perhaps with its name.
    diagnosis1: String,
    diagnosis2: String,
    diagnosis3: String,
    #[serde(flatten)]
    costs: CostsForm,
    form_key: String,
}

#[derive(Template)]
#[template(path = "encounter_new.html")]
struct NewVisitPage {
    user_name: String,
    user_role: String,
    resident_id: i64,
    resident_name: String,
    departments: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    costs: Vec<(&'static str, &'static str, String)>,
    form: VisitForm,
    error_text: String,
    error_field: &'static str,
}

async fn new_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let form = VisitForm {
        kind: EncounterKind::Outpatient.as_str().to_owned(),
        started_at: clock::to_page(clock::now_ms()),
        form_key: crate::http::guard::new_token(),
        ..Default::default()
    };
    Ok(render(&visit_page(&ctx, &actor, id, form, None).await?))
}

async fn visit_page(
    ctx: &Ctx,
    actor: &Actor,
    resident_id: i64,
    form: VisitForm,
    error: Option<(String, &'static str)>,
) -> Result<NewVisitPage, WebError> {
    let own = actor.institution.ok_or(crate::access::Denied)?;
    let resident = resident::get(ctx, clock::now_ms(), actor, resident_id).await?;
    let departments = institution::store::departments_of(&ctx.db, actor.community_id, own.id)
        .await?
        .into_iter()
        .map(|d| (d.id.to_string(), d.name))
        .collect();
    let (error_text, error_field) = error.unwrap_or_default();
    Ok(NewVisitPage {
        user_role: role_label(actor),
        user_name: actor.name.clone(),
        resident_id,
        resident_name: resident.name,
        departments,
        kinds: [
            EncounterKind::Outpatient,
            EncounterKind::Emergency,
            EncounterKind::Inpatient,
        ]
        .iter()
        .map(|k| (k.as_str(), k.label_zh()))
        .collect(),
        costs: form.costs.rows(),
        form,
        error_text,
        error_field,
    })
}

/// The code of a diagnosis field: its first word (the list offers `I10 特发性…`).
fn code_of(text: &str) -> Option<String> {
    text.split_whitespace().next().map(str::to_owned)
}

fn read_visit(resident_id: i64, form: &VisitForm) -> Result<NewEncounter, (String, &'static str)> {
    let Some(kind) = EncounterKind::parse(&form.kind) else {
        return Err(("请选择就诊类别。".into(), "kind"));
    };
    let department_id = match form.department_id.trim() {
        "" => None,
        text => Some(
            text.parse()
                .map_err(|_| ("请从列表中选择科室。".to_owned(), "department_id"))?,
        ),
    };
    let costs = form
        .costs
        .read()
        .map_err(|label| (format!("{label}应为金额（元），最多两位小数。"), "costs"))?;
    let diagnoses = [&form.diagnosis1, &form.diagnosis2, &form.diagnosis3]
        .into_iter()
        .filter_map(|d| code_of(d))
        .collect();
    Ok(NewEncounter {
        resident_id,
        kind,
        department_id,
        started_at: clock::from_page(&form.started_at),
        ended_at: None,
        diagnoses,
        costs,
    })
}

/// What to fix in a refused visit or discharge, in Chinese, and the field it concerns.
fn refusal_zh(error: &Error) -> Option<(String, &'static str)> {
    let Error::Invalid { field, .. } = error else {
        return match error {
            Error::AlreadyDischarged => Some(("该患者已经出院。".into(), "ended_at")),
            _ => None,
        };
    };
    let text = match *field {
        "diagnoses" => "请至少填写一个有效的 ICD-10 诊断（可输入编码或中文病名），主要诊断在前。",
        "started_at" => "就诊时间应为不晚于现在的时间。",
        "ended_at" => "出院时间应不早于入院时间，且不晚于现在。",
        "department_id" => "所选科室不属于本机构。",
        "costs" => "每项费用应在 0 至 1000 万元之间。",
        "main_procedure" => "主要手术操作应为 ICD-9-CM-3 编码，如 00.66。",
        _ => return None,
    };
    let field = match *field {
        "diagnoses" => "diagnosis1",
        other => other,
    };
    Some((text.to_owned(), field))
}

async fn create_encounter(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(form): Form<VisitForm>,
) -> Result<Response, WebError> {
    let action = async {
        let new = read_visit(resident_id, &form).map_err(once::Refused::Form)?;
        match super::create_encounter(&ctx, clock::now_ms(), &actor, &new).await {
            Ok(encounter) => Ok(format!("/encounters/{}", encounter.id)),
            Err(error) => Err(match refusal_zh(&error) {
                Some(what) => once::Refused::Form(what),
                None => once::Refused::Page(error.into()),
            }),
        }
    };
    let refused = match once::act(&ctx, &actor, &form.form_key, action).await? {
        Ok(done) => return Ok(done),
        Err(what) => what,
    };
    let page = visit_page(&ctx, &actor, resident_id, form, Some(refused)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "encounter.html")]
struct EncounterPage {
    user_name: String,
    user_role: String,
    id: i64,
    resident_id: i64,
    resident_name: String,
    kind: &'static str,
    institution: String,
    department: String,
    started: String,
    ended: Option<String>,
    referral_id: Option<i64>,
    diagnoses: Vec<(String, String)>,
    costs: Vec<(&'static str, String)>,
    total: String,
    main_procedure: String,
    /// The discharge form, for an inpatient still in at the user's institution.
    can_discharge: bool,
    discharge: DischargeForm,
    error_text: String,
    error_field: &'static str,
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct DischargeForm {
    ended_at: String,
    main_procedure: String,
    #[serde(flatten)]
    costs: CostsForm,
}

async fn encounter_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let form = DischargeForm {
        ended_at: clock::to_page(clock::now_ms()),
        ..Default::default()
    };
    Ok(render(&encounter_view(&ctx, &actor, id, form, None).await?))
}

async fn encounter_view(
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    mut discharge: DischargeForm,
    error: Option<(String, &'static str)>,
) -> Result<EncounterPage, WebError> {
    let now = clock::now_ms();
    let encounter = super::get_encounter(ctx, now, actor, id).await?;
    let resident = resident::get(ctx, now, actor, encounter.resident_id).await?;
    let names = institution_names(ctx, actor).await;
    let (_, departments) = institution::get(ctx, actor, encounter.institution_id).await?;
    let can_discharge = encounter.kind == EncounterKind::Inpatient
        && encounter.ended_at_ms.is_none()
        && actor.institution.map(|i| i.id) == Some(encounter.institution_id);
    if discharge.costs.values().iter().all(|v| v.is_empty()) {
        // The costs so far, for the discharge to complete.
        let c = encounter.costs;
        discharge.costs = CostsForm {
            drugs: crate::money::yuan_for_field(c.drugs_fen),
            examinations: crate::money::yuan_for_field(c.examinations_fen),
            tests: crate::money::yuan_for_field(c.tests_fen),
            treatment: crate::money::yuan_for_field(c.treatment_fen),
            beds: crate::money::yuan_for_field(c.beds_fen),
            materials: crate::money::yuan_for_field(c.materials_fen),
        };
    }
    let (error_text, error_field) = error.unwrap_or_default();
    Ok(EncounterPage {
        user_role: role_label(actor),
        user_name: actor.name.clone(),
        id,
        resident_id: encounter.resident_id,
        resident_name: resident.name,
        kind: encounter.kind.label_zh(),
        institution: names
            .get(&encounter.institution_id)
            .cloned()
            .unwrap_or_default(),
        department: departments
            .iter()
            .find(|d| Some(d.id) == encounter.department_id)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        started: clock::format_cst(encounter.started_at_ms),
        ended: encounter.ended_at_ms.map(clock::format_cst),
        referral_id: encounter.referral_id,
        diagnoses: encounter
            .diagnoses
            .iter()
            .map(|d| {
                let name = crate::icd10::display(&d.icd10).unwrap_or_default();
                (d.icd10.clone(), name.to_owned())
            })
            .collect(),
        costs: COST_FIELDS
            .iter()
            .zip(encounter.costs.all())
            .map(|((_, label), fen)| (*label, crate::money::yuan(fen)))
            .collect(),
        total: crate::money::yuan(encounter.costs.total_fen()),
        main_procedure: encounter.main_procedure,
        can_discharge,
        discharge,
        error_text,
        error_field,
    })
}

async fn discharge(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<DischargeForm>,
) -> Result<Response, WebError> {
    let refused = match form.costs.read() {
        Ok(costs) => {
            let request = Discharge {
                ended_at: clock::from_page(&form.ended_at),
                diagnoses: None,
                costs,
                main_procedure: Some(form.main_procedure.clone()),
            };
            match super::discharge(&ctx, clock::now_ms(), &actor, id, &request).await {
                // Discharging twice is the same discharge: the page shows it done.
                Ok(_) | Err(Error::AlreadyDischarged) => {
                    return Ok(Redirect::to(&format!("/encounters/{id}")).into_response());
                }
                Err(error) => match refusal_zh(&error) {
                    Some(what) => what,
                    None => return Err(error.into()),
                },
            }
        }
        Err(label) => (format!("{label}应为金额（元），最多两位小数。"), "costs"),
    };
    let page = encounter_view(&ctx, &actor, id, form, Some(refused)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
