//! A county's own 口径: the national set names some indicators without defining them, so yijia
//! reads a definition from the name (marked derived), and a county's administrator or health
//! bureau may choose other measures for its numerator and denominator, another scale, name and
//! unit — with the reason written down, audited, and undone by resetting. The official and
//! standard definitions are not the county's to change.

use serde::{Deserialize, Serialize};

use super::definitions::{DEFINITIONS, DERIVED};
use super::store::{self, CountyDefinition};
use super::{Definition, Error, Formula, Measure};
use crate::access::{self, Actor, Role};
use crate::audit;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::db::Db;

/// An indicator's definition as the county uses it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DefinitionView {
    pub code: &'static str,
    pub name: String,
    pub dimension: &'static str,
    /// `ratio`, `growth`, `count` or `qualitative`.
    pub kind: &'static str,
    /// Measure names (see `GET /api/v1/indicators/measures`).
    pub numerator: Option<&'static str>,
    pub denominator: Option<&'static str>,
    /// What numerator ÷ denominator is multiplied by (100 for a percentage).
    pub scale: Option<f64>,
    pub unit: String,
    pub source: String,
    /// A derived definition, which the county may change.
    pub editable: bool,
    /// The county's own definition is in force; `basis` says why.
    pub customised: bool,
    pub basis: Option<String>,
    pub updated_at: Option<String>,
    /// What the indicator should reach, when it has a target.
    pub target: Option<super::target::Target>,
}

/// A definition in force: what is shown, and how it is computed.
#[derive(Clone, Debug)]
pub(super) struct Effective {
    pub view: DefinitionView,
    pub formula: Formula,
}

/// A county's change to a derived indicator.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct DefinitionChange {
    pub name: String,
    pub numerator: String,
    pub denominator: String,
    /// For a ratio; a growth rate is always in percent.
    #[serde(default)]
    pub scale: Option<f64>,
    pub unit: String,
    /// Why the county counts it this way, and by whose rule.
    pub basis: String,
}

/// A measure with its label, for choosing one.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MeasureView {
    pub name: &'static str,
    pub label: &'static str,
    /// Why yijia cannot count it yet, when it cannot.
    pub missing: Option<&'static str>,
}

pub fn measures() -> Vec<MeasureView> {
    Measure::ALL
        .iter()
        .map(|m| MeasureView {
            name: m.as_str(),
            label: m.label_zh(),
            missing: m.missing(),
        })
        .collect()
}

fn editable(definition: &Definition) -> bool {
    definition.source == DERIVED
        && matches!(
            definition.formula,
            Formula::Ratio { .. } | Formula::Growth { .. }
        )
}

fn built_in(definition: &'static Definition) -> Effective {
    let (kind, numerator, denominator, scale) = match definition.formula {
        Formula::Qualitative => ("qualitative", None, None, None),
        Formula::Count(m) => ("count", Some(m), None, None),
        Formula::Ratio {
            numerator,
            denominator,
            scale,
        } => ("ratio", Some(numerator), Some(denominator), Some(scale)),
        Formula::Growth {
            numerator,
            denominator,
        } => ("growth", Some(numerator), Some(denominator), None),
    };
    Effective {
        view: DefinitionView {
            code: definition.code,
            name: definition.name.to_owned(),
            dimension: definition.dimension,
            kind,
            numerator: numerator.map(Measure::as_str),
            denominator: denominator.map(Measure::as_str),
            scale,
            unit: definition.unit.to_owned(),
            source: definition.source.to_owned(),
            editable: editable(definition),
            customised: false,
            basis: None,
            updated_at: None,
            target: None,
        },
        formula: definition.formula,
    }
}

/// Applies a county's definition to a built-in one; a stored measure name yijia no longer
/// knows leaves the built-in definition in force.
fn customised(built: Effective, county: &CountyDefinition) -> Effective {
    let (Some(numerator), Some(denominator)) = (
        Measure::parse(&county.numerator),
        Measure::parse(&county.denominator),
    ) else {
        return built;
    };
    let formula = match built.formula {
        Formula::Ratio { .. } => Formula::Ratio {
            numerator,
            denominator,
            scale: county.scale,
        },
        Formula::Growth { .. } => Formula::Growth {
            numerator,
            denominator,
        },
        Formula::Qualitative | Formula::Count(_) => return built,
    };
    Effective {
        view: DefinitionView {
            name: county.name.clone(),
            numerator: Some(numerator.as_str()),
            denominator: Some(denominator.as_str()),
            scale: built.view.scale.map(|_| county.scale),
            unit: county.unit.clone(),
            source: format!("本县口径：{}", county.basis),
            customised: true,
            basis: Some(county.basis.clone()),
            updated_at: Some(clock::rfc3339_cst(county.updated_at_ms)),
            ..built.view
        },
        formula,
    }
}

