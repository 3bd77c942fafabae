//! FHIR R4 at `/fhir`: read, vread and search over the health record for other systems (the
//! provincial platform, a hospital's EMR), and `Patient/{id}/$everything`. Every resource comes
//! from the same operations the JSON API uses, so the one access check and audit apply; every
//! resource carries `meta.versionId` (a digest of its content, also its `ETag`) and
//! `meta.lastUpdated`; errors are OperationOutcomes; everything is `application/fhir+json`
//! (XML is answered 406).

pub mod resources;
mod search;

use search::{Params, observations, search_record};

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
use crate::http::error::ApiError;
use crate::http::extract::{ApiActor, Path};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/fhir/metadata", get(metadata).fallback(write_refused))
        .route("/fhir/{kind}", get(search::search).fallback(write_refused))
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
pub(super) fn last_updated(resource: &Value) -> String {
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
        .filter_map(search::time_of)
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
        "ImagingStudy" => resources::imaging_study(
            &crate::imaging::study::get(ctx, now, actor, numeric_id(id)?).await?,
            &base,
        ),
        _ => return Err(unsupported(kind)),
    })
}

/// `GET /fhir/Patient/{id}/$everything`: the resident's whole record as one Bundle, paged with
/// `_count` and `_offset` — the patient, encounters, observations (lab and ECG), reports,
/// referrals, imaging studies — each through the one access check and audit.
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
    everything.extend(
        crate::imaging::study::of_resident(&ctx, now, &actor, patient)
            .await?
            .iter()
            .map(|study| resources::imaging_study(study, &base)),
    );
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
    if let Some(study) = prefixed_id(id, "imaging") {
        let detail = crate::imaging::study::get(ctx, now, actor, numeric_id(study)?).await?;
        return Ok(resources::imaging_report(&detail, base));
    }
    if let Some(exam) = prefixed_id(id, "exam") {
        let report =
            crate::health_record::get_exam_report(ctx, now, actor, numeric_id(exam)?).await?;
        return Ok(resources::exam_report(&report, base));
    }
    Err(not_found())
}
