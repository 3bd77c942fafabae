//! The imaging centre's tables: studies (cases of the reading workflow) and their instances.

use sqlx::{AnyConnection, Row};

use super::dicom::Instance;
use crate::access::ResidentPlace;
use crate::db::Db;

/// The columns (on `r`, the resident) a row needs for its resident's place: clinic, township
/// and the institutions the resident is assigned to (comma-separated, as `assigned`).
fn place_columns(db: &Db) -> String {
    let assigned = db.distinct_list("CAST(ra.institution_id AS TEXT)");
    format!(
        "r.village_clinic_id, r.township_id, (SELECT {assigned} FROM resident_assignments ra \
         WHERE ra.community_id = r.community_id AND ra.resident_id = r.id) AS assigned"
    )
}

/// The place [`place_columns`] read.
fn place_of_row(
    community_id: i64,
    resident_id: i64,
    village_clinic_id: i64,
    township_id: i64,
    assigned: Option<&str>,
) -> ResidentPlace {
    ResidentPlace {
        resident_id,
        community_id,
        village_clinic_id,
        township_id,
        assigned_institution_ids: assigned
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect(),
    }
}

/// A study found by its UID: (id, resident).
pub async fn study_by_uid(
    conn: &mut AnyConnection,
    community_id: i64,
    uid: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, resident_id FROM imaging_studies WHERE community_id = $1 AND study_instance_uid = $2",
    )
    .bind(community_id)
    .bind(uid)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("resident_id")?)))
        .transpose()
}

/// The study of an instance: created with it when the community holds no study of its UID
/// (then `created`), else the one held, with the resident it belongs to.
pub struct StudyOf {
    pub id: i64,
    pub resident_id: i64,
    pub created: bool,
}

/// Creates the study of a first instance, or finds the one held (another request's).
pub async fn insert_study(
    conn: &mut AnyConnection,
    community_id: i64,
    resident_id: i64,
    site_institution_id: i64,
    instance: &Instance,
    now_ms: i64,
) -> Result<StudyOf, sqlx::Error> {
    let created: Option<i64> = sqlx::query_scalar(
        "INSERT INTO imaging_studies (community_id, resident_id, site_institution_id, \
         study_instance_uid, accession_number, study_date, study_time, study_description, \
         received_at_ms, priority, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'routine', 'waiting') \
         ON CONFLICT (community_id, study_instance_uid) DO NOTHING RETURNING id",
    )
    .bind(community_id)
    .bind(resident_id)
    .bind(site_institution_id)
    .bind(&instance.study_instance_uid)
    .bind(&instance.accession_number)
    .bind(&instance.study_date)
    .bind(&instance.study_time)
    .bind(&instance.study_description)
    .bind(now_ms)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = created {
        return Ok(StudyOf {
            id,
            resident_id,
            created: true,
        });
    }
    let (id, resident_id) = study_by_uid(conn, community_id, &instance.study_instance_uid)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(StudyOf {
        id,
        resident_id,
        created: false,
    })
}

/// The content of an instance: its size and the digest it is archived under
/// ([`crate::archive`]).
pub struct Content {
    pub sha256: String,
    pub size: i64,
}

