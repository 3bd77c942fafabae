//! The home page: each role's work queue (what it must do now, most urgent first, live) and
//! the actions it starts from here; and the menu of each role.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::{render, role_label};
use crate::access::Actor;
use crate::clock;
use crate::ctx::Ctx;
use crate::health_record::store::Present;
use crate::http::extract::WebActor;

/// The menu of a signed-in user, from the roles their label names, in the order of their day:
/// only what the role may use.
pub fn menu(user_role: &str) -> Vec<(&'static str, &'static str)> {
    use crate::access::Role;
    let has = |role: Role| user_role.split('、').any(|label| label == role.label_zh());
    let mut items: Vec<(&'static str, &'static str)> = vec![("/", "工作台")];
    let mut add = |entries: &[(&'static str, &'static str)]| {
        for entry in entries {
            if !items.contains(entry) {
                items.push(*entry);
            }
        }
    };
    if has(Role::VillageDoctor) || has(Role::Doctor) {
        add(&[
            ("/residents", "居民"),
            ("/ecg/inbox", "心电报告"),
            ("/imaging/orders", "影像检查申请"),
            ("/imaging/inbox", "影像报告"),
            ("/referrals", "转诊"),
            ("/critical-values", "检验危急值"),
            ("/chronic", "慢病管理"),
            ("/chronic/overdue", "慢病随访"),
            ("/chronic/screening", "高血压筛查"),
            ("/supervision", "监管预警"),
            ("/family-doctor", "家庭医生签约"),
            ("/dispatches", "医师派驻"),
            ("/assessments", "绩效考核"),
        ]);
    }
    if has(Role::Doctor) {
        add(&[("/referrals/figures", "转诊统计")]);
    }
    let reads = |centre: &str| user_role.split('、').any(|label| label == centre);
    if has(Role::Reader) || reads("心电诊断医师") {
        add(&[("/ecg/worklist", "心电工作列表"), ("/residents", "居民")]);
    }
    if reads("影像诊断医师") {
        add(&[
            ("/imaging/worklist", "影像工作列表"),
            ("/imaging/unmatched", "待匹配影像"),
            ("/imaging/templates", "报告模板"),
            ("/residents", "居民"),
        ]);
    }
    if has(Role::InsuranceOfficer) {
        add(&[
            ("/budget", "医保预算"),
            ("/claims", "医保结算"),
            ("/dip", "DIP 分值"),
            ("/indicators", "监测指标"),
            ("/supervision", "监管预警"),
            ("/assessments", "绩效考核"),
        ]);
    }
    if has(Role::Supervisor) {
        add(&[
            ("/indicators", "监测指标"),
            ("/supervision", "监管预警"),
            ("/referrals/figures", "转诊统计"),
            ("/budget", "医保预算"),
            ("/dispatches", "医师派驻"),
            ("/assessments", "绩效考核"),
        ]);
    }
    if has(Role::Admin) {
        add(&[
            ("/staff", "账号"),
            ("/imaging/modalities", "影像设备"),
            ("/residents", "居民"),
            ("/residents/duplicates", "重复档案"),
            ("/catalogues", "目录"),
            ("/indicators/definitions", "指标口径"),
            ("/dispatches", "医师派驻"),
            ("/assessments/schemes", "考核方案"),
            ("/supervision/rules", "监管规则"),
        ]);
    }
    add(&[("/institutions", "机构")]);
    items
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    user_name: String,
    user_role: String,
    /// What this user must do now, one queue per kind of work.
    queues: Vec<Queue>,
    /// What this user may start from here: (link, label).
    actions: Vec<(&'static str, &'static str)>,
}

struct Queue {
    id: &'static str,
    title: &'static str,
    empty: &'static str,
    items: Vec<QueueItem>,
    more: &'static str,
}

struct QueueItem {
    at: String,
    text: String,
    href: String,
    urgent: bool,
}

/// The clinic's chronic patients overdue for follow-up (the call list), the longest first.
async fn chronic_queue(ctx: &Ctx, actor: &Actor) -> Option<Queue> {
    let query = crate::chronic::schedule::ScheduleQuery::default();
    let overdue =
        crate::chronic::schedule::overdue(ctx, clock::now_ms(), clock::today_cst(), actor, &query)
            .await
            .ok()?;
    Some(Queue {
        id: "chronic-overdue",
        title: "慢病随访逾期",
        empty: "没有逾期未随访的慢病患者。",
        more: "/chronic/overdue",
        items: overdue
            .iter()
            .take(10)
            .map(|item| QueueItem {
                at: item.due_on.clone(),
                text: format!(
                    "{} · {} · 逾期 {} 天",
                    item.name,
                    item.program.label_zh(),
                    item.days_overdue
                ),
                href: format!("/chronic/enrolments/{}", item.enrolment_id),
                urgent: item.days_overdue > 30,
            })
            .collect(),
    })
}

