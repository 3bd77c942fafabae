//! Staff accounts and authentication: password hashing (argon2), login with slow-down after
//! repeated failures, sessions behind bearer tokens and the web cookie, and the staff registry.

pub mod http;
pub mod model;
mod password;
pub mod payroll;
pub mod store;
pub mod throttle;
pub mod views;

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::access::{Actor, Role};
use crate::audit::{self, Entry};
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution;
use model::{Credentials, LoginToken, NewStaff, Staff};

/// How long a session lasts: one working day and a night shift.
pub const SESSION_MS: Millis = 16 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("too many failed logins; try again in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: i64 },
    #[error("too many logins at once; try again in a moment")]
    Busy,
    #[error("not logged in, or the session has expired")]
    Unauthenticated,
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("this username is taken")]
    DuplicateUsername,
    #[error("no such member of staff")]
    NotFound,
    #[error(transparent)]
    Denied(#[from] crate::access::Denied),
    #[error("password hashing failed")]
    Hashing,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Audit(#[from] audit::Error),
}

/// Hashes a new password with argon2id on the password workers.
pub async fn hash_password(password: String) -> Result<String, Error> {
    password::hash(password).await.map_err(|_| Error::Hashing)
}

/// A real hash of nothing in particular, verified against when the username is unknown.
async fn dummy_hash() -> Result<String, Error> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash_password("not a password of anyone".into()))
        .await
        .cloned()
}

/// The SHA-256 of a session token, which is all the database keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex::encode(bytes)
}

/// Checks a username and password from a client address and opens a session.
pub async fn login(
    ctx: &Ctx,
    now: Millis,
    credentials: &Credentials,
    address: IpAddr,
) -> Result<LoginToken, Error> {
    let username = credentials.username.trim();
    if username.len() > 100 || credentials.password.len() > password::MAX_PASSWORD_BYTES {
        return Err(Error::InvalidCredentials);
    }
    let attempt = ctx
        .logins
        .begin(username, address, now)
        .map_err(|retry_after_s| Error::TooManyAttempts { retry_after_s })?;
    let result = check_password(ctx, username, &credentials.password).await;
    // Busy or failed inside: the password was not checked, so it is no failure of the client.
    let checked = result.as_ref().ok().map(Option::is_some);
    ctx.logins.finish(attempt, checked, now);
    let Some((staff_id, community_id)) = result? else {
        return Err(Error::InvalidCredentials);
    };
    let token = new_token();
    let expires_at_ms = now + SESSION_MS;
    store::insert_session(
        &ctx.db,
        &token_hash(&token),
        community_id,
        staff_id,
        now,
        expires_at_ms,
    )
    .await?;
    Ok(LoginToken {
        token,
        expires_at_ms,
    })
}

/// The account whose password this is, if any. An unknown username costs the same hashing
/// work as a wrong password, so timing does not tell which usernames exist.
async fn check_password(
    ctx: &Ctx,
    username: &str,
    password: &str,
) -> Result<Option<(i64, i64)>, Error> {
    let account = store::password_hash_of(&ctx.db, username).await?;
    let stored = match &account {
        Some((_, _, hash)) => hash.clone(),
        None => dummy_hash().await?,
    };
    let verified = password::verify(password.to_owned(), stored)
        .await
        .map_err(|refused| match refused {
            password::Refused::Busy => Error::Busy,
            password::Refused::Failed => Error::Hashing,
        })?;
    Ok(account
        .filter(|_| verified)
        .map(|(staff_id, community_id, _)| (staff_id, community_id)))
}

/// The actor behind a session token.
/// The actor behind a session token. Asked of the database on every request (one lookup by
/// primary key), so a session ended anywhere — logout, a reissued password, an account made
/// inactive, another server process — ends at once.
pub async fn authenticate(ctx: &Ctx, now: Millis, token: &str) -> Result<Actor, Error> {
    store::actor_by_session(&ctx.db, &token_hash(token), now)
        .await?
        .ok_or(Error::Unauthenticated)
}

pub async fn logout(ctx: &Ctx, token: &str) -> Result<(), Error> {
    Ok(store::delete_session(&ctx.db, &token_hash(token)).await?)
}

fn require_admin(actor: &Actor) -> Result<(), Error> {
    if actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(crate::access::Denied.into())
    }
}

