//! Probable duplicate records, for an administrator to review side by side and merge: the
//! survivor keeps its records, the merged one points at it and leaves search results.

use crate::http::extract::Form;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};

use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::WebActor;
use crate::resident::{self, model::DuplicateReason, model::MergeRequest, model::Resident};
use crate::web::{WebError, done, institution_names, render, role_label};

struct Side {
    id: i64,
    name: String,
    id_number: String,
    sex: &'static str,
    birth_date: String,
    phone: String,
    address: String,
    village: String,
    created: String,
}

struct Pair {
    reason: &'static str,
    first: Side,
    second: Side,
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct DuplicatesPage {
    user_name: String,
    user_role: String,
    pairs: Vec<Pair>,
}

pub(super) async fn duplicates_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let pairs = resident::probable_duplicates(&ctx, clock::now_ms(), &actor, 50, 0).await?;
    let names = institution_names(&ctx, &actor).await;
    let side = |r: &Resident| Side {
        id: r.id,
        name: r.name.clone(),
        id_number: r.id_number.clone(),
        sex: r.sex.label_zh(),
        birth_date: r.birth_date.clone(),
        phone: r.phone.clone(),
        address: r.address.clone(),
        village: names.get(&r.village_clinic_id).cloned().unwrap_or_default(),
        created: clock::format_cst(r.created_at_ms),
    };
    let pairs = pairs
        .iter()
        .map(|pair| Pair {
            reason: match pair.reason {
                DuplicateReason::SameNameAndBirthDate => "同名同出生日期",
                DuplicateReason::SamePhone => "同一电话",
            },
            first: side(&pair.first),
            second: side(&pair.second),
        })
        .collect();
    Ok(render(&DuplicatesPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        pairs,
    }))
}

pub(super) async fn merge(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(request): Form<MergeRequest>,
) -> Response {
    let survivor = request.survivor_id;
    done(
        resident::merge(&ctx, clock::now_ms(), &actor, &request).await,
        &format!("/residents/{survivor}"),
    )
}
