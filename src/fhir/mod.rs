//! FHIR R4 at `/fhir`: read and search over the health record for other systems (the provincial
//! platform, a hospital's EMR). Every resource comes from the same operations the JSON API
//! uses, so the one access check and audit apply; errors are OperationOutcomes; everything is
//! `application/fhir+json`.

pub mod resources;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use crate::access::Actor;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::health_record::model::{ItemKind, TimelineQuery};
use crate::http::error::ApiError;
use crate::http::extract::{ApiActor, Path};
use crate::resident::model::ResidentQuery;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/fhir/metadata", get(metadata))
        .route("/fhir/{kind}", get(search))
        .route("/fhir/{kind}/{id}", get(read))
}

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

fn fhir(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
        body.to_string(),
    )
        .into_response()
}

/// Any error of the API, answered as an OperationOutcome with the same status.
pub struct FhirError(ApiError);

impl<E: Into<ApiError>> From<E> for FhirError {
    fn from(error: E) -> FhirError {
        FhirError(error.into())
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let code = match self.0.status {
            StatusCode::UNAUTHORIZED => "login",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::CONFLICT => "conflict",
            status if status.is_client_error() => "invalid",
            _ => "exception",
        };
        let outcome = resources::operation_outcome(code, &self.0.message, self.0.code);
        fhir(self.0.status, &outcome)
    }
}

fn invalid(message: impl Into<String>) -> FhirError {
    FhirError(ApiError::new(
        StatusCode::BAD_REQUEST,
        "fhir.invalid_search",
        message,
    ))
}

fn not_found() -> FhirError {
    FhirError(ApiError::new(
        StatusCode::NOT_FOUND,
        "fhir.not_found",
        "no such resource",
    ))
}

/// The FHIR base of the server's configured public address: never taken from the request's
/// `Host` or `X-Forwarded-*`, which a client can set to anything.
fn base_url(ctx: &Ctx) -> String {
    ctx.public_url().to_owned()
}

/// `GET /fhir/metadata`: what this server offers (no sign-in needed).
async fn metadata(State(ctx): State<Ctx>) -> Response {
    fhir(
        StatusCode::OK,
        &resources::capability_statement(&base_url(&ctx), clock::now_ms()),
    )
}

fn numeric_id(id: &str) -> Result<i64, FhirError> {
    id.parse().map_err(|_| not_found())
}

/// `ecg-12` → 12 for the given prefix.
fn prefixed_id<'a>(id: &'a str, prefix: &str) -> Option<&'a str> {
    id.strip_prefix(prefix)?.strip_prefix('-')
}

async fn read(
    State(ctx): State<Ctx>,
    actor: Result<ApiActor, ApiError>,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, FhirError> {
    let ApiActor(actor) = actor?;
    let now = clock::now_ms();
    let base = base_url(&ctx);
    let resource = match kind.as_str() {
        "Patient" => {
            resources::patient(&crate::resident::get(&ctx, now, &actor, numeric_id(&id)?).await?)
        }
        "Organization" => {
            let (institution, _) = crate::institution::get(&ctx, &actor, numeric_id(&id)?).await?;
            resources::organization(&institution)
        }
        "Practitioner" => {
            resources::practitioner(&crate::staff::get(&ctx, &actor, numeric_id(&id)?).await?)
        }
        "Encounter" => resources::encounter(
            &crate::health_record::get_encounter(&ctx, now, &actor, numeric_id(&id)?).await?,
        ),
        "Observation" => read_observation(&ctx, now, &actor, &id).await?,
        "DiagnosticReport" => read_diagnostic_report(&ctx, now, &actor, &id, &base).await?,
        "ServiceRequest" => resources::service_request(
            &crate::referral::get(&ctx, now, &actor, numeric_id(&id)?).await?,
        ),
        "Task" => {
            resources::task(&crate::referral::get(&ctx, now, &actor, numeric_id(&id)?).await?)
        }
        _ => return Err(unsupported(&kind)),
    };
    Ok(fhir(StatusCode::OK, &resource))
}

fn unsupported(kind: &str) -> FhirError {
    FhirError(ApiError::new(
        StatusCode::NOT_FOUND,
        "fhir.unsupported_type",
        format!("{kind} is not served here; see /fhir/metadata"),
    ))
}

async fn read_observation(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: &str,
) -> Result<Value, FhirError> {
    if let Some(ecg) = prefixed_id(id, "ecg") {
        let ecg = numeric_id(ecg)?;
        let detail = crate::ecg::get(ctx, now, actor, ecg).await?;
        let waveform = crate::ecg::waveform(ctx, now, actor, ecg).await?;
        return Ok(resources::ecg_observation(&detail, &waveform));
    }
    let (report, position) = prefixed_id(id, "lab")
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(report, position)| {
            Some((report.parse().ok()?, position.parse::<usize>().ok()?))
        })
        .ok_or_else(not_found)?;
    let report = crate::health_record::lab::get(ctx, now, actor, report).await?;
    position
        .checked_sub(1)
        .and_then(|index| resources::lab_observation(&report, index))
        .ok_or_else(not_found)
}

