//! Two-way referral over HTTP: the green channel from a critical ECG report to the chest pain
//! centre and back home by down-referral, the state machine's refusals, and scope.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::ecg::{upload_stemi, wait_for_event};
use crate::helpers::{TestApp, assert_error};

async fn step(app: &TestApp, token: &str, id: i64, to: &str) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/v1/referrals/{id}/transitions"),
        &json!({"to": to, "note": ""}),
    )
    .await
}

/// A village ECG with a signed critical report; returns (ECG id, resident id).
pub async fn critical_ecg(app: &TestApp) -> (i64, i64) {
    let village = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let ecg: Value = upload_stemi(app, &village, resident).await;
    let id = ecg["id"].as_i64().unwrap();
    let reader = app.login("county-reader").await;
    app.post_json(
        Some(&reader),
        &format!("/api/v1/ecgs/{id}/claim"),
        &Value::Null,
    )
    .await;
    let report = json!({"findings": "", "conclusion": "急性下壁心肌梗死", "critical": true});
    assert_eq!(
        app.post_json(
            Some(&reader),
            &format!("/api/v1/ecgs/{id}/reports"),
            &report
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    (id, resident)
}

/// The green channel from a critical ECG, as the recording site; returns the referral.
pub async fn green_channel(app: &TestApp, token: &str, ecg: i64) -> Value {
    let response = app
        .post_json(
            Some(token),
            &format!("/api/v1/ecgs/{ecg}/green-channel"),
            &Value::Null,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn green_channel_to_the_cath_lab_and_back_home_by_down_referral() {
    let app = TestApp::spawn().await;
    let (ecg, resident) = critical_ecg(&app).await;
    let village = app.login("village-doctor").await;
    let county = app.login("county-doctor").await;
    let lead = app.institution_id("LH").await;
    let mut events = app.events(&county).await;

    // One action from the critical report: accepted by rule, the chest pain centre told live.
    let referral = green_channel(&app, &village, ecg).await;
    let id = referral["id"].as_i64().unwrap();
    assert_eq!(referral["state"], "accepted");
    assert_eq!(referral["green_channel"], "chest_pain");
    assert_eq!(
        referral["single_deductible"], true,
        "one deductible for the up-referral episode"
    );
    assert_eq!(referral["to_institution_id"], lead);
    // No second registration: acceptance opened the receiving encounter from the referral.
    let encounter = app
        .get_ok(
            &county,
            &format!("/api/v1/encounters/{}", referral["encounter_id"]),
        )
        .await;
    assert_eq!(encounter["kind"], "emergency");
    assert_eq!(encounter["institution_id"], lead);
    assert_eq!(encounter["resident_id"], resident);
    assert_eq!(encounter["referral_id"], id);
    assert_eq!(encounter["diagnoses"][0]["icd10"], "I21.3");
    assert!(
        referral["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["to_state"] == "accepted" && s["by_staff_id"].is_null())
    );
    wait_for_event(&mut events, "referral.green_channel").await;

    // A routine up-referral too: the green channel comes first on the receiving board.
    let township_doctor = app.login("township-doctor").await;
    let routine = json!({"resident_id": resident, "direction": "up", "to_institution_id": lead, "reason": "血压控制不佳", "diagnosis_icd10": "I10", "urgency": "routine", "catalogue_exception_reason": "三种降压药联用仍未达标", "submit": true});
    let routine: Value = app
        .post_json(Some(&township_doctor), "/api/v1/referrals", &routine)
        .await
        .json()
        .await
        .unwrap();
    let board = app.get_ok(&county, "/api/v1/referrals?direction=up").await;
    assert_eq!(board["items"][0]["id"], id);
    assert!(
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == routine["id"])
    );
    // Listing shows the resident's diagnosis and reason: the list read is in the audit log.
    let listed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'referral.list' AND resident_id = $1",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(listed, 1);

    // Only the receiving side moves it on; an illegal step is refused.
    assert_error(
        step(&app, &village, id, "arrived").await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_error(
        step(&app, &county, id, "completed").await,
        StatusCode::CONFLICT,
        "referral.invalid_transition",
    )
    .await;
    assert_eq!(
        step(&app, &county, id, "arrived").await.status(),
        StatusCode::OK
    );
    assert_error(
        step(&app, &village, id, "cancelled").await,
        StatusCode::CONFLICT,
        "referral.invalid_transition",
    )
    .await;
    // Time points: staff enter what yijia cannot see; the intervals follow.
    let record = |token: String, point: &'static str, at: i64| {
        let app = &app;
        async move {
            app.post_json(
                Some(&token),
                &format!("/api/v1/referrals/{id}/time-points"),
                &json!({"point": point, "at": at}),
            )
            .await
        }
    };
    let recorded_at = time::OffsetDateTime::parse(
        "2026-11-23T08:00:00+08:00",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ecg_recorded_ms = (recorded_at.unix_timestamp_nanos() / 1_000_000) as i64;
    assert_eq!(
        record(
            village.clone(),
            "first_medical_contact",
            ecg_recorded_ms - 6 * 60_000
        )
        .await
        .status(),
        StatusCode::OK
    );
    let timeline = app
        .get_ok(&county, &format!("/api/v1/referrals/{id}/timeline"))
        .await;
    let arrival = timeline["points"]["arrival"]
        .as_i64()
        .expect("arrival comes from the referral's own step");
    let response = record(county.clone(), "wire_crossing", arrival + 3 * 60_000).await;
    assert_eq!(response.status(), StatusCode::OK);
    let timeline: Value = response.json().await.unwrap();
    let interval = |name: &str| {
        timeline["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(interval("fmc_to_ecg")["minutes"], 6.0);
    assert_eq!(interval("fmc_to_ecg")["within_target"], true);
    assert_eq!(interval("door_to_balloon")["minutes"], 3.0);
    assert_eq!(interval("door_to_balloon")["within_target"], true);
    for point in [
        "ecg_recorded",
        "ecg_received",
        "report_signed",
        "referral_submitted",
        "accepted",
        "arrival",
        "wire_crossing",
    ] {
        assert!(timeline["points"][point].as_i64().is_some(), "{point}");
    }
    assert_error(
        record(county.clone(), "arrival", arrival).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "referral.invalid",
    )
    .await;
    assert_error(
        record(county.clone(), "departure", arrival + 3_600_000).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "referral.invalid",
    )
    .await;
    // The case timeline page shows the same, in Chinese.
    let session = app.web_login("county-doctor").await;
    let page = app
        .client
        .get(format!("{}/referrals/{id}", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("门球时间（D2B）") && html.contains("导丝通过") && html.contains("达标"),
        "{html}"
    );

    let completed: Value = step(&app, &county, id, "completed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(completed["state"], "completed");
    let states: Vec<&str> = completed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["draft", "submitted", "accepted", "arrived", "completed"]
    );
    assert!(
        completed["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["at_ms"].as_i64().is_some())
    );

    // Home again: a down-referral to the township centre that ends closed.
    let township = app.institution_of("township-doctor").await;
    let down = json!({"resident_id": resident, "direction": "down", "to_institution_id": township, "reason": "PCI 术后病情稳定，回基层康复随访", "diagnosis_icd10": "I21.000x001", "urgency": "routine", "submit": true});
    let response = app
        .post_json(Some(&county), "/api/v1/referrals", &down)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let down: Value = response.json().await.unwrap();
    let down_id = down["id"].as_i64().unwrap();
    assert_eq!(
        down["rate_bonus_pp"], 5,
        "down-referred patients are reimbursed 5 points more"
    );
    for to in ["accepted", "received", "follow_up_planned", "closed"] {
        let response = step(&app, &township_doctor, down_id, to).await;
        assert_eq!(response.status(), StatusCode::OK, "{to}");
    }
    let closed = app
        .get_ok(&county, &format!("/api/v1/referrals/{down_id}"))
        .await;
    assert_eq!(closed["state"], "closed");

    // The month's figures, for the health bureau: aggregates only.
    let month = (time::OffsetDateTime::now_utc() + time::Duration::hours(8))
        .format(&time::macros::format_description!("[year]-[month]"))
        .unwrap();
    let supervisor = app.login("supervisor").await;
    let report = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/referrals/chest-pain-report?month={month}"),
        )
        .await;
    let site = app.institution_of("village-doctor").await;
    let village_row = report
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sending_institution_id"] == site)
        .expect("the village's case is counted");
    assert_eq!(village_row["cases"], 1);
    let d2b = village_row["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "door_to_balloon")
        .unwrap();
    assert_eq!(d2b["median_minutes"], 3.0);
    assert_eq!(d2b["within_target_share"], 1.0);
    let figures = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/referrals/figures?month={month}"),
        )
        .await;
    let row = |id: i64| {
        figures
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["institution_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(row(site)["green_channel"], 1);
    assert_eq!(row(lead)["down_sent"], 1);
    assert_eq!(row(lead)["closed_loop_rate"], 1.0);
    // The same loop as an indicator, drilled down to the lead hospital.
    let indicators = app
        .get_ok(
            &supervisor,
            &format!(
                "/api/v1/indicators?year={}&month={}&institution={lead}",
                &month[..4],
                month[5..].trim_start_matches('0')
            ),
        )
        .await;
    let closed_loop = indicators
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "C.8")
        .unwrap();
    assert_eq!(
        (
            closed_loop["numerator"].as_f64(),
            closed_loop["denominator"].as_f64()
        ),
        (Some(1.0), Some(1.0))
    );
    assert_eq!(closed_loop["value"], 100.0);
    let session = app.web_login("supervisor").await;
    let (status, html) = app
        .page(&session, &format!("/referrals/figures?month={month}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("三种降压药联用仍未达标") && html.contains("门球时间"),
        "{html}"
    );
    let township = row(app.institution_of("township-doctor").await);
    assert_eq!(township["catalogue_exceptions"], 1);
    assert_eq!(
        township["catalogue_exception_reasons"][0],
        "三种降压药联用仍未达标"
    );
    assert_eq!(
        app.get(
            &village,
            &format!("/api/v1/referrals/figures?month={month}")
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn referrals_are_checked_and_kept_from_outsiders() {
    let app = TestApp::spawn().await;
    let village = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let lead = app.institution_id("LH").await;
    let other_village = app.institution_id("V002").await;
    let base = json!({"resident_id": resident, "direction": "up", "to_institution_id": lead, "reason": "胸闷待查", "diagnosis_icd10": "R07.4", "urgency": "urgent"});
    let mut bad = base.clone();
    bad["diagnosis_icd10"] = json!("chest pain");
    assert_error(
        app.post_json(Some(&village), "/api/v1/referrals", &bad)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "referral.invalid",
    )
    .await;
    let mut sideways = base.clone();
    sideways["to_institution_id"] = json!(other_village);
    assert_error(
        app.post_json(Some(&village), "/api/v1/referrals", &sideways)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "referral.invalid",
    )
    .await;

    let draft: Value = app
        .post_json(Some(&village), "/api/v1/referrals", &base)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(draft["state"], "draft");
    let id = draft["id"].as_i64().unwrap();
    let county = app.login("county-doctor").await;
    assert_error(
        step(&app, &county, id, "accepted").await,
        StatusCode::CONFLICT,
        "referral.invalid_transition",
    )
    .await;
    assert_eq!(
        step(&app, &village, id, "submitted").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        step(&app, &county, id, "rejected").await.status(),
        StatusCode::OK
    );
    assert_error(
        step(&app, &county, id, "accepted").await,
        StatusCode::CONFLICT,
        "referral.invalid_transition",
    )
    .await;

    for username in ["supervisor", "insurance-officer"] {
        let token = app.login(username).await;
        assert_eq!(
            app.get(&token, &format!("/api/v1/referrals/{id}"))
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{username}"
        );
    }
    // A green channel needs a critical report.
    let ecg: Value = upload_stemi(&app, &village, resident).await;
    let response = app
        .post_json(
            Some(&village),
            &format!("/api/v1/ecgs/{}/green-channel", ecg["id"]),
            &Value::Null,
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "referral.ecg_not_critical").await;
}

#[tokio::test]
async fn the_tiered_care_catalogue_asks_a_reason_for_referring_up_what_the_sender_should_treat() {
    let app = TestApp::spawn().await;
    let township_doctor = app.login("township-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let lead = app.institution_id("LH").await;
    // Hypertension belongs at the township centre in the demo catalogue.
    let mut referral = json!({"resident_id": resident, "direction": "up", "to_institution_id": lead, "reason": "头晕", "diagnosis_icd10": "I10.X00", "urgency": "routine"});
    let response = app
        .post_json(Some(&township_doctor), "/api/v1/referrals", &referral)
        .await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "referral.catalogue_exception_needed",
    )
    .await;
    referral["catalogue_exception_reason"] = json!("疑似继发性高血压，需上级检查");
    let created: Value = app
        .post_json(Some(&township_doctor), "/api/v1/referrals", &referral)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        created["catalogue_exception_reason"],
        "疑似继发性高血压，需上级检查"
    );
    // A county-level condition needs no reason.
    referral["diagnosis_icd10"] = json!("I63.9");
    referral["catalogue_exception_reason"] = Value::Null;
    assert_eq!(
        app.post_json(Some(&township_doctor), "/api/v1/referrals", &referral)
            .await
            .status(),
        StatusCode::CREATED
    );

    // Administrators edit the catalogue; others cannot.
    let admin = app.login("admin").await;
    let entry = json!({"icd10_from": "M15", "icd10_to": "M19", "level": 2, "name": "骨关节炎"});
    assert_error(
        app.post_json(Some(&township_doctor), "/api/v1/tier-catalogue", &entry)
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_eq!(
        app.post_json(Some(&admin), "/api/v1/tier-catalogue", &entry)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_error(
        app.post_json(Some(&admin), "/api/v1/tier-catalogue", &entry)
            .await,
        StatusCode::CONFLICT,
        "tier_catalogue.duplicate",
    )
    .await;
    let catalogue = app.get_ok(&township_doctor, "/api/v1/tier-catalogue").await;
    assert!(
        catalogue
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["icd10_from"] == "M15" && e["level"] == 2)
    );
    referral["diagnosis_icd10"] = json!("M17.0");
    assert_error(
        app.post_json(Some(&township_doctor), "/api/v1/referrals", &referral)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "referral.catalogue_exception_needed",
    )
    .await;
}

#[tokio::test]
async fn post_acute_patients_whose_condition_belongs_lower_are_suggested_for_down_referral() {
    let app = TestApp::spawn().await;
    let county = app.login("county-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let other = app
        .resident_in_township_outside(app.institution_of("township-doctor").await, village)
        .await;
    let five_days_ago = (yijia::clock::now_ms() - 5 * 86_400_000).to_string();
    // Hypertension (the catalogue's township level) and a heart attack (county level).
    for (who, code) in [(resident, "I10"), (other, "I21.0")] {
        let stay = json!({"resident_id": who, "kind": "inpatient", "started_at": five_days_ago, "diagnoses": [code]});
        let response = app
            .post_json(Some(&county), "/api/v1/encounters", &stay)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let suggestions = app
        .get_ok(&county, "/api/v1/referrals/down-suggestions")
        .await;
    let suggestions = suggestions.as_array().unwrap();
    assert_eq!(suggestions.len(), 1, "{suggestions:?}");
    assert_eq!(suggestions[0]["resident_id"], resident);
    assert_eq!(suggestions[0]["catalogue_level"], 2);
    let township: i64 = sqlx::query_scalar("SELECT township_id FROM residents WHERE id = $1")
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(suggestions[0]["suggested_institution_id"], township);

    let session = app.web_login("county-doctor").await;
    let (_, html) = app.page(&session, "/referrals").await;
    assert!(html.contains("建议下转") && html.contains(&format!("居民 {resident}")));

    // Once the down-referral is raised, the suggestion is gone.
    let down = json!({"resident_id": resident, "direction": "down", "to_institution_id": township, "reason": "血压平稳，回乡镇随访", "diagnosis_icd10": "I10", "urgency": "routine", "submit": true});
    assert_eq!(
        app.post_json(Some(&county), "/api/v1/referrals", &down)
            .await
            .status(),
        StatusCode::CREATED
    );
    let suggestions = app
        .get_ok(&county, "/api/v1/referrals/down-suggestions")
        .await;
    assert_eq!(suggestions.as_array().unwrap().len(), 0);
}
