//! The modalities allowed to speak DICOM to the imaging centre: each calling AE title is
//! allow-listed for one modality machine account (role `modality_interface`), and the
//! account's institution is where the modality stands — its studies are that site's, its
//! worklist that site's orders. Administrators keep the list.

use serde::{Deserialize, Serialize};

use super::Error;
use crate::access::{Actor, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::db::Db;

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Modality {
    pub id: i64,
    pub ae_title: String,
    pub staff_id: i64,
    pub username: String,
    pub institution_id: Option<i64>,
    pub institution_name: Option<String>,
    pub description: String,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewModality {
    /// The modality's calling AE title, as configured on it (1–16 characters).
    pub ae_title: String,
    /// The modality machine account it acts as.
    pub username: String,
    #[serde(default)]
    pub description: String,
}

/// Is `title` an AE title (PS3.5 AE: up to 16 characters of the default repertoire, no
/// backslash or control characters, not only spaces)?
pub fn valid_ae_title(title: &str) -> bool {
    !title.trim().is_empty()
        && title.len() <= 16
        && title
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '\\')
}

fn require_admin(actor: &Actor) -> Result<(), Error> {
    if actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(crate::access::Denied.into())
    }
}

const COLUMNS: &str = "m.id, m.ae_title, m.staff_id, s.username, s.institution_id, \
    i.name AS institution_name, m.description, m.created_at_ms";

/// The community's allow-listed modalities, by AE title.
pub async fn list(ctx: &Ctx, actor: &Actor) -> Result<Vec<Modality>, Error> {
    require_admin(actor)?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM imaging_modalities m JOIN staff s ON s.id = m.staff_id \
         LEFT JOIN institutions i ON i.id = s.institution_id \
         WHERE m.community_id = $1 ORDER BY m.ae_title"
    )))
    .bind(actor.community_id)
    .fetch_all(&ctx.db.pool)
    .await?)
}

/// Allow-lists a calling AE title for a modality machine account; audited.
pub async fn add(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewModality,
) -> Result<Modality, Error> {
    require_admin(actor)?;
    let title = new.ae_title.trim();
    if !valid_ae_title(title) {
        return Err(Error::Invalid {
            field: "ae_title",
            reason: "1 to 16 ASCII characters without a backslash",
        });
    }
    if new.description.chars().count() > 100 {
        return Err(Error::Invalid {
            field: "description",
            reason: "at most 100 characters",
        });
    }
    let account: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, roles FROM staff WHERE community_id = $1 AND username = $2 AND active = 1",
    )
    .bind(actor.community_id)
    .bind(new.username.trim())
    .fetch_optional(&ctx.db.pool)
    .await?;
    let staff_id = match account {
        Some((id, roles))
            if roles
                .split(',')
                .any(|r| r == Role::ModalityInterface.as_str()) =>
        {
            id
        }
        _ => {
            return Err(Error::Invalid {
                field: "username",
                reason: "an active account with the role modality_interface",
            });
        }
    };
    let mut tx = ctx.db.begin().await?;
    let id = insert(
        &mut tx,
        actor.community_id,
        title,
        staff_id,
        new.description.trim(),
        now,
    )
    .await
    .map_err(|error| {
        if crate::db::is_unique_violation(
            &error,
            "imaging_modalities_ae_title_unique",
            "imaging_modalities.ae_title",
        ) {
            Error::Invalid {
                field: "ae_title",
                reason: "this AE title is allow-listed already",
            }
        } else {
            error.into()
        }
    })?;
    let entry = Entry::by(
        actor,
        now,
        "imaging_modality.added",
        "imaging_modality",
        Some(id),
    )
    .detail(format!("ae_title={title} staff_id={staff_id}"));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    list(ctx, actor)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(Error::NotFound)
}

/// Allow-lists a calling AE title without the checks of [`add`] (the demo).
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    community_id: i64,
    ae_title: &str,
    staff_id: i64,
    description: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO imaging_modalities (community_id, ae_title, staff_id, description, \
         created_at_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(community_id)
    .bind(ae_title)
    .bind(staff_id)
    .bind(description)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Takes a calling AE title off the list; audited.
pub async fn remove(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<(), Error> {
    require_admin(actor)?;
    let mut tx = ctx.db.begin().await?;
    let removed = sqlx::query("DELETE FROM imaging_modalities WHERE community_id = $1 AND id = $2")
        .bind(actor.community_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    let entry = Entry::by(
        actor,
        now,
        "imaging_modality.removed",
        "imaging_modality",
        Some(id),
    );
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    Ok(())
}

/// Every allow-listed calling AE title, for the DICOM listener's association check.
pub async fn titles(db: &Db) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let titles: Vec<String> = sqlx::query_scalar("SELECT ae_title FROM imaging_modalities")
        .fetch_all(&db.pool)
        .await?;
    Ok(titles.into_iter().collect())
}

/// The machine account a calling AE title acts as (none when it is not allow-listed or the
/// account is inactive).
pub async fn actor_of(db: &Db, ae_title: &str) -> Result<Option<Actor>, sqlx::Error> {
    let found: Option<(i64, i64)> =
        sqlx::query_as("SELECT community_id, staff_id FROM imaging_modalities WHERE ae_title = $1")
            .bind(ae_title)
            .fetch_optional(&db.pool)
            .await?;
    match found {
        Some((community_id, staff_id)) => {
            let actor = crate::staff::store::actor_by_id(db, community_id, staff_id).await?;
            Ok(actor.filter(|a| a.has_role(Role::ModalityInterface)))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_ae_title;

    #[test]
    fn ae_titles_are_checked() {
        assert!(valid_ae_title("STORESCU"));
        assert!(valid_ae_title("CT-01 TOWN"));
        assert!(!valid_ae_title(""));
        assert!(!valid_ae_title("    "));
        assert!(!valid_ae_title("A_VERY_LONG_AE_TITLE"));
        assert!(!valid_ae_title("BAD\\AE"));
        assert!(!valid_ae_title("影像"));
    }
}
