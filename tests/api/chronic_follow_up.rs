//! Follow-ups over HTTP: the server decides classification and next step by the national rules
//! (each emergency criterion just below and at its threshold), a second uncontrolled visit is
//! referred with the referral raised in the same request and a task that closes with the
//! referral's outcome, a different decision needs a reason, implausible values are refused,
//! a retry does not record twice; the county's thresholds are data.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

/// A resident of the village doctor's clinic born in the given range of years.
pub async fn villager_born(app: &TestApp, from: &str, to: &str, skip: i64) -> i64 {
    let village = app.institution_of("village-doctor").await;
    sqlx::query_scalar(
        "SELECT id FROM residents WHERE village_clinic_id = $1 AND birth_date >= $2 \
         AND birth_date < $3 ORDER BY id LIMIT 1 OFFSET $4",
    )
    .bind(village)
    .bind(from)
    .bind(to)
    .bind(skip)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

/// Enrols the resident at the village doctor's clinic on 2026-01-05; returns the enrolment id.
pub async fn enrol(app: &TestApp, token: &str, resident: i64, program: &str) -> i64 {
    enrol_on(app, token, resident, program, "2026-01-05").await
}

/// Enrols the resident at the village doctor's clinic on `date`; returns the enrolment id.
pub async fn enrol_on(app: &TestApp, token: &str, resident: i64, program: &str, date: &str) -> i64 {
    let village = app.institution_of("village-doctor").await;
    let doctor: i64 = sqlx::query_scalar("SELECT id FROM staff WHERE username = 'village-doctor'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let response = app
        .post_json(
            Some(token),
            "/api/v1/chronic/enrolments",
            &json!({"resident_id": resident, "program": program, "enrolled_on": date,
                    "basis": "confirmed_at_hospital", "institution_id": village,
                    "doctor_staff_id": doctor}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// A follow-up form at `at` with the given readings over a plain clinic visit.
pub fn form(at: &str, readings: Value) -> Value {
    let mut body = json!({"followed_up_at": at, "mode": "clinic", "symptoms": [],
        "heart_rate": 72, "weight_kg": 68, "height_cm": 165, "adherence": "regular",
        "adverse_reaction": false,
        "medicines": [{"name": "氨氯地平片", "dose": "5 mg", "frequency": "每日一次"}]});
    for (key, value) in readings.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

pub async fn follow_up(app: &TestApp, token: &str, enrolment: i64, body: &Value) -> Value {
    let response = app
        .post_json(
            Some(token),
            &format!("/api/v1/chronic/enrolments/{enrolment}/follow-ups"),
            body,
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn decision(app: &TestApp, token: &str, enrolment: i64, readings: Value) -> Value {
    let response = app
        .post_json(
            Some(token),
            &format!("/api/v1/chronic/enrolments/{enrolment}/decision"),
            &form("2026-06-01T09:00:00+08:00", readings),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn each_emergency_criterion_turns_at_its_threshold() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = villager_born(&app, "1965-01-01", "1985-01-01", 0).await;
    let hypertension = enrol(&app, &token, resident, "hypertension").await;
    let diabetes = enrol(&app, &token, resident, "diabetes").await;

    let cases = [
        (hypertension, json!({"sbp": 179, "dbp": 100}), 2, 2, 0),
        (hypertension, json!({"sbp": 180, "dbp": 100}), 2, 4, 1),
        (hypertension, json!({"sbp": 170, "dbp": 109}), 2, 2, 0),
        (hypertension, json!({"sbp": 170, "dbp": 110}), 2, 4, 1),
        (
            hypertension,
            json!({"sbp": 130, "dbp": 80, "symptoms": ["chest_tightness"]}),
            1,
            4,
            1,
        ),
        // Sweating is a diabetes criterion, not a hypertension one.
        (
            hypertension,
            json!({"sbp": 130, "dbp": 80, "symptoms": ["sweating"]}),
            1,
            1,
            0,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 16.6}),
            2,
            2,
            0,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 16.7}),
            2,
            4,
            1,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 4.0}),
            1,
            1,
            0,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 3.9}),
            1,
            4,
            1,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 6.0, "heart_rate": 100}),
            1,
            1,
            0,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 6.0, "heart_rate": 101}),
            1,
            4,
            1,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 7.0}),
            2,
            2,
            0,
        ),
        (
            diabetes,
            json!({"sbp": 130, "dbp": 80, "fpg_mmol": 6.9}),
            1,
            1,
            0,
        ),
        // An adverse reaction (3) is re-checked in two weeks; a complication (4) referred.
        (
            hypertension,
            json!({"sbp": 130, "dbp": 80, "adverse_reaction": true}),
            3,
            2,
            0,
        ),
        (
            hypertension,
            json!({"sbp": 130, "dbp": 80, "complication": true}),
            4,
            3,
            0,
        ),
    ];
    for (enrolment, readings, classification, next_step, criteria) in cases {
        let d = decision(&app, &token, enrolment, readings.clone()).await;
        assert_eq!(d["classification"], classification, "{readings} → {d}");
        assert_eq!(d["next_step"], next_step, "{readings} → {d}");
        assert_eq!(
            d["emergency_criteria"].as_array().unwrap().len(),
            criteria,
            "{readings} → {d}"
        );
        let due = if next_step == 1 {
            "2026-08-30"
        } else {
            "2026-06-15"
        };
        assert_eq!(d["next_due_on"], due, "{readings} → {d}");
    }
    // BMI is computed from weight and height.
    let d = decision(&app, &token, hypertension, json!({"sbp": 120, "dbp": 70})).await;
    assert_eq!(d["bmi"], 25.0);
    // Nothing was stored by asking.
    assert_eq!(app.count("chronic_follow_ups").await, 0);

    // The elderly target (≥ 65): 145/85 is at target for them, not for the younger.
    let elder = villager_born(&app, "1930-01-01", "1955-01-01", 0).await;
    let elder_enrolment = enrol(&app, &token, elder, "hypertension").await;
    let d = decision(
        &app,
        &token,
        elder_enrolment,
        json!({"sbp": 145, "dbp": 85}),
    )
    .await;
    assert_eq!(d["classification"], 1);
    let d = decision(&app, &token, hypertension, json!({"sbp": 145, "dbp": 85})).await;
    assert_eq!(d["classification"], 2);

    // A county's own thresholds: an administrator lowers the emergency SBP to 170.
    let admin = app.login("admin").await;
    let mut thresholds = app.get_ok(&admin, "/api/v1/chronic/thresholds").await;
    assert_eq!(thresholds["emergency_sbp"], 180.0);
    assert_eq!(thresholds["min_age"], 35);
    thresholds["emergency_sbp"] = json!(170.0);
    let put = |token: String, body: Value| {
        let app = &app;
        async move {
            app.client
                .put(format!("{}/api/v1/chronic/thresholds", app.address))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_error(
        put(token.clone(), thresholds.clone()).await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let mut nonsense = thresholds.clone();
    nonsense["emergency_sbp"] = json!(130.0);
    assert_error(
        put(admin.clone(), nonsense).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    assert_eq!(
        put(admin.clone(), thresholds).await.status(),
        StatusCode::OK
    );
    let d = decision(&app, &token, hypertension, json!({"sbp": 172, "dbp": 90})).await;
    assert_eq!(d["next_step"], 4);
}

#[tokio::test]
async fn a_second_uncontrolled_visit_is_referred_and_the_task_closes_with_the_outcome() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = villager_born(&app, "1965-01-01", "1985-01-01", 1).await;
    let enrolment = enrol(&app, &token, resident, "hypertension").await;

    let first = follow_up(
        &app,
        &token,
        enrolment,
        &form("2026-03-02T09:00:00+08:00", json!({"sbp": 132, "dbp": 84})),
    )
    .await;
    assert_eq!(first["classification"], 1);
    assert_eq!(first["next_step"], 1);
    assert_eq!(first["next_due_on"], "2026-05-31");
    assert_eq!(first["followed_up_on"], "2026-03-02");
    assert!(first["referral_id"].is_null());
    assert_eq!(first["medicines"][0]["name"], "氨氯地平片");

    // A retry of the same visit is refused, nothing recorded twice.
    assert_error(
        app.post_json(
            Some(&token),
            &format!("/api/v1/chronic/enrolments/{enrolment}/follow-ups"),
            &form("2026-03-02T09:00:00+08:00", json!({"sbp": 132, "dbp": 84})),
        )
        .await,
        StatusCode::CONFLICT,
        "chronic.duplicate",
    )
    .await;

    let second = follow_up(
        &app,
        &token,
        enrolment,
        &form("2026-06-01T09:00:00+08:00", json!({"sbp": 152, "dbp": 92})),
    )
    .await;
    assert_eq!(second["classification"], 2);
    assert_eq!(second["next_step"], 2);
    assert_eq!(second["next_due_on"], "2026-06-15");
    assert!(second["referral_id"].is_null());

    let third = follow_up(
        &app,
        &token,
        enrolment,
        &form("2026-06-15T09:00:00+08:00", json!({"sbp": 150, "dbp": 90})),
    )
    .await;
    assert_eq!(third["classification"], 2);
    assert_eq!(third["next_step"], 3);
    assert_eq!(third["next_due_on"], "2026-06-29");
    assert!(
        third["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("连续两次"))
    );
    let referral_id = third["referral_id"].as_i64().expect("a referral raised");
    let referral = app
        .get_ok(&token, &format!("/api/v1/referrals/{referral_id}"))
        .await;
    assert_eq!(referral["state"], "submitted");
    assert_eq!(referral["direction"], "up");
    assert_eq!(referral["diagnosis_icd10"], "I10");
    assert_eq!(referral["resident_id"], resident);
    let township = app.institution_of("township-doctor").await;
    assert_eq!(referral["to_institution_id"], township);

    // The task to follow the referral up, due in 14 days.
    let tasks = app.get_ok(&token, "/api/v1/chronic/tasks").await;
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["referral_id"], referral_id);
    assert_eq!(tasks[0]["due_on"], "2026-06-29");
    assert_eq!(tasks[0]["overdue"], true);
    // The township receives, sees and completes it: the task closes.
    let receiving = app.login("township-doctor").await;
    for to in ["accepted", "arrived", "completed"] {
        let response = app
            .post_json(
                Some(&receiving),
                &format!("/api/v1/referrals/{referral_id}/transitions"),
                &json!({"to": to, "note": ""}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{to}");
    }
    let tasks = app.get_ok(&token, "/api/v1/chronic/tasks").await;
    assert_eq!(tasks.as_array().unwrap().len(), 0);

    // The history, newest first; the resident's record lists them too.
    let history = app
        .get_ok(
            &token,
            &format!("/api/v1/chronic/enrolments/{enrolment}/follow-ups"),
        )
        .await;
    let ids: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["id"])
        .collect();
    assert_eq!(ids, [&third["id"], &second["id"], &first["id"]]);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'chronic.follow_up.create' \
         AND resource = 'chronic_follow_up' AND resident_id = $1",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn a_different_decision_needs_a_reason_and_implausible_values_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = villager_born(&app, "1965-01-01", "1985-01-01", 2).await;
    let enrolment = enrol(&app, &token, resident, "hypertension").await;
    let path = format!("/api/v1/chronic/enrolments/{enrolment}/follow-ups");
    for (readings, field) in [
        (json!({"sbp": 300, "dbp": 90}), "sbp"),
        (json!({"sbp": 140, "dbp": 30}), "dbp"),
        (json!({"sbp": 120, "dbp": 125}), "dbp"),
        (
            json!({"sbp": 130, "dbp": 80, "heart_rate": 400}),
            "heart_rate",
        ),
        (
            json!({"sbp": 130, "dbp": 80, "weight_kg": 900}),
            "weight_kg",
        ),
    ] {
        let response = app
            .post_json(
                Some(&token),
                &path,
                &form("2026-04-01T09:00:00+08:00", readings),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "chronic.implausible_value");
        assert!(
            body["message"].as_str().unwrap().starts_with(field),
            "{body}"
        );
    }
    // Diabetes glucose outside 1–40 on a diabetes enrolment.
    let diabetes = enrol(&app, &token, resident, "diabetes").await;
    assert_error(
        app.post_json(
            Some(&token),
            &format!("/api/v1/chronic/enrolments/{diabetes}/follow-ups"),
            &form(
                "2026-04-01T09:00:00+08:00",
                json!({"sbp": 130, "dbp": 80, "fpg_mmol": 45}),
            ),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.implausible_value",
    )
    .await;
    // In the future, or with unknown fields: refused.
    assert_error(
        app.post_json(
            Some(&token),
            &path,
            &form("2999-04-01T09:00:00+08:00", json!({"sbp": 130, "dbp": 80})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    let response = app
        .post_json(
            Some(&token),
            &path,
            &form(
                "2026-04-01T09:00:00+08:00",
                json!({"sbp": 130, "dbp": 80, "bp": 1}),
            ),
        )
        .await;
    assert!(response.status().is_client_error());

    // The rules say routine; the doctor records a two-week re-check, only with a reason.
    let overridden = |reason: &str| {
        form(
            "2026-04-01T09:00:00+08:00",
            json!({"sbp": 130, "dbp": 80,
                   "override": {"classification": 2, "next_step": 2, "reason": reason}}),
        )
    };
    assert_error(
        app.post_json(Some(&token), &path, &overridden(" ")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    let recorded = follow_up(&app, &token, enrolment, &overridden("家庭自测血压多次偏高")).await;
    assert_eq!(recorded["rule_classification"], 1);
    assert_eq!(recorded["rule_next_step"], 1);
    assert_eq!(recorded["classification"], 2);
    assert_eq!(recorded["next_step"], 2);
    assert_eq!(recorded["next_due_on"], "2026-04-15");
    assert_eq!(recorded["override_reason"], "家庭自测血压多次偏高");
    assert_eq!(app.count("chronic_follow_ups").await, 1);

    // An insurance officer sees no clinical data: refused, and nothing recorded.
    let officer = app.login("insurance-officer").await;
    assert_error(
        app.post_json(
            Some(&officer),
            &path,
            &form("2026-05-01T09:00:00+08:00", json!({"sbp": 130, "dbp": 80})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_eq!(app.count("chronic_follow_ups").await, 1);
}

#[tokio::test]
async fn a_phone_follow_up_without_readings_is_recorded() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = villager_born(&app, "1965-01-01", "1985-01-01", 4).await;
    let enrolment = enrol(&app, &token, resident, "hypertension").await;
    let mut phone = form("2026-03-02T09:00:00+08:00", json!({}));
    phone["mode"] = json!("phone");
    let recorded = follow_up(&app, &token, enrolment, &phone).await;
    assert_eq!(recorded["classification"], 2);
    assert!(recorded["sbp"].is_null());
    let seen = follow_up(
        &app,
        &token,
        enrolment,
        &form("2026-03-10T09:00:00+08:00", json!({"sbp": 128, "dbp": 80})),
    )
    .await;
    assert_eq!(seen["classification"], 1);
    let mut phone = form("2026-04-02T09:00:00+08:00", json!({}));
    phone["mode"] = json!("phone");
    let again = follow_up(&app, &token, enrolment, &phone).await;
    assert_eq!(again["next_step"], 2);
}
