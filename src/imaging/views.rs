//! The imaging pages: the readers' live worklist, the study page (the viewer with every frame,
//! claim, sign, amend, acknowledge) and the site's list of studies sent.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::study::{self, StudyItem};
use crate::clock;
use crate::ctx::Ctx;
use crate::http::extract::{Form, Path, WebActor};
use crate::reading::{NewReport, Priority, State as ReadingState};
use crate::web::{WebError, done, institution_names, render, role_label};

pub fn routes() -> Router<Ctx> {
    Router::new()
        .route("/imaging/worklist", get(worklist_page))
        .route("/imaging/inbox", get(inbox_page))
        .route("/imaging/studies/{id}", get(study_page))
        .route("/imaging/studies/{id}/claim", post(claim))
        .route("/imaging/studies/{id}/report", post(sign))
        .route("/imaging/studies/{id}/acknowledge", post(acknowledge))
        .route("/imaging/instances/{id}/frames/{frame}", get(frame))
        .route("/imaging/instances/{id}/geometry", get(geometry))
        .route("/imaging/orders", get(orders_page))
        .route("/imaging/orders/{id}/cancel", post(cancel_order))
        .route("/residents/{id}/imaging-orders", post(order))
        .route(
            "/imaging/modalities",
            get(modalities_page).post(add_modality),
        )
        .route("/imaging/modalities/{id}/remove", post(remove_modality))
        .route(
            "/imaging/unmatched",
            get(unmatched_page).post(assign_unmatched),
        )
        .route(
            "/imaging/templates",
            get(templates_page).post(save_template),
        )
        .route("/imaging/templates/{id}/remove", post(remove_template))
}

#[derive(Template)]
#[template(path = "imaging_templates.html")]
struct TemplatesPage {
    user_name: String,
    user_role: String,
    templates: Vec<super::templates::Template>,
}

/// The centre's report templates, each editable, and a form for a new one.
async fn templates_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let templates = super::templates::list(&ctx, clock::now_ms(), &actor).await?;
    Ok(render(&TemplatesPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        templates,
    }))
}

async fn save_template(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(template): Form<super::templates::Template>,
) -> Response {
    done(
        super::templates::save(&ctx, clock::now_ms(), &actor, &template).await,
        "/imaging/templates",
    )
}

async fn remove_template(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    done(
        super::templates::remove(&ctx, clock::now_ms(), &actor, id).await,
        "/imaging/templates",
    )
}

#[derive(Template)]
#[template(path = "imaging_unmatched.html")]
struct UnmatchedPage {
    user_name: String,
    user_role: String,
    studies: Vec<(super::unmatched::UnmatchedStudy, String, String)>,
}

/// The reconciliation list, with a form per study to assign it to a resident.
async fn unmatched_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let held = super::unmatched::list(&ctx, clock::now_ms(), &actor).await?;
    let names = institution_names(&ctx, &actor).await;
    let studies = held
        .into_iter()
        .map(|s| {
            let site = names
                .get(&s.site_institution_id)
                .cloned()
                .unwrap_or_default();
            let received = clock::format_cst(s.received_at_ms);
            (s, site, received)
        })
        .collect();
    Ok(render(&UnmatchedPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        studies,
    }))
}

#[derive(Deserialize)]
struct AssignForm {
    study_instance_uid: String,
    id_number: String,
}

async fn assign_unmatched(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<AssignForm>,
) -> Response {
    let assignment = super::unmatched::Assignment {
        study_instance_uid: form.study_instance_uid,
        id_number: form.id_number,
    };
    match super::unmatched::assign(&ctx, clock::now_ms(), &actor, &assignment).await {
        Ok(study) => {
            axum::response::Redirect::to(&format!("/imaging/studies/{study}")).into_response()
        }
        Err(error) => WebError::from(error).into_response(),
    }
}

#[derive(Template)]
#[template(path = "imaging_modalities.html")]
struct ModalitiesPage {
    user_name: String,
    user_role: String,
    modalities: Vec<super::modality::Modality>,
    form_key: String,
}

/// The modalities allowed to call the DICOM listener, with the form to add one.
async fn modalities_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let modalities = super::modality::list(&ctx, &actor).await?;
    Ok(render(&ModalitiesPage {
        user_name: actor.name.clone(),
        user_role: role_label(&actor),
        modalities,
        form_key: crate::http::guard::new_token(),
    }))
}

#[derive(Deserialize)]
struct ModalityForm {
    form_key: String,
    ae_title: String,
    username: String,
    #[serde(default)]
    description: String,
}

