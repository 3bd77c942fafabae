//! Family doctor contracts over HTTP: teams and packages to choose from, a contract signed at
//! the clinic (one in force per resident, at least a year, the basic package always, key groups
//! from the record), its fulfilment counted from the follow-ups and visits that delivered it,
//! the renewal task 30 days before the end and the renewal, termination with a reason, the
//! measures, and the pages.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chronic_follow_up::{enrol_on, follow_up, form, villager_born};
use crate::helpers::{TestApp, assert_error};

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn date_days_ago(days: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp((now_ms() - days * DAY) / 1000 + 8 * 3600)
        .unwrap()
        .date()
        .to_string()
}

/// The village doctor's staff id and a team they are a member of.
async fn doctor_and_team(app: &TestApp, token: &str) -> (i64, i64) {
    let village = app.institution_of("village-doctor").await;
    let teams = app
        .get_ok(
            token,
            &format!("/api/v1/family-doctor/teams?institution={village}"),
        )
        .await;
    let doctor: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = 'village-doctor'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let team = teams
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["staff_id"] == doctor && m["role"] == "village_doctor")
        })
        .unwrap_or_else(|| panic!("a team with the village doctor: {teams}"));
    (doctor, team["id"].as_i64().unwrap())
}

async fn sign(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post_json(Some(token), "/api/v1/family-doctor/contracts", body)
        .await
}

fn delivery<'a>(contract: &'a Value, service: &str) -> &'a Value {
    contract["delivery"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["service"]["code"] == service)
        .unwrap_or_else(|| panic!("{service} in {contract}"))
}

