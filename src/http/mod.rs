//! The HTTP surface: one router that joins each domain's JSON routes, the web pages, the
//! OpenAPI document and the health check.

pub mod error;
pub mod extract;
pub mod guard;
pub mod openapi;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::ctx::Ctx;
use crate::{ecg, health_record, institution, recognition, referral, resident, staff, web};

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi::get_openapi))
        .merge(staff::http::routes())
        .merge(staff::views::routes())
        .merge(institution::http::routes())
        .merge(resident::http::routes())
        .merge(resident::views::routes())
        .merge(ecg::http::routes())
        .merge(ecg::views::routes())
        .merge(crate::imaging::dicomweb::routes())
        .merge(crate::imaging::http::routes())
        .merge(crate::imaging::views::routes())
        .merge(referral::http::routes())
        .merge(referral::views::routes())
        .merge(health_record::http::routes())
        .merge(health_record::views::routes())
        .merge(recognition::http::routes())
        .merge(recognition::views::routes())
        .merge(crate::portal::views::routes())
        .merge(crate::chronic::http::routes())
        .merge(crate::chronic::views::routes())
        .merge(crate::chronic::dashboard::routes())
        .merge(crate::chronic::screening_page::routes())
        .merge(crate::supervision::http::routes())
        .merge(crate::supervision::views::routes())
        .merge(crate::assessment::http::routes())
        .merge(crate::assessment::views::routes())
        .merge(crate::dispatch::http::routes())
        .merge(crate::dispatch::views::routes())
        .merge(crate::family_doctor::http::routes())
        .merge(crate::family_doctor::views::routes())
        .merge(crate::fhir::routes())
        .merge(crate::insurance::http::routes())
        .merge(crate::insurance::views::routes())
        .merge(crate::indicator::http::routes())
        .merge(crate::indicator::views::routes())
        .merge(web::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            security_headers,
        ))
        .with_state(ctx)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found()
}

/// Health data must not be cached by browsers or proxies, nor framed by other sites, nor its
/// addresses sent to them; served over TLS, browsers are told to keep to it.
async fn security_headers(
    axum::extract::State(ctx): axum::extract::State<Ctx>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> impl IntoResponse {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if ctx.public_url().starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        ),
    );
    response
}