async fn add_modality(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Form(form): Form<ModalityForm>,
) -> Result<Response, WebError> {
    let new = super::modality::NewModality {
        ae_title: form.ae_title.clone(),
        username: form.username.clone(),
        description: form.description.clone(),
    };
    let added = super::modality::add(&ctx, clock::now_ms(), &actor, &new);
    act_once(&ctx, &actor, &form.form_key, added, "/imaging/modalities").await
}

/// Acts once for a form's key (`web::once`), then shows `location`; every refusal comes back
/// as a page, never as a form to show again.
async fn act_once<T>(
    ctx: &Ctx,
    actor: &crate::access::Actor,
    key: &str,
    action: impl Future<Output = Result<T, super::Error>>,
    location: &str,
) -> Result<Response, WebError> {
    let action = async {
        match action.await {
            Ok(_) => Ok(location.to_owned()),
            Err(error) => Err(crate::web::once::Refused::Page(error.into())),
        }
    };
    match crate::web::once::act(ctx, actor, key, action).await? {
        Ok(done) => Ok(done),
        Err((text, _)) => Err(WebError(crate::http::error::ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "imaging.invalid",
            text,
        ))),
    }
}

async fn remove_modality(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    done(
        super::modality::remove(&ctx, clock::now_ms(), &actor, id).await,
        "/imaging/modalities",
    )
}

struct OrderRow {
    id: i64,
    scheduled: bool,
    accession: String,
    stat: bool,
    resident: String,
    id_number: String,
    modality: &'static str,
    body_part: String,
    reason: String,
    ordered: String,
    state: &'static str,
    study_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "imaging_orders.html")]
struct OrdersPage {
    user_name: String,
    user_role: String,
    rows: Vec<OrderRow>,
}

/// The examinations to be performed here, as the modality's worklist offers them.
async fn orders_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let items = super::order::at_site(&ctx, clock::now_ms(), &actor, false).await?;
    let rows = items
        .into_iter()
        .map(|item| OrderRow {
            id: item.order.id,
            scheduled: item.order.state == "scheduled",
            accession: item.order.accession_number.clone(),
            stat: item.order.priority == Priority::Stat,
            resident: item.resident_name,
            id_number: item.id_number,
            modality: super::order::MODALITIES
                .iter()
                .find(|(code, _)| *code == item.order.modality)
                .map_or("", |(_, name)| name),
            body_part: item.order.body_part.clone(),
            reason: item.order.reason.clone(),
            ordered: clock::format_cst(item.order.ordered_at_ms),
            state: match item.order.state.as_str() {
                "scheduled" => "待检查",
                "performed" => "已检查",
                _ => "已取消",
            },
            study_id: item.order.study_id,
        })
        .collect();
    Ok(render(&OrdersPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        rows,
    }))
}

#[derive(Deserialize)]
struct OrderForm {
    form_key: String,
    modality: String,
    body_part: String,
    reason: String,
    urgent: Option<String>,
}

/// The resident page's order form: acts once per form key; on success the site's orders.
async fn order(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(resident_id): Path<i64>,
    Form(form): Form<OrderForm>,
) -> Result<Response, WebError> {
    let new = super::order::NewOrder {
        resident_id,
        modality: form.modality.clone(),
        body_part: form.body_part.clone(),
        reason: form.reason.clone(),
        urgent: form.urgent.is_some(),
    };
    let ordered = super::order::create(&ctx, clock::now_ms(), &actor, &new, None);
    act_once(&ctx, &actor, &form.form_key, ordered, "/imaging/orders").await
}

fn state_label(item: &super::study::Study) -> &'static str {
    match (item.state, item.acknowledged_at_ms, item.escalated_at_ms) {
        (ReadingState::Waiting, _, _) => "待阅",
        (ReadingState::Claimed, _, _) => "阅片中",
        (ReadingState::Reported, Some(_), _) => "已签发，已确认",
        (ReadingState::Reported, None, Some(_)) => "已签发，待确认（危急值超时，已升级提醒）",
        (ReadingState::Reported, None, None) => "已签发，待确认",
    }
}

struct Row {
    id: i64,
    stat: bool,
    resident: String,
    site: String,
    modality: String,
    description: String,
    received: String,
    waiting_min: i64,
    overdue: bool,
    state: &'static str,
}

