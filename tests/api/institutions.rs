use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn the_small_demo_has_one_lead_hospital_three_township_centres_and_ten_village_clinics() {
    let app = TestApp::spawn().await;
    let token = app.login("township-doctor").await;
    let all = app.get_ok(&token, "/api/v1/institutions").await;
    let count = |kind: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == kind)
            .count()
    };
    assert_eq!(count("lead_hospital"), 1);
    assert_eq!(count("township_centre"), 3);
    assert_eq!(count("village_clinic"), 10);
    assert_eq!(count("centre"), 3, "the ECG, imaging and lab centres");
    // Every village clinic hangs under a township centre and belongs to its township.
    for village in all
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "village_clinic")
    {
        let parent = all
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == village["parent_id"])
            .unwrap();
        assert_eq!(parent["kind"], "township_centre");
        assert_eq!(village["township_id"], parent["id"]);
    }
    let lead = all
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "lead_hospital")
        .unwrap();
    let detail = app
        .get_ok(&token, &format!("/api/v1/institutions/{}", lead["id"]))
        .await;
    assert!(
        detail["departments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "心血管内科")
    );
}

#[tokio::test]
async fn an_administrator_adds_a_village_clinic_under_a_township_centre_only() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let township = app.institution_id("T01").await;
    let lead = app.institution_id("LH").await;
    let new = json!({"parent_id": township, "kind": "village_clinic", "code": "V999", "name": "新建村卫生室", "address": "某村", "has_ecg_device": true});
    let response = app
        .post_json(Some(&admin), "/api/v1/institutions", &new)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["township_id"], township);
    assert_eq!(created["has_ecg_device"], true);

    let misplaced = json!({"parent_id": lead, "kind": "village_clinic", "code": "V998", "name": "错位村卫生室"});
    assert_error(
        app.post_json(Some(&admin), "/api/v1/institutions", &misplaced)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "institution.invalid",
    )
    .await;
    assert_error(
        app.post_json(Some(&admin), "/api/v1/institutions", &new)
            .await,
        StatusCode::CONFLICT,
        "institution.duplicate_code",
    )
    .await;

    let doctor = app.login("township-doctor").await;
    let other = json!({"parent_id": township, "kind": "village_clinic", "code": "V997", "name": "无权村卫生室"});
    assert_error(
        app.post_json(Some(&doctor), "/api/v1/institutions", &other)
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
}

#[tokio::test]
async fn an_administrator_creates_staff_with_a_title_level_and_they_can_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let village = app.institution_id("V002").await;
    let new = json!({"username": "new-doctor", "password": "a-long-password", "name": "新村医", "institution_id": village, "title_level": "intermediate", "roles": ["village_doctor"]});
    let response = app.post_json(Some(&admin), "/api/v1/staff", &new).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let staff: Value = response.json().await.unwrap();
    assert_eq!(staff["title_level"], "intermediate");
    assert!(staff.get("password_hash").is_none());
    assert_error(
        app.post_json(Some(&admin), "/api/v1/staff", &new).await,
        StatusCode::CONFLICT,
        "staff.duplicate_username",
    )
    .await;
    let response = app
        .post_json(
            None,
            "/api/v1/auth/login",
            &json!({"username": "new-doctor", "password": "a-long-password"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed = app
        .get_ok(&admin, &format!("/api/v1/staff?institution_id={village}"))
        .await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["username"] == "new-doctor")
    );
}
