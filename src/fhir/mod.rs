//! FHIR R4 at `/fhir`: read, vread and search over the health record for other systems (the
//! provincial platform, a hospital's EMR), and `Patient/{id}/$everything`. Every resource comes
//! from the same operations the JSON API uses, so the one access check and audit apply; every
//! resource carries `meta.versionId` (a digest of its content, also its `ETag`) and
//! `meta.lastUpdated`; errors are OperationOutcomes; everything is `application/fhir+json`
//! (XML is answered 406).

pub mod resources;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use sha2::Digest;

use crate::access::Actor;
use crate::clock::{self, Millis};
use crate::ctx::Ctx;
use crate::health_record::model::{ItemKind, TimelineQuery};
use crate::http::error::ApiError;
use crate::http::extract::{ApiActor, Path};
use crate::resident::model::ResidentQuery;

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/fhir/metadata", get(metadata).fallback(write_refused))
        .route("/fhir/{kind}", get(search).fallback(write_refused))
        .route("/fhir/{kind}/{id}", get(read).fallback(write_refused))
        .route(
            "/fhir/{kind}/{id}/_history/{version}",
            get(vread).fallback(write_refused),
        )
        .route(
            "/fhir/{kind}/{id}/{operation}",
            get(operation).fallback(write_refused),
        )
}

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// Drops empty strings, arrays and objects, which FHIR forbids, everywhere in a resource.
fn prune(value: &mut Value) -> bool {
    match value {
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => {
            items.retain_mut(prune);
            !items.is_empty()
        }
        Value::Object(map) => {
            map.retain(|_, v| prune(v));
            !map.is_empty()
        }
        _ => true,
    }
}

fn fhir(status: StatusCode, body: &Value) -> Response {
    let mut body = body.clone();
    prune(&mut body);
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
        body.to_string(),
    )
        .into_response()
}

/// When the server started: the last change of what carries no time of its own.
static STARTED: std::sync::OnceLock<Millis> = std::sync::OnceLock::new();

/// The latest time a resource states about itself, else when the server started.
fn last_updated(resource: &Value) -> String {
    let times = [
        &resource["meta"]["lastUpdated"],
        &resource["lastModified"],
        &resource["issued"],
        &resource["period"]["end"],
        &resource["period"]["start"],
        &resource["authoredOn"],
        &resource["effectiveDateTime"],
    ];
    times
        .iter()
        .filter_map(|t| t.as_str())
        .filter_map(|t| clock::parse_time(t).or_else(|| day_or_instant(t).map(|d| d.0)))
        .max()
        .map(clock::rfc3339_cst)
        .unwrap_or_else(|| clock::rfc3339_cst(*STARTED.get_or_init(clock::now_ms)))
}

/// Sets `meta.versionId` (the first 16 hex digits of the SHA-256 of the content) and
/// `meta.lastUpdated`.
fn with_meta(mut resource: Value) -> Value {
    let updated = last_updated(&resource);
    if let Some(object) = resource.as_object_mut() {
        object.remove("meta");
    }
    prune(&mut resource);
    let digest = sha2::Sha256::digest(resource.to_string().as_bytes());
    let version: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    resource["meta"] = json!({"versionId": version, "lastUpdated": updated});
    resource
}