/// The clinic's residents to screen for hypertension: suspected first, then the longest due.
async fn screening_queue(ctx: &Ctx, actor: &Actor) -> Option<Queue> {
    let query = crate::chronic::screening::ScreeningQuery::default();
    let today = clock::today_cst();
    let (_, items) =
        crate::chronic::screening::list(ctx, clock::now_ms(), today, actor, &query, (10, 0))
            .await
            .ok()?;
    Some(Queue {
        id: "screening",
        title: "高血压筛查",
        empty: "没有需要筛查的居民。",
        more: "/chronic/screening",
        items: items
            .iter()
            .map(|item| QueueItem {
                at: item.state.due_on.clone(),
                text: format!(
                    "{} · {} 岁 · {}",
                    item.name,
                    item.age,
                    item.state.status.label_zh()
                ),
                href: "/chronic/screening".to_owned(),
                urgent: item.state.status == crate::chronic::screening::ScreeningStatus::Suspected,
            })
            .collect(),
    })
}

/// Supervision alerts waiting for the caller: for the office those to triage, review and
/// verify; for an institution's staff their own to rectify, overdue first. Empty queues of
/// institutions without alerts are left out.
async fn supervision_queue(ctx: &Ctx, actor: &Actor) -> Option<Queue> {
    let office = crate::supervision::is_office(actor);
    let query = crate::supervision::model::AlertQuery::default();
    let alerts = crate::supervision::alerts(ctx, clock::today_cst(), actor, &query, (500, 0))
        .await
        .ok()?;
    let mut items: Vec<QueueItem> = alerts
        .iter()
        .filter(|a| {
            if office {
                a.state.with_office()
            } else {
                a.state.with_institution()
            }
        })
        .map(|a| QueueItem {
            at: a.due_on.clone().unwrap_or_else(|| a.period.clone()),
            text: format!(
                "{} {} · {} · {}",
                a.rule_code.as_str(),
                a.rule_name,
                a.institution_name,
                a.state.label_zh()
            ),
            href: format!("/supervision/alerts/{}", a.id),
            urgent: a.overdue,
        })
        .collect();
    if items.is_empty() && !office {
        return None;
    }
    items.sort_by_key(|i| !i.urgent);
    items.truncate(10);
    Some(Queue {
        id: "supervision",
        title: if office {
            "监管预警待处理"
        } else {
            "本机构监管预警待整改"
        },
        empty: "没有待处理的监管预警。",
        more: "/supervision",
        items,
    })
}

/// The clinic's family doctor contracts ending within 30 days, not renewed: the renewal tasks.
async fn renewal_queue(ctx: &Ctx, actor: &Actor) -> Option<Queue> {
    let query = crate::family_doctor::model::ContractQuery {
        institution: None,
        status: Some("expiring".into()),
    };
    let today = clock::today_cst();
    let expiring = crate::family_doctor::list(ctx, clock::now_ms(), today, actor, &query, (10, 0))
        .await
        .ok()?;
    Some(Queue {
        id: "contract-renewals",
        title: "家庭医生签约待续约",
        empty: "30 天内没有到期的签约。",
        more: "/family-doctor",
        items: expiring
            .iter()
            .map(|c| QueueItem {
                at: c.end_date.clone(),
                text: format!(
                    "{} · {} · {} 到期",
                    c.resident_name, c.team_name, c.end_date
                ),
                href: format!("/family-doctor/contracts/{}", c.id),
                urgent: c.end_date <= (today + time::Duration::days(7)).to_string(),
            })
            .collect(),
    })
}

