//! DICOMweb's frames, rendered and thumbnail resources (PS3.18 10.4.1.1.3, 8.3.5, 10.4.1.1.4):
//! frames as native pixel data; a frame drawn as PNG or JPEG (by `Accept`), in the file's
//! window or the one asked for, scaled to a viewport; a thumbnail is the middle image of a
//! study, series or instance.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Error;
use super::dicomweb::visible_instances;
use super::store::{Filter, InstanceRow};
use crate::ctx::Ctx;
use crate::http::error::ApiError;
use crate::http::extract::{ApiActor, Path, Query};

/// The rendered resource's query (PS3.18 8.3.5): `window=center,width[,function]` and
/// `viewport=width,height` (scaled down to fit, the aspect kept).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RenderQuery {
    window: Option<String>,
    viewport: Option<String>,
}

fn rendering(headers: &HeaderMap, query: &RenderQuery, frame: u32) -> super::render::Rendering {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let fit = query.viewport.as_deref().and_then(|v| {
        let (w, h) = v.split_once(',')?;
        let (w, h) = (w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?);
        Some((w.clamp(1, 4096), h.clamp(1, 4096)))
    });
    super::render::Rendering {
        frame,
        window: query.window.as_deref().and_then(|w| {
            super::render::Window::parse(&w.split(',').take(2).collect::<Vec<_>>().join(","))
        }),
        format: super::render::Format::accepted(accept),
        fit,
    }
}

/// One frame of the first instance of `filter` with an image, rendered; audited.
async fn rendered(
    ctx: Ctx,
    actor: crate::access::Actor,
    filter: Filter,
    rendering: super::render::Rendering,
) -> Result<Response, ApiError> {
    let rows = visible_instances(&ctx, &actor, &filter, "imaging_study.render").await?;
    let images: Vec<&InstanceRow> = rows.iter().filter(|r| r.rows_count.is_some()).collect();
    // A study's or series' thumbnail is its middle image (a CT's middle slice).
    let row = images
        .get(images.len() / 2)
        .copied()
        .or(rows.first())
        .ok_or(Error::NotFound)?;
    let content = super::content_of(&ctx, actor.community_id, row.id).await?;
    let picture = super::render::on_pool(content, rendering).await?;
    image_response(picture, rendering.format)
}

/// A rendered frame as PNG or JPEG, or why there is none.
pub fn image_response(
    picture: Result<Vec<u8>, super::render::Unrenderable>,
    format: super::render::Format,
) -> Result<Response, ApiError> {
    match picture {
        Ok(bytes) => Ok(([(header::CONTENT_TYPE, format.media_type())], bytes).into_response()),
        Err(error) => Err(unrenderable(error)),
    }
}

/// Why a frame could not be given.
fn unrenderable(error: super::render::Unrenderable) -> ApiError {
    match error {
        super::render::Unrenderable::NoSuchFrame(n) => ApiError::new(
            StatusCode::NOT_FOUND,
            "imaging.no_such_frame",
            format!("frame {n} is not in the instance"),
        ),
        error => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "imaging.unrenderable",
            error.to_string(),
        ),
    }
}

pub async fn render_first_frame(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series, instance)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(query): Query<RenderQuery>,
) -> Result<Response, ApiError> {
    let filter = Filter::addressed(study, Some(series), Some(instance));
    rendered(ctx, actor, filter, rendering(&headers, &query, 1)).await
}

pub async fn render_frame(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series, instance, frame)): Path<(String, String, String, u32)>,
    headers: HeaderMap,
    Query(query): Query<RenderQuery>,
) -> Result<Response, ApiError> {
    let filter = Filter::addressed(study, Some(series), Some(instance));
    rendered(ctx, actor, filter, rendering(&headers, &query, frame)).await
}

fn thumbnail(headers: &HeaderMap, query: &RenderQuery) -> super::render::Rendering {
    let mut rendering = rendering(headers, query, 1);
    let side = super::render::THUMBNAIL_SIZE;
    rendering.fit = Some(rendering.fit.unwrap_or((side, side)));
    rendering
}

/// The thumbnail of a study, series or instance (PS3.18 10.4.1.1.4): its middle image, at
/// most 128 pixels each way unless `viewport` says otherwise.
pub async fn study_thumbnail(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path(study): Path<String>,
    headers: HeaderMap,
    Query(query): Query<RenderQuery>,
) -> Result<Response, ApiError> {
    let filter = Filter::addressed(study, None, None);
    rendered(ctx, actor, filter, thumbnail(&headers, &query)).await
}

pub async fn series_thumbnail(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series)): Path<(String, String)>,
    headers: HeaderMap,
    Query(query): Query<RenderQuery>,
) -> Result<Response, ApiError> {
    let filter = Filter::addressed(study, Some(series), None);
    rendered(ctx, actor, filter, thumbnail(&headers, &query)).await
}

pub async fn instance_thumbnail(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series, instance)): Path<(String, String, String)>,
    headers: HeaderMap,
    Query(query): Query<RenderQuery>,
) -> Result<Response, ApiError> {
    let filter = Filter::addressed(study, Some(series), Some(instance));
    rendered(ctx, actor, filter, thumbnail(&headers, &query)).await
}

/// The most frames one frames request lists.
const MAX_LISTED_FRAMES: usize = 10_000;

/// WADO-RS frames: the listed frames (`1,3,5`) of an instance decoded to native pixel data,
/// one part each, as `multipart/related; type="application/octet-stream"`; audited.
pub async fn frames(
    State(ctx): State<Ctx>,
    ApiActor(actor): ApiActor,
    Path((study, series, instance, list)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    if !(accept.contains("application/octet-stream") || accept.contains("*/*")) {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "imaging.not_acceptable",
            "frames are given as multipart/related; type=\"application/octet-stream\"",
        ));
    }
    let numbers: Vec<u32> = list
        .split(',')
        .map(|n| n.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .ok()
        .filter(|n: &Vec<u32>| !n.is_empty() && n.len() <= MAX_LISTED_FRAMES)
        .ok_or_else(|| Error::BadRequest("frames are listed as numbers from 1: 1,2,3".into()))?;
    let filter = Filter::addressed(study, Some(series), Some(instance));
    let rows = visible_instances(&ctx, &actor, &filter, "imaging_study.retrieve").await?;
    let row = rows.first().ok_or(Error::NotFound)?;
    let content = super::content_of(&ctx, actor.community_id, row.id).await?;
    let frames = super::render::raw_frames_on_pool(content, numbers).await?;
    let frames = match frames {
        Ok(frames) => frames,
        Err(error) => return Err(unrenderable(error)),
    };
    let boundary = super::multipart::new_boundary();
    let mut body = Vec::new();
    for (at, frame) in frames.iter().enumerate() {
        body.extend(super::multipart::frame(
            &boundary,
            "application/octet-stream",
            frame,
            at + 1 == frames.len(),
        ));
    }
    let content_type =
        format!("multipart/related; type=\"application/octet-stream\"; boundary={boundary}");
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
