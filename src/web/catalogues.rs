//! The community's catalogues on one page: the tiered-care catalogue (分级诊疗目录: which level
//! treats which ICD-10 categories) and the mutual-recognition catalogue (互认项目: what every
//! member accepts, for how long, and what a repeat would cost). Staff read them; administrators
//! add and remove entries, audited by the catalogues' own operations.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{WebError, render, role_label};
use crate::access::{Actor, Role};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, WebActor};
use crate::recognition::{self, NewItem};
use crate::referral::catalogue::{self, NewCatalogueEntry};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/catalogues", get(catalogues_page))
        .route("/catalogues/tiers", post(add_tier))
        .route("/catalogues/tiers/{id}/delete", post(delete_tier))
        .route("/catalogues/recognition", post(add_item))
        .route("/catalogues/recognition/{id}/delete", post(delete_item))
}

/// A new tier range as typed.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct TierForm {
    icd10_from: String,
    icd10_to: String,
    level: String,
    name: String,
}

/// A new recognition item as typed.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct ItemForm {
    code: String,
    name: String,
    validity_days: String,
    price: String,
}

#[derive(Template)]
#[template(path = "catalogues.html")]
struct CataloguesPage {
    user_name: String,
    user_role: String,
    may_edit: bool,
    /// (id, from, to, level label, name).
    tiers: Vec<(i64, String, String, &'static str, String)>,
    /// (id, code, name, days valid, price in yuan).
    items: Vec<(i64, String, String, i64, String)>,
    tier: TierForm,
    item: ItemForm,
    /// What to fix, in Chinese, and the form it concerns (`tier` or `item`).
    error_text: String,
    error_form: &'static str,
}

fn level_label(level: i64) -> &'static str {
    match level {
        1 => "村卫生室",
        2 => "乡镇卫生院",
        _ => "县级医院",
    }
}

async fn page(
    ctx: &Ctx,
    actor: &Actor,
    tier: TierForm,
    item: ItemForm,
    error: Option<(String, &'static str)>,
) -> Result<CataloguesPage, WebError> {
    if !actor.is_staff() {
        return Err(crate::access::Denied.into());
    }
    let tiers = catalogue::list(ctx, actor)
        .await?
        .into_iter()
        .map(|e| (e.id, e.icd10_from, e.icd10_to, level_label(e.level), e.name))
        .collect();
    let items = recognition::list_items(ctx, actor)
        .await?
        .into_iter()
        .map(|i| {
            let price = crate::money::yuan(i.price_fen);
            (i.id, i.code, i.name, i.validity_days, price)
        })
        .collect();
    let (error_text, error_form) = error.unwrap_or_default();
    Ok(CataloguesPage {
        user_role: role_label(actor),
        user_name: actor.name.clone(),
        may_edit: actor.has_role(Role::Admin),
        tiers,
        items,
        tier,
        item,
        error_text,
        error_form,
    })
}

async fn catalogues_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let tier = TierForm {
        level: "2".into(),
        ..Default::default()
    };
    let item = ItemForm {
        validity_days: "30".into(),
        ..Default::default()
    };
    Ok(render(&page(&ctx, &actor, tier, item, None).await?))
}

/// The page again with what was typed and what to fix.
async fn refused(
    ctx: &Ctx,
    actor: &Actor,
    tier: TierForm,
    item: ItemForm,
    what: (String, &'static str),
) -> Result<Response, WebError> {
    let page = page(ctx, actor, tier, item, Some(what)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

async fn add_tier(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<TierForm>,
) -> Result<Response, WebError> {
    let entry = NewCatalogueEntry {
        icd10_from: form.icd10_from.clone(),
        icd10_to: form.icd10_to.clone(),
        level: form.level.trim().parse().unwrap_or(0),
        name: form.name.clone(),
    };
    let text = match catalogue::create(&ctx, clock::now_ms(), &actor, &entry).await {
        Ok(_) => return Ok(Redirect::to("/catalogues#tiers").into_response()),
        Err(catalogue::Error::Invalid(_)) => {
            "请填写 ICD-10 类目范围（如 I10 至 I15，起不大于止）、级别与病种名称。"
        }
        Err(catalogue::Error::Duplicate) => "该类目范围已在目录中。",
        Err(error) => return Err(error.into()),
    };
    let item = ItemForm::default();
    refused(&ctx, &actor, form, item, (text.to_owned(), "tier")).await
}

async fn add_item(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<ItemForm>,
) -> Result<Response, WebError> {
    let (Ok(validity_days), Some(price_fen)) = (
        form.validity_days.trim().parse(),
        crate::money::fen_of_yuan(&form.price),
    ) else {
        let what = ("有效天数应为整数，价格应为金额（元）。".to_owned(), "item");
        return refused(&ctx, &actor, TierForm::default(), form, what).await;
    };
    let new = NewItem {
        code: form.code.clone(),
        name: form.name.clone(),
        validity_days,
        price_fen,
    };
    let text = match recognition::create_item(&ctx, clock::now_ms(), &actor, &new).await {
        Ok(_) => return Ok(Redirect::to("/catalogues#items").into_response()),
        Err(recognition::Error::Invalid { .. }) => {
            "项目编码 1 至 40 位字母、数字、- 或 .；名称 1 至 100 字；有效期 1 至 365 天。"
        }
        Err(recognition::Error::Duplicate) => "该项目编码已在目录中。",
        Err(error) => return Err(error.into()),
    };
    refused(
        &ctx,
        &actor,
        TierForm::default(),
        form,
        (text.to_owned(), "item"),
    )
    .await
}

async fn delete_tier(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    super::done(
        catalogue::delete(&ctx, clock::now_ms(), &actor, id).await,
        "/catalogues#tiers",
    )
}

async fn delete_item(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    super::done(
        recognition::delete_item(&ctx, clock::now_ms(), &actor, id).await,
        "/catalogues#items",
    )
}