/// The work queues of a user's roles, most urgent first. A queue the role may not see is left
/// out, never shown as an error.
async fn work_queues(ctx: &Ctx, actor: &Actor) -> Vec<Queue> {
    use crate::access::Role;
    let now = clock::now_ms();
    let mut queues = Vec::new();
    let clinical = actor.has_role(Role::VillageDoctor) || actor.has_role(Role::Doctor);
    if clinical {
        let reports = crate::health_record::lab::critical_values(ctx, now, actor, 50, 0)
            .await
            .ok();
        let ecgs = crate::ecg::inbox(ctx, now, actor, 20, 0).await.ok();
        let query = crate::referral::model::ReferralQuery::default();
        let referrals = crate::referral::list(ctx, now, actor, &query, 50, 0)
            .await
            .ok();
        let mut ids: Vec<i64> = Vec::new();
        ids.extend(reports.iter().flatten().map(|r| r.resident_id));
        ids.extend(ecgs.iter().flatten().map(|e| e.resident_id));
        ids.extend(referrals.iter().flatten().map(|r| r.resident_id));
        let names = crate::resident::names(ctx, now, actor, &ids)
            .await
            .unwrap_or_default();
        let who = |id: i64| {
            names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("居民 {id}"))
        };
        if let Some(reports) = reports {
            queues.push(Queue {
                id: "critical-values",
                title: "检验危急值待确认",
                empty: "没有待确认的检验危急值。",
                more: "/critical-values",
                items: reports
                    .iter()
                    .filter(|r| r.acknowledged_at_ms.is_none())
                    .map(|r| QueueItem {
                        at: clock::format_cst(r.received_at_ms),
                        text: format!("{} · {}", who(r.resident_id), r.order_name),
                        href: format!("/lab-reports/{}", r.id),
                        urgent: true,
                    })
                    .collect(),
            });
        }
        if let Some(ecgs) = ecgs {
            let mut items: Vec<QueueItem> = ecgs
                .iter()
                .filter(|e| e.acknowledged_at_ms.is_none())
                .map(|e| {
                    let urgent = e.report_critical.0;
                    let state = match (e.reported_at_ms, urgent) {
                        (Some(_), true) => "危急报告待确认",
                        (Some(_), false) => "报告已返回",
                        (None, _) => "等待诊断",
                    };
                    QueueItem {
                        at: clock::format_cst(e.received_at_ms),
                        text: format!("{} · 心电图 · {state}", who(e.resident_id)),
                        href: format!("/ecg/{}", e.id),
                        urgent,
                    }
                })
                .collect();
            items.sort_by_key(|i| !i.urgent);
            queues.push(Queue {
                id: "ecg-inbox",
                title: "本机构心电图",
                empty: "没有待处理的心电图。",
                more: "/ecg/inbox",
                items,
            });
        }
        if let Some(referrals) = referrals {
            queues.push(referral_queue(actor, &referrals, &who));
        }
        if let Some(queue) = chronic_queue(ctx, actor).await {
            queues.push(queue);
        }
        if let Some(queue) = screening_queue(ctx, actor).await {
            queues.push(queue);
        }
        if let Some(queue) = renewal_queue(ctx, actor).await {
            queues.push(queue);
        }
        if let Some(queue) = inpatient_queue(ctx, actor).await {
            queues.push(queue);
        }
        if let Some(queue) = down_queue(ctx, actor).await {
            queues.push(queue);
        }
        if let Some(queue) = visits_queue(ctx, actor).await {
            queues.push(queue);
        }
        if let Some(queue) = supervision_queue(ctx, actor).await {
            queues.push(queue);
        }
    }
    if actor.reads_for(crate::institution::model::CentreService::Ecg)
        && let Ok(worklist) = crate::ecg::worklist(ctx, now, actor).await
    {
        queues.push(Queue {
            id: "ecg-worklist",
            title: "心电诊断工作列表（危急优先）",
            empty: "工作列表为空。",
            more: "/ecg/worklist",
            items: worklist
                .iter()
                .take(20)
                .map(|w| QueueItem {
                    at: clock::format_cst(w.ecg.received_at_ms),
                    text: format!(
                        "{} · {} · 已等待 {} 分钟{}",
                        w.resident_name,
                        w.site_name,
                        w.waiting_ms / 60_000,
                        if w.overdue { " · 已超时" } else { "" }
                    ),
                    href: format!("/ecg/{}", w.ecg.id),
                    urgent: w.ecg.priority == crate::ecg::model::Priority::Stat || w.overdue,
                })
                .collect(),
        });
    }
    if actor.reads_for(crate::institution::model::CentreService::Imaging)
        && let Ok(worklist) = crate::imaging::study::worklist(ctx, now, actor).await
    {
        queues.push(Queue {
            id: "imaging-worklist",
            title: "影像诊断工作列表（危急优先）",
            empty: "工作列表为空。",
            more: "/imaging/worklist",
            items: worklist
                .iter()
                .take(20)
                .map(|w| QueueItem {
                    at: clock::format_cst(w.study.received_at_ms),
                    text: format!(
                        "{} · {} · {} · 已等待 {} 分钟{}",
                        w.resident_name,
                        w.site_name,
                        w.modalities,
                        (now - w.study.received_at_ms) / 60_000,
                        if w.overdue { " · 已超时" } else { "" }
                    ),
                    href: format!("/imaging/studies/{}", w.study.id),
                    urgent: w.study.priority == crate::reading::Priority::Stat || w.overdue,
                })
                .collect(),
        });
    }
    if actor.has_role(Role::InsuranceOfficer) {
        queues.push(insurance_queue(ctx, actor, now).await);
    }
    if actor.has_role(Role::Supervisor) {
        queues.extend(supervisor_queues(ctx, actor, now).await);
    }
    if crate::supervision::is_office(actor)
        && let Some(queue) = supervision_queue(ctx, actor).await
    {
        queues.push(queue);
    }
    if actor.has_role(Role::Admin)
        && let Ok(pairs) = crate::resident::probable_duplicates(ctx, now, actor, 20, 0).await
    {
        queues.push(Queue {
            id: "duplicates",
            title: "疑似重复档案待核对",
            empty: "没有疑似重复的居民档案。",
            more: "/residents/duplicates",
            items: pairs
                .iter()
                .map(|pair| QueueItem {
                    at: clock::format_cst(pair.second.created_at_ms),
                    text: format!(
                        "{} 与 {} · {}",
                        pair.first.name,
                        pair.second.name,
                        match pair.reason {
                            crate::resident::model::DuplicateReason::SameNameAndBirthDate => {
                                "同名同出生日期"
                            }
                            crate::resident::model::DuplicateReason::SamePhone => "同一电话",
                        }
                    ),
                    href: format!(
                        "/residents/duplicates#pair-{}-{}",
                        pair.first.id, pair.second.id
                    ),
                    urgent: false,
                })
                .collect(),
        });
    }
    queues
}