/// Writes are not offered: 405 with an OperationOutcome.
async fn write_refused() -> Response {
    let outcome = resources::operation_outcome(
        "not-supported",
        "this FHIR server is read-only: GET only (see /fhir/metadata)",
        "fhir.method_not_allowed",
    );
    let mut response = fhir(StatusCode::METHOD_NOT_ALLOWED, &outcome);
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

/// JSON only: a request for XML (by `_format` or `Accept`) is answered 406.
fn json_only(headers: &HeaderMap, params: &Params) -> Result<(), FhirError> {
    let xml = |text: &str| text.contains("xml");
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .unwrap_or("");
    let accepts_json = accept.is_empty()
        || accept.contains("json")
        || accept.contains("*/*")
        || accept.contains("application/*");
    if params.get("_format").is_some_and(xml) || (!accepts_json && xml(accept)) {
        return Err(FhirError(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "fhir.format",
            "only application/fhir+json is served here",
        )));
    }
    Ok(())
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
        let code = if self.0.status == StatusCode::NOT_ACCEPTABLE {
            "not-supported"
        } else {
            code
        };
        let outcome = resources::operation_outcome(code, &self.0.message, self.0.code);
        let mut response = fhir(self.0.status, &outcome);
        if self.0.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"yijia\""),
            );
        }
        response
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
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, FhirError> {
    json_only(&headers, &Params::parse(raw.as_deref()))?;
    let ApiActor(actor) = actor?;
    let resource = with_meta(read_resource(&ctx, &actor, &kind, &id).await?);
    let tag = format!(
        "W/\"{}\"",
        resource["meta"]["versionId"].as_str().unwrap_or("")
    );
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|wanted| {
            wanted
                .split(',')
                .any(|w| w.trim() == tag || w.trim() == "*")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        fhir(StatusCode::OK, &resource)
    };
    let response_headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response_headers.insert(header::ETAG, value);
    }
    if let Some(updated) = resource["meta"]["lastUpdated"]
        .as_str()
        .and_then(clock::parse_time)
        .and_then(http_date)
        .and_then(|d| HeaderValue::from_str(&d).ok())
    {
        response_headers.insert(header::LAST_MODIFIED, updated);
    }
    Ok(response)
}

/// An HTTP date (RFC 9110 IMF-fixdate).
fn http_date(ms: Millis) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok()?;
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(&format).ok()
}

/// `GET /fhir/{kind}/{id}/_history/{version}`: the current version, the only one kept here.
async fn vread(
    State(ctx): State<Ctx>,
    actor: Result<ApiActor, ApiError>,
    headers: HeaderMap,
    Path((kind, id, version)): Path<(String, String, String)>,
) -> Result<Response, FhirError> {
    json_only(&headers, &Params(Vec::new()))?;
    let ApiActor(actor) = actor?;
    let resource = with_meta(read_resource(&ctx, &actor, &kind, &id).await?);
    if resource["meta"]["versionId"] != version.as_str() {
        return Err(FhirError(ApiError::new(
            StatusCode::NOT_FOUND,
            "fhir.version_not_found",
            "only the current version of a resource is kept here",
        )));
    }
    Ok(fhir(StatusCode::OK, &resource))
}

async fn read_resource(ctx: &Ctx, actor: &Actor, kind: &str, id: &str) -> Result<Value, FhirError> {
    let now = clock::now_ms();
    let base = base_url(ctx);
    Ok(match kind {
        "Patient" => {
            let resident = crate::resident::get(ctx, now, actor, numeric_id(id)?).await?;
            let mut patient = resources::patient(&resident);
            patient["meta"] = json!({"lastUpdated": clock::rfc3339_cst(resident.updated_at_ms)});
            patient
        }
        "Organization" => {
            let (institution, _) = crate::institution::get(ctx, actor, numeric_id(id)?).await?;
            resources::organization(&institution)
        }
        "Practitioner" => {
            resources::practitioner(&crate::staff::get(ctx, actor, numeric_id(id)?).await?)
        }
        "Encounter" => resources::encounter(
            &crate::health_record::get_encounter(ctx, now, actor, numeric_id(id)?).await?,
        ),
        "Observation" => read_observation(ctx, now, actor, id).await?,
        "DiagnosticReport" => read_diagnostic_report(ctx, now, actor, id, &base).await?,
        "ServiceRequest" => resources::service_request(
            &crate::referral::get(ctx, now, actor, numeric_id(id)?).await?,
        ),
        "Task" => resources::task(&crate::referral::get(ctx, now, actor, numeric_id(id)?).await?),
        _ => return Err(unsupported(kind)),
    })
}