#[tokio::test]
async fn a_contract_is_signed_once_and_its_fulfilment_comes_from_the_records() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let (doctor, team) = doctor_and_team(&app, &token).await;
    let packages = app.get_ok(&token, "/api/v1/family-doctor/packages").await;
    assert_eq!(
        packages[0]["code"], "basic",
        "the basic package first: {packages}"
    );
    let resident = villager_born(&app, "1955-01-01", "1975-01-01", 0).await;
    enrol_on(&app, &token, resident, "hypertension", "2026-01-05").await;
    let start = date_days_ago(30);
    let body = json!({"resident_id": resident, "team_id": team, "doctor_staff_id": doctor,
                      "start_date": start, "packages": ["hypertension"], "key_groups": ["poverty"]});

    let response = sign(&app, &token, &body).await;
    let status = response.status();
    let contract: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{contract}");
    let id = contract["id"].as_i64().unwrap();
    assert_eq!(contract["status"], "active");
    assert_eq!(contract["start_date"], start.as_str());
    let codes: Vec<&str> = contract["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["basic", "hypertension"]);
    let groups = contract["key_groups"].as_array().unwrap();
    assert!(groups.contains(&json!("hypertension")) && groups.contains(&json!("poverty")));

    // One in force per resident; a second one (a retry too) is refused.
    assert_error(
        sign(&app, &token, &body).await,
        StatusCode::CONFLICT,
        "family_doctor.contract_exists",
    )
    .await;
    let other = villager_born(&app, "1955-01-01", "1975-01-01", 1).await;
    let mut short = body.clone();
    short["resident_id"] = json!(other);
    short["end_date"] = json!(date_days_ago(-200));
    assert_error(
        sign(&app, &token, &short).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "family_doctor.invalid",
    )
    .await;
    let mut stranger = body.clone();
    stranger["resident_id"] = json!(other);
    stranger["doctor_staff_id"] = json!(doctor + 100_000);
    assert_error(
        sign(&app, &token, &stranger).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "family_doctor.invalid",
    )
    .await;
    let outsider = app
        .resident_outside_township(app.institution_of("township-doctor").await)
        .await;
    let mut outside = body.clone();
    outside["resident_id"] = json!(outsider);
    assert_eq!(
        sign(&app, &token, &outside).await.status(),
        StatusCode::FORBIDDEN
    );

    // Nothing delivered yet: a follow-up and a visit deliver their services.
    let path = format!("/api/v1/family-doctor/contracts/{id}");
    let before = app.get_ok(&token, &path).await;
    assert_eq!(delivery(&before, "ht_follow_up")["due"], 1);
    assert_eq!(delivery(&before, "ht_follow_up")["delivered"], 0);
    assert_eq!(before["fulfilment_percent"], 0.0);
    let at = (now_ms() - 3 * DAY).to_string();
    let enrolment = enrolment_of(&app, resident).await;
    follow_up(
        &app,
        &token,
        enrolment,
        &form(&at, json!({"sbp": 128, "dbp": 80})),
    )
    .await;
    let visit = app
        .post_json(
            Some(&token),
            "/api/v1/encounters",
            &json!({"resident_id": resident, "kind": "outpatient",
                    "started_at": (now_ms() - 2 * DAY).to_string(), "diagnoses": ["I10"]}),
        )
        .await;
    assert!(
        visit.status().is_success(),
        "{}",
        visit.text().await.unwrap()
    );
    let after = app.get_ok(&token, &path).await;
    assert_eq!(delivery(&after, "ht_follow_up")["delivered"], 1, "{after}");
    assert_eq!(delivery(&after, "clinic_visit")["delivered"], 1);
    assert_eq!(delivery(&after, "ecg")["delivered"], 0);
    // Due so far: one of each (a month into the year); met: the follow-up and the visit.
    assert_eq!(after["fulfilment_percent"], 66.7, "{after}");

    let supervisor = app.login("supervisor").await;
    let measures = app
        .get_ok(&supervisor, "/api/v1/family-doctor/measures")
        .await;
    let total = &measures["total"];
    assert_eq!(total["coverage"]["numerator"], 1, "{measures}");
    assert_eq!(total["chronic_under_contract"]["numerator"], 1);
    assert_eq!(total["chronic_under_contract"]["denominator"], 1);
    assert_eq!(total["key_group_coverage"]["numerator"], 1);
    assert_eq!(total["fulfilment"]["numerator"], 2);
    assert_eq!(total["fulfilment"]["denominator"], 3);
    let listed = app
        .get_ok(&token, "/api/v1/family-doctor/contracts?status=active")
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

async fn enrolment_of(app: &TestApp, resident: i64) -> i64 {
    sqlx::query_scalar("SELECT id FROM chronic_enrolments WHERE resident_id = $1")
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_contract_ending_within_30_days_is_a_renewal_task_until_renewed_or_terminated() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let (doctor, team) = doctor_and_team(&app, &token).await;
    let resident = villager_born(&app, "1950-01-01", "1985-01-01", 2).await;
    let body = json!({"resident_id": resident, "team_id": team, "doctor_staff_id": doctor,
                      "start_date": date_days_ago(0)});
    let response = sign(&app, &token, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let expiring = "/api/v1/family-doctor/contracts?status=expiring";
    assert!(
        app.get_ok(&token, expiring).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Eleven months on: the contract ends in 20 days.
    let (start, end) = (date_days_ago(345), date_days_ago(-20));
    sqlx::query("UPDATE family_doctor_contracts SET start_date = $1, end_date = $2 WHERE id = $3")
        .bind(&start)
        .bind(&end)
        .bind(id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let tasks = app.get_ok(&token, expiring).await;
    assert_eq!(tasks["items"][0]["id"], id, "{tasks}");

    let renewal = app
        .post_json(
            Some(&token),
            &format!("/api/v1/family-doctor/contracts/{id}/renewal"),
            &json!({}),
        )
        .await;
    let status = renewal.status();
    let renewed: Value = renewal.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{renewed}");
    assert_eq!(renewed["renewal_of_id"], id);
    assert_eq!(renewed["start_date"], date_days_ago(-21).as_str());
    assert_eq!(renewed["status"], "upcoming");
    assert!(
        app.get_ok(&token, expiring).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let old = app
        .get_ok(&token, &format!("/api/v1/family-doctor/contracts/{id}"))
        .await;
    assert_eq!(old["renewed_by_id"], renewed["id"]);
    assert_error(
        app.post_json(
            Some(&token),
            &format!("/api/v1/family-doctor/contracts/{id}/renewal"),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "family_doctor.closed",
    )
    .await;

    // Terminated with a reason (none refused); then the resident may sign again.
    let new_id = renewed["id"].as_i64().unwrap();
    let end_path = format!("/api/v1/family-doctor/contracts/{new_id}/termination");
    assert_error(
        app.post_json(Some(&token), &end_path, &json!({"reason": " "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "family_doctor.invalid",
    )
    .await;
    let ended = app
        .post_json(Some(&token), &end_path, &json!({"reason": "迁往外县"}))
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    let ended: Value = ended.json().await.unwrap();
    assert_eq!(ended["status"], "terminated");
    assert_eq!(ended["termination_reason"], "迁往外县");
    let mut again = body.clone();
    again["start_date"] = json!(date_days_ago(-21));
    assert_eq!(
        sign(&app, &token, &again).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn teams_and_packages_are_the_administrators_and_contracts_are_signed_from_the_pages() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let village = app.institution_of("village-doctor").await;
    let doctor: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = 'village-doctor'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let township_doctor: i64 =
        sqlx::query_scalar("SELECT id FROM staff WHERE username = 'township-doctor'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let team = app
        .post_json(
            Some(&admin),
            "/api/v1/family-doctor/teams",
            &json!({"institution_id": app.institution_of("township-doctor").await, "name": "新田村签约团队",
                    "members": [{"staff_id": township_doctor, "role": "general_practitioner"},
                                {"staff_id": doctor, "role": "village_doctor"}]}),
        )
        .await;
    assert_eq!(team.status(), StatusCode::CREATED);
    let team: Value = team.json().await.unwrap();
    assert_eq!(team["members"].as_array().unwrap().len(), 2);
    let village_token = app.login("village-doctor").await;
    let refused = app
        .post_json(
            Some(&village_token),
            "/api/v1/family-doctor/teams",
            &json!({"institution_id": village, "name": "x", "members": []}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let package = json!({"code": "children", "name": "儿童个性化服务包", "kind": "personalised",
        "price_fen": 5000, "key_groups": ["children"],
        "services": [{"code": "child_visit", "name": "儿童健康检查", "per_year": 2, "source": "encounter"}]});
    let created = app
        .post_json(Some(&admin), "/api/v1/family-doctor/packages", &package)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_error(
        app.post_json(Some(&admin), "/api/v1/family-doctor/packages", &package)
            .await,
        StatusCode::CONFLICT,
        "family_doctor.duplicate",
    )
    .await;

    let session = app.web_login("village-doctor").await;
    let resident = villager_born(&app, "1950-01-01", "1985-01-01", 3).await;
    let (status, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"family-doctor-sign\""), "the sign form");
    let choice = format!("{doctor}:{}", team["id"]);
    let today = date_days_ago(0);
    let (status, html) = app
        .submit(
            &session,
            &format!("/residents/{resident}/family-doctor"),
            &[
                ("doctor", choice.as_str()),
                ("start_date", today.as_str()),
                ("packages", "children"),
                ("key_groups", "disabled"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("家庭医生签约服务协议书"), "{html}");
    assert!(html.contains("新田村签约团队") && html.contains("儿童健康检查"));
    assert!(html.contains("残疾人"));
    let (status, html) = app.page(&session, "/family-doctor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"active\"") && html.contains("id=\"fd-measures\""),
        "{html}"
    );
    let (_, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert!(
        html.contains("id=\"family-doctor-contracts\"")
            && !html.contains("id=\"family-doctor-sign\"")
    );
}