/// The supervisor's year to date: the indicators off target, then the main ones.
async fn supervisor_queues(ctx: &Ctx, actor: &Actor, now: clock::Millis) -> Vec<Queue> {
    let month = clock::month_cst(now);
    let query = crate::indicator::IndicatorQuery {
        year: month[..4].parse().unwrap_or_default(),
        month: None,
        institution: None,
    };
    let Ok(values) = crate::indicator::compute(ctx, actor, &query).await else {
        return Vec::new();
    };
    let item = |v: &crate::indicator::Value| QueueItem {
        at: format!("{} 年", &month[..4]),
        text: format!(
            "{} {}：{}{}",
            v.code,
            v.name,
            v.value
                .map(|x| format!("{} {}", (x * 10.0).round() / 10.0, v.unit))
                .unwrap_or_else(|| v.note.unwrap_or("暂无数据").to_owned()),
            v.target
                .as_ref()
                .map(|t| format!("（目标 {}）", t.label(&v.unit)))
                .unwrap_or_default()
        ),
        href: format!("/indicators/{}", v.code),
        urgent: false,
    };
    let main = ["C.1", "3.1", "C.5", "C.6", "C.7", "P.5"];
    vec![
        Queue {
            id: "off-target",
            title: "未达标指标（本年度截至今日）",
            empty: "设有目标值的指标均已达标。",
            more: "/indicators",
            items: values
                .iter()
                .filter(|v| v.on_target == Some(false))
                .map(item)
                .collect(),
        },
        Queue {
            id: "indicators-month",
            title: "本年度重点指标（截至今日）",
            empty: "本年度尚无数据。",
            more: "/indicators",
            items: values
                .iter()
                .filter(|v| main.contains(&v.code))
                .map(item)
                .collect(),
        },
    ]
}

