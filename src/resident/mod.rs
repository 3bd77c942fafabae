//! The master patient index: registering residents, finding them, spotting probable duplicates
//! and merging them. Every operation here that touches a resident passes [`authorize`], the one
//! gate that checks access and writes the audit entry, allowed or denied.

pub mod http;
pub mod id_number;
mod merge_page;
pub mod model;
pub mod pinyin;
pub mod store;
pub mod views;

use time::Date;

use crate::access::{self, Access, Actor, Purpose, ResidentPlace};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::db;
use crate::institution::{self, InstitutionKind};
pub use id_number::{IdNumber, InvalidIdNumber};
use model::{ContactUpdate, MergeRequest, NewResident, ProbableDuplicate, Resident, ResidentQuery};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid resident ID number: {0}")]
    InvalidIdNumber(#[from] InvalidIdNumber),
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("no such village clinic in this community")]
    UnknownVillageClinic,
    #[error("a resident with this ID number is already registered in this community")]
    Duplicate,
    #[error("no such resident")]
    NotFound,
    #[error("this record has already been merged into another")]
    AlreadyMerged,
    #[error(transparent)]
    Denied(#[from] access::Denied),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

/// The one gate for a resident's data: checks access and records the attempt either way.
pub async fn authorize(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    resident: &Resident,
    purpose: Purpose,
    access: Access,
    action: &str,
) -> Result<(), Error> {
    let allowed = authorize_all(
        ctx,
        now,
        actor,
        std::slice::from_ref(resident),
        purpose,
        access,
        action,
    )
    .await?;
    if allowed[0] {
        Ok(())
    } else {
        Err(access::Denied.into())
    }
}

/// [`authorize`] for several residents at once (one request's), with their audit entries
/// written together: whether each may be reached, in order.
pub async fn authorize_all(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    residents: &[Resident],
    purpose: Purpose,
    access: Access,
    action: &str,
) -> Result<Vec<bool>, Error> {
    let places = store::places_of(&ctx.db, residents).await?;
    let mut allowed = Vec::with_capacity(residents.len());
    let mut entries = Vec::with_capacity(residents.len());
    for (resident, place) in residents.iter().zip(&places) {
        let decision = access::check(actor, purpose, access, place);
        let entry = Entry::by(actor, now, action, "resident", Some(resident.id))
            .about_resident(resident.id);
        entries.push(if decision.is_ok() {
            entry
        } else {
            entry.denied()
        });
        allowed.push(decision.is_ok());
    }
    ctx.auditor.record(entries).await?;
    Ok(allowed)
}

/// Loads a resident of the actor's community and passes it through [`authorize`].
pub async fn load_authorized(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    purpose: Purpose,
    access: Access,
    action: &str,
) -> Result<Resident, Error> {
    let resident = store::resident_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    authorize(ctx, now, actor, &resident, purpose, access, action).await?;
    Ok(resident)
}

fn check_name(name: &str) -> Result<&str, Error> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 || length > 50 || name.chars().any(char::is_control) {
        return Err(Error::Invalid {
            field: "name",
            reason: "must be 1 to 50 characters",
        });
    }
    Ok(name)
}

fn check_phone(phone: &str) -> Result<&str, Error> {
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == ' ');
    if !allowed || !(7..=15).contains(&digits) {
        return Err(Error::Invalid {
            field: "phone",
            reason: "must be a phone number of 7 to 15 digits",
        });
    }
    Ok(phone)
}

fn check_address(address: &str) -> Result<&str, Error> {
    let address = address.trim();
    if address.chars().count() > 200 || address.chars().any(char::is_control) {
        return Err(Error::Invalid {
            field: "address",
            reason: "must be at most 200 characters",
        });
    }
    Ok(address)
}

