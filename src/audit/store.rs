//! SQL for the audit chain: appending under the chain head's lock, reading a resident's access
//! history, and walking the chain to verify it.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, Row};

use super::anchor::Checkpoint;
use super::{AccessRecord, Entry, GENESIS_HASH, Verdict, entry_hash};
use crate::db::Db;

/// Starts a community's chain. Called once, when the community is created.
pub async fn start_chain(conn: &mut AnyConnection, community_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit_heads (community_id, seq, hash) VALUES ($1, 0, $2)")
        .bind(community_id)
        .bind(GENESIS_HASH)
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends entries to their communities' chains inside the caller's transaction.
///
/// The first statement moves the head's seq forward, which takes the head's row lock (and, on
/// SQLite, the write lock) before anything is read, so concurrent appenders queue up instead of
/// forking the chain.
pub async fn append(conn: &mut AnyConnection, entries: &[Entry]) -> Result<(), sqlx::Error> {
    let mut by_community: BTreeMap<i64, Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        by_community
            .entry(entry.community_id)
            .or_default()
            .push(entry);
    }
    for (community_id, entries) in by_community {
        let count = entries.len() as i64;
        let head = sqlx::query(
            "UPDATE audit_heads SET seq = seq + $1 WHERE community_id = $2 RETURNING seq, hash",
        )
        .bind(count)
        .bind(community_id)
        .fetch_one(&mut *conn)
        .await?;
        let last_seq: i64 = head.try_get("seq")?;
        let mut prev_hash: String = head.try_get("hash")?;
        let mut rows = Vec::with_capacity(entries.len());
        for (offset, entry) in entries.iter().enumerate() {
            let seq = last_seq - count + 1 + offset as i64;
            let hash = entry_hash(&prev_hash, seq, entry);
            rows.push((seq, *entry, prev_hash, hash.clone()));
            prev_hash = hash;
        }
        // Small statements: SQLite binds named parameters in time quadratic in their number.
        for chunk in rows.chunks(40) {
            insert_rows(conn, chunk).await?;
        }
        sqlx::query("UPDATE audit_heads SET hash = $1 WHERE community_id = $2")
            .bind(&prev_hash)
            .bind(community_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn insert_rows(
    conn: &mut AnyConnection,
    rows: &[(i64, &Entry, String, String)],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 13;
    let placeholders: Vec<String> = (0..rows.len())
        .map(|row| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|col| format!("${}", row * COLUMNS + col))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_log (community_id, seq, at_ms, actor_staff_id, actor_institution_id, \
         action, resource, resource_id, resident_id, outcome, detail, prev_hash, hash) VALUES {}",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (seq, entry, prev_hash, hash) in rows {
        query = query
            .bind(entry.community_id)
            .bind(*seq)
            .bind(entry.at_ms)
            .bind(entry.actor_staff_id)
            .bind(entry.actor_institution_id)
            .bind(entry.action.clone())
            .bind(entry.resource.clone())
            .bind(entry.resource_id)
            .bind(entry.resident_id)
            .bind(entry.outcome.as_str())
            .bind(entry.detail.clone())
            .bind(prev_hash.clone())
            .bind(hash.clone());
    }
    query.execute(conn).await?;
    Ok(())
}

/// Appends in a transaction of its own.
pub async fn append_committed(db: &Db, entries: &[Entry]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    append(&mut tx, entries).await?;
    tx.commit().await
}

/// Who looked at or changed a resident's data, newest first. Another resident (a portal
/// account that tried this record) is named only as 另一位居民: one resident never learns
/// another's name from here.
pub async fn accesses_of_resident(
    db: &Db,
    community_id: i64,
    resident_ids: &[i64],
    limit: i64,
    offset: i64,
) -> Result<Vec<AccessRecord>, sqlx::Error> {
    // resident_ids holds a resident and those merged into it; they are few.
    let list: Vec<String> = resident_ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT a.seq, a.at_ms, a.actor_staff_id, \
         CASE WHEN s.resident_id IS NOT NULL AND s.resident_id NOT IN ({list}) \
         THEN '另一位居民' ELSE s.name END AS actor_name, a.actor_institution_id, \
         i.name AS actor_institution_name, a.action, a.outcome \
         FROM audit_log a \
         LEFT JOIN staff s ON s.id = a.actor_staff_id \
         LEFT JOIN institutions i ON i.id = a.actor_institution_id \
         WHERE a.community_id = $1 AND a.resident_id IN ({list}) \
         ORDER BY a.seq DESC {}",
        crate::db::limit_clause(limit, offset),
        list = list.join(", "),
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(community_id)
        .fetch_all(&db.pool)
        .await
}

/// Walks each community's chain in pages and checks links, hashes, the head, and that the
/// chain still holds each community's checkpointed entry.
pub async fn verify(
    db: &Db,
    checkpoints: &BTreeMap<i64, Checkpoint>,
) -> Result<Verdict, sqlx::Error> {
    let heads =
        sqlx::query("SELECT community_id, seq, hash FROM audit_heads ORDER BY community_id")
            .fetch_all(&db.pool)
            .await?;
    if let Some(lost) = checkpoints.keys().find(|community| {
        !heads
            .iter()
            .any(|h| h.try_get::<i64, _>("community_id").ok() == Some(**community))
    }) {
        return Ok(Verdict::Broken {
            community_id: *lost,
            seq: 0,
            reason: "the community's chain is gone, but a checkpoint holds it".into(),
        });
    }
    let mut total = 0;
    for head in heads {
        let community_id: i64 = head.try_get("community_id")?;
        let checkpoint = checkpoints.get(&community_id);
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let broken = |seq: i64, reason: &str| Verdict::Broken {
            community_id,
            seq,
            reason: reason.to_owned(),
        };
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS_HASH.to_owned();
        loop {
            let rows = sqlx::query(
                "SELECT seq, at_ms, actor_staff_id, actor_institution_id, action, resource, \
                 resource_id, resident_id, outcome, detail, prev_hash, hash \
                 FROM audit_log WHERE community_id = $1 AND seq >= $2 ORDER BY seq LIMIT 5000",
            )
            .bind(community_id)
            .bind(expected_seq)
            .fetch_all(&db.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let seq: i64 = row.try_get("seq")?;
                if seq != expected_seq {
                    return Ok(broken(expected_seq, "entry missing"));
                }
                let stored_prev: String = row.try_get("prev_hash")?;
                if stored_prev != prev_hash {
                    return Ok(broken(seq, "link to the previous entry broken"));
                }
                let outcome: String = row.try_get("outcome")?;
                let entry = Entry {
                    community_id,
                    at_ms: row.try_get("at_ms")?,
                    actor_staff_id: row.try_get("actor_staff_id")?,
                    actor_institution_id: row.try_get("actor_institution_id")?,
                    action: row.try_get("action")?,
                    resource: row.try_get("resource")?,
                    resource_id: row.try_get("resource_id")?,
                    resident_id: row.try_get("resident_id")?,
                    outcome: if outcome == "denied" {
                        super::Outcome::Denied
                    } else {
                        super::Outcome::Allowed
                    },
                    detail: row.try_get("detail")?,
                };
                let stored_hash: String = row.try_get("hash")?;
                if outcome != entry.outcome.as_str()
                    || entry_hash(&prev_hash, seq, &entry) != stored_hash
                {
                    return Ok(broken(seq, "entry altered"));
                }
                if checkpoint.is_some_and(|c| c.seq == seq && c.hash != stored_hash) {
                    return Ok(broken(
                        seq,
                        "the chain was rewritten: this entry differs from the signed checkpoint",
                    ));
                }
                prev_hash = stored_hash;
                expected_seq += 1;
                total += 1;
            }
        }
        if expected_seq - 1 != head_seq || prev_hash != head_hash {
            return Ok(broken(expected_seq, "newest entries missing"));
        }
        if let Some(checkpoint) = checkpoint
            && checkpoint.seq > head_seq
        {
            return Ok(broken(
                head_seq + 1,
                "the chain was truncated: it ends before its signed checkpoint",
            ));
        }
    }
    Ok(Verdict::Intact { entries: total })
}