fn rows(items: Vec<StudyItem>) -> Vec<Row> {
    let now = clock::now_ms();
    items
        .into_iter()
        .map(|item| Row {
            id: item.study.id,
            stat: item.study.priority == Priority::Stat,
            modality: item.modalities.clone(),
            description: item.study.study_description.clone(),
            received: clock::format_cst(item.study.received_at_ms),
            waiting_min: (now - item.study.received_at_ms) / 60_000,
            overdue: item.overdue,
            state: state_label(&item.study),
            resident: item.resident_name,
            site: item.site_name,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "imaging_worklist.html")]
struct ListPage {
    user_name: String,
    user_role: String,
    title: &'static str,
    worklist: bool,
    rows: Vec<Row>,
}

async fn worklist_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let items = study::worklist(&ctx, clock::now_ms(), &actor).await?;
    Ok(render(&ListPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        title: "影像工作列表",
        worklist: true,
        rows: rows(items),
    }))
}

async fn inbox_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
) -> Result<Html<String>, WebError> {
    let items = study::inbox(&ctx, clock::now_ms(), &actor).await?;
    Ok(render(&ListPage {
        user_role: role_label(&actor),
        user_name: actor.name,
        title: "影像检查报告",
        worklist: false,
        rows: rows(items),
    }))
}

struct SeriesView {
    label: String,
    frames: Vec<FrameView>,
    /// Every instance with its frame count, for the viewer to page through.
    instances: Vec<(i64, i64)>,
}

struct FrameView {
    instance_id: i64,
    frame: i64,
    caption: String,
}

struct ReportRow {
    version: i64,
    signed: String,
    reader: String,
    critical: bool,
    findings: String,
    conclusion: String,
}

#[derive(Template)]
#[template(path = "imaging_study.html")]
struct StudyPage {
    user_name: String,
    user_role: String,
    id: i64,
    stat: bool,
    resident_name: String,
    sex: &'static str,
    age: i32,
    id_number: String,
    site: String,
    study_date: String,
    accession: String,
    description: String,
    received: String,
    state: &'static str,
    overdue: bool,
    series: Vec<SeriesView>,
    /// The window chosen (`center,width`), carried on every frame's address.
    window: Option<String>,
    /// Presets offered: CT only (the others' windows are the file's own).
    windows: Vec<(&'static str, &'static str)>,
    reports: Vec<ReportRow>,
    can_claim: bool,
    can_sign: bool,
    can_acknowledge: bool,
    acknowledged: Option<String>,
    /// Report templates to start from (id, name), this study's modality first.
    templates: Vec<(i64, String)>,
    /// The chosen template's findings and impression, to start the report with.
    draft: Option<(String, String)>,
}

/// How the reader asked to see the images: `window=center,width` (else the file's own);
/// `fit=N` a picture at most N pixels each way (the viewer's thumbnails).
#[derive(Deserialize)]
struct View {
    window: Option<String>,
    fit: Option<u32>,
    /// The report template to start the report from.
    template: Option<i64>,
}

/// Window presets for CT (centre, width in HU), as the reading rooms name them.
const CT_WINDOWS: [(&str, &str); 5] = [
    ("脑窗", "40,80"),
    ("纵隔窗", "40,400"),
    ("肺窗", "-600,1500"),
    ("骨窗", "400,1800"),
    ("腹窗", "40,350"),
];

/// The most frames the page shows per series (a cine or a long CT is paged by the viewer).
const FRAMES_SHOWN: usize = 60;