/// Records an instance unless the community holds that SOP instance already; true when new.
pub async fn insert_instance(
    conn: &mut AnyConnection,
    community_id: i64,
    study_id: i64,
    staff_id: i64,
    instance: &Instance,
    content: &Content,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO imaging_instances (community_id, study_id, series_instance_uid, series_number, \
         series_description, modality, body_part, sop_class_uid, sop_instance_uid, instance_number, \
         transfer_syntax_uid, rows_count, columns_count, frames, stored_by_staff_id, stored_at_ms, \
         size_bytes, content_sha256, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (community_id, sop_instance_uid) DO NOTHING",
    )
    .bind(community_id)
    .bind(study_id)
    .bind(&instance.series_instance_uid)
    .bind(instance.series_number)
    .bind(&instance.series_description)
    .bind(&instance.modality)
    .bind(&instance.body_part)
    .bind(&instance.sop_class_uid)
    .bind(&instance.sop_instance_uid)
    .bind(instance.instance_number)
    .bind(&instance.transfer_syntax_uid)
    .bind(instance.rows)
    .bind(instance.columns)
    .bind(instance.frames)
    .bind(staff_id)
    .bind(now_ms)
    .bind(content.size)
    .bind(&content.sha256)
    .bind(Vec::<u8>::new())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The digests of the community's instances of these SOP Instance UIDs, by UID, for those it
/// holds.
pub async fn digests_by_sop(
    db: &Db,
    community_id: i64,
    sop_instance_uids: &[String],
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    let mut held = std::collections::HashMap::new();
    for chunk in sop_instance_uids.chunks(500) {
        let mut conditions = Conditions::default();
        conditions.add(&any_of("sop_instance_uid", chunk), chunk);
        let query = format!(
            "SELECT sop_instance_uid, content_sha256 FROM imaging_instances WHERE community_id = $1{}",
            conditions.sql
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(query)).bind(community_id);
        for value in conditions.binds {
            query = query.bind(value);
        }
        let rows: Vec<(String, String)> = query.fetch_all(&db.pool).await?;
        held.extend(rows);
    }
    Ok(held)
}

/// A study as QIDO-RS answers it.
#[derive(Clone, Debug)]
pub struct StudyRow {
    pub id: i64,
    pub resident_id: i64,
    /// Where the resident belongs, for the access check.
    pub place: ResidentPlace,
    pub study_instance_uid: String,
    pub accession_number: String,
    pub study_date: String,
    pub study_time: String,
    pub study_description: String,
    pub patient_id: String,
    pub patient_name: String,
    pub patient_sex: String,
    pub patient_birth_date: String,
    pub modalities: Vec<String>,
    pub series: i64,
    pub instances: i64,
}

/// What a QIDO-RS search may filter on (exact values unless said; dates as `YYYYMMDD` or a
/// range `YYYYMMDD-YYYYMMDD`, either end open).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub study_uid: Option<String>,
    pub series_uid: Option<String>,
    pub sop_uid: Option<String>,
    pub patient_id: Option<String>,
    /// A name, or with `*` and `?` a wildcard pattern (PS3.4 C.2.2.2.4), letters in any case.
    pub patient_name: Option<String>,
    /// Patient names match by part, in characters or pinyin (`fuzzymatching=true`).
    pub fuzzy: bool,
    pub accession_number: Option<String>,
    /// Any of these modalities (ModalitiesInStudy, or the series' Modality).
    pub modalities: Vec<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
}

impl Filter {
    /// The instances a WADO-RS address names: a study, a series of it, or one instance.
    pub fn addressed(study: String, series: Option<String>, instance: Option<String>) -> Filter {
        Filter {
            study_uid: Some(study),
            series_uid: series,
            sop_uid: instance,
            ..Default::default()
        }
    }
}

/// The most matches a search considers.
pub const MAX_MATCHES: i64 = 1000;

/// `column IN (?, …)` for `values`.
fn any_of(column: &str, values: &[String]) -> String {
    let marks = vec!["?"; values.len()].join(", ");
    format!("{column} IN ({marks})")
}

/// `AND …` conditions with their values in bind order (placeholders numbered from `$2`, `$1`
/// being the community).
#[derive(Default)]
struct Conditions {
    sql: String,
    binds: Vec<String>,
}

impl Conditions {
    /// Adds `condition`, in which each `?` is the next placeholder, with its values.
    fn add(&mut self, condition: &str, values: &[String]) {
        let mut text = String::new();
        let mut values = values.iter();
        for c in condition.chars() {
            if c == '?' {
                self.binds.push(values.next().cloned().unwrap_or_default());
                text.push_str(&format!("${}", self.binds.len() + 1));
            } else {
                text.push(c);
            }
        }
        self.sql.push_str(" AND ");
        self.sql.push_str(&text);
    }

    fn equal(&mut self, column: &str, value: Option<&String>) {
        if let Some(value) = value {
            self.add(&format!("{column} = ?"), std::slice::from_ref(value));
        }
    }

