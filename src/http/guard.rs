//! What every request passes before a handler sees it:
//!
//! - **No control characters.** A NUL (or another control character but tab, line feed and
//!   carriage return) in the path, the query, a JSON or a form body is refused as 422
//!   `http.control_character` on both engines, before any database sees it.
//! - **Page forms come from our own pages.** A state-changing request to a page (anything but
//!   `/api/…` and `/fhir/…`, which take bearer tokens, never cookies) must come from this
//!   server's origin (`Origin`, else `Referer`, when the browser sends one) and must carry the
//!   form token `csrf`: derived from the session for a signed-in user, or the pre-session
//!   cookie for the login form. Every `<form method="post">` of every page gets its token here,
//!   on the way out, so no page can forget it.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::extract::{SESSION_COOKIE, cookie};
use crate::ctx::Ctx;

/// The cookie that carries the login form's token before there is a session.
pub const FORM_COOKIE: &str = "yijia_form";
/// The form field that carries the token.
pub const FORM_FIELD: &str = "csrf";
/// Bodies read here (JSON and forms); larger ones are refused before a handler runs.
const MAX_INSPECTED_BODY: usize = 2 << 20;
/// Pages are small; a larger HTML response is passed on without form tokens.
const MAX_PAGE: usize = 8 << 20;

pub async fn guard(State(ctx): State<Ctx>, request: Request, next: Next) -> Response {
    match check(&ctx, request).await {
        Ok((request, tokens)) => with_form_tokens(tokens, next.run(request).await).await,
        Err(error) => error.into_response(),
    }
}

/// The token a page's forms must carry for the holder of these cookies, if any.
fn expected_token(headers: &HeaderMap) -> Option<String> {
    if let Some(session) = cookie(headers, SESSION_COOKIE) {
        return Some(session_token(session));
    }
    cookie(headers, FORM_COOKIE).map(str::to_owned)
}

/// The form token of a session: not the session token itself (pages show it), but bound to it.
fn session_token(session: &str) -> String {
    let digest = Sha256::digest(format!("yijia-form\u{1f}{session}").as_bytes());
    hex::encode(&digest[..16])
}

/// Pages sign in with the cookie; the API, FHIR and DICOMweb take bearer tokens only.
fn is_page(path: &str) -> bool {
    !path.starts_with("/api/") && !path.starts_with("/fhir") && !path.starts_with("/dicomweb")
}

/// A request that changes something on a page, which must come from a form of ours.
fn is_page_change(method: &Method, path: &str) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    !safe && is_page(path)
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// What the guard passes on: the request, and whether its page's forms need tokens (with a new
/// pre-session token to set as a cookie, when the visitor has none).
type Passed = (Request, FormTokens);

/// What the pages of a response need to carry: nothing for the API, else the visitor's token
/// (`None`: a visitor without one, who gets a new one with its cookie).
enum FormTokens {
    NotAPage,
    Page(Option<String>),
}

async fn check(ctx: &Ctx, request: Request) -> Result<Passed, ApiError> {
    let (parts, body) = request.into_parts();
    if has_control_escape(parts.uri.path())
        || parts
            .uri
            .query()
            .is_some_and(|q| form_has_control(q.as_bytes()))
    {
        return Err(control_character());
    }
    let media = media_type(&parts.headers);
    let page = is_page_change(&parts.method, parts.uri.path());
    let form = media == "application/x-www-form-urlencoded";
    let inspect = form || media.ends_with("json");
    let (mut raw, mut body) = if inspect {
        let bytes = axum::body::to_bytes(body, MAX_INSPECTED_BODY)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "http.too_large",
                    "the request body is larger than 2 MiB",
                )
            })?;
        (None, Some(bytes))
    } else {
        (Some(body), None)
    };
    if let Some(bytes) = &body {
        let bad = if media.ends_with("json") {
            json_has_control(bytes)
        } else if media == "application/x-www-form-urlencoded" {
            form_has_control(bytes)
        } else {
            false
        };
        if bad {
            return Err(control_character());
        }
    }
    if page {
        same_origin(ctx, &parts.headers)?;
        let expected = expected_token(&parts.headers);
        // A urlencoded form carries its token as a field; any other (a multipart upload)
        // in its action's query, where `with_form_tokens` put it.
        let sent = match body.take() {
            Some(bytes) if form => {
                let (sent, rest) = take_form_token(&bytes);
                body = Some(rest);
                sent
            }
            other => {
                body = other;
                parts.uri.query().and_then(|query| {
                    form_urlencoded::parse(query.as_bytes())
                        .find(|(key, _)| key == FORM_FIELD)
                        .map(|(_, value)| value.into_owned())
                })
            }
        };
        match (expected, sent) {
            (Some(expected), Some(sent)) if expected == sent => {}
            _ => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "web.form_expired",
                    "the form is missing its token or it has expired: reload the page and send again",
                ));
            }
        }
    }
    let body = match (body, raw.take()) {
        (Some(bytes), _) => Body::from(bytes),
        (None, Some(raw)) => raw,
        (None, None) => Body::empty(),
    };
    let tokens = if is_page(parts.uri.path()) {
        FormTokens::Page(expected_token(&parts.headers))
    } else {
        FormTokens::NotAPage
    };
    Ok((Request::from_parts(parts, body), tokens))
}

pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex::encode(bytes)
}

pub fn control_character() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "http.control_character",
        "text may not hold control characters such as NUL",
    )
}

/// Text with a control character that has no place in a field (all but tab and line breaks).
pub fn has_control(text: &str) -> bool {
    text.chars().any(forbidden_control)
}

