//! The demo year's remote ECG reads (远程心电): village clinics with a device, and otherwise the
//! township centre, record routine ECGs that the county's ECG centre reads and signs within
//! half an hour — about 20,000 a year for the county demo, as the seeds' county reports. The
//! signals are a handful of generated 12-lead recordings, analysed once and stored once each
//! (recordings are kept by content), so the year costs rows, not 20,000 waveforms.

use sqlx::Row;
use yijia_ecg::synth::{self, Case, Spec};

use super::rng::Rng;
use crate::clock::Millis;
use crate::db::Transaction;

const MINUTE_MS: i64 = 60_000;

/// Of every resident, the share with a remote ECG read in a year (≈ 20,000 of 376,000).
const READS_PER_RESIDENT: f64 = 0.053;

/// A generated recording with what its read says.
struct Recording {
    id: i64,
    analysis: String,
    critical: bool,
    critical_reasons: String,
    findings: String,
    conclusion: &'static str,
}

/// The recordings: sinus rhythm at rates from slow to fast, and two infarcts.
async fn recordings(
    tx: &mut Transaction,
    community_id: i64,
) -> anyhow::Result<Vec<(Recording, u32)>> {
    let cases: [(Spec, &str, u32); 8] = [
        (rate(56.0), "窦性心动过缓", 8),
        (rate(64.0), "窦性心律，正常心电图", 20),
        (rate(72.0), "窦性心律，正常心电图", 25),
        (rate(80.0), "窦性心律，正常心电图", 20),
        (rate(92.0), "窦性心律，正常心电图", 15),
        (rate(108.0), "窦性心动过速", 10),
        (Case::InferiorStemi.spec(), "急性下壁ST段抬高型心肌梗死", 1),
        (Case::AnteriorStemi.spec(), "急性前壁ST段抬高型心肌梗死", 1),
    ];
    let mut made = Vec::new();
    for (spec, conclusion, weight) in cases {
        let waveform = synth::generate(&spec);
        let analysis = yijia_ecg::analyze(&waveform, None);
        let original = yijia_ecg::formats::json::write(&waveform).into_bytes();
        let recording = crate::ecg::store::Recording::of(original, &waveform);
        let id = crate::ecg::store::insert_recording(tx, community_id, recording).await?;
        let findings = format!(
            "心率 {:.0} 次/分，PR {:.0} ms，QRS {:.0} ms，QT {:.0} ms。",
            analysis.heart_rate_bpm.unwrap_or_default(),
            analysis.pr_ms.unwrap_or_default(),
            analysis.qrs_ms.unwrap_or_default(),
            analysis.qt_ms.unwrap_or_default()
        );
        made.push((
            Recording {
                id,
                critical: analysis.critical,
                critical_reasons: analysis.critical_reasons.join("\n"),
                analysis: serde_json::to_string(&analysis)?,
                findings,
                conclusion,
            },
            weight,
        ));
    }
    Ok(made)
}

fn rate(heart_rate_bpm: f64) -> Spec {
    Spec {
        heart_rate_bpm,
        ..Spec::default()
    }
}

/// One remote read: recorded at a site, read and signed at the centre.
struct Read<'a> {
    resident: i64,
    site: i64,
    uploader: i64,
    recording: &'a Recording,
    recorded: Millis,
    received: Millis,
    claimed: Millis,
    reported: Millis,
    reader: i64,
}

impl Read<'_> {
    /// The row's values for `INSERT INTO ecgs` below; only numbers and the generated analysis.
    /// A critical report is acknowledged by the recording site within minutes, any other the
    /// next day — unless that day has not come by the period's end.
    fn ecg_values(&self, community_id: i64, period_end: Millis) -> String {
        let r = self.recording;
        let critical = i64::from(r.critical);
        let priority = if r.critical { "stat" } else { "routine" };
        let acknowledged = if r.critical {
            Some(self.reported + 3 * MINUTE_MS)
        } else {
            Some(self.reported + 20 * 60 * MINUTE_MS).filter(|at| *at <= period_end)
        };
        let (acknowledger, acknowledged) = match acknowledged {
            Some(at) => (self.uploader.to_string(), at.to_string()),
            None => ("NULL".to_owned(), "NULL".to_owned()),
        };
        format!(
            "({community_id}, {}, {}, {}, {}, {}, '', 'json', 'ecg.json', {}, '{}', '{}', \
             '{priority}', {critical}, 'reported', {}, {}, {}, {acknowledger}, {acknowledged}, {critical})",
            self.resident,
            self.site,
            self.uploader,
            self.recorded,
            self.received,
            r.id,
            r.analysis.replace('\'', "''"),
            r.critical_reasons.replace('\'', "''"),
            self.reader,
            self.claimed,
            self.reported,
        )
    }
}

/// Picks a recording by weight.
fn pick<'a>(rng: &mut Rng, recordings: &'a [(Recording, u32)]) -> &'a Recording {
    let total: u32 = recordings.iter().map(|(_, w)| w).sum();
    let mut roll = rng.below(u64::from(total)) as u32;
    for (recording, weight) in recordings {
        if roll < *weight {
            return recording;
        }
        roll -= weight;
    }
    &recordings[0].0
}

