//! The authorization matrix: each role against a resident of the actor's own village, of
//! another village in the same township, and of another township.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

struct Residents {
    own_village: i64,
    same_township: i64,
    other_township: i64,
}

async fn residents(app: &TestApp) -> Residents {
    let village = app.institution_of("village-doctor").await;
    let township = app.institution_of("township-doctor").await;
    Residents {
        own_village: app.resident_in_village(village).await,
        same_township: app.resident_in_township_outside(township, village).await,
        other_township: app.resident_outside_township(township).await,
    }
}

#[tokio::test]
async fn each_role_sees_exactly_the_residents_in_its_scope() {
    let app = TestApp::spawn().await;
    let r = residents(&app).await;
    use StatusCode as S;
    let matrix: [(&str, [S; 3]); 6] = [
        ("village-doctor", [S::OK, S::FORBIDDEN, S::FORBIDDEN]),
        ("township-doctor", [S::OK, S::OK, S::FORBIDDEN]),
        ("county-reader", [S::OK, S::OK, S::OK]),
        ("admin", [S::OK, S::OK, S::OK]),
        ("insurance-officer", [S::OK, S::OK, S::OK]),
        ("supervisor", [S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN]),
    ];
    for (username, expected) in matrix {
        let token = app.login(username).await;
        for (resident, status) in [r.own_village, r.same_township, r.other_township]
            .into_iter()
            .zip(expected)
        {
            let response = app
                .get(&token, &format!("/api/v1/residents/{resident}"))
                .await;
            assert_eq!(
                response.status(),
                status,
                "{username} reading resident {resident}"
            );
            if status == S::FORBIDDEN {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "access.denied");
            }
        }
    }
}

