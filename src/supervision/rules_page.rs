//! The rules page: the rules in force with their official names and findings, which are enabled,
//! and every parameter with its national default; the office or an administrator saves a new
//! version (alerts keep the version that raised them).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Map, Value};

use super::RuleSet;
use super::rules::{Parameters, RuleCode};
use crate::access::Actor;
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, WebActor};
use crate::web::{WebError, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new().route("/supervision/rules", get(page).post(save))
}

/// Each parameter's field and what it means, in Chinese.
const LABELS: [(&str, &str); 21] = [
    (
        "split_admission_days",
        "R01 分解住院：出院后再入院间隔（天）",
    ),
    (
        "planned_episode_codes",
        "R01/K05 计划性住院主要诊断（编码前缀，逗号分隔）",
    ),
    ("frequent_admissions", "R02 频繁住院：住院次数"),
    ("frequent_admission_days", "R02 频繁住院：滚动天数"),
    (
        "low_threshold_stay_days",
        "R03 低标准入院：住院不超过（天）",
    ),
    (
        "low_threshold_total_fen",
        "R03 低标准入院：总费用低于（分）",
    ),
    (
        "low_threshold_examination_pct",
        "R03 检查检验费占比高于（%）",
    ),
    ("low_threshold_drug_pct", "R03 药品费占比高于（%）"),
    (
        "outpatient_treatable_codes",
        "R03 可门诊治疗的主要诊断（编码前缀，逗号分隔）",
    ),
    ("obstetric_min_age", "R06 妊娠相关诊断最低年龄"),
    ("obstetric_max_age", "R06 妊娠相关诊断最高年龄"),
    ("perinatal_max_age", "R06 围生期诊断最高年龄"),
    ("frequent_outpatient_visits", "R12 频繁门诊：超过次数"),
    ("frequent_outpatient_days", "R12 频繁门诊：天数"),
    (
        "indicator_min_cases",
        "K 指标：本机构与同级比较的最少病例数",
    ),
    ("min_peers", "K 指标：最少同级机构数"),
    ("peer_excess_pct", "K 指标：高于同级第90百分位的幅度（%）"),
    ("admission_rate_rise_pct", "K01 住院率较上月上升（%）"),
    (
        "cost_growth_target_pct",
        "K02 次均费用同比增幅控制目标（%）",
    ),
    ("readmission_days", "K05 非计划再住院：出院后天数"),
    ("outlier_z", "K07 病种费用离群：修正 Z 分数高于"),
];

#[derive(Template)]
#[template(path = "supervision_rules.html")]
struct RulesPage {
    user_name: String,
    user_role: String,
    version: i64,
    /// (code, name, finding, enabled).
    rules: Vec<(&'static str, &'static str, &'static str, bool)>,
    /// (field, label, value, default).
    parameters: Vec<(&'static str, &'static str, String, String)>,
    error: String,
}

/// A parameter's value as the form shows it: lists comma-separated.
fn shown(value: Option<&Value>) -> String {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

async fn view(ctx: &Ctx, actor: &Actor, error: String) -> Result<Response, WebError> {
    let set = super::rule_set(ctx, actor).await?;
    let (now, defaults) = (
        serde_json::to_value(&set.parameters).unwrap_or_default(),
        serde_json::to_value(Parameters::default()).unwrap_or_default(),
    );
    Ok(render(&RulesPage {
        user_name: actor.name.clone(),
        user_role: role_label(actor),
        version: set.version,
        rules: RuleCode::ALL
            .iter()
            .map(|r| {
                let finding = match r.finding() {
                    super::rules::Finding::Definite => "明确违规",
                    super::rules::Finding::Suspect => "可疑",
                };
                (r.as_str(), r.name_zh(), finding, set.enabled.contains(r))
            })
            .collect(),
        parameters: LABELS
            .iter()
            .map(|(field, label)| {
                (
                    *field,
                    *label,
                    shown(now.get(field)),
                    shown(defaults.get(field)),
                )
            })
            .collect(),
        error,
    })
    .into_response())
}

async fn page(State(ctx): State<Ctx>, WebActor(actor): WebActor) -> Result<Response, WebError> {
    view(&ctx, &actor, String::new()).await
}

/// The form's fields back into a rule set: the checked `enabled` codes and each parameter —
/// a list split at commas, a number as a number.
fn rule_set_of(fields: &[(String, String)]) -> Option<RuleSet> {
    let defaults = serde_json::to_value(Parameters::default()).ok()?;
    let mut parameters = Map::new();
    for (field, _) in LABELS {
        let Some((_, text)) = fields.iter().find(|(k, _)| k == field) else {
            continue;
        };
        let value = match defaults.get(field) {
            Some(Value::Array(_)) => Value::Array(
                text.split([',', '，', '、', ' '])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| Value::String(c.to_owned()))
                    .collect(),
            ),
            _ => serde_json::from_str::<serde_json::Number>(text.trim())
                .ok()
                .map(Value::Number)?,
        };
        parameters.insert(field.to_owned(), value);
    }
    Some(RuleSet {
        version: 0,
        enabled: fields
            .iter()
            .filter(|(k, _)| k == "enabled")
            .filter_map(|(_, code)| RuleCode::parse(code))
            .collect(),
        parameters: serde_json::from_value(Value::Object(parameters)).ok()?,
    })
}

async fn save(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let Some(set) = rule_set_of(&fields) else {
        return view(
            &ctx,
            &actor,
            "参数须为数字（编码列表用逗号分隔）。".to_owned(),
        )
        .await;
    };
    match super::set_rules(&ctx, clock::now_ms(), &actor, &set).await {
        Ok(_) => Ok(Redirect::to("/supervision/rules").into_response()),
        Err(super::Error::Invalid { reason, .. }) => {
            view(&ctx, &actor, format!("参数超出允许范围：{reason}")).await
        }
        Err(error) => Err(error.into()),
    }
}
