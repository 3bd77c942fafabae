//! The demo's accounts, one per role, each at the institution where that role works, and the
//! modality account's AE titles (DCMTK's defaults).

use super::{DEMO_PASSWORD, DemoAccount, Tree};
use crate::access::Role;
use crate::clock::Millis;
use crate::ctx::Ctx;
use crate::staff::{
    self,
    model::{NewStaff, TitleLevel},
};

pub(super) async fn create(
    ctx: &Ctx,
    now: Millis,
    community_id: i64,
    tree: &Tree,
) -> anyhow::Result<Vec<DemoAccount>> {
    let (township_id, township_name) = tree.townships[0].clone();
    let village = tree
        .villages
        .iter()
        .find(|v| v.township_id == township_id)
        .expect("every township has villages");
    let account =
        |username: &'static str, name: &str, role, institution_id, title_level, place: &str| {
            let new = NewStaff {
                username: username.into(),
                password: DEMO_PASSWORD.into(),
                name: name.into(),
                institution_id,
                department_id: None,
                title_level,
                roles: vec![role],
                resident_id: None,
            };
            (
                new,
                DemoAccount {
                    username,
                    role,
                    place: place.to_owned(),
                },
            )
        };
    let accounts = [
        account(
            "admin",
            "系统管理员",
            Role::Admin,
            Some(tree.lead_hospital),
            None,
            "县总医院",
        ),
        account(
            "county-reader",
            "县心电诊断医师",
            Role::Reader,
            Some(tree.ecg_centre),
            Some(TitleLevel::AssociateSenior),
            "超声心电诊断中心",
        ),
        account(
            "imaging-reader",
            "县影像诊断医师",
            Role::Reader,
            Some(tree.imaging_centre),
            Some(TitleLevel::AssociateSenior),
            "放射诊断中心",
        ),
        account(
            "lab-interface",
            "检验中心 LIS 接口",
            Role::Interface,
            Some(tree.lab_centre),
            None,
            "医学检验中心",
        ),
        account(
            "pacs-interface",
            "乡镇影像设备网关",
            Role::ModalityInterface,
            Some(township_id),
            None,
            &township_name,
        ),
        account(
            "county-doctor",
            "胸痛中心医生",
            Role::Doctor,
            Some(tree.lead_hospital),
            Some(TitleLevel::AssociateSenior),
            "县总医院胸痛中心",
        ),
        account(
            "township-doctor",
            "乡镇医生",
            Role::Doctor,
            Some(township_id),
            Some(TitleLevel::Intermediate),
            &township_name,
        ),
        account(
            "village-doctor",
            "村医",
            Role::VillageDoctor,
            Some(village.id),
            Some(TitleLevel::Junior),
            &village.name,
        ),
        account(
            "insurance-officer",
            "医保经办员",
            Role::InsuranceOfficer,
            None,
            None,
            "县医保局",
        ),
        account(
            "supervisor",
            "卫健局监管员",
            Role::Supervisor,
            None,
            None,
            "县卫健局",
        ),
    ];
    let mut created = Vec::new();
    for (new, listed) in accounts {
        let staff_id = staff::create_unchecked(ctx, now, community_id, &new).await?;
        if listed.role == Role::ModalityInterface {
            // DCMTK's default calling AE titles, so its tools work against the demo as they are.
            let mut tx = ctx.db.begin().await?;
            for title in ["ECHOSCU", "STORESCU", "FINDSCU"] {
                let description = format!("{township_name}（DCMTK {title}）");
                crate::imaging::modality::insert(
                    &mut tx,
                    community_id,
                    title,
                    staff_id,
                    &description,
                    now,
                )
                .await?;
            }
            tx.commit().await?;
        }
        created.push(listed);
    }
    Ok(created)
}
