//! The demo community, generated deterministically from a seed: `small` for tests and
//! `serve --demo`, `county` at the size of Sangzhi in the seeds. Loading is skipped when a demo
//! community is already there, so a second start never duplicates it.

pub mod accounts;
pub mod activity;
mod chronic;
pub mod family_doctor;
mod imaging;
mod imaging_year;
mod labs;
pub mod names;
mod referrals;
mod remote_reads;
pub mod rng;
mod staffing;
mod supervision;

use indicatif::{ProgressBar, ProgressStyle};
use sqlx::AnyConnection;
use time::{Date, Duration};

use crate::access::Role;
use crate::audit;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::institution::model::CentreService;
use crate::institution::{InstitutionKind, NewInstitution, store as institutions};
use crate::resident::id_number;
use crate::staff::{self, model::TitleLevel};
use rng::Rng;

/// The code of the demo community; its presence means the demo is loaded.
pub const COMMUNITY_CODE: &str = "demo";
pub const DEMO_PASSWORD: &str = "yijia-demo";
/// Sangzhi county's GB/T 2260 code, used for the demo residents' ID numbers.
const REGION_CODE: u32 = 430822;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    Small,
    County,
}

struct Shape {
    campuses: usize,
    centres: usize,
    townships: usize,
    villages: usize,
    residents: usize,
    care_teams: usize,
    /// Probable duplicate pairs planted for the review list.
    duplicate_pairs: usize,
}

impl Size {
    fn shape(self) -> Shape {
        match self {
            Size::Small => Shape {
                campuses: 0,
                centres: 3,
                townships: 3,
                villages: 10,
                residents: 2_000,
                care_teams: 3,
                duplicate_pairs: 4,
            },
            Size::County => Shape {
                campuses: 3,
                centres: 9,
                townships: 23,
                villages: 252,
                residents: 376_000,
                care_teams: 128,
                duplicate_pairs: 150,
            },
        }
    }
}

/// A demo account, as the README lists it.
pub struct DemoAccount {
    pub username: &'static str,
    pub role: Role,
    pub place: String,
}

pub struct Summary {
    pub community_id: i64,
    pub institutions: usize,
    pub residents: usize,
    pub accounts: Vec<DemoAccount>,
}

/// The demo community's id, if it is loaded.
pub async fn existing(ctx: &Ctx) -> Result<Option<i64>, sqlx::Error> {
    crate::institution::store::community_by_code(&ctx.db, COMMUNITY_CODE).await
}

