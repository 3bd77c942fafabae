//! FHIR searches: the parameters of a request (paging, dates, tokens, the result parameters),
//! the searches per resource type with their totals, and the resident's observations (lab and
//! ECG) that searches and `$everything` share.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{
    FhirError, base_url, fhir, invalid, json_only, last_updated, resources, unsupported, with_meta,
};
use crate::access::Actor;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::health_record::model::{ItemKind, TimelineQuery};
use crate::http::error::ApiError;
use crate::http::extract::{ApiActor, Path};
use crate::resident::model::ResidentQuery;

/// The resident's observations: lab results (current ones, not those a correction replaced)
/// and ECG tracings, by `category` (`laboratory`, `procedure`), `code` (a lab code, LOINC, or
/// `11524-6` for ECG) and `date`.
pub(super) async fn observations(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    params: &Params,
    patient: i64,
) -> Result<Vec<Value>, FhirError> {
    let code = params
        .get("code")
        .map(|c| c.rsplit('|').next().unwrap_or(c));
    let category = params
        .get("category")
        .map(|c| c.rsplit('|').next().unwrap_or(c));
    let range = params.date_range()?;
    let want_ecg = category.is_none_or(|c| c == "procedure") && code.is_none_or(|c| c == "11524-6");
    let want_lab = category.is_none_or(|c| c == "laboratory") && code != Some("11524-6");
    let mut found = Vec::new();
    if want_lab {
        let results = crate::health_record::lab::results_of(
            ctx,
            now,
            actor,
            patient,
            None,
            range,
            (MAX_MATCHES as i64, 0),
        )
        .await?;
        found.extend(
            results
                .iter()
                .filter(|(report, index)| {
                    let result = &report.results[*index];
                    !result.superseded.0
                        && code.is_none_or(|c| result.code == c || result.loinc_code == c)
                })
                .filter_map(|(report, index)| resources::lab_observation(report, *index)),
        );
    }
    if want_ecg {
        let query = TimelineQuery {
            kind: Some("ecg".into()),
            ..Default::default()
        };
        let items =
            crate::health_record::timeline(ctx, now, actor, patient, &query, MAX_MATCHES as i64, 0)
                .await?;
        for item in items
            .iter()
            .filter(|i| (range.0..range.1).contains(&i.at_ms))
        {
            let detail = crate::ecg::get(ctx, now, actor, item.id).await?;
            let waveform = crate::ecg::waveform(ctx, now, actor, item.id).await?;
            found.push(resources::ecg_observation(&detail, &waveform));
        }
    }
    Ok(found)
}

/// The search parameters of a request, in order, repeated ones kept.
pub(super) struct Params(pub(super) Vec<(String, String)>);