/// Checks a new account's fields; shared by the API and `yijia admin create-user`.
pub fn check_new_staff(new: &NewStaff) -> Result<(), Error> {
    let username_ok = (3..=40).contains(&new.username.len())
        && new
            .username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !username_ok {
        return Err(Error::Invalid {
            field: "username",
            reason: "3 to 40 letters, digits, '-', '_' or '.'",
        });
    }
    if new.password.chars().count() < 10 {
        return Err(Error::Invalid {
            field: "password",
            reason: "must be at least 10 characters",
        });
    }
    if new.name.trim().is_empty() || new.name.chars().count() > 50 {
        return Err(Error::Invalid {
            field: "name",
            reason: "must be 1 to 50 characters",
        });
    }
    if new.roles.is_empty() {
        return Err(Error::Invalid {
            field: "roles",
            reason: "give at least one role",
        });
    }
    let clinical = new.roles.iter().any(|r| {
        matches!(
            r,
            Role::VillageDoctor
                | Role::Doctor
                | Role::Reader
                | Role::Admin
                | Role::Interface
                | Role::ModalityInterface
        )
    });
    if clinical && new.institution_id.is_none() {
        return Err(Error::Invalid {
            field: "institution_id",
            reason: "this role works at an institution",
        });
    }
    if new.roles.contains(&Role::Resident) != new.resident_id.is_some() {
        return Err(Error::Invalid {
            field: "resident_id",
            reason: "a resident account needs resident_id, and only it",
        });
    }
    Ok(())
}

/// Creates an account in a community; no permission check (the CLI and demo loader use it).
pub async fn create_unchecked(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    new: &NewStaff,
) -> Result<i64, Error> {
    check_new_staff(new)?;
    if let Some(institution_id) = new.institution_id {
        institution::store::institution_by_id(&ctx.db, community_id, institution_id)
            .await?
            .ok_or(Error::Invalid {
                field: "institution_id",
                reason: "no such institution",
            })?;
    }
    let password_hash = hash_password(new.password.clone()).await?;
    let mut tx = ctx.db.begin().await?;
    let row = store::NewRow {
        community_id,
        institution_id: new.institution_id,
        department_id: new.department_id,
        care_team_id: None,
        resident_id: new.resident_id,
        username: new.username.trim(),
        name: new.name.trim(),
        title_level: new.title_level,
        roles: &new.roles,
        password_hash: &password_hash,
        now_ms: now,
    };
    let id = match store::insert_staff(&mut tx, &row).await {
        Ok(id) => id,
        Err(error)
            if crate::db::is_unique_violation(&error, "staff_username_key", "staff.username") =>
        {
            return Err(Error::DuplicateUsername);
        }
        Err(error) => return Err(error.into()),
    };
    tx.commit().await?;
    Ok(id)
}

/// An administrator creates a staff or machine account in their community. Residents' portal
/// accounts are not made here: they are issued face to face by their own clinic
/// (`portal::issue`), so no account can be minted that reads a record its creator cannot.
pub async fn create(ctx: &Ctx, now: Millis, actor: &Actor, new: &NewStaff) -> Result<Staff, Error> {
    require_admin(actor)?;
    if new.roles.contains(&Role::Resident) || new.resident_id.is_some() {
        return Err(Error::Invalid {
            field: "roles",
            reason: "a resident's portal account is issued by their own clinic, not here",
        });
    }
    let id = create_unchecked(ctx, now, actor.community_id, new).await?;
    audit::store::append_committed(
        &ctx.db,
        &[Entry::by(actor, now, "staff.create", "staff", Some(id))],
    )
    .await?;
    store::staff_by_id(&ctx.db, actor.community_id, id)
        .await?
        .ok_or(Error::Unauthenticated)
}

/// One member of staff of the actor's community (not a resident's portal account).
pub async fn get(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Staff, Error> {
    if !actor.is_staff() {
        return Err(crate::access::Denied.into());
    }
    store::staff_by_id(&ctx.db, actor.community_id, id)
        .await?
        .filter(|staff| !staff.roles.contains(&Role::Resident))
        .ok_or(Error::NotFound)
}

/// The staff registry of the actor's community, optionally of one institution.
pub async fn list(
    ctx: &Ctx,
    actor: &Actor,
    institution_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Staff>, Error> {
    if !actor.is_staff() {
        return Err(crate::access::Denied.into());
    }
    Ok(
        store::staff_of_community(&ctx.db, actor.community_id, institution_id, limit, offset)
            .await?,
    )
}