/// The insurance officer's month: prepayments due, quarters to review, the claims to settle.
async fn insurance_queue(ctx: &Ctx, actor: &Actor, now: clock::Millis) -> Queue {
    let month = clock::month_cst(now);
    let year: i64 = month[..4].parse().unwrap_or_default();
    let this_month: i64 = month[5..].parse().unwrap_or(1);
    let mut items = Vec::new();
    match crate::insurance::budget::position(ctx, actor, year).await {
        Ok(position) => {
            for m in 1..=this_month {
                let period = format!("{year}-{m:02}");
                let paid = position
                    .ledger
                    .iter()
                    .any(|e| e.kind == "prepayment" && e.period == period);
                if !paid {
                    items.push(QueueItem {
                        at: period.clone(),
                        text: format!("{period} 月度预付款待拨付"),
                        href: "/budget".into(),
                        urgent: m < this_month,
                    });
                }
            }
            for quarter in 1..=(this_month - 1) / 3 {
                if !position.reviews.iter().any(|r| r.quarter == quarter) {
                    items.push(QueueItem {
                        at: format!("{year} 年第 {quarter} 季度"),
                        text: format!("第 {quarter} 季度预算执行待评估"),
                        href: "/budget".into(),
                        urgent: false,
                    });
                }
            }
        }
        Err(_) => items.push(QueueItem {
            at: year.to_string(),
            text: format!("{year} 年度总额预算尚未设定"),
            href: "/budget".into(),
            urgent: true,
        }),
    }
    let last_month = if this_month == 1 {
        format!("{}-12", year - 1)
    } else {
        format!("{year}-{:02}", this_month - 1)
    };
    for (period, settled_text) in [(&last_month, "上月"), (&month, "本月")] {
        if let Ok(totals) = crate::insurance::claim::month_totals(ctx, actor, period).await {
            items.push(QueueItem {
                at: period.clone(),
                text: format!(
                    "{settled_text}已结算 {} 笔，基金支付 {} 元；结算新增就诊",
                    totals.claims,
                    crate::money::yuan(totals.fund_paid_fen)
                ),
                href: format!("/claims?month={period}"),
                urgent: false,
            });
        }
    }
    Queue {
        id: "insurance-month",
        title: "本月医保工作",
        empty: "本月医保工作已完成。",
        more: "/budget",
        items,
    }
}

/// Referrals in progress: arriving ones to act on first (green channel first), then those sent.
fn referral_queue(
    actor: &Actor,
    referrals: &[crate::referral::model::Referral],
    who: &dyn Fn(i64) -> String,
) -> Queue {
    use crate::referral::model::ReferralState::*;
    let own = actor.institution.map(|i| i.id);
    let mut items: Vec<(bool, QueueItem)> = referrals
        .iter()
        .filter(|r| !matches!(r.state, Completed | Closed | Cancelled | Rejected))
        .map(|r| {
            let incoming = Some(r.to_institution_id) == own;
            let green = r
                .green_channel
                .as_deref()
                .and_then(crate::referral::model::GreenChannel::parse)
                .map(|g| format!("{}绿色通道 · ", g.label_zh()))
                .unwrap_or_default();
            let item = QueueItem {
                at: clock::format_cst(r.updated_at_ms),
                text: format!(
                    "{}{green}{} · {} · {} · {}",
                    if incoming {
                        "待处理："
                    } else {
                        "已发出："
                    },
                    r.direction.label_zh(),
                    who(r.resident_id),
                    crate::icd10::display(&r.diagnosis_icd10).unwrap_or(&r.diagnosis_icd10),
                    r.state.label_zh()
                ),
                href: format!("/referrals/{}", r.id),
                urgent: r.green_channel.is_some(),
            };
            (incoming, item)
        })
        .collect();
    items.sort_by_key(|(incoming, item)| (!item.urgent, !incoming));
    Queue {
        id: "referrals",
        title: "转诊",
        empty: "没有进行中的转诊。",
        more: "/referrals",
        items: items.into_iter().map(|(_, item)| item).collect(),
    }
}

/// The inpatients of the user's institution: to discharge, or to refer down.
async fn inpatient_queue(ctx: &Ctx, actor: &Actor) -> Option<Queue> {
    let now = clock::now_ms();
    let stays = crate::health_record::present(ctx, now, actor, Present::Inpatients, 50)
        .await
        .ok()?;
    if stays.is_empty() {
        return None;
    }
    Some(Queue {
        id: "inpatients",
        title: "在院患者（出院或下转）",
        empty: "没有在院患者。",
        more: "/referrals",
        items: stays
            .into_iter()
            .map(|(encounter, name)| QueueItem {
                at: clock::format_cst(encounter.started_at_ms),
                text: format!(
                    "{name} · 住院 {} 天 · {}",
                    (now - encounter.started_at_ms) / 86_400_000,
                    encounter
                        .diagnoses
                        .first()
                        .map(|d| crate::icd10::display(&d.icd10)
                            .unwrap_or(&d.icd10)
                            .to_owned())
                        .unwrap_or_default()
                ),
                href: format!("/encounters/{}", encounter.id),
                urgent: false,
            })
            .collect(),
    })
}