async fn read_diagnostic_report(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: &str,
    base: &str,
) -> Result<Value, FhirError> {
    if let Some(lab) = prefixed_id(id, "lab") {
        let report = crate::health_record::lab::get(ctx, now, actor, numeric_id(lab)?).await?;
        return Ok(resources::lab_report(&report, base));
    }
    if let Some(ecg) = prefixed_id(id, "ecg") {
        let detail = crate::ecg::get(ctx, now, actor, numeric_id(ecg)?).await?;
        return Ok(resources::ecg_report(&detail, base));
    }
    if let Some(exam) = prefixed_id(id, "exam") {
        let report =
            crate::health_record::get_exam_report(ctx, now, actor, numeric_id(exam)?).await?;
        return Ok(resources::exam_report(&report, base));
    }
    Err(not_found())
}

/// The search parameters of a request, in order, repeated ones kept.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<&str>) -> Params {
        Params(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `_count` (1 to 100, default 20) and `_offset`.
    fn page(&self) -> Result<(i64, i64), FhirError> {
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
    fn patient(&self) -> Result<i64, FhirError> {
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
    fn date_range(&self) -> Result<(Millis, Millis), FhirError> {
        let mut range = (i64::MIN, i64::MAX);
        for value in self.all("date") {
            let (prefix, text) = match value.get(..2) {
                Some(p @ ("ge" | "gt" | "le" | "lt" | "eq")) => (p, &value[2..]),
                _ => ("eq", value),
            };
            let (start, end) = day_or_instant(text)
                .ok_or_else(|| invalid("date must be YYYY-MM-DD or a date and time"))?;
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

/// The URL of this search with another offset.
fn search_url(base: &str, kind: &str, params: &Params, offset: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in params.0.iter().filter(|(k, _)| k != "_offset") {
        query.append_pair(key, value);
    }
    query.append_pair("_offset", &offset.to_string());
    format!("{base}/fhir/{kind}?{}", query.finish())
}

async fn search(
    State(ctx): State<Ctx>,
    actor: Result<ApiActor, ApiError>,
    Path(kind): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, FhirError> {
    let ApiActor(actor) = actor?;
    let now = clock::now_ms();
    let base = base_url(&ctx);
    let params = Params::parse(raw.as_deref());
    let (count, offset) = params.page()?;
    // One more than the page holds, to know whether another page follows.
    let fetch = count + 1;
    let mut found = match kind.as_str() {
        "Patient" => search_patients(&ctx, now, &actor, &params, fetch, offset).await?,
        "Organization" => {
            let identifier = params
                .get("identifier")
                .map(|i| i.rsplit('|').next().unwrap_or(i));
            crate::institution::list(&ctx, &actor)
                .await?
                .iter()
                .filter(|i| identifier.is_none_or(|code| i.code == code))
                .skip(offset as usize)
                .take(fetch as usize)
                .map(resources::organization)
                .collect()
        }
        "Practitioner" => {
            let organization = params
                .get("organization")
                .map(|o| o.trim_start_matches("Organization/").parse::<i64>())
                .transpose()
                .map_err(|_| invalid("organization must be an Organization id"))?;
            crate::staff::list(&ctx, &actor, organization, fetch, offset)
                .await?
                .iter()
                .filter(|s| !s.roles.contains(&crate::access::Role::Resident))
                .map(resources::practitioner)
                .collect()
        }
        "Observation" => {
            let code = params
                .get("code")
                .map(|c| c.rsplit('|').next().unwrap_or(c));
            crate::health_record::lab::results_of(
                &ctx,
                now,
                &actor,
                params.patient()?,
                code,
                params.date_range()?,
                (fetch, offset),
            )
            .await?
            .iter()
            .filter_map(|(report, index)| resources::lab_observation(report, *index))
            .collect()
        }
        "Encounter" | "DiagnosticReport" | "ServiceRequest" | "Task" => {
            search_record(
                &ctx,
                now,
                &actor,
                &kind,
                &base,
                params.patient()?,
                (fetch, offset),
            )
            .await?
        }
        _ => return Err(unsupported(&kind)),
    };
    let next =
        (found.len() as i64 > count).then(|| search_url(&base, &kind, &params, offset + count));
    found.truncate(count as usize);
    let bundle = resources::searchset(
        &base,
        found,
        search_url(&base, &kind, &params, offset),
        next,
    );
    Ok(fhir(StatusCode::OK, &bundle))
}

async fn search_patients(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    params: &Params,
    limit: i64,
    offset: i64,
) -> Result<Vec<Value>, FhirError> {
    let query = match (params.get("identifier"), params.get("name")) {
        (Some(identifier), _) => ResidentQuery {
            id_number: Some(
                identifier
                    .rsplit('|')
                    .next()
                    .unwrap_or(identifier)
                    .to_owned(),
            ),
            ..Default::default()
        },
        (None, Some(name)) => ResidentQuery {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        (None, None) => return Err(invalid("give identifier=<ID number> or name=<name>")),
    };
    Ok(
        crate::resident::search(ctx, now, actor, &query, limit, offset)
            .await?
            .iter()
            .map(resources::patient)
            .collect(),
    )
}

/// Searches by patient over the record's timeline: encounters, reports, referrals.
async fn search_record(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    kind: &str,
    base: &str,
    patient: i64,
    (limit, offset): (i64, i64),
) -> Result<Vec<Value>, FhirError> {
    let kinds = match kind {
        "Encounter" => "encounter",
        "DiagnosticReport" => "lab_report,ecg,exam_report",
        _ => "referral",
    };
    let query = TimelineQuery {
        kind: Some(kinds.into()),
        ..Default::default()
    };
    let items =
        crate::health_record::timeline(ctx, now, actor, patient, &query, limit, offset).await?;
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
