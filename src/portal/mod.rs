//! The resident portal (居民端): a resident signs in with credentials issued at a clinic (there
//! is no SMS gateway) and sees their own record, reports and referrals, and every access to
//! their record. A resident's account is a `staff` row with the `resident` role, whose scope is
//! only themself under the one access rule; the pages are in `views`.

pub mod views;

use serde::Serialize;

use crate::access::{Access, Actor, Purpose, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::{resident, staff};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Resident(#[from] resident::Error),
    #[error(transparent)]
    Staff(#[from] staff::Error),
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

/// What the clinic prints for the resident: shown once, stored only as a hash.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PortalCredentials {
    pub resident_id: i64,
    /// The resident's ID number.
    pub username: String,
    pub password: String,
}

/// Letters and digits that cannot be mistaken for one another on a printed slip.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn new_password() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Staff at a member institution issue (or reissue) a resident's portal credentials; a
/// reissue replaces the password and ends the resident's open sessions.
pub async fn issue(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    resident_id: i64,
) -> Result<PortalCredentials, Error> {
    let resident = resident::load_authorized(
        ctx,
        now,
        actor,
        resident_id,
        Purpose::Clinical,
        Access::Write,
        "portal.issue",
    )
    .await?;
    // Face to face, with the ID card: a doctor of the resident's own village clinic or
    // township centre, nobody else (not an administrator, not the county).
    let own_clinic = actor
        .institution
        .is_some_and(|i| i.id == resident.village_clinic_id || i.id == resident.township_id);
    if !own_clinic || !(actor.has_role(Role::VillageDoctor) || actor.has_role(Role::Doctor)) {
        return Err(crate::access::Denied.into());
    }
    let password = new_password();
    let username = resident.id_number.clone();
    match staff::store::account_of_resident(&ctx.db, actor.community_id, resident.id).await? {
        Some(account_id) => {
            let hash = staff::hash_password(password.clone()).await?;
            staff::store::replace_password(&ctx.db, account_id, &hash).await?;
        }
        None => {
            let new = staff::model::NewStaff {
                username: username.clone(),
                password: password.clone(),
                name: resident.name.clone(),
                institution_id: None,
                department_id: None,
                title_level: None,
                roles: vec![Role::Resident],
                resident_id: Some(resident.id),
            };
            staff::create_unchecked(ctx, now, actor.community_id, &new).await?;
        }
    }
    let entry = Entry::by(actor, now, "portal.issue", "resident", Some(resident.id))
        .about_resident(resident.id);
    audit::store::append_committed(&ctx.db, &[entry]).await?;
    Ok(PortalCredentials {
        resident_id: resident.id,
        username,
        password,
    })
}

/// The resident an actor is, for the portal pages: only residents have one.
pub fn own_resident(actor: &Actor) -> Result<i64, Error> {
    actor
        .resident_id
        .filter(|_| actor.has_role(Role::Resident))
        .ok_or(Error::Denied(crate::access::Denied))
}