    /// The study-level keys: the study, the patient, the accession number, the date.
    fn study_level(&mut self, filter: &Filter) {
        self.equal("s.study_instance_uid", filter.study_uid.as_ref());
        // The resident first (by the ID number's index), then the resident's studies.
        if let Some(patient_id) = &filter.patient_id {
            self.add(
                "s.resident_id IN (SELECT id FROM residents WHERE community_id = $1 AND id_number = ?)",
                std::slice::from_ref(patient_id),
            );
        }
        self.equal("s.accession_number", filter.accession_number.as_ref());
        if let Some(name) = &filter.patient_name {
            self.patient_name(name, filter.fuzzy);
        }
        if let Some(from) = &filter.date_from {
            self.add("s.study_date >= ?", std::slice::from_ref(from));
        }
        if let Some(to) = &filter.date_to {
            self.add("s.study_date <= ?", std::slice::from_ref(to));
        }
    }

    fn patient_name(&mut self, name: &str, fuzzy: bool) {
        // Person names come as `family^given`; a resident's name is written whole.
        let name: String = name.chars().filter(|c| *c != '^').collect();
        if name.contains(['*', '?']) {
            let mut pattern = String::new();
            for c in name.to_lowercase().chars() {
                match c {
                    '*' => pattern.push('%'),
                    '?' => pattern.push('_'),
                    '%' | '_' | '\\' => {
                        pattern.push('\\');
                        pattern.push(c);
                    }
                    c => pattern.push(c),
                }
            }
            self.add("LOWER(r.name) LIKE ? ESCAPE '\\'", &[pattern]);
        } else if fuzzy {
            let part: String = name
                .to_lowercase()
                .chars()
                .filter(|c| !c.is_whitespace() && !matches!(c, '%' | '_' | '\\'))
                .collect();
            let like = format!("%{part}%");
            self.add(
                "(r.name LIKE ? OR r.name_pinyin LIKE ?)",
                &[like.clone(), like],
            );
        } else {
            self.add("r.name = ?", &[name]);
        }
    }
}

pub async fn studies(
    db: &Db,
    community_id: i64,
    filter: &Filter,
) -> Result<Vec<StudyRow>, sqlx::Error> {
    let mut conditions = Conditions::default();
    conditions.study_level(filter);
    if !filter.modalities.is_empty() {
        let any = any_of("i.modality", &filter.modalities);
        conditions.add(
            &format!(
                "EXISTS (SELECT 1 FROM imaging_instances i WHERE i.study_id = s.id AND {any})"
            ),
            &filter.modalities,
        );
    }
    let Conditions { sql, binds } = conditions;
    // Counts and modalities by the instances-by-study index, a few rows per study.
    let modalities = db.distinct_list("i.modality");
    let place = place_columns(db);
    let query = format!(
        "SELECT s.id, s.resident_id, s.study_instance_uid, s.accession_number, s.study_date, \
         s.study_time, s.study_description, r.id_number, r.name, r.sex, r.birth_date, {place}, \
         (SELECT COUNT(DISTINCT i.series_instance_uid) FROM imaging_instances i WHERE i.study_id = s.id) AS series, \
         (SELECT COUNT(*) FROM imaging_instances i WHERE i.study_id = s.id) AS instances, \
         (SELECT {modalities} FROM imaging_instances i WHERE i.study_id = s.id) AS modalities \
         FROM imaging_studies s JOIN residents r ON r.id = s.resident_id \
         WHERE s.community_id = $1{sql} ORDER BY s.study_date DESC, s.id DESC LIMIT {MAX_MATCHES}"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(query)).bind(community_id);
    for value in binds {
        query = query.bind(value);
    }
    let rows = query.fetch_all(&db.pool).await?;
    let mut studies = Vec::with_capacity(rows.len());
    for row in rows {
        let modalities: Option<String> = row.try_get("modalities")?;
        let mut modalities: Vec<String> = modalities
            .unwrap_or_default()
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        modalities.sort_unstable();
        let resident_id: i64 = row.try_get("resident_id")?;
        let assigned: Option<String> = row.try_get("assigned")?;
        studies.push(StudyRow {
            id: row.try_get("id")?,
            resident_id,
            place: place_of_row(
                community_id,
                resident_id,
                row.try_get("village_clinic_id")?,
                row.try_get("township_id")?,
                assigned.as_deref(),
            ),
            study_instance_uid: row.try_get("study_instance_uid")?,
            accession_number: row.try_get("accession_number")?,
            study_date: row.try_get("study_date")?,
            study_time: row.try_get("study_time")?,
            study_description: row.try_get("study_description")?,
            patient_id: row.try_get("id_number")?,
            patient_name: row.try_get("name")?,
            patient_sex: row.try_get("sex")?,
            patient_birth_date: row.try_get("birth_date")?,
            modalities,
            series: row.try_get("series")?,
            instances: row.try_get("instances")?,
        });
    }
    Ok(studies)
}