async fn study_page(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    crate::http::extract::Query(view): crate::http::extract::Query<View>,
) -> Result<Html<String>, WebError> {
    let window = view
        .window
        .as_deref()
        .and_then(super::render::Window::parse)
        .map(|w| format!("{},{}", w.center, w.width));
    let now = clock::now_ms();
    let detail = study::get(&ctx, now, &actor, id).await?;
    let resident = crate::resident::get(&ctx, now, &actor, detail.study.resident_id).await?;
    let names = institution_names(&ctx, &actor).await;
    let s = &detail.study;
    let is_reader = actor.reads_for(crate::institution::model::CentreService::Imaging);
    let holds = s.state == ReadingState::Claimed && s.claimed_by_staff_id == Some(actor.staff_id);
    let at_site = actor.institution.map(|i| i.id) == Some(s.site_institution_id);
    let date = &s.study_date;
    let study_date = if date.len() == 8 {
        format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..])
    } else {
        date.clone()
    };
    let series = detail
        .series
        .iter()
        .map(|series| SeriesView {
            label: [
                series.modality.as_str(),
                series.body_part.as_str(),
                series.description.as_str(),
            ]
            .iter()
            .filter(|t| !t.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" · "),
            frames: series
                .instances
                .iter()
                .flat_map(|instance| {
                    (1..=instance.frames).map(move |frame| FrameView {
                        instance_id: instance.id,
                        frame,
                        caption: match (instance.instance_number, instance.frames) {
                            (Some(n), 1) => format!("第 {n} 幅"),
                            (Some(n), _) => format!("第 {n} 幅 第 {frame} 帧"),
                            (None, _) => format!("第 {frame} 帧"),
                        },
                    })
                })
                .take(FRAMES_SHOWN)
                .collect(),
            instances: series
                .instances
                .iter()
                .map(|instance| (instance.id, instance.frames))
                .collect(),
        })
        .collect();
    let can_sign = is_reader && (holds || s.state == ReadingState::Reported);
    let mut templates = if can_sign {
        super::templates::list(&ctx, now, &actor).await?
    } else {
        Vec::new()
    };
    let modalities: Vec<&str> = detail.series.iter().map(|s| s.modality.as_str()).collect();
    templates.sort_by_key(|t| !modalities.contains(&t.modality.as_str()));
    let page = StudyPage {
        user_role: role_label(&actor),
        user_name: actor.name.clone(),
        id,
        stat: s.priority == Priority::Stat,
        resident_name: resident.name.clone(),
        sex: resident.sex.label_zh(),
        age: resident.age_on(clock::today_cst()),
        id_number: resident.id_number.clone(),
        site: names
            .get(&s.site_institution_id)
            .cloned()
            .unwrap_or_default(),
        study_date,
        accession: s.accession_number.clone(),
        description: s.study_description.clone(),
        received: clock::format_cst(s.received_at_ms),
        state: state_label(s),
        overdue: detail.overdue,
        windows: if detail.series.iter().any(|s| s.modality == "CT") {
            CT_WINDOWS.to_vec()
        } else {
            Vec::new()
        },
        series,
        window,
        reports: detail
            .reports
            .iter()
            .map(|r| ReportRow {
                version: r.version,
                signed: clock::format_cst(r.signed_at_ms),
                reader: r.reader_name.clone(),
                critical: r.critical,
                findings: r.findings.clone(),
                conclusion: r.conclusion.clone(),
            })
            .collect(),
        can_claim: is_reader && s.state == ReadingState::Waiting,
        can_sign,
        templates: templates
            .iter()
            .map(|t| (t.id, format!("{}（{}）", t.name, t.modality)))
            .collect(),
        draft: templates
            .iter()
            .find(|t| Some(t.id) == view.template)
            .map(|t| (t.findings.clone(), t.conclusion.clone())),
        can_acknowledge: at_site
            && s.state == ReadingState::Reported
            && s.acknowledged_at_ms.is_none(),
        acknowledged: s.acknowledged_at_ms.map(clock::format_cst),
    };
    Ok(render(&page))
}

/// One frame as PNG for the viewer.
async fn frame(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path((id, frame)): Path<(i64, u32)>,
    crate::http::extract::Query(view): crate::http::extract::Query<View>,
) -> Result<Response, WebError> {
    let window = view
        .window
        .as_deref()
        .and_then(super::render::Window::parse);
    let rendering = super::render::Rendering {
        window,
        fit: view
            .fit
            .map(|side| (side.clamp(16, 512), side.clamp(16, 512))),
        ..super::render::Rendering::frame(frame)
    };
    let png = study::rendered(&ctx, clock::now_ms(), &actor, id, rendering).await?;
    Ok(super::rendered::image_response(png, rendering.format)
        .map_err(WebError::from)?
        .into_response())
}

/// The instance's size, pixel spacing and window, for the viewer's measurements.
async fn geometry(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let geometry = study::geometry(&ctx, clock::now_ms(), &actor, id).await?;
    Ok(axum::Json(geometry).into_response())
}

async fn claim(State(ctx): State<Ctx>, WebActor(actor): WebActor, Path(id): Path<i64>) -> Response {
    done(
        study::claim(&ctx, clock::now_ms(), &actor, id).await,
        &format!("/imaging/studies/{id}"),
    )
}

async fn sign(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
    Form(form): Form<crate::reading::ReportForm>,
) -> Response {
    let report = NewReport::from(form);
    done(
        study::sign(&ctx, clock::now_ms(), &actor, id, &report).await,
        &format!("/imaging/studies/{id}"),
    )
}

async fn acknowledge(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    done(
        study::acknowledge(&ctx, clock::now_ms(), &actor, id).await,
        &format!("/imaging/studies/{id}"),
    )
}

async fn cancel_order(
    State(ctx): State<Ctx>,
    WebActor(actor): WebActor,
    Path(id): Path<i64>,
) -> Response {
    done(
        super::order::cancel(&ctx, clock::now_ms(), &actor, id).await,
        "/imaging/orders",
    )
}