/// Post-acute patients the tiered-care catalogue places lower down: each one click from the
/// down-referral form.
async fn down_queue(ctx: &Ctx, actor: &Actor) -> Option<Queue> {
    let now = clock::now_ms();
    let mut suggestions = crate::referral::down_suggestions(ctx, now, actor)
        .await
        .ok()?;
    if suggestions.is_empty() {
        return None;
    }
    suggestions.truncate(20);
    let ids: Vec<i64> = suggestions.iter().map(|s| s.resident_id).collect();
    let names = crate::resident::names(ctx, now, actor, &ids)
        .await
        .unwrap_or_default();
    Some(Queue {
        id: "down-suggestions",
        title: "建议下转",
        empty: "没有建议下转的患者。",
        more: "/referrals",
        items: suggestions
            .iter()
            .map(|s| QueueItem {
                at: clock::format_cst(s.started_at_ms),
                text: format!(
                    "{} · {}",
                    names
                        .get(&s.resident_id)
                        .cloned()
                        .unwrap_or_else(|| format!("居民 {}", s.resident_id)),
                    crate::icd10::display(&s.diagnosis_icd10).unwrap_or(&s.diagnosis_icd10)
                ),
                href: format!("/residents/{}/referrals?direction=down", s.resident_id),
                urgent: false,
            })
            .collect(),
    })
}

/// Today's visits at the user's institution, newest first.
async fn visits_queue(ctx: &Ctx, actor: &Actor) -> Option<Queue> {
    let now = clock::now_ms();
    let midnight = clock::start_of_day_cst(now);
    let visits = crate::health_record::present(ctx, now, actor, Present::VisitsSince(midnight), 50)
        .await
        .ok()?;
    Some(Queue {
        id: "visits-today",
        title: "今日就诊",
        empty: "今天还没有就诊记录。",
        more: "/residents",
        items: visits
            .into_iter()
            .map(|(encounter, name)| QueueItem {
                at: clock::format_cst(encounter.started_at_ms),
                text: format!(
                    "{name} · {} · {}",
                    encounter.kind.label_zh(),
                    encounter
                        .diagnoses
                        .first()
                        .map(|d| crate::icd10::display(&d.icd10)
                            .unwrap_or(&d.icd10)
                            .to_owned())
                        .unwrap_or_default()
                ),
                href: format!("/encounters/{}", encounter.id),
                urgent: false,
            })
            .collect(),
    })
}

/// What a user's roles start from the home page.
fn home_actions(actor: &Actor) -> Vec<(&'static str, &'static str)> {
    use crate::access::Role;
    let mut actions = Vec::new();
    if actor.has_role(Role::VillageDoctor) || actor.has_role(Role::Doctor) {
        actions.push(("/residents/new", "登记居民"));
        actions.push(("/residents", "查找居民（上传心电图、开具检查）"));
    }
    if actor.has_role(Role::InsuranceOfficer) {
        actions.push(("/claims", "本月医保结算"));
        actions.push(("/budget", "总额预算执行"));
    }
    if actor.has_role(Role::Supervisor) {
        actions.push(("/indicators", "本月监测指标"));
    }
    if actor.has_role(Role::Admin) {
        actions.push(("/staff", "人员与账号"));
        actions.push(("/imaging/modalities", "影像设备（DICOM AE 白名单）"));
        actions.push(("/institutions", "机构"));
        actions.push(("/catalogues", "分级诊疗与互认目录"));
        actions.push(("/indicators/definitions", "指标口径"));
    }
    actions
}

pub(super) async fn home(State(ctx): State<Ctx>, WebActor(actor): WebActor) -> Response {
    if actor.has_role(crate::access::Role::Resident) {
        return Redirect::to("/portal").into_response();
    }
    let queues = work_queues(&ctx, &actor).await;
    render(&HomePage {
        user_role: role_label(&actor),
        actions: home_actions(&actor),
        queues,
        user_name: actor.name,
    })
    .into_response()
}