/// Changes a resident's phone and address (what is left out stays), by staff who may write
/// the resident's demographics; the change is audited as `resident.update`.
pub async fn update_contact(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    update: &ContactUpdate,
) -> Result<Resident, Error> {
    let phone = update.phone.as_deref().map(check_phone).transpose()?;
    let address = update.address.as_deref().map(check_address).transpose()?;
    let resident = store::resident_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if resident.merged_into_id.is_some() {
        return Err(Error::AlreadyMerged);
    }
    let place = store::place_of(&ctx.db, &resident).await?;
    let entry = Entry::by(actor, now, "resident.update", "resident", Some(id)).about_resident(id);
    if let Err(denied) = access::check(actor, Purpose::Demographics, Access::Write, &place) {
        audit::store::append_committed(&ctx.db, &[entry.denied()]).await?;
        return Err(denied.into());
    }
    let mut tx = ctx.db.begin().await?;
    store::update_contact(
        &mut tx,
        actor.community_id,
        id,
        phone.unwrap_or(&resident.phone),
        address.unwrap_or(&resident.address),
        now,
    )
    .await?;
    let changed: Vec<&str> = [("phone", phone.is_some()), ("address", address.is_some())]
        .into_iter()
        .filter_map(|(field, given)| given.then_some(field))
        .collect();
    audit::store::append(
        &mut tx,
        &[entry.detail(format!("changed={}", changed.join(",")))],
    )
    .await?;
    tx.commit().await?;
    store::resident_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Registers a resident at a village clinic.
pub async fn register(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    actor: &Actor,
    new: &NewResident,
) -> Result<Resident, Error> {
    let id_number = IdNumber::parse(&new.id_number, today)?;
    let name = check_name(&new.name)?;
    let phone = check_phone(&new.phone)?;
    let address = check_address(&new.address)?;
    let village =
        institution::store::institution_by_id(&ctx.db, actor.community_id, new.village_clinic_id)
            .await?
            .filter(|i| i.kind == InstitutionKind::VillageClinic)
            .ok_or(Error::UnknownVillageClinic)?;
    let township_id = village.township_id.ok_or(Error::UnknownVillageClinic)?;
    if let Some(grid_id) = new.grid_id
        && store::grid_village(&ctx.db, actor.community_id, grid_id).await? != Some(village.id)
    {
        return Err(Error::Invalid {
            field: "grid_id",
            reason: "must be a health grid of the resident's village clinic",
        });
    }
    let place = ResidentPlace {
        resident_id: 0,
        community_id: actor.community_id,
        village_clinic_id: village.id,
        township_id,
        assigned_institution_ids: vec![],
    };
    let entry = Entry::by(actor, now, "resident.create", "resident", None);
    if let Err(denied) = access::check(actor, Purpose::Demographics, Access::Write, &place) {
        audit::store::append_committed(
            &ctx.db,
            &[entry
                .denied()
                .detail(format!("village_clinic={}", village.id))],
        )
        .await?;
        return Err(denied.into());
    }
    let birth_date = id_number.birth_date().to_string();
    let row = store::NewRow {
        community_id: actor.community_id,
        id_number: id_number.as_str(),
        name,
        sex: id_number.sex().as_str(),
        birth_date: &birth_date,
        phone,
        address,
        village_clinic_id: village.id,
        township_id,
        grid_id: new.grid_id,
        now_ms: now,
    };
    let mut tx = ctx.db.begin().await?;
    let id = match store::insert_resident(&mut tx, &row).await {
        Ok(id) => id,
        Err(error)
            if db::is_unique_violation(
                &error,
                "residents_id_number_unique",
                "residents.id_number",
            ) =>
        {
            return Err(Error::Duplicate);
        }
        Err(error) => return Err(error.into()),
    };
    let entry = Entry {
        resource_id: Some(id),
        ..entry
    }
    .about_resident(id);
    audit::store::append(&mut tx, &[entry]).await?;
    tx.commit().await?;
    store::resident_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// One resident, if the actor may see them.
pub async fn get(ctx: &Ctx, now: Millis, actor: &Actor, id: i64) -> Result<Resident, Error> {
    let resident = load_authorized(
        ctx,
        now,
        actor,
        id,
        Purpose::Demographics,
        Access::Read,
        "resident.read",
    )
    .await?;
    Ok(resident)
}

/// Finds residents by exact ID number or name prefix, within the actor's scope. Each resident
/// returned is recorded as read. Searching the master patient index is staff work: a resident
/// signed in to the portal may not.
pub async fn search(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    query: &ResidentQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<Resident>, Error> {
    if actor.has_role(access::Role::Resident) {
        return Err(access::Denied.into());
    }
    let given = |field: &Option<String>| {
        field
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (mut id_number, mut name, mut pinyin, mut phone) = (
        given(&query.id_number),
        given(&query.name),
        given(&query.pinyin),
        given(&query.phone),
    );
    if let Some(q) = given(&query.q) {
        match SearchText::of(&q) {
            SearchText::IdNumber => id_number = Some(q),
            SearchText::Phone => phone = Some(q),
            SearchText::Pinyin => pinyin = Some(q),
            SearchText::Name => name = Some(q),
        }
    }
    let pinyin = match pinyin {
        Some(text) => Some(pinyin::query(&text).ok_or(Error::Invalid {
            field: "pinyin",
            reason: "Latin letters only",
        })?),
        None => None,
    };
    if id_number.is_none()
        && name.is_none()
        && pinyin.is_none()
        && phone.is_none()
        && query.village_clinic_id.is_none()
    {
        return Err(Error::Invalid {
            field: "query",
            reason: "give q, id_number, name, pinyin, phone or village_clinic_id",
        });
    }
    let id_number = id_number.map(|n| n.to_ascii_uppercase());
    let filter = store::SearchFilter {
        id_number: id_number.as_deref(),
        name_prefix: name.as_deref(),
        pinyin_prefix: pinyin.as_deref(),
        phone: phone.as_deref(),
        village_clinic_id: query.village_clinic_id,
    };
    let scope = actor.scope(Purpose::Demographics, Access::Read);
    let found =
        store::search_residents(&ctx.db, actor.community_id, scope, &filter, limit, offset).await?;
    let entries = found
        .iter()
        .map(|r| {
            Entry::by(actor, now, "resident.search", "resident", Some(r.id)).about_resident(r.id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(found)
}

/// The names of residents to show in a list (a work queue, a board), for those of `ids` the
/// actor may see; each name shown is recorded as read.
pub async fn names(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, Error> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(500);
    let scope = actor.scope(Purpose::Demographics, Access::Read);
    let found = store::names_in_scope(&ctx.db, actor.community_id, scope, &ids).await?;
    let entries = found
        .iter()
        .map(|(id, _)| {
            Entry::by(actor, now, "resident.list", "resident", Some(*id)).about_resident(*id)
        })
        .collect();
    ctx.auditor.record(entries).await?;
    Ok(found.into_iter().collect())
}

/// What a search box holds, told apart by its form.
#[derive(Debug, PartialEq, Eq)]
enum SearchText {
    /// Eighteen characters starting with a digit.
    IdNumber,
    /// Seven to fifteen digits.
    Phone,
    /// Latin letters.
    Pinyin,
    /// Anything else: the start of a name.
    Name,
}

impl SearchText {
    fn of(text: &str) -> SearchText {
        let digits = text.bytes().all(|b| b.is_ascii_digit());
        if text.len() == 18 && text.starts_with(|c: char| c.is_ascii_digit()) {
            SearchText::IdNumber
        } else if digits && (7..=15).contains(&text.len()) {
            SearchText::Phone
        } else if pinyin::query(text).is_some() {
            SearchText::Pinyin
        } else {
            SearchText::Name
        }
    }
}

/// Pairs that may be one person, among residents the actor may edit.
pub async fn probable_duplicates(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    limit: i64,
    offset: i64,
) -> Result<Vec<ProbableDuplicate>, Error> {
    let scope = actor.scope(Purpose::Demographics, Access::Write);
    if scope == access::Scope::Nothing {
        let entry = Entry::by(actor, now, "resident.duplicates", "resident", None).denied();
        ctx.auditor.record(vec![entry]).await?;
        return Err(access::Denied.into());
    }
    let pairs =
        store::probable_duplicates(&ctx.db, actor.community_id, scope, limit, offset).await?;
    let mut duplicates = Vec::with_capacity(pairs.len());
    let mut entries = Vec::new();
    for (reason, first, second) in pairs {
        let (Some(first), Some(second)) = (
            store::resident_by_id(&ctx.db, actor.community_id, first).await?,
            store::resident_by_id(&ctx.db, actor.community_id, second).await?,
        ) else {
            continue;
        };
        for id in [first.id, second.id] {
            entries.push(
                Entry::by(actor, now, "resident.duplicates", "resident", Some(id))
                    .about_resident(id),
            );
        }
        duplicates.push(ProbableDuplicate {
            reason,
            first,
            second,
        });
    }
    ctx.auditor.record(entries).await?;
    Ok(duplicates)
}

/// Merges one record into another. Both stay, with every record attached to them; the merged
/// one points at the survivor and leaves search results.
pub async fn merge(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    request: &MergeRequest,
) -> Result<Resident, Error> {
    if request.survivor_id == request.merged_id {
        return Err(Error::Invalid {
            field: "merged_id",
            reason: "must differ from survivor_id",
        });
    }
    let load = |id| {
        load_authorized(
            ctx,
            now,
            actor,
            id,
            Purpose::Demographics,
            Access::Write,
            "resident.merge.check",
        )
    };
    let survivor = load(request.survivor_id).await?;
    let merged = load(request.merged_id).await?;
    if survivor.merged_into_id.is_some() || merged.merged_into_id.is_some() {
        return Err(Error::AlreadyMerged);
    }
    let mut tx = ctx.db.begin().await?;
    store::mark_merged(&mut tx, actor.community_id, merged.id, survivor.id, now).await?;
    let detail = format!("survivor={} merged={}", survivor.id, merged.id);
    let entries = [survivor.id, merged.id].map(|id| {
        Entry::by(actor, now, "resident.merge", "resident", Some(id))
            .about_resident(id)
            .detail(detail.clone())
    });
    audit::store::append(&mut tx, &entries).await?;
    tx.commit().await?;
    store::resident_by_id(&ctx.db, actor.community_id, survivor.id)
        .await?
        .ok_or(Error::NotFound)
}

/// Who looked at or changed a resident's data (including records merged into it).
pub async fn accesses(
    ctx: &Ctx,
    now: Millis,
    actor: &Actor,
    id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<audit::AccessRecord>, Error> {
    let resident = load_authorized(
        ctx,
        now,
        actor,
        id,
        Purpose::Demographics,
        Access::Read,
        "resident.accesses.read",
    )
    .await?;
    let mut ids = vec![resident.id];
    ids.extend(store::merged_into(&ctx.db, actor.community_id, resident.id).await?);
    Ok(
        audit::store::accesses_of_resident(&ctx.db, actor.community_id, &ids, limit, offset)
            .await?,
    )
}