/// Loads the demo community unless it is there already (then `Ok(None)`); with `activity` (the
/// county demo always) last year's activity and this year's up to today.
pub async fn load(
    ctx: &Ctx,
    now: Millis,
    today: Date,
    size: Size,
    seed: u64,
    progress: bool,
    activity: bool,
) -> anyhow::Result<Option<Summary>> {
    let activity = activity || size == Size::County;
    if existing(ctx).await?.is_some() {
        return Ok(None);
    }
    let shape = size.shape();
    let mut rng = Rng::new(seed);
    let bar = if progress {
        ProgressBar::new(shape.residents as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")?
            .progress_chars("=> "),
    );
    bar.set_message("机构");

    let mut tx = ctx.db.begin().await?;
    let community_name = match size {
        Size::Small => "示范县医共体",
        Size::County => "桑植县医共体（示范数据）",
    };
    let community_id = insert_community(&mut tx, community_name, now).await?;
    let tree = build_tree(&mut tx, community_id, &shape, &mut rng).await?;
    insert_staff(&mut tx, community_id, &tree, &mut rng, now).await?;
    for (from, to, level, name) in crate::referral::catalogue::DEMO {
        let entry = crate::referral::catalogue::NewCatalogueEntry {
            icd10_from: from.into(),
            icd10_to: to.into(),
            level,
            name: name.into(),
        };
        crate::referral::catalogue::insert_entry(&mut tx, community_id, &entry).await?;
    }
    for (code, name, validity_days, price_fen) in crate::recognition::DEMO {
        let item = crate::recognition::NewItem {
            code: code.into(),
            name: name.into(),
            validity_days,
            price_fen,
        };
        crate::recognition::insert_item(&mut tx, community_id, &item).await?;
    }
    tx.commit().await?;

    bar.set_message("居民");
    let residents =
        insert_residents(ctx, community_id, &tree, &shape, &mut rng, now, today, &bar).await?;
    bar.finish_with_message("完成");
    let mut tx = ctx.db.begin().await?;
    crate::insurance::load_demo(&mut tx, community_id, i64::from(today.year())).await?;
    tx.commit().await?;
    if activity {
        bar.set_message("上一年度与本年度的就诊、转诊、心电与医保结算");
        activity::generate(ctx, community_id, today.year() - 1, seed, now).await?;
        activity::generate(ctx, community_id, today.year(), seed, now).await?;
        bar.set_message("慢病登记、随访与高血压筛查");
        let registry = chronic::generate(ctx, community_id, today, seed, now).await?;
        tracing::info!(
            enrolments = registry.enrolments,
            follow_ups = registry.follow_ups,
            referrals = registry.referrals,
            screened = registry.screened,
            screenings = registry.screenings,
            "demo chronic registry"
        );
        bar.set_message("监管规则应发现的病例");
        let mut planted = 0;
        for year in [today.year() - 1, today.year()] {
            planted += supervision::plant(ctx, community_id, year, seed, now).await?;
        }
        tracing::info!(planted, "demo supervision cases");
    }
    bar.set_message("指标月度汇总");
    crate::indicator::refresh_facts(&ctx.db, community_id).await?;

    let accounts = accounts::create(ctx, now, community_id, &tree).await?;
    bar.set_message("影像检查");
    let studies = imaging::generate(ctx, community_id, seed, now).await?;
    tracing::info!(studies, "demo imaging studies");
    if activity {
        bar.set_message("一年的远程影像诊断");
        let reads = imaging_year::generate(ctx, community_id, seed, now).await?;
        tracing::info!(reads, "demo remote imaging reads");
    }
    let packages = family_doctor::teams_and_packages(ctx, community_id).await?;
    if activity {
        bar.set_message("家庭医生签约");
        let signed = family_doctor::contracts(ctx, community_id, &packages, today, seed).await?;
        tracing::info!(contracts = signed, "demo family doctor contracts");
    }
    if activity {
        activity::budget(ctx, now, community_id, today.year() - 1).await?;
        activity::budget(ctx, now, community_id, today.year()).await?;
        let past = today.year() - 1;
        bar.set_message("监管预警与整改");
        let alerts = supervision::run_and_work(ctx, now, community_id, (past, today)).await?;
        tracing::info!(alerts, "demo supervision alerts worked");
        bar.set_message("医师派驻、薪酬与绩效考核");
        let dispatches = staffing::dispatches(ctx, now, community_id, (past, today)).await?;
        let paid = staffing::payroll(ctx, now, community_id, (past, seed)).await?;
        let assessed = staffing::freeze_and_settle(ctx, now, community_id, past).await?;
        tracing::info!(
            dispatches,
            paid,
            assessed,
            "demo dispatches, payroll and assessment"
        );
        bar.set_message("近 30 天检验结果与危急值");
        labs::generate(ctx, community_id, seed, now).await?;
    }
    let entry = audit::Entry {
        community_id,
        at_ms: now,
        actor_staff_id: None,
        actor_institution_id: None,
        action: "demo.load".into(),
        resource: "community".into(),
        resource_id: Some(community_id),
        resident_id: None,
        outcome: audit::Outcome::Allowed,
        detail: format!("size={size:?} seed={seed}"),
    };
    audit::store::append_committed(&ctx.db, &[entry]).await?;
    Ok(Some(Summary {
        community_id,
        institutions: tree.count,
        residents,
        accounts,
    }))
}

async fn insert_community(
    conn: &mut AnyConnection,
    name: &str,
    now: Millis,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO communities (community_id, code, name, region_code, created_at_ms) \
         VALUES (0, $1, $2, $3, $4) RETURNING id",
    )
    .bind(COMMUNITY_CODE)
    .bind(name)
    .bind(REGION_CODE.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE communities SET community_id = id WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    audit::store::start_chain(conn, id).await?;
    Ok(id)
}

pub(super) struct Village {
    id: i64,
    township_id: i64,
    grid_id: i64,
    name: String,
}

pub(super) struct Tree {
    lead_hospital: i64,
    campuses: Vec<i64>,
    ecg_centre: i64,
    imaging_centre: i64,
    lab_centre: i64,
    townships: Vec<(i64, String)>,
    villages: Vec<Village>,
    count: usize,
}

fn institution(
    kind: InstitutionKind,
    parent: Option<i64>,
    code: String,
    name: String,
    rng: &mut Rng,
) -> NewInstitution {
    // Around Sangzhi: 29.4°N, 110.2°E.
    let latitude = 29.1 + rng.unit() * 0.7;
    let longitude = 109.8 + rng.unit() * 0.8;
    NewInstitution {
        parent_id: parent,
        kind,
        code,
        address: format!("湖南省张家界市桑植县{name}"),
        name,
        latitude: Some((latitude * 1e4).round() / 1e4),
        longitude: Some((longitude * 1e4).round() / 1e4),
        // Most, not all, village clinics have an ECG device (indicator 2.2).
        has_ecg_device: kind != InstitutionKind::VillageClinic || !rng.chance(0.08),
        service: None,
    }
}

async fn build_tree(
    conn: &mut AnyConnection,
    community_id: i64,
    shape: &Shape,
    rng: &mut Rng,
) -> Result<Tree, sqlx::Error> {
    let mut count = 0;
    let lead = institution(
        InstitutionKind::LeadHospital,
        None,
        "LH".into(),
        "县总医院".into(),
        rng,
    );
    let lead_hospital = institutions::insert_institution(conn, community_id, None, &lead).await?;
    count += 1;
    for (code, name) in names::LEAD_DEPARTMENTS {
        institutions::insert_department(conn, community_id, lead_hospital, code, name).await?;
    }
    let mut campuses = Vec::new();
    for (index, name) in ["人民医院院区", "民族中医院院区", "妇幼保健院院区"]
        .iter()
        .take(shape.campuses)
        .enumerate()
    {
        let campus = institution(
            InstitutionKind::Campus,
            Some(lead_hospital),
            format!("LH-{}", index + 1),
            (*name).into(),
            rng,
        );
        let id = institutions::insert_institution(conn, community_id, None, &campus).await?;
        if name.contains("中医院") {
            // The TCM hospital's visits are TCM visits (indicator 4.3).
            institutions::insert_department(conn, community_id, id, "TCM", "中医科").await?;
        }
        campuses.push(id);
        count += 1;
    }
    let (mut ecg_centre, mut imaging_centre, mut lab_centre) = (0, 0, 0);
    for (code, name) in names::CENTRES.iter().take(shape.centres) {
        let mut centre = institution(
            InstitutionKind::Centre,
            Some(lead_hospital),
            (*code).into(),
            (*name).into(),
            rng,
        );
        centre.service = Some(match *code {
            "C-ECG" => CentreService::Ecg,
            "C-IMG" => CentreService::Imaging,
            "C-LAB" => CentreService::Lab,
            "C-PATH" => CentreService::Pathology,
            _ => CentreService::Other,
        });
        let id = institutions::insert_institution(conn, community_id, None, &centre).await?;
        match *code {
            "C-ECG" => ecg_centre = id,
            "C-IMG" => imaging_centre = id,
            "C-LAB" => lab_centre = id,
            _ => {}
        }
        count += 1;
    }
    let mut townships = Vec::new();
    for (index, town) in names::TOWNSHIPS.iter().take(shape.townships).enumerate() {
        let name = format!("{town}镇卫生院");
        let new = institution(
            InstitutionKind::TownshipCentre,
            Some(lead_hospital),
            format!("T{:02}", index + 1),
            name.clone(),
            rng,
        );
        let id = institutions::insert_institution(conn, community_id, None, &new).await?;
        institutions::set_own_township(conn, community_id, id).await?;
        for (code, department) in names::TOWNSHIP_DEPARTMENTS {
            institutions::insert_department(conn, community_id, id, code, department).await?;
        }
        townships.push((id, name));
        count += 1;
    }
    // Care teams belong to township centres, round-robin.
    let mut teams_of_township: Vec<Vec<i64>> = vec![Vec::new(); townships.len()];
    for team in 0..shape.care_teams {
        let slot = team % townships.len();
        let (township_id, township_name) = &townships[slot];
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO care_teams (community_id, institution_id, name) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(community_id)
        .bind(township_id)
        .bind(format!("{}家庭医生团队{}", township_name.trim_end_matches("镇卫生院"), teams_of_township[slot].len() + 1))
        .fetch_one(&mut *conn)
        .await?;
        teams_of_township[slot].push(id);
    }
    let mut villages = Vec::new();
    let mut used_names = std::collections::HashSet::new();
    for index in 0..shape.villages {
        let slot = index % townships.len();
        let (township_id, township_name) = &townships[slot];
        let village_name = loop {
            let candidate = format!(
                "{}{}村",
                rng.pick(&names::VILLAGE_FIRST),
                rng.pick(&names::VILLAGE_SECOND)
            );
            if used_names.insert(candidate.clone()) || used_names.len() > 280 {
                break candidate;
            }
        };
        let town = township_name.trim_end_matches("镇卫生院");
        let name = format!("{town}镇{village_name}卫生室");
        let new = institution(
            InstitutionKind::VillageClinic,
            Some(*township_id),
            format!("V{:03}", index + 1),
            name.clone(),
            rng,
        );
        let id =
            institutions::insert_institution(conn, community_id, Some(*township_id), &new).await?;
        let teams = &teams_of_township[slot];
        let team = teams
            .get(index / townships.len() % teams.len().max(1))
            .copied();
        let grid_id: i64 = sqlx::query_scalar(
            "INSERT INTO grids (community_id, village_clinic_id, care_team_id, code, name) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(community_id)
        .bind(id)
        .bind(team)
        .bind(format!("G{:03}", index + 1))
        .bind(format!("{town}镇{village_name}网格"))
        .fetch_one(&mut *conn)
        .await?;
        villages.push(Village {
            id,
            township_id: *township_id,
            grid_id,
            name,
        });
        count += 1;
    }
    Ok(Tree {
        lead_hospital,
        campuses,
        ecg_centre,
        imaging_centre,
        lab_centre,
        townships,
        villages,
        count,
    })
}

fn person_name(rng: &mut Rng, male: bool) -> String {
    let given = if male {
        &names::GIVEN_MALE[..]
    } else {
        &names::GIVEN_FEMALE[..]
    };
    let surname = rng.pick(&names::SURNAMES);
    if rng.chance(0.3) {
        format!("{surname}{}", rng.pick(given))
    } else {
        format!("{surname}{}{}", rng.pick(given), rng.pick(given))
    }
}

/// Registry staff without a usable password: they appear in lists but cannot log in.
async fn insert_staff(
    conn: &mut AnyConnection,
    community_id: i64,
    tree: &Tree,
    rng: &mut Rng,
    now: Millis,
) -> Result<(), sqlx::Error> {
    let mut places: Vec<(i64, Role, usize)> = vec![
        (tree.lead_hospital, Role::Doctor, 12),
        (tree.ecg_centre, Role::Reader, 4),
        (tree.imaging_centre, Role::Reader, 4),
    ];
    places.extend(tree.campuses.iter().map(|id| (*id, Role::Doctor, 6)));
    places.extend(tree.townships.iter().map(|(id, _)| (*id, Role::Doctor, 4)));
    places.extend(tree.villages.iter().map(|v| (v.id, Role::VillageDoctor, 1)));
    let mut number = 0;
    for (institution_id, role, count) in places {
        for _ in 0..count {
            number += 1;
            let male = rng.chance(0.55);
            let title = *rng.pick(&TitleLevel::ALL);
            let username = format!("staff{number:05}");
            let name = person_name(rng, male);
            let row = staff::store::NewRow {
                community_id,
                institution_id: Some(institution_id),
                department_id: None,
                care_team_id: None,
                resident_id: None,
                username: &username,
                name: &name,
                title_level: Some(title),
                roles: &[role],
                password_hash: "!",
                now_ms: now,
            };
            staff::store::insert_staff(conn, &row).await?;
        }
    }
    Ok(())
}

struct Person {
    id_number: String,
    /// The village group (村民小组) the resident lives in.
    group: u64,
    name: String,
    sex: &'static str,
    birth_date: String,
    phone: String,
    village: usize,
}

fn birth_date(rng: &mut Rng, today: Date) -> Date {
    let band = rng.weighted(&names::AGE_BAND_WEIGHTS) as i64;
    let age_days = (band * 5 * 365) + rng.below(5 * 365) as i64;
    today - Duration::days(age_days.max(1))
}

fn phone(rng: &mut Rng) -> String {
    let prefix = rng.pick(&[
        "138", "139", "150", "151", "158", "177", "180", "187", "199",
    ]);
    format!("{prefix}{:08}", rng.below(100_000_000))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one loader step with its whole context"
)]
async fn insert_residents(
    ctx: &Ctx,
    community_id: i64,
    tree: &Tree,
    shape: &Shape,
    rng: &mut Rng,
    now: Millis,
    today: Date,
    bar: &ProgressBar,
) -> anyhow::Result<usize> {
    let mut sequences = std::collections::HashMap::<Date, u32>::new();
    let mut people: Vec<Person> = Vec::with_capacity(shape.residents);
    // Village sizes vary by ±30 % around the mean.
    let weights: Vec<f64> = (0..tree.villages.len())
        .map(|_| 0.7 + rng.unit() * 0.6)
        .collect();
    for _ in 0..shape.residents - shape.duplicate_pairs {
        let born = birth_date(rng, today);
        let age = (today - born).whole_days() / 365;
        let male_share = if age < 60 {
            0.52
        } else if age < 80 {
            0.47
        } else {
            0.40
        };
        let male = rng.chance(male_share);
        let counter = sequences.entry(born).or_insert(0);
        let sequence = *counter * 2 + u32::from(male);
        *counter += 1;
        people.push(Person {
            id_number: id_number::compose(REGION_CODE, born, sequence),
            group: 1 + rng.below(9),
            name: person_name(rng, male),
            sex: if male { "male" } else { "female" },
            birth_date: born.to_string(),
            phone: phone(rng),
            village: rng.weighted(&weights),
        });
    }
    // Probable duplicates: half re-registrations under a mistyped ID number (same name and birth
    // date, same township), half family members sharing one phone.
    for pair in 0..shape.duplicate_pairs {
        let original = rng.below(people.len() as u64) as usize;
        let born = Date::parse(
            &people[original].birth_date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )?;
        let male = people[original].sex == "male";
        let counter = sequences.entry(born).or_insert(0);
        let sequence = *counter * 2 + u32::from(male);
        *counter += 1;
        let copy = if pair % 2 == 0 {
            Person {
                id_number: id_number::compose(REGION_CODE, born, sequence),
                group: people[original].group,
                name: people[original].name.clone(),
                sex: people[original].sex,
                birth_date: people[original].birth_date.clone(),
                phone: phone(rng),
                village: people[original].village,
            }
        } else {
            let born = birth_date(rng, today);
            let counter = sequences.entry(born).or_insert(0);
            let sequence = *counter * 2 + u32::from(!male);
            *counter += 1;
            Person {
                id_number: id_number::compose(REGION_CODE, born, sequence),
                group: people[original].group,
                name: person_name(rng, !male),
                sex: if male { "female" } else { "male" },
                birth_date: born.to_string(),
                phone: people[original].phone.clone(),
                village: people[original].village,
            }
        };
        people.push(copy);
    }
    // Small statements: SQLite finds each named parameter by a linear scan, so a statement's
    // binding cost grows with the square of its parameter count.
    const CHUNK: usize = 50;
    const COLUMNS: usize = 13;
    let mut tx = ctx.db.begin().await?;
    for chunk in people.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let params: Vec<String> = (1..=COLUMNS)
                    .map(|c| format!("${}", row * COLUMNS + c))
                    .collect();
                format!("({})", params.join(","))
            })
            .collect();
        let sql = format!(
            "INSERT INTO residents (community_id, id_number, name, sex, birth_date, phone, address, \
             village_clinic_id, township_id, grid_id, created_at_ms, updated_at_ms, name_pinyin) \
             VALUES {}",
            values.join(",")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for person in chunk {
            let village = &tree.villages[person.village];
            query = query
                .bind(community_id)
                .bind(person.id_number.clone())
                .bind(person.name.clone())
                .bind(person.sex)
                .bind(person.birth_date.clone())
                .bind(person.phone.clone())
                .bind(format!(
                    "{}{}组",
                    village.name.trim_end_matches("卫生室"),
                    person.group
                ))
                .bind(village.id)
                .bind(village.township_id)
                .bind(village.grid_id)
                .bind(now)
                .bind(now)
                .bind(crate::resident::pinyin::keys(&person.name));
        }
        query.execute(&mut *tx).await?;
        bar.inc(chunk.len() as u64);
    }
    tx.commit().await?;
    Ok(people.len())
}
