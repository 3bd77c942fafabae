//! Request extractors: who is calling (bearer token for the API, session cookie for the web
//! pages), JSON, query, path and page forms with rejections in the one error shape, and
//! pagination.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::access::Actor;
use crate::ctx::Ctx;
use crate::{clock, staff};

/// The name of the web session cookie.
pub const SESSION_COOKIE: &str = "yijia_session";

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The query string, read as a page's form is: a field sent more than once fills a `Vec`.
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        serde_html_form::from_str(parts.uri.query().unwrap_or_default())
            .map(Query)
            .map_err(|error| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "http.invalid_query",
                    format!("Failed to deserialize query string: {error}"),
                )
            })
    }
}

/// A page's form (`application/x-www-form-urlencoded`) as the browser sends it: a field sent
/// more than once — ticked boxes of one name — fills a `Vec`.
pub struct Form<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "http.unsupported_media_type",
                "send the form as application/x-www-form-urlencoded",
            ));
        }
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        serde_html_form::from_bytes(&body)
            .map(Form)
            .map_err(|error| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "http.invalid_form",
                    format!("the form cannot be read: {error}"),
                )
            })
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of a cookie the browser sent.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, wanted: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == wanted && !value.is_empty())
        .map(|(_, value)| value)
}

/// The caller of an API endpoint, from `Authorization: Bearer <token>`.
pub struct ApiActor(pub Actor);

impl FromRequestParts<Ctx> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "auth.unauthenticated",
                "send Authorization: Bearer <token>",
            )
        })?;
        Ok(ApiActor(
            staff::authenticate(ctx, clock::now_ms(), token).await?,
        ))
    }
}

/// The user of a web page, from the session cookie; without one, the browser goes to login.
pub struct WebActor(pub Actor);

impl FromRequestParts<Ctx> for WebActor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let token = session_cookie(&parts.headers).ok_or_else(to_login)?;
        match staff::authenticate(ctx, clock::now_ms(), token).await {
            Ok(actor) => Ok(WebActor(actor)),
            Err(staff::Error::Unauthenticated) => Err(to_login()),
            Err(error) => Err(ApiError::from(error).into_response()),
        }
    }
}

/// The address of the connecting client (the TCP peer; a proxy's own forwarding headers are
/// not trusted).
pub struct ClientAddress(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        Ok(ClientAddress(address))
    }
}

/// `?limit=&offset=`, with a default and a ceiling.
#[derive(Clone, Copy, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl PageParams {
    pub fn limit(self) -> i64 {
        self.limit.unwrap_or(20).clamp(1, 100)
    }

    pub fn offset(self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }

    /// Operations are asked for one more row than the page holds, to know whether more follow.
    pub fn fetch_limit(self) -> i64 {
        self.limit() + 1
    }

    pub fn page<T>(self, mut items: Vec<T>) -> Page<T> {
        let limit = self.limit();
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        Page {
            items,
            limit,
            offset: self.offset(),
            next_offset: more.then(|| self.offset() + limit),
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub limit: i64,
    pub offset: i64,
    /// The offset of the next page, absent on the last page.
    pub next_offset: Option<i64>,
}