/// Every definition in force for the community, in the national order.
pub(super) async fn effective(db: &Db, community_id: i64) -> Result<Vec<Effective>, sqlx::Error> {
    let county = store::county_definitions(db, community_id).await?;
    let mut targets = super::target::in_force(db, community_id).await?;
    Ok(DEFINITIONS
        .iter()
        .map(|definition| {
            let built = built_in(definition);
            let mut effective = match county.iter().find(|c| c.code == definition.code) {
                Some(county) if built.view.editable => customised(built, county),
                _ => built,
            };
            effective.view.target = targets.remove(definition.code);
            effective
        })
        .collect())
}

pub async fn definitions(ctx: &Ctx, actor: &Actor) -> Result<Vec<DefinitionView>, Error> {
    if !access::may_see_aggregates(actor) {
        return Err(access::Denied.into());
    }
    Ok(effective(&ctx.db, actor.community_id)
        .await?
        .into_iter()
        .map(|e| e.view)
        .collect())
}

/// The administrator or the health bureau, who may set the county's 口径.
pub fn may_edit(actor: &Actor) -> bool {
    actor.has_role(Role::Admin) || actor.has_role(Role::Supervisor)
}

pub(super) fn require_editor(actor: &Actor) -> Result<(), Error> {
    if may_edit(actor) {
        Ok(())
    } else {
        Err(access::Denied.into())
    }
}

fn editable_definition(code: &str) -> Result<&'static Definition, Error> {
    let definition = DEFINITIONS
        .iter()
        .find(|d| d.code == code)
        .ok_or(Error::UnknownIndicator)?;
    if editable(definition) {
        Ok(definition)
    } else {
        Err(Error::NotEditable)
    }
}

fn check(change: &DefinitionChange, growth: bool) -> Result<(Measure, Measure, f64), Error> {
    let invalid = |field, reason| Error::Invalid { field, reason };
    let length = |text: &str| text.trim().chars().count();
    if !(1..=100).contains(&length(&change.name)) {
        return Err(invalid("name", "1–100 characters"));
    }
    if !(1..=20).contains(&length(&change.unit)) {
        return Err(invalid("unit", "1–20 characters"));
    }
    if !(1..=500).contains(&length(&change.basis)) {
        return Err(invalid(
            "basis",
            "1–500 characters: why the county counts it this way",
        ));
    }
    let measure = |name: &str, field| {
        Measure::parse(name).ok_or(invalid(field, "one of GET /api/v1/indicators/measures"))
    };
    let numerator = measure(&change.numerator, "numerator")?;
    let denominator = measure(&change.denominator, "denominator")?;
    if numerator == denominator {
        return Err(invalid("denominator", "differs from the numerator"));
    }
    let scale = match (growth, change.scale) {
        (true, _) => 100.0,
        (false, Some(scale)) if scale > 0.0 && scale <= 1_000_000.0 => scale,
        (false, _) => return Err(invalid("scale", "a number above 0, at most 1,000,000")),
    };
    Ok((numerator, denominator, scale))
}

/// Puts the county's own definition of a derived indicator in force.
pub async fn put(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    code: &str,
    change: &DefinitionChange,
) -> Result<DefinitionView, Error> {
    require_editor(actor)?;
    let definition = editable_definition(code)?;
    let growth = matches!(definition.formula, Formula::Growth { .. });
    let (numerator, denominator, scale) = check(change, growth)?;
    let county = CountyDefinition {
        code: definition.code.to_owned(),
        name: change.name.trim().to_owned(),
        numerator: numerator.as_str().to_owned(),
        denominator: denominator.as_str().to_owned(),
        scale,
        unit: change.unit.trim().to_owned(),
        basis: change.basis.trim().to_owned(),
        updated_by_staff_id: actor.staff_id,
        updated_at_ms: now,
    };
    let mut tx = ctx.db.begin().await?;
    store::put_county_definition(&mut tx, actor.community_id, &county).await?;
    let entry = audit::Entry::by(
        actor,
        now,
        "indicator.definition.set",
        "indicator_definition",
        None,
    )
    .detail(format!(
        "code={} numerator={} denominator={} scale={scale}",
        county.code, county.numerator, county.denominator
    ));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(customised(built_in(definition), &county).view)
}

/// Puts the built-in definition back in force.
pub async fn reset(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    code: &str,
) -> Result<DefinitionView, Error> {
    require_editor(actor)?;
    let definition = editable_definition(code)?;
    let mut tx = ctx.db.begin().await?;
    if store::delete_county_definition(&mut tx, actor.community_id, code).await? {
        let entry = audit::Entry::by(
            actor,
            now,
            "indicator.definition.reset",
            "indicator_definition",
            None,
        )
        .detail(format!("code={code}"));
        audit::store::append(&mut tx, &[entry]).await?;
    }
    tx.commit().await?;
    Ok(built_in(definition).view)
}
