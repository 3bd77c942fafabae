//! The imaging centre's report templates per examination: the findings and impression of a
//! normal chest radiograph, head CT, abdominal ultrasound … that a reader starts a report
//! from and edits. A community starts with the standard set below; the centre's readers
//! change, add and remove templates, each change audited.

use serde::{Deserialize, Serialize};

use super::Error;
use crate::access::Actor;
use crate::audit::Entry;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution::model::CentreService;

#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Template {
    #[serde(default)]
    pub id: i64,
    /// 检查名称, e.g. 胸部正位（DR）.
    pub name: String,
    /// The DICOM modality it is for (DX, CT, US …).
    pub modality: String,
    pub findings: String,
    pub conclusion: String,
}

/// The standard set a community starts with (name, modality, findings, impression).
const STANDARD: [(&str, &str, &str, &str); 5] = [
    (
        "胸部正位（DR）",
        "DX",
        "胸廓对称，气管居中。双肺纹理清晰，走行自然，双肺野未见明确实变及结节影。双肺门不大。心影大小、形态未见异常。双侧膈面光整，肋膈角锐利。",
        "胸部正位片未见明显异常",
    ),
    (
        "头颅 CT 平扫",
        "CT",
        "脑实质密度均匀，灰白质分界清楚，未见异常密度影。脑室系统大小、形态正常，脑沟、脑裂、脑池未见增宽，中线结构居中。颅骨未见骨折征象。",
        "头颅 CT 平扫未见明显异常",
    ),
    (
        "胸部 CT 平扫",
        "CT",
        "双肺纹理清晰，双肺野未见实变、结节及肿块影。气管、支气管通畅。纵隔内未见肿大淋巴结。心影不大，未见胸腔积液。",
        "胸部 CT 平扫未见明显异常",
    ),
    (
        "腹部超声（肝胆胰脾）",
        "US",
        "肝脏形态大小正常，包膜光滑，实质回声均匀，肝内管道结构清晰。胆囊大小正常，壁光滑，腔内未见异常回声。胰腺、脾脏形态大小正常，回声均匀。",
        "肝、胆、胰、脾超声未见明显异常",
    ),
    (
        "腰椎正侧位（DR）",
        "DX",
        "腰椎序列整齐，生理曲度存在。各椎体形态、骨质密度未见异常，椎间隙未见狭窄，附件结构完整。",
        "腰椎正侧位片未见明显异常",
    ),
];

fn require_reader(actor: &Actor) -> Result<(), Error> {
    if actor.reads_for(CentreService::Imaging) {
        Ok(())
    } else {
        Err(crate::access::Denied.into())
    }
}

fn check(template: &Template) -> Result<(), Error> {
    let invalid = |field, reason| Err(Error::Invalid { field, reason });
    if template.name.trim().is_empty() || template.name.chars().count() > 60 {
        return invalid("name", "1 to 60 characters");
    }
    if template.modality.trim().is_empty() || template.modality.len() > 16 {
        return invalid("modality", "a DICOM modality code such as DX, CT or US");
    }
    if template.findings.chars().count() > 4000 || template.conclusion.chars().count() > 1000 {
        return invalid("findings", "at most 4,000 characters (impression 1,000)");
    }
    if template.conclusion.trim().is_empty() {
        return invalid("conclusion", "the impression must not be empty");
    }
    Ok(())
}

/// The centre's templates (the standard set until the centre has its own), by modality and
/// name; the imaging centre's readers only.
pub async fn list(ctx: &Ctx, now: Millis, actor: &Actor) -> Result<Vec<Template>, Error> {
    require_reader(actor)?;
    let count: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM imaging_report_templates WHERE community_id = $1",
    )
    .bind(actor.community_id)
    .fetch_one(&ctx.db.pool)
    .await?;
    if count == 0 {
        for (name, modality, findings, conclusion) in STANDARD {
            sqlx::query(
                "INSERT INTO imaging_report_templates (community_id, name, modality, findings, \
                 conclusion, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (community_id, name) DO NOTHING",
            )
            .bind(actor.community_id)
            .bind(name)
            .bind(modality)
            .bind(findings)
            .bind(conclusion)
            .bind(now)
            .execute(&ctx.db.pool)
            .await?;
        }
    }
    Ok(sqlx::query_as(
        "SELECT id, name, modality, findings, conclusion FROM imaging_report_templates \
         WHERE community_id = $1 ORDER BY modality, name",
    )
    .bind(actor.community_id)
    .fetch_all(&ctx.db.pool)
    .await?)
}

/// Saves a template by its name (new, or changing the one of that name); audited.
pub async fn save(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    template: &Template,
) -> Result<Template, Error> {
    require_reader(actor)?;
    check(template)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO imaging_report_templates (community_id, name, modality, findings, conclusion, \
         updated_by_staff_id, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (community_id, name) DO UPDATE SET modality = excluded.modality, \
         findings = excluded.findings, conclusion = excluded.conclusion, \
         updated_by_staff_id = excluded.updated_by_staff_id, updated_at_ms = excluded.updated_at_ms \
         RETURNING id",
    )
    .bind(actor.community_id)
    .bind(template.name.trim())
    .bind(template.modality.trim().to_ascii_uppercase())
    .bind(template.findings.trim())
    .bind(template.conclusion.trim())
    .bind(actor.staff_id)
    .bind(now)
    .fetch_one(&ctx.db.pool)
    .await?;
    let entry = Entry::by(
        actor,
        now,
        "imaging_template.saved",
        "imaging_report_template",
        Some(id),
    );
    ctx.auditor.record(vec![entry]).await?;
    Ok(Template {
        id,
        name: template.name.trim().to_owned(),
        modality: template.modality.trim().to_ascii_uppercase(),
        findings: template.findings.trim().to_owned(),
        conclusion: template.conclusion.trim().to_owned(),
    })
}

/// Removes a template; audited.
pub async fn remove(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<(), Error> {
    require_reader(actor)?;
    let removed =
        sqlx::query("DELETE FROM imaging_report_templates WHERE community_id = $1 AND id = $2")
            .bind(actor.community_id)
            .bind(id)
            .execute(&ctx.db.pool)
            .await?;
    if removed.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    let entry = Entry::by(
        actor,
        now,
        "imaging_template.removed",
        "imaging_report_template",
        Some(id),
    );
    ctx.auditor.record(vec![entry]).await?;
    Ok(())
}