fn forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// A percent-escaped control character in a path.
fn has_control_escape(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.windows(3).any(|w| {
        w[0] == b'%'
            && std::str::from_utf8(&w[1..])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .is_some_and(|b| forbidden_control(char::from(b)))
    })
}

fn form_has_control(bytes: &[u8]) -> bool {
    form_urlencoded::parse(bytes).any(|(k, v)| has_control(&k) || has_control(&v))
}

/// A JSON text with a control character in a string, raw or escaped (`\u0000`).
fn json_has_control(bytes: &[u8]) -> bool {
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if bytes.get(at + 1) == Some(&b'u') => {
                let escaped = bytes
                    .get(at + 2..at + 6)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                if escaped
                    .and_then(char::from_u32)
                    .is_some_and(forbidden_control)
                {
                    return true;
                }
                at += 6;
            }
            b'\\' => at += 2,
            // Bytes of multi-byte UTF-8 are at or above 0x80: only ASCII controls are raw here.
            b if b < 0x80 && forbidden_control(char::from(b)) => return true,
            _ => at += 1,
        }
    }
    false
}

/// Takes the form token out of a urlencoded body; returns it and the body without it.
fn take_form_token(bytes: &Bytes) -> (Option<String>, Bytes) {
    let mut token = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(bytes) {
        if key == FORM_FIELD {
            token = Some(value.into_owned());
        } else {
            rest.append_pair(&key, &value);
        }
    }
    (token, Bytes::from(rest.finish()))
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + end])
}

/// The request comes from this server's own pages, as far as the browser says where from.
fn same_origin(ctx: &Ctx, headers: &HeaderMap) -> Result<(), ApiError> {
    let sent = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(origin_of)
                .map(str::to_owned)
        });
    let Some(sent) = sent else {
        // No word from the browser (a privacy setting): the form token alone decides.
        return Ok(());
    };
    let ours = origin_of(ctx.public_url()).unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let as_reached = sent
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority == host);
    if sent.eq_ignore_ascii_case(ours) || as_reached {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "web.cross_site",
            "this form was sent from another site",
        ))
    }
}

/// Puts the form token into every `<form method="post">` of an HTML page.
async fn with_form_tokens(tokens: FormTokens, response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let FormTokens::Page(token) = tokens else {
        return response;
    };
    if !is_html {
        return response;
    }
    let new_cookie = token.is_none();
    let token = token.unwrap_or_else(new_token);
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "page too large").into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    let page = insert_form_tokens(&html, &token);
    parts.headers.remove(header::CONTENT_LENGTH);
    if new_cookie {
        let cookie = format!("{FORM_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            parts.headers.append(header::SET_COOKIE, value);
        }
    }
    Response::from_parts(parts, Body::from(page))
}

/// A urlencoded form gets a hidden field; a multipart one the token in its action's query
/// (its body is a file upload the guard does not read).
fn insert_form_tokens(html: &str, token: &str) -> String {
    let field = format!(r#"<input type="hidden" name="{FORM_FIELD}" value="{token}">"#);
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let Some(length) = rest[start..].find('>') else {
            break;
        };
        let end = start + length + 1;
        let tag = &rest[start..end];
        let lower = tag.to_ascii_lowercase();
        out.push_str(&rest[..start]);
        if !lower.contains("method=\"post\"") {
            out.push_str(tag);
        } else if lower.contains("multipart/form-data") {
            out.push_str(&with_token_in_action(tag, token));
        } else {
            out.push_str(tag);
            out.push_str(&field);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn with_token_in_action(tag: &str, token: &str) -> String {
    let Some(start) = tag.find("action=\"").map(|i| i + "action=\"".len()) else {
        return tag.to_owned();
    };
    let Some(length) = tag[start..].find('"') else {
        return tag.to_owned();
    };
    let action = &tag[start..start + length];
    let joiner = if action.contains('?') { "&amp;" } else { "?" };
    format!(
        "{}{action}{joiner}{FORM_FIELD}={token}{}",
        &tag[..start],
        &tag[start + length..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_raw_escaped_and_percent_encoded() {
        assert!(json_has_control(br#"{"name": "a\u0000b"}"#));
        assert!(json_has_control(br#"{"name": "a\u001Fb"}"#));
        assert!(!json_has_control(br#"{"note": "line\nnext\ttab"}"#));
        assert!(!json_has_control("{\"name\": \"王芳 胸痛\"}".as_bytes()));
        // An escaped backslash followed by the text u0000 is no control character.
        assert!(!json_has_control(br#"{"name": "a\\u0000"}"#));
        assert!(form_has_control(b"username=a%00b"));
        assert!(!form_has_control(b"note=%E8%83%B8%E7%97%9B%0A"));
        assert!(has_control_escape("/api/v1/residents/%00"));
        assert!(!has_control_escape("/api/v1/residents/12"));
    }

    #[test]
    fn a_multipart_form_gets_the_token_in_its_action() {
        let html = r#"<form method="post" enctype="multipart/form-data" action="/ecgs/new">"#;
        assert_eq!(
            insert_form_tokens(html, "t0k"),
            r#"<form method="post" enctype="multipart/form-data" action="/ecgs/new?csrf=t0k">"#
        );
    }

    #[test]
    fn every_post_form_gets_the_token() {
        let html = r#"<form method="get" action="/x"></form><form method="post" action="/y"><input name="a"></form>"#;
        let out = insert_form_tokens(html, "t0k");
        assert_eq!(out.matches(r#"name="csrf" value="t0k""#).count(), 1);
        assert!(out.contains(r#"<form method="post" action="/y"><input type="hidden""#));
    }
}
