//! Forms that act once: a form carries a key (`form_key`, made with the page); the first
//! submission claims it and acts, a second press or a retry is answered with the first one's
//! result page instead of acting again. A refused submission gives its key back, so the form,
//! corrected, can be sent again.

use axum::response::{IntoResponse, Redirect, Response};

use super::WebError;
use crate::access::Actor;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::http::error::ApiError;

const KEPT_MS: i64 = 24 * 3600 * 1000;

/// What a form's key says about its submission.
enum Claim {
    /// Nobody has sent this form before: act.
    First,
    /// The form was sent before; its result is here.
    Done(String),
    /// The form was sent before and is still being acted on (or the action was cut off).
    Pending,
}

/// A key as forms carry it: 16 to 64 URL-safe characters.
fn valid_key(key: &str) -> bool {
    (16..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a form's action did not happen: what to fix and the field it concerns (the form is shown
/// again), or an error shown as a page.
pub(crate) enum Refused {
    Form((String, &'static str)),
    Page(WebError),
}

/// Acts once for a form's key: the first submission runs `action` (its result's location is
/// kept and redirected to); a repeated one gets the first one's answer. A refused action gives
/// the key back; what to fix is returned for the caller to show the form again.
pub(crate) async fn act(
    ctx: &Ctx,
    actor: &Actor,
    key: &str,
    action: impl Future<Output = Result<String, Refused>>,
) -> Result<Result<Response, (String, &'static str)>, WebError> {
    if let Some(answer) = repeated(claim(ctx, actor, key, crate::clock::now_ms()).await?) {
        return Ok(Ok(answer));
    }
    match action.await {
        Ok(location) => {
            finish(ctx, actor, key, &location).await?;
            Ok(Ok(Redirect::to(&location).into_response()))
        }
        Err(refused) => {
            release(ctx, actor, key).await?;
            match refused {
                Refused::Form(what) => Ok(Err(what)),
                Refused::Page(error) => Err(error),
            }
        }
    }
}

/// Claims a form's key for this submission; a form without a proper key is refused.
async fn claim(ctx: &Ctx, actor: &Actor, key: &str, now: Millis) -> Result<Claim, WebError> {
    if !valid_key(key) {
        return Err(WebError(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "web.invalid_form_key",
            "the form has no valid form_key: reload the page",
        )));
    }
    let staff_id = actor.staff_id;
    sqlx::query("DELETE FROM form_submissions WHERE created_at_ms < $1")
        .bind(now - KEPT_MS)
        .execute(&ctx.db.pool)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO form_submissions (staff_id, form_key, created_at_ms) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(staff_id)
    .bind(key)
    .bind(now)
    .execute(&ctx.db.pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::First);
    }
    let location: Option<String> = sqlx::query_scalar(
        "SELECT location FROM form_submissions WHERE staff_id = $1 AND form_key = $2",
    )
    .bind(staff_id)
    .bind(key)
    .fetch_optional(&ctx.db.pool)
    .await?;
    Ok(match location {
        Some(location) if !location.is_empty() => Claim::Done(location),
        _ => Claim::Pending,
    })
}

/// Records where the acted-on form's result is.
async fn finish(ctx: &Ctx, actor: &Actor, key: &str, location: &str) -> Result<(), sqlx::Error> {
    let staff_id = actor.staff_id;
    sqlx::query("UPDATE form_submissions SET location = $1 WHERE staff_id = $2 AND form_key = $3")
        .bind(location)
        .bind(staff_id)
        .bind(key)
        .execute(&ctx.db.pool)
        .await?;
    Ok(())
}

/// Gives a refused form's key back.
async fn release(ctx: &Ctx, actor: &Actor, key: &str) -> Result<(), sqlx::Error> {
    let staff_id = actor.staff_id;
    sqlx::query("DELETE FROM form_submissions WHERE staff_id = $1 AND form_key = $2")
        .bind(staff_id)
        .bind(key)
        .execute(&ctx.db.pool)
        .await?;
    Ok(())
}

/// The answer to a form sent again: its first result, or a page saying it is being done.
fn repeated(claim: Claim) -> Option<Response> {
    match claim {
        Claim::First => None,
        Claim::Done(location) => Some(Redirect::to(&location).into_response()),
        Claim::Pending => Some(
            WebError(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "web.form_pending",
                "this form was sent before and is being acted on",
            ))
            .into_response(),
        ),
    }
}
