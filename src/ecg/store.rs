//! SQL for ECGs and their reports.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::model::Ecg;
use crate::db::Db;
use crate::reading::store::{OPEN, WORKLIST_ORDER};

const COLUMNS: &str = "e.id, e.community_id, e.resident_id, e.site_institution_id, \
    e.uploaded_by_staff_id, e.recorded_at_ms, e.received_at_ms, e.clinical_note, e.format, \
    e.original_name, e.priority, e.auto_critical, e.state, e.claimed_by_staff_id, e.claimed_at_ms, \
    e.reported_at_ms, e.acknowledged_by_staff_id, e.acknowledged_at_ms, e.report_critical, \
    e.escalated_at_ms";

pub struct NewRow<'a> {
    pub community_id: i64,
    pub resident_id: i64,
    pub site_institution_id: i64,
    pub uploaded_by_staff_id: i64,
    pub idempotency_key: Option<&'a str>,
    pub recorded_at_ms: i64,
    pub received_at_ms: i64,
    pub clinical_note: &'a str,
    pub format: &'a str,
    pub original_name: &'a str,
    pub recording: Recording,
    pub analysis: String,
    pub critical_reasons: String,
    pub priority: &'a str,
    pub auto_critical: bool,
}

pub async fn insert_ecg(conn: &mut AnyConnection, row: NewRow<'_>) -> Result<i64, sqlx::Error> {
    let recording_id = insert_recording(&mut *conn, row.community_id, row.recording).await?;
    sqlx::query_scalar(
        "INSERT INTO ecgs (community_id, resident_id, site_institution_id, uploaded_by_staff_id, \
         idempotency_key, recorded_at_ms, received_at_ms, clinical_note, format, original_name, \
         recording_id, analysis, priority, auto_critical, state, critical_reasons) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'waiting', $15) \
         RETURNING id",
    )
    .bind(row.community_id)
    .bind(row.resident_id)
    .bind(row.site_institution_id)
    .bind(row.uploaded_by_staff_id)
    .bind(row.idempotency_key)
    .bind(row.recorded_at_ms)
    .bind(row.received_at_ms)
    .bind(row.clinical_note)
    .bind(row.format)
    .bind(row.original_name)
    .bind(recording_id)
    .bind(row.analysis)
    .bind(row.priority)
    .bind(i64::from(row.auto_critical))
    .bind(row.critical_reasons)
    .fetch_one(conn)
    .await
}

/// A recorded signal: the original file and the canonical waveform read from it.
pub struct Recording {
    pub original: Vec<u8>,
    pub sampling_hz: f64,
    pub lead_names: String,
    pub waveform_uv: Vec<u8>,
}

impl Recording {
    /// The original file with the canonical waveform read from it.
    pub fn of(original: Vec<u8>, waveform: &yijia_ecg::Waveform) -> Recording {
        Recording {
            original,
            sampling_hz: waveform.sampling_hz,
            lead_names: waveform
                .leads
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            waveform_uv: super::encode_samples(waveform),
        }
    }
}

/// The SHA-256 of an original file, hex: how recordings are told apart.
pub fn digest(original: &[u8]) -> String {
    hex::encode(Sha256::digest(original))
}

/// Stores a recording once per distinct original file and returns its id.
pub async fn insert_recording(
    conn: &mut AnyConnection,
    community_id: i64,
    recording: Recording,
) -> Result<i64, sqlx::Error> {
    let digest = digest(&recording.original);
    sqlx::query(
        "INSERT INTO ecg_recordings (community_id, digest, original, sampling_hz, lead_names, \
         waveform_uv) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (community_id, digest) DO NOTHING",
    )
    .bind(community_id)
    .bind(&digest)
    .bind(recording.original)
    .bind(recording.sampling_hz)
    .bind(recording.lead_names)
    .bind(recording.waveform_uv)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT id FROM ecg_recordings WHERE community_id = $1 AND digest = $2")
        .bind(community_id)
        .bind(&digest)
        .fetch_one(conn)
        .await
}

pub async fn ecg_by_id(db: &Db, community_id: i64, id: i64) -> Result<Option<Ecg>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ecgs e WHERE e.community_id = $1 AND e.id = $2"
    )))
    .bind(community_id)
    .bind(id)
    .fetch_optional(&db.pool)
    .await
}

/// The ECG an idempotency key created, with the digest of its original file.
pub async fn ecg_by_idempotency_key(
    db: &Db,
    community_id: i64,
    staff_id: i64,
    key: &str,
) -> Result<Option<(Ecg, String)>, sqlx::Error> {
    let ecg: Option<Ecg> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ecgs e WHERE e.community_id = $1 AND e.uploaded_by_staff_id = $2 \
         AND e.idempotency_key = $3"
    )))
    .bind(community_id)
    .bind(staff_id)
    .bind(key)
    .fetch_optional(&db.pool)
    .await?;
    let Some(ecg) = ecg else { return Ok(None) };
    let digest: String = sqlx::query_scalar(
        "SELECT r.digest FROM ecgs e JOIN ecg_recordings r ON r.id = e.recording_id \
         WHERE e.id = $1",
    )
    .bind(ecg.id)
    .fetch_one(&db.pool)
    .await?;
    Ok(Some((ecg, digest)))
}

pub async fn analysis_of(db: &Db, community_id: i64, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT analysis FROM ecgs WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(id)
        .fetch_one(&db.pool)
        .await
}

/// (sampling rate, lead names, samples as i32 little-endian, lead after lead).
pub async fn waveform_of(
    db: &Db,
    community_id: i64,
    id: i64,
) -> Result<(f64, String, Vec<u8>), sqlx::Error> {
    let row = sqlx::query(
        "SELECT r.sampling_hz, r.lead_names, r.waveform_uv FROM ecgs e \
         JOIN ecg_recordings r ON r.id = e.recording_id WHERE e.community_id = $1 AND e.id = $2",
    )
    .bind(community_id)
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    Ok((
        row.try_get("sampling_hz")?,
        row.try_get("lead_names")?,
        row.try_get("waveform_uv")?,
    ))
}

/// Unreported ECGs of the community, STAT first, then the longest waiting: each with its
/// resident's and site's names and its automatic critical reasons.
pub async fn worklist(
    db: &Db,
    community_id: i64,
) -> Result<Vec<(Ecg, String, String, Vec<String>)>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, r.name AS resident_name, i.name AS site_name, e.critical_reasons \
         FROM ecgs e \
         JOIN residents r ON r.id = e.resident_id JOIN institutions i ON i.id = e.site_institution_id \
         WHERE e.community_id = $1 AND {OPEN} ORDER BY {WORKLIST_ORDER} LIMIT 200"
    )))
    .bind(community_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let ecg = <Ecg as sqlx::FromRow<_>>::from_row(row)?;
            let reasons: String = row.try_get("critical_reasons")?;
            let reasons = reasons.lines().map(str::to_owned).collect();
            Ok((
                ecg,
                row.try_get("resident_name")?,
                row.try_get("site_name")?,
                reasons,
            ))
        })
        .collect()
}

/// ECGs uploaded at a site, newest first.
pub async fn site_inbox(
    db: &Db,
    community_id: i64,
    site_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Ecg>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ecgs e WHERE e.community_id = $1 AND e.site_institution_id = $2 \
         ORDER BY e.received_at_ms DESC, e.id DESC {}",
        crate::db::limit_clause(limit, offset)
    )))
    .bind(community_id)
    .bind(site_id)
    .fetch_all(&db.pool)
    .await
}