/// An instance row as QIDO-RS and WADO-RS need it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InstanceRow {
    pub id: i64,
    pub study_id: i64,
    pub resident_id: i64,
    pub study_instance_uid: String,
    pub series_instance_uid: String,
    pub series_number: Option<i64>,
    pub series_description: String,
    pub modality: String,
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub instance_number: Option<i64>,
    pub transfer_syntax_uid: String,
    pub rows_count: Option<i64>,
    pub columns_count: Option<i64>,
    pub frames: Option<i64>,
    pub village_clinic_id: i64,
    pub township_id: i64,
    /// The institutions the resident is assigned to, comma-separated.
    pub assigned: Option<String>,
}

impl InstanceRow {
    /// Where the instance's resident belongs, for the access check.
    pub fn place(&self, community_id: i64) -> ResidentPlace {
        place_of_row(
            community_id,
            self.resident_id,
            self.village_clinic_id,
            self.township_id,
            self.assigned.as_deref(),
        )
    }
}

pub async fn instances(
    db: &Db,
    community_id: i64,
    filter: &Filter,
) -> Result<Vec<InstanceRow>, sqlx::Error> {
    let mut conditions = Conditions::default();
    conditions.study_level(filter);
    conditions.equal("i.series_instance_uid", filter.series_uid.as_ref());
    conditions.equal("i.sop_instance_uid", filter.sop_uid.as_ref());
    if !filter.modalities.is_empty() {
        let any = any_of("i.modality", &filter.modalities);
        conditions.add(&any, &filter.modalities);
    }
    let Conditions { sql, binds } = conditions;
    let place = place_columns(db);
    let query = format!(
        "SELECT i.id, i.study_id, s.resident_id, s.study_instance_uid, i.series_instance_uid, \
         i.series_number, i.series_description, i.modality, i.sop_class_uid, i.sop_instance_uid, \
         i.instance_number, i.transfer_syntax_uid, i.rows_count, i.columns_count, i.frames, {place} \
         FROM imaging_instances i JOIN imaging_studies s ON s.id = i.study_id \
         JOIN residents r ON r.id = s.resident_id \
         WHERE s.community_id = $1{sql} \
         ORDER BY s.study_instance_uid, i.series_number, i.series_instance_uid, i.instance_number, i.id \
         LIMIT {MAX_MATCHES}"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(query)).bind(community_id);
    for value in binds {
        query = query.bind(value);
    }
    query.fetch_all(&db.pool).await
}

/// The digest an instance is archived under.
pub async fn digest_of(
    db: &Db,
    community_id: i64,
    instance_id: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT content_sha256 FROM imaging_instances WHERE community_id = $1 AND id = $2",
    )
    .bind(community_id)
    .bind(instance_id)
    .fetch_one(&db.pool)
    .await
}

/// Instances and held instances whose bytes are still in the database (written before the
/// archive, migration 0028) are moved to the archive, a few at a time; gives how many.
pub async fn move_to_archive(
    db: &Db,
    archive: &crate::archive::Archive,
) -> Result<usize, MoveError> {
    let mut moved = 0;
    for table in ["imaging_instances", "imaging_unmatched"] {
        loop {
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, content FROM {table} WHERE content_sha256 = '' ORDER BY id LIMIT 100"
            )))
            .fetch_all(&db.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for (id, content) in rows {
                let digest = archive.put(content).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET content_sha256 = $1, content = $2 WHERE id = $3"
                )))
                .bind(digest)
                .bind(Vec::<u8>::new())
                .bind(id)
                .execute(&db.pool)
                .await?;
                moved += 1;
            }
        }
    }
    Ok(moved)
}

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Archive(#[from] crate::archive::Error),
}
