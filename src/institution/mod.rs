//! The institution tree (lead hospital, campuses, shared centres, township centres, village
//! clinics) and departments. Registries are not resident data: every member of staff of the
//! community may read them; only administrators change them.

pub mod http;
pub mod model;
pub mod store;

pub use model::{Department, Institution, InstitutionKind, NewInstitution, TreeNode};

use crate::access::{Actor, Denied, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such institution")]
    NotFound,
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("an institution with this code already exists")]
    DuplicateCode,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The institution whose work list the caller asks for (`wanted`, else their own), when
/// `access::may_list` allows it.
pub async fn listed(
    db: &crate::db::Db,
    actor: &Actor,
    wanted: Option<i64>,
) -> Result<Result<Institution, Denied>, sqlx::Error> {
    let Some(id) = wanted.or(actor.institution.map(|i| i.id)) else {
        return Ok(Err(Denied));
    };
    Ok(store::institution_by_id(db, actor.community_id, id)
        .await?
        .filter(|institution| crate::access::may_list(actor, institution))
        .ok_or(Denied))
}

fn require_staff(actor: &Actor) -> Result<(), Denied> {
    if actor.is_staff() {
        Ok(())
    } else {
        Err(Denied)
    }
}

pub async fn list(ctx: &Ctx, actor: &Actor) -> Result<Vec<Institution>, Error> {
    require_staff(actor)?;
    Ok(store::institutions_in_community(&ctx.db, actor.community_id).await?)
}

pub async fn get(
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
) -> Result<(Institution, Vec<Department>), Error> {
    require_staff(actor)?;
    let institution = store::institution_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let departments = store::departments_of(&ctx.db, actor.community_id, id).await?;
    Ok((institution, departments))
}

/// Arranges a flat list into trees, children in list order.
pub fn tree(institutions: &[Institution]) -> Vec<TreeNode> {
    fn children_of(all: &[Institution], parent: Option<i64>) -> Vec<TreeNode> {
        all.iter()
            .filter(|i| i.parent_id == parent)
            .map(|i| TreeNode {
                institution: i.clone(),
                children: children_of(all, Some(i.id)),
            })
            .collect()
    }
    children_of(institutions, None)
}

/// Adds an institution under its parent, keeping the tree's shape.
pub async fn create(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    new: &NewInstitution,
) -> Result<Institution, Error> {
    if !actor.has_role(Role::Admin) {
        return Err(Denied.into());
    }
    let code_ok = !new.code.is_empty()
        && new.code.len() <= 40
        && new
            .code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !code_ok {
        return Err(Error::Invalid {
            field: "code",
            reason: "1 to 40 letters, digits or '-'",
        });
    }
    if new.name.trim().is_empty() || new.name.chars().count() > 100 {
        return Err(Error::Invalid {
            field: "name",
            reason: "must be 1 to 100 characters",
        });
    }
    let parent = match new.parent_id {
        Some(id) => Some(
            store::institution_by_id(&ctx.db, actor.community_id, id)
                .await?
                .ok_or(Error::Invalid {
                    field: "parent_id",
                    reason: "no such institution",
                })?,
        ),
        None => None,
    };
    if (new.kind == InstitutionKind::Centre) != new.service.is_some() {
        return Err(Error::Invalid {
            field: "service",
            reason: "a shared centre says what it does (ecg, imaging, lab, pathology, other); no other kind does",
        });
    }
    let allowed = new.kind.allowed_parents();
    let shape_ok = match &parent {
        None => allowed.is_empty(),
        Some(parent) => allowed.contains(&parent.kind),
    };
    if !shape_ok {
        return Err(Error::Invalid {
            field: "parent_id",
            reason: "this kind of institution cannot sit there in the tree",
        });
    }
    let township_id = parent.as_ref().and_then(|p| p.township_id);
    let mut tx = ctx.db.begin().await?;
    let id = match store::insert_institution(&mut tx, actor.community_id, township_id, new).await {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(
                &error,
                "institutions_community_id_code_key",
                "institutions.code",
            ) =>
        {
            return Err(Error::DuplicateCode);
        }
        Err(error) => return Err(error.into()),
    };
    if matches!(
        new.kind,
        InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre
    ) {
        store::set_own_township(&mut tx, actor.community_id, id).await?;
    }
    let entry = Entry::by(actor, now, "institution.create", "institution", Some(id));
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    store::institution_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}