/// A read whose report is critical (a STEMI), for the chest pain green channel.
pub struct CriticalRead {
    pub ecg: i64,
    pub resident: i64,
    pub site: i64,
    pub recorded: Millis,
    pub reported: Millis,
}

/// Generates and signs the year's remote ECG reads; returns how many, and the critical ones.
pub async fn generate(
    tx: &mut Transaction,
    community_id: i64,
    (start, days): (Millis, i64),
    rng: &mut Rng,
) -> anyhow::Result<(usize, Vec<CriticalRead>)> {
    let recordings = recordings(tx, community_id).await?;
    // Who records at each site, and the centre's readers.
    let staff = super::activity::staff_by_institution(tx, community_id).await?;
    let readers: Vec<i64> = sqlx::query_scalar(
        "SELECT s.id FROM staff s JOIN institutions i ON i.id = s.institution_id \
         WHERE s.community_id = $1 AND i.kind = 'centre' AND s.roles LIKE '%reader%' ORDER BY s.id",
    )
    .bind(community_id)
    .fetch_all(&mut **tx)
    .await?;
    anyhow::ensure!(!readers.is_empty(), "the community has no ECG readers");
    // Each resident's site: the village clinic if it has a device, else the township centre.
    let sites: Vec<(i64, i64)> = sqlx::query(
        "SELECT r.id, CASE WHEN v.has_ecg_device = 1 THEN r.village_clinic_id ELSE r.township_id END AS site \
         FROM residents r JOIN institutions v ON v.id = r.village_clinic_id \
         WHERE r.community_id = $1 AND r.merged_into_id IS NULL ORDER BY r.id",
    )
    .bind(community_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("site")?)))
    .collect::<Result<_, sqlx::Error>>()?;

    let first_id: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM ecgs")
        .fetch_one(&mut **tx)
        .await?;
    let mut reads = Vec::new();
    for (resident, site) in &sites {
        if !rng.chance(READS_PER_RESIDENT) {
            continue;
        }
        let Some(uploader) = staff.get(site) else {
            continue;
        };
        let recorded = start
            + rng.below(days as u64) as i64 * 86_400_000
            + (8 * 60 + rng.below(540) as i64) * MINUTE_MS;
        let received = recorded + MINUTE_MS;
        let recording = pick(rng, &recordings);
        // A critical ECG is STAT: claimed and signed within minutes.
        let (claim_wait, read_time) = if recording.critical {
            (1 + rng.below(3), 2 + rng.below(8))
        } else {
            (2 + rng.below(10), 3 + rng.below(12))
        };
        let claimed = received + claim_wait as i64 * MINUTE_MS;
        reads.push(Read {
            resident: *resident,
            site: *site,
            uploader: *uploader,
            recording,
            recorded,
            received,
            claimed,
            reported: claimed + read_time as i64 * MINUTE_MS,
            reader: *rng.pick(&readers),
        });
    }
    for chunk in reads.chunks(super::activity::ROWS_PER_STATEMENT) {
        let values: Vec<String> = chunk
            .iter()
            .map(|read| read.ecg_values(community_id, start + days * 86_400_000))
            .collect();
        let sql = format!(
            "INSERT INTO ecgs (community_id, resident_id, site_institution_id, uploaded_by_staff_id, \
             recorded_at_ms, received_at_ms, clinical_note, format, original_name, recording_id, \
             analysis, critical_reasons, priority, auto_critical, state, claimed_by_staff_id, \
             claimed_at_ms, reported_at_ms, acknowledged_by_staff_id, acknowledged_at_ms, \
             report_critical) VALUES {}",
            values.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM ecgs WHERE community_id = $1 AND id > $2 ORDER BY id")
            .bind(community_id)
            .bind(first_id)
            .fetch_all(&mut **tx)
            .await?;
    anyhow::ensure!(ids.len() == reads.len(), "every remote read was written");
    let reports: Vec<String> = ids
        .iter()
        .zip(&reads)
        .map(|(id, read)| {
            format!(
                "({community_id}, {id}, 1, '{}', '{}', {}, {}, {})",
                read.recording.findings,
                read.recording.conclusion,
                i64::from(read.recording.critical),
                read.reader,
                read.reported
            )
        })
        .collect();
    for chunk in reports.chunks(super::activity::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO ecg_reports (community_id, ecg_id, version, findings, conclusion, critical, \
             reader_staff_id, signed_at_ms) VALUES {}",
            chunk.join(",")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    let critical = ids
        .iter()
        .zip(&reads)
        .filter(|(_, read)| read.recording.critical)
        .map(|(id, read)| CriticalRead {
            ecg: *id,
            resident: read.resident,
            site: read.site,
            recorded: read.recorded,
            reported: read.reported,
        })
        .collect();
    Ok((reads.len(), critical))
}