/// `GET /fhir/Patient/{id}/$everything`: the resident's whole record as one Bundle, paged with
/// `_count` and `_offset` — the patient, encounters, observations (lab and ECG), reports,
/// referrals — each through the one access check and audit.
async fn operation(
    State(ctx): State<Ctx>,
    actor: Result<ApiActor, ApiError>,
    headers: HeaderMap,
    Path((kind, id, operation)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, FhirError> {
    let params = Params::parse(raw.as_deref());
    json_only(&headers, &params)?;
    let ApiActor(actor) = actor?;
    if kind != "Patient" || operation != "$everything" {
        return Err(FhirError(ApiError::new(
            StatusCode::NOT_FOUND,
            "fhir.unsupported_operation",
            format!("{kind}/{{id}}/{operation} is not offered; Patient/{{id}}/$everything is"),
        )));
    }
    let now = clock::now_ms();
    let base = base_url(&ctx);
    let patient = numeric_id(&id)?;
    let mut everything = vec![read_resource(&ctx, &actor, "Patient", &id).await?];
    everything.extend(
        observations(
            &ctx,
            now,
            &actor,
            &Params(vec![("patient".into(), id.clone())]),
            patient,
        )
        .await?,
    );
    for kind in ["Encounter", "DiagnosticReport", "ServiceRequest", "Task"] {
        everything.extend(search_record(&ctx, now, &actor, kind, &base, patient).await?);
    }
    let (count, offset) = params.page()?;
    let total = everything.len();
    let page: Vec<Value> = everything
        .into_iter()
        .skip(offset as usize)
        .take(count as usize)
        .map(with_meta)
        .collect();
    let url = |offset: i64| {
        format!("{base}/fhir/Patient/{id}/$everything?_count={count}&_offset={offset}")
    };
    let next = ((offset + count) < total as i64).then(|| url(offset + count));
    let bundle = resources::searchset(&base, page, url(offset), next, total);
    Ok(fhir(StatusCode::OK, &bundle))
}

fn unsupported(kind: &str) -> FhirError {
    FhirError(ApiError::new(
        StatusCode::NOT_FOUND,
        "fhir.unsupported_type",
        format!("{kind} is not served here; see /fhir/metadata"),
    ))
}

/// The resident's observations: lab results (current ones, not those a correction replaced)
/// and ECG tracings, by `category` (`laboratory`, `procedure`), `code` (a lab code, LOINC, or
/// `11524-6` for ECG) and `date`.
async fn observations(
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
        self.date_range_of("date")
    }

    /// The same for any date parameter (`_lastUpdated`).
    fn date_range_of(&self, name: &str) -> Result<(Millis, Millis), FhirError> {
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
        &resource["meta"]["lastUpdated"],
    ]
    .iter()
    .find_map(|v| v.as_str())
    .unwrap_or("")
    .to_owned()
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

async fn search(
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
                        || clock::parse_time(&sort_date(r))
                            .or_else(|| day_or_instant(&sort_date(r)).map(|d| d.0))
                            .is_some_and(|at| (range.0..range.1).contains(&at))
                })
                .collect()
        }
        _ => return Err(unsupported(&kind)),
    };
    if let Some(ids) = params.get("_id") {
        let ids: Vec<&str> = ids.split(',').collect();
        found.retain(|r| r["id"].as_str().is_some_and(|id| ids.contains(&id)));
    }
    let mut found: Vec<Value> = found.into_iter().map(with_meta).collect();
    let updated = params.date_range_of("_lastUpdated")?;
    if updated != (i64::MIN, i64::MAX) {
        found.retain(|r| {
            r["meta"]["lastUpdated"]
                .as_str()
                .and_then(clock::parse_time)
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
                    r["meta"]["lastUpdated"].as_str().unwrap_or("").to_owned()
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
async fn search_record(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    kind: &str,
    base: &str,
    patient: i64,
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
