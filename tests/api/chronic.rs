//! The chronic registry over HTTP: a village doctor enrols a resident of 35 or over once per
//! programme, with the managing institution and its doctor; the list is the institution's;
//! the status moves with a reason; others' residents are refused.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn a_resident_is_enrolled_once_per_programme_and_leaves_with_a_reason() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    // A resident of the village aged 35 or over, by the birth date the ID number gives.
    let resident: i64 = sqlx::query_scalar(
        "SELECT id FROM residents WHERE village_clinic_id = $1 AND birth_date <= '1980-01-01' \
         ORDER BY id LIMIT 1",
    )
    .bind(village)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let young: i64 = sqlx::query_scalar(
        "SELECT id FROM residents WHERE village_clinic_id = $1 AND birth_date >= '2000-01-01' \
         ORDER BY id LIMIT 1",
    )
    .bind(village)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let doctor: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = 'village-doctor'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let token = app.login("village-doctor").await;
    let body = |resident: i64, program: &str| {
        json!({"resident_id": resident, "program": program, "enrolled_on": "2026-03-01",
               "basis": "screened", "institution_id": village, "doctor_staff_id": doctor})
    };
    let response = app
        .post_json(
            Some(&token),
            "/api/v1/chronic/enrolments",
            &body(resident, "hypertension"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let enrolment: serde_json::Value = response.json().await.unwrap();
    assert_eq!(enrolment["status"], "managed");
    assert_eq!(enrolment["program"], "hypertension");
    let id = enrolment["id"].as_i64().unwrap();
    // Twice in one programme: 409; the other programme is allowed.
    assert_error(
        app.post_json(
            Some(&token),
            "/api/v1/chronic/enrolments",
            &body(resident, "hypertension"),
        )
        .await,
        StatusCode::CONFLICT,
        "chronic.duplicate",
    )
    .await;
    let response = app
        .post_json(
            Some(&token),
            "/api/v1/chronic/enrolments",
            &body(resident, "diabetes"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_error(
        app.post_json(
            Some(&token),
            "/api/v1/chronic/enrolments",
            &body(young, "diabetes"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    let mut future = body(young, "hypertension");
    future["enrolled_on"] = json!("2999-01-01");
    assert_error(
        app.post_json(Some(&token), "/api/v1/chronic/enrolments", &future)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    // Outside the village doctor's scope: refused.
    let township = app.institution_of("township-doctor").await;
    let outside = app.resident_outside_township(township).await;
    assert_error(
        app.post_json(
            Some(&token),
            "/api/v1/chronic/enrolments",
            &body(outside, "hypertension"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;

    let listed = app
        .get_ok(&token, "/api/v1/chronic/enrolments?program=hypertension")
        .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["resident_id"], resident);

    // Leaving management needs a reason.
    let patch = |change: serde_json::Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .patch(format!("{}/api/v1/chronic/enrolments/{id}", app.address))
                .bearer_auth(token)
                .json(&change)
                .send()
                .await
                .unwrap()
        }
    };
    assert_error(
        patch(json!({"status": "ended"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    let response =
        patch(json!({"status": "ended", "status_on": "2026-11-30", "reason": "迁出本县"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let ended: serde_json::Value = response.json().await.unwrap();
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["status_reason"], "迁出本县");
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'chronic.enrolment.%' AND resident_id = $1",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(audited >= 4, "{audited}");
}