impl Params {
    pub(super) fn parse(raw: Option<&str>) -> Params {
        Params(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `_count` (1 to 100, default 20) and `_offset`.
    pub(super) fn page(&self) -> Result<(i64, i64), FhirError> {
        let number = |name: &str, default: i64| match self.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<i64>()
                .map_err(|_| invalid(format!("{name} must be a whole number"))),
        };
        Ok((
            number("_count", 20)?.clamp(1, 100),
            number("_offset", 0)?.max(0),
        ))
    }

    /// `patient=Patient/12` or `patient=12`; required.
    pub(super) fn patient(&self) -> Result<i64, FhirError> {
        let value = self
            .get("patient")
            .or_else(|| self.get("subject"))
            .ok_or_else(|| invalid("give patient=<id>"))?;
        value
            .trim_start_matches("Patient/")
            .parse()
            .map_err(|_| invalid("patient must be a Patient id"))
    }

    /// Every `date=` as a bound of [from, to): `ge`, `gt`, `le`, `lt` or `eq` (the default)
    /// before a date (a whole day in China Standard Time) or a date and time.
    pub(super) fn date_range(&self) -> Result<(Millis, Millis), FhirError> {
        self.date_range_of("date")
    }

    /// The same for any date parameter (`_lastUpdated`).
    pub(super) fn date_range_of(&self, name: &str) -> Result<(Millis, Millis), FhirError> {
        let mut range = (i64::MIN, i64::MAX);
        for value in self.all(name) {
            let (prefix, text) = match value.get(..2) {
                Some(p @ ("ge" | "gt" | "le" | "lt" | "eq")) => (p, &value[2..]),
                _ => ("eq", value),
            };
            let (start, end) = day_or_instant(text)
                .ok_or_else(|| invalid(format!("{name} must be YYYY-MM-DD or a date and time")))?;
            match prefix {
                "ge" => range.0 = range.0.max(start),
                "gt" => range.0 = range.0.max(end),
                "le" => range.1 = range.1.min(end),
                "lt" => range.1 = range.1.min(start),
                _ => range = (range.0.max(start), range.1.min(end)),
            }
        }
        Ok(range)
    }
}

/// A date as its whole day [start, end) in China Standard Time, or an instant as [t, t + 1 ms).
fn day_or_instant(text: &str) -> Option<(Millis, Millis)> {
    if text.len() == 10 {
        let month = clock::month_bounds_cst(&text[..7])?;
        let day: i64 = text[8..].parse().ok()?;
        let start = month.0 + (day - 1) * 86_400_000;
        return (day >= 1 && start < month.1).then_some((start, start + 86_400_000));
    }
    let at = clock::parse_time(text)?;
    Some((at, at + 1))
}

/// The most matches a search considers; each is a resident's record or a list of members.
const MAX_MATCHES: usize = 1000;

/// The parameters each search applies; the paging and result parameters apply to all.
fn applied(kind: &str) -> &'static [&'static str] {
    match kind {
        "Patient" => &["identifier", "name", "_id"],
        "Organization" => &["identifier", "_id"],
        "Practitioner" => &["organization", "_id"],
        "Observation" => &["patient", "subject", "code", "category", "date", "_id"],
        _ => &["patient", "subject", "date", "_id"],
    }
}

const RESULT_PARAMETERS: [&str; 7] = [
    "_count",
    "_offset",
    "_summary",
    "_elements",
    "_sort",
    "_lastUpdated",
    "_format",
];

/// The URL of this search with another offset: only the parameters applied.
fn search_url(base: &str, kind: &str, params: &Params, offset: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in params.0.iter().filter(|(k, _)| {
        k != "_offset"
            && (applied(kind).contains(&k.as_str()) || RESULT_PARAMETERS.contains(&k.as_str()))
    }) {
        query.append_pair(key, value);
    }
    query.append_pair("_offset", &offset.to_string());
    format!("{base}/fhir/{kind}?{}", query.finish())
}

/// The date a resource is sorted by.
fn sort_date(resource: &Value) -> String {
    [
        &resource["effectiveDateTime"],
        &resource["period"]["start"],
        &resource["authoredOn"],
    ]
    .iter()
    .find_map(|v| v.as_str())
    .map_or_else(|| last_updated(resource), str::to_owned)
}

/// A FHIR `dateTime` as milliseconds: an instant, or a date's first moment (CST).
pub(super) fn time_of(text: &str) -> Option<Millis> {
    clock::parse_time(text).or_else(|| day_or_instant(text).map(|d| d.0))
}

/// Keeps the elements `_elements` names (and what every resource must have), marked as a
/// subset.
fn only_elements(mut resource: Value, elements: &[&str]) -> Value {
    if let Some(object) = resource.as_object_mut() {
        object.retain(|key, _| {
            matches!(key.as_str(), "resourceType" | "id" | "meta")
                || elements.contains(&key.as_str())
        });
    }
    resource["meta"]["tag"] = json!([{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
        "code": "SUBSETTED",
        "display": "subsetted",
    }]);
    resource
}