#[tokio::test]
async fn search_results_never_leave_the_scope() {
    let app = TestApp::spawn().await;
    let r = residents(&app).await;
    let id_number: String = sqlx::query_scalar("SELECT id_number FROM residents WHERE id = $1")
        .bind(r.other_township)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let village_doctor = app.login("village-doctor").await;
    let found = app
        .get_ok(
            &village_doctor,
            &format!("/api/v1/residents?id_number={id_number}"),
        )
        .await;
    assert!(found["items"].as_array().unwrap().is_empty());
    let reader = app.login("county-reader").await;
    let found = app
        .get_ok(&reader, &format!("/api/v1/residents?id_number={id_number}"))
        .await;
    assert_eq!(found["items"][0]["id"], r.other_township);
    let supervisor = app.login("supervisor").await;
    let found = app.get_ok(&supervisor, "/api/v1/residents?name=王").await;
    assert!(found["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_resident_sees_only_themself() {
    let app = TestApp::spawn().await;
    let r = residents(&app).await;
    let village_doctor = app.login("village-doctor").await;
    let issued: Value = app
        .post_json(
            Some(&village_doctor),
            &format!("/api/v1/residents/{}/portal-account", r.own_village),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    let token = app
        .login_with(
            issued["username"].as_str().unwrap(),
            issued["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        app.get(&token, &format!("/api/v1/residents/{}", r.own_village))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&token, &format!("/api/v1/residents/{}", r.same_township))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let accesses = app
        .get(
            &token,
            &format!("/api/v1/residents/{}/accesses", r.own_village),
        )
        .await;
    assert_eq!(accesses.status(), StatusCode::OK);
    assert_eq!(
        app.get(&token, "/api/v1/institutions").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn denials_are_audited_and_shown_in_the_residents_access_list() {
    let app = TestApp::spawn().await;
    let r = residents(&app).await;
    let village_doctor = app.login("village-doctor").await;
    assert_eq!(
        app.get(
            &village_doctor,
            &format!("/api/v1/residents/{}", r.other_township)
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let reader = app.login("county-reader").await;
    app.get_ok(&reader, &format!("/api/v1/residents/{}", r.other_township))
        .await;
    let admin = app.login("admin").await;
    let accesses = app
        .get_ok(
            &admin,
            &format!("/api/v1/residents/{}/accesses", r.other_township),
        )
        .await;
    let items = accesses["items"].as_array().unwrap();
    let denied = items
        .iter()
        .find(|a| a["outcome"] == "denied")
        .expect("the denial is recorded");
    assert_eq!(denied["actor_name"], "村医");
    assert_eq!(denied["action"], "resident.read");
    assert!(
        denied["actor_institution_name"]
            .as_str()
            .unwrap()
            .contains("卫生室")
    );
    assert!(
        items
            .iter()
            .any(|a| a["outcome"] == "allowed" && a["actor_name"] == "县心电诊断医师")
    );
}

#[tokio::test]
async fn machine_accounts_and_administrators_stay_out_of_clinical_work() {
    let app = TestApp::spawn().await;
    let r = residents(&app).await;
    let village_doctor = app.login("village-doctor").await;
    let ecg = crate::ecg::upload_stemi(&app, &village_doctor, r.own_village).await;
    let ecg_id = ecg["id"].as_i64().unwrap();

    // The LIS's account feeds HL7 v2 and nothing else: no ECG, waveform, worklist, referral,
    // resident, staff list or indicator.
    let lis = app.login("lab-interface").await;
    for path in [
        format!("/api/v1/ecgs/{ecg_id}"),
        format!("/api/v1/ecgs/{ecg_id}/waveform"),
        format!("/api/v1/residents/{}", r.own_village),
        "/api/v1/ecg/worklist".to_owned(),
        "/api/v1/referrals".to_owned(),
        "/api/v1/staff".to_owned(),
        "/api/v1/indicators?year=2026".to_owned(),
    ] {
        let status = app.get(&lis, &path).await.status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let claim = app
        .post_json(
            Some(&lis),
            &format!("/api/v1/ecgs/{ecg_id}/claim"),
            &Value::Null,
        )
        .await;
    assert_error(claim, StatusCode::FORBIDDEN, "access.denied").await;

    // A lab centre's reader cannot take the ECG centre's work.
    let admin = app.login("admin").await;
    let lab_centre = app.institution_id("C-LAB").await;
    let lab_reader = json!({"username": "lab-reader", "password": "lab-reader-password",
        "name": "检验医师", "roles": ["reader"], "institution_id": lab_centre});
    let created = app
        .post_json(Some(&admin), "/api/v1/staff", &lab_reader)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let lab_reader = app.login_with("lab-reader", "lab-reader-password").await;
    let claim = app
        .post_json(
            Some(&lab_reader),
            &format!("/api/v1/ecgs/{ecg_id}/claim"),
            &Value::Null,
        )
        .await;
    assert_error(claim, StatusCode::FORBIDDEN, "access.denied").await;
    let ecg_reader = app.login("county-reader").await;
    let claim = app
        .post_json(
            Some(&ecg_reader),
            &format!("/api/v1/ecgs/{ecg_id}/claim"),
            &Value::Null,
        )
        .await;
    assert_eq!(claim.status(), StatusCode::OK);

    // An ECG reader signs no X-ray report.
    let xray = json!({"resident_id": r.own_village, "kind": "imaging", "item_code": "CXR",
        "item_name": "胸部正位片", "conclusion": "心肺未见异常", "performed_at": "2026-11-20T09:00:00+08:00"});
    let response = app
        .post_json(Some(&ecg_reader), "/api/v1/exam-reports", &xray)
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "access.denied").await;

    // An administrator issues no portal credentials and mints no resident account, for a real
    // resident or a made-up one.
    let issue = app
        .post_json(
            Some(&admin),
            &format!("/api/v1/residents/{}/portal-account", r.own_village),
            &Value::Null,
        )
        .await;
    assert_error(issue, StatusCode::FORBIDDEN, "access.denied").await;
    for (roles, resident) in [
        (json!(["resident"]), r.own_village),
        (json!(["reader"]), 999_999),
    ] {
        let account = json!({"username": "minted", "password": "minted-password", "name": "x",
            "roles": roles, "institution_id": lab_centre, "resident_id": resident});
        let response = app.post_json(Some(&admin), "/api/v1/staff", &account).await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "staff.invalid").await;
    }
    // Nor does a doctor of another township or of the county: only the resident's own clinic.
    for username in ["county-doctor"] {
        let token = app.login(username).await;
        let issue = app
            .post_json(
                Some(&token),
                &format!("/api/v1/residents/{}/portal-account", r.own_village),
                &Value::Null,
            )
            .await;
        assert_error(issue, StatusCode::FORBIDDEN, "access.denied").await;
    }
}