pub(super) async fn search(
    State(ctx): State<Ctx>,
    actor: Result<ApiActor, ApiError>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, FhirError> {
    let params = Params::parse(raw.as_deref());
    json_only(&headers, &params)?;
    let ApiActor(actor) = actor?;
    let now = clock::now_ms();
    let base = base_url(&ctx);
    let strict = headers
        .get("prefer")
        .and_then(|p| p.to_str().ok())
        .is_some_and(|p| p.contains("handling=strict"));
    if strict
        && let Some((unknown, _)) = params.0.iter().find(|(k, _)| {
            !applied(&kind).contains(&k.as_str()) && !RESULT_PARAMETERS.contains(&k.as_str())
        })
    {
        return Err(invalid(format!("{kind} has no search parameter {unknown}")));
    }
    let (count, offset) = params.page()?;
    let mut found = match kind.as_str() {
        "Patient" => search_patients(&ctx, now, &actor, &params).await?,
        "Organization" => {
            let (system, code) = token(params.get("identifier"));
            if system.is_some_and(|s| s != resources::INSTITUTION_CODE_SYSTEM) {
                Vec::new()
            } else {
                crate::institution::list(&ctx, &actor)
                    .await?
                    .iter()
                    .filter(|i| code.is_none_or(|code| i.code == code))
                    .take(MAX_MATCHES)
                    .map(resources::organization)
                    .collect()
            }
        }
        "Practitioner" => {
            let organization = params
                .get("organization")
                .map(|o| o.trim_start_matches("Organization/").parse::<i64>())
                .transpose()
                .map_err(|_| invalid("organization must be an Organization id"))?;
            crate::staff::list(&ctx, &actor, organization, MAX_MATCHES as i64, 0)
                .await?
                .iter()
                .filter(|s| !s.roles.contains(&crate::access::Role::Resident))
                .map(resources::practitioner)
                .collect()
        }
        "Observation" => observations(&ctx, now, &actor, &params, params.patient()?).await?,
        "Encounter" | "DiagnosticReport" | "ServiceRequest" | "Task" => {
            let range = params.date_range()?;
            search_record(&ctx, now, &actor, &kind, &base, params.patient()?)
                .await?
                .into_iter()
                .filter(|r| {
                    range == (i64::MIN, i64::MAX)
                        || time_of(&sort_date(r)).is_some_and(|at| (range.0..range.1).contains(&at))
                })
                .collect()
        }
        "ImagingStudy" => crate::imaging::study::of_resident(&ctx, now, &actor, params.patient()?)
            .await?
            .iter()
            .map(|study| resources::imaging_study(study, &base))
            .collect(),
        _ => return Err(unsupported(&kind)),
    };
    if let Some(ids) = params.get("_id") {
        let ids: Vec<&str> = ids.split(',').collect();
        found.retain(|r| r["id"].as_str().is_some_and(|id| ids.contains(&id)));
    }
    // The version digest is computed for the page only; filtering and sorting need the time.
    let updated = params.date_range_of("_lastUpdated")?;
    if updated != (i64::MIN, i64::MAX) {
        found.retain(|r| {
            clock::parse_time(&last_updated(r))
                .is_some_and(|at| (updated.0..updated.1).contains(&at))
        });
    }
    match params.get("_sort") {
        Some(sort)
            if sort.trim_start_matches('-') == "date"
                || sort.trim_start_matches('-') == "_lastUpdated" =>
        {
            let key = |r: &Value| {
                if sort.ends_with("date") {
                    sort_date(r)
                } else {
                    last_updated(r)
                }
            };
            found.sort_by_key(key);
            if sort.starts_with('-') {
                found.reverse();
            }
        }
        Some(other) if strict => {
            return Err(invalid(format!(
                "cannot sort by {other}; sort by date or _lastUpdated"
            )));
        }
        _ => {}
    }
    let total = found.len();
    let summary_count =
        params.get("_summary") == Some("count") || params.get("_count") == Some("0");
    let elements: Option<Vec<&str>> = params
        .get("_elements")
        .map(|e| e.split(',').map(str::trim).collect());
    let page: Vec<Value> = if summary_count {
        Vec::new()
    } else {
        found
            .into_iter()
            .skip(offset as usize)
            .take(count as usize)
            .map(with_meta)
            .map(|r| match &elements {
                Some(elements) => only_elements(r, elements),
                None => r,
            })
            .collect()
    };
    let next = (!summary_count && offset + count < total as i64)
        .then(|| search_url(&base, &kind, &params, offset + count));
    let bundle = resources::searchset(
        &base,
        page,
        search_url(&base, &kind, &params, offset),
        next,
        total,
    );
    Ok(fhir(StatusCode::OK, &bundle))
}

/// A token parameter: `system|value`, `|value` (no system), or `value` (any system).
fn token(value: Option<&str>) -> (Option<&str>, Option<&str>) {
    match value {
        None => (None, None),
        Some(text) => match text.split_once('|') {
            Some((system, value)) => (Some(system), Some(value)),
            None => (None, Some(text)),
        },
    }
}

async fn search_patients(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    params: &Params,
) -> Result<Vec<Value>, FhirError> {
    let (system, identifier) = token(params.get("identifier"));
    if system.is_some_and(|s| s != resources::ID_NUMBER_SYSTEM) {
        return Ok(Vec::new()); // an identifier of another system is none of ours
    }
    let query = match (identifier, params.get("name"), params.get("_id")) {
        (Some(identifier), _, _) => ResidentQuery {
            id_number: Some(identifier.trim().to_ascii_uppercase()),
            ..Default::default()
        },
        (None, Some(name), _) => ResidentQuery {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        (None, None, Some(ids)) => {
            let mut found = Vec::new();
            for id in ids.split(',') {
                let Ok(id) = id.trim().parse::<i64>() else {
                    continue;
                };
                match crate::resident::get(ctx, now, actor, id).await {
                    Ok(resident) => found.push(resources::patient(&resident)),
                    Err(crate::resident::Error::NotFound) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            return Ok(found);
        }
        (None, None, None) => {
            return Err(invalid(
                "give identifier=<ID number>, name=<name> or _id=<id>",
            ));
        }
    };
    Ok(
        crate::resident::search(ctx, now, actor, &query, MAX_MATCHES as i64, 0)
            .await?
            .iter()
            .map(resources::patient)
            .collect(),
    )
}

/// Searches by patient over the record's timeline: encounters, reports, referrals.
pub(super) async fn search_record(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    kind: &str,
    base: &str,
    patient: i64,
) -> Result<Vec<Value>, FhirError> {
    let kinds = match kind {
        "Encounter" => "encounter",
        "DiagnosticReport" => "lab_report,ecg,exam_report,imaging_study",
        _ => "referral",
    };
    let query = TimelineQuery {
        kind: Some(kinds.into()),
        ..Default::default()
    };
    let items =
        crate::health_record::timeline(ctx, now, actor, patient, &query, MAX_MATCHES as i64, 0)
            .await?;
    let mut found = Vec::with_capacity(items.len());
    for item in items {
        let resource = match (kind, item.kind) {
            ("Encounter", _) => resources::encounter(
                &crate::health_record::get_encounter(ctx, now, actor, item.id).await?,
            ),
            (_, ItemKind::LabReport) => resources::lab_report(
                &crate::health_record::lab::get(ctx, now, actor, item.id).await?,
                base,
            ),
            (_, ItemKind::Ecg) => {
                resources::ecg_report(&crate::ecg::get(ctx, now, actor, item.id).await?, base)
            }
            (_, ItemKind::ImagingStudy) => resources::imaging_report(
                &crate::imaging::study::get(ctx, now, actor, item.id).await?,
                base,
            ),
            (_, ItemKind::ExamReport) => resources::exam_report(
                &crate::health_record::get_exam_report(ctx, now, actor, item.id).await?,
                base,
            ),
            ("ServiceRequest", _) => {
                resources::service_request(&crate::referral::get(ctx, now, actor, item.id).await?)
            }
            _ => resources::task(&crate::referral::get(ctx, now, actor, item.id).await?),
        };
        found.push(resource);
    }
    Ok(found)
}
