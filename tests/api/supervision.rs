//! Supervision over HTTP: the encounter rules on a hand-built set (a readmission 15 days after
//! discharge flags, 16 days does not, chemotherapy does not; a low-threshold stay; a diagnosis
//! of the other sex), a re-run raises nothing twice, the nightly run, and the rectification
//! loop with an illegal step, an appeal, a failed verification, a reopening and a verification.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

/// Residents of the village doctor's village, `(id, sex)`, by id.
async fn villagers(app: &TestApp) -> Vec<(i64, String)> {
    let village = app.institution_of("village-doctor").await;
    sqlx::query_as(
        "SELECT id, sex FROM residents WHERE village_clinic_id = $1 AND birth_date < '1990-01-01' \
         ORDER BY id",
    )
    .bind(village)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// An inpatient stay from `admitted` to `discharged` (dates), costing `fen` in all; its id.
async fn stay(
    app: &TestApp,
    token: &str,
    resident: i64,
    (admitted, discharged): (&str, &str),
    code: &str,
    fen: i64,
) -> i64 {
    let started = format!("{admitted}T09:00:00+08:00");
    let response = app
        .post_json(
            Some(token),
            "/api/v1/encounters",
            &json!({"resident_id": resident, "kind": "inpatient", "started_at": started, "diagnoses": [code]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let ended = format!("{discharged}T10:00:00+08:00");
    let response = app
        .post_json(
            Some(token),
            &format!("/api/v1/encounters/{id}/discharge"),
            &json!({"ended_at": ended, "costs": {"drugs_fen": fen / 2, "beds_fen": fen - fen / 2}}),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{:?}",
        response.text().await
    );
    id
}

async fn step(app: &TestApp, token: &str, alert: i64, body: Value) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/v1/supervision/alerts/{alert}/transitions"),
        &body,
    )
    .await
}

async fn stepped(app: &TestApp, token: &str, alert: i64, body: Value) -> Value {
    let response = step(app, token, alert, body.clone()).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body} → {answer}");
    answer
}

fn by_rule<'a>(alerts: &'a Value, rule: &str) -> Vec<&'a Value> {
    alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule_code"] == rule)
        .collect()
}

#[tokio::test]
async fn the_rules_raise_each_case_once_and_the_rectification_loop_closes() {
    let app = TestApp::spawn().await;
    let township = app.login("township-doctor").await;
    let village = app.login("village-doctor").await;
    let officer = app.login("insurance-officer").await;
    let people = villagers(&app).await;
    let males: Vec<i64> = people
        .iter()
        .filter(|(_, s)| s == "male")
        .map(|(id, _)| *id)
        .collect();
    let female = people.iter().find(|(_, s)| s == "female").unwrap().0;

    // Readmitted 15 days after discharge, same category: split. 16 days: not. Chemotherapy: not.
    let first = stay(
        &app,
        &township,
        males[0],
        ("2026-08-01", "2026-08-05"),
        "J18.9",
        500_000,
    )
    .await;
    let second = stay(
        &app,
        &township,
        males[0],
        ("2026-08-20", "2026-08-24"),
        "J18.0",
        420_000,
    )
    .await;
    stay(
        &app,
        &township,
        males[1],
        ("2026-08-01", "2026-08-05"),
        "J18.9",
        500_000,
    )
    .await;
    stay(
        &app,
        &township,
        males[1],
        ("2026-08-21", "2026-08-25"),
        "J18.1",
        500_000,
    )
    .await;
    stay(
        &app,
        &township,
        males[2],
        ("2026-08-01", "2026-08-03"),
        "Z51.1",
        500_000,
    )
    .await;
    stay(
        &app,
        &township,
        males[2],
        ("2026-08-10", "2026-08-12"),
        "Z51.1",
        500_000,
    )
    .await;
    // One night, 1,500 yuan: a low-threshold admission; another in November.
    let low = stay(
        &app,
        &township,
        males[3],
        ("2026-10-10", "2026-10-11"),
        "K29.7",
        150_000,
    )
    .await;
    stay(
        &app,
        &township,
        males[4],
        ("2026-11-05", "2026-11-06"),
        "K29.7",
        100_000,
    )
    .await;
    // A prostate diagnosis for a woman, at the village clinic: definite.
    let response = app
        .post_json(
            Some(&village),
            "/api/v1/encounters",
            &json!({"resident_id": female, "kind": "outpatient", "started_at": "2026-09-15T09:00:00+08:00", "diagnoses": ["N40"], "costs": {"drugs_fen": 3000}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Only the office runs the rules.
    let period = json!({"from": "2026-08-01", "to": "2026-10-31"});
    assert_error(
        app.post_json(Some(&village), "/api/v1/supervision/runs", &period)
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let response = app
        .post_json(Some(&officer), "/api/v1/supervision/runs", &period)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let run: Value = response.json().await.unwrap();
    assert_eq!(run["raised"], 3, "{run}");
    assert_eq!(run["rule_version"], 0);
    let again: Value = app
        .post_json(Some(&officer), "/api/v1/supervision/runs", &period)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["hits"], 3);
    assert_eq!(again["raised"], 0, "a re-run raises nothing twice");

    let alerts = app.get_ok(&officer, "/api/v1/supervision/alerts").await;
    assert_eq!(alerts["items"].as_array().unwrap().len(), 3, "{alerts}");
    let split = by_rule(&alerts, "R01");
    assert_eq!(split.len(), 1);
    assert_eq!(split[0]["encounter_ids"], json!([first, second]));
    assert_eq!(split[0]["amount_fen"], 420_000);
    assert_eq!(split[0]["period"], "2026-08");
    assert_eq!(split[0]["finding"], "suspect");
    assert_eq!(split[0]["state"], "new");
    let low_alert = by_rule(&alerts, "R03")[0]["id"].as_i64().unwrap();
    assert_eq!(by_rule(&alerts, "R03")[0]["encounter_ids"], json!([low]));
    assert_eq!(by_rule(&alerts, "R05")[0]["finding"], "definite");
    let split_alert = split[0]["id"].as_i64().unwrap();

    // The institution's staff see their own alerts; the evidence carries no identity.
    let own = app.get_ok(&village, "/api/v1/supervision/alerts").await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_eq!(own["items"][0]["rule_code"], "R05");
    assert_error(
        app.get(
            &village,
            &format!("/api/v1/supervision/alerts/{split_alert}"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "supervision.not_found",
    )
    .await;
    let detail = app
        .get_ok(
            &officer,
            &format!("/api/v1/supervision/alerts/{split_alert}"),
        )
        .await;
    assert_eq!(detail["evidence"].as_array().unwrap().len(), 2);
    assert_eq!(detail["evidence"][1]["principal_icd10"], "J18.0");
    assert!(detail.get("resident_id").is_none() && !detail.to_string().contains("id_number"));

    // Triage, assignment, appeal upheld, rectification, verification.
    assert_error(
        step(&app, &township, split_alert, json!({"to": "confirmed"})).await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_error(
        step(
            &app,
            &officer,
            split_alert,
            json!({"to": "assigned", "due_on": "2027-01-31"}),
        )
        .await,
        StatusCode::CONFLICT,
        "supervision.illegal_step",
    )
    .await;
    stepped(&app, &officer, split_alert, json!({"to": "confirmed"})).await;
    assert_error(
        step(&app, &officer, split_alert, json!({"to": "assigned"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "supervision.invalid",
    )
    .await;
    stepped(
        &app,
        &officer,
        split_alert,
        json!({"to": "assigned", "due_on": "2099-01-31", "note": "约谈院长，限期整改"}),
    )
    .await;
    stepped(
        &app,
        &township,
        split_alert,
        json!({"to": "appealed", "note": "第二次入院为新发肺炎"}),
    )
    .await;
    stepped(
        &app,
        &officer,
        split_alert,
        json!({"to": "assigned", "note": "复审维持"}),
    )
    .await;
    stepped(&app, &township, split_alert, json!({"to": "rectifying"})).await;
    assert_error(
        step(
            &app,
            &township,
            split_alert,
            json!({"to": "submitted", "refund_fen": 42000}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "supervision.invalid",
    )
    .await;
    stepped(
        &app,
        &township,
        split_alert,
        json!({"to": "submitted", "note": "出院标准执行不严；建立出院评估", "refund_fen": 42000}),
    )
    .await;
    let verified = stepped(&app, &officer, split_alert, json!({"to": "verified"})).await;
    assert_eq!(verified["state"], "verified");
    assert_eq!(verified["refund_fen"], 42000);
    let states: Vec<&str> = verified["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "confirmed",
            "assigned",
            "appealed",
            "assigned",
            "rectifying",
            "submitted",
            "verified"
        ]
    );

    // The low-threshold case of October: the rule run on the next period still finds one in
    // November, so it cannot be verified;
    // reopened, it goes back to the institution.
    stepped(&app, &officer, low_alert, json!({"to": "confirmed"})).await;
    stepped(
        &app,
        &officer,
        low_alert,
        json!({"to": "assigned", "due_on": "2099-01-31"}),
    )
    .await;
    stepped(&app, &township, low_alert, json!({"to": "rectifying"})).await;
    stepped(
        &app,
        &township,
        low_alert,
        json!({"to": "submitted", "note": "规范入院标准", "refund_fen": 0}),
    )
    .await;
    assert_error(
        step(&app, &officer, low_alert, json!({"to": "verified"})).await,
        StatusCode::CONFLICT,
        "supervision.not_rectified",
    )
    .await;
    let reopened = stepped(
        &app,
        &officer,
        low_alert,
        json!({"to": "reopened", "note": "11 月仍有低标准入院"}),
    )
    .await;
    assert_eq!(reopened["state"], "reopened");
    stepped(
        &app,
        &township,
        low_alert,
        json!({"to": "submitted", "note": "再次整改", "refund_fen": 0}),
    )
    .await;

    // Filters.
    let verified = app
        .get_ok(&officer, "/api/v1/supervision/alerts?state=verified")
        .await;
    assert_eq!(verified["items"].as_array().unwrap().len(), 1);
    let august = app
        .get_ok(
            &officer,
            "/api/v1/supervision/alerts?month=2026-08&rule=R01",
        )
        .await;
    assert_eq!(august["items"][0]["id"], split_alert);
    assert_error(
        app.get(&officer, "/api/v1/supervision/alerts?rule=X99")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "supervision.invalid",
    )
    .await;
}

#[tokio::test]
async fn the_county_changes_a_rules_threshold_and_its_version_stays_with_the_alert() {
    let app = TestApp::spawn().await;
    let township = app.login("township-doctor").await;
    let officer = app.login("insurance-officer").await;
    let people = villagers(&app).await;
    let resident = people[0].0;
    stay(
        &app,
        &township,
        resident,
        ("2026-08-01", "2026-08-05"),
        "J18.9",
        500_000,
    )
    .await;
    stay(
        &app,
        &township,
        resident,
        ("2026-08-21", "2026-08-25"),
        "J18.1",
        500_000,
    )
    .await;
    let mut rules = app.get_ok(&officer, "/api/v1/supervision/rules").await;
    assert_eq!(rules["parameters"]["split_admission_days"], 15);
    rules["parameters"]["split_admission_days"] = json!(16);
    let response = app
        .client
        .put(format!("{}/api/v1/supervision/rules", app.address))
        .bearer_auth(&officer)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set: Value = response.json().await.unwrap();
    assert_eq!(set["version"], 1);

    // The nightly job, as if it ran in the early hours of 2026-08-26.
    let night = yijia::clock::parse_time("2026-08-26T03:00:00+08:00").unwrap();
    let raised = yijia::supervision::nightly(&app.ctx, night).await.unwrap();
    assert_eq!(raised, 1);
    let alerts = app.get_ok(&officer, "/api/v1/supervision/alerts").await;
    assert_eq!(alerts["items"][0]["rule_code"], "R01");
    assert_eq!(alerts["items"][0]["rule_version"], 1);
    assert!(
        alerts["items"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("16 天")
    );
}

#[tokio::test]
async fn the_office_works_an_alert_from_the_board_and_the_institution_sees_it_in_its_queue() {
    let app = TestApp::spawn().await;
    let township = app.login("township-doctor").await;
    let people = villagers(&app).await;
    stay(
        &app,
        &township,
        people[0].0,
        ("2026-09-10", "2026-09-11"),
        "K29.7",
        150_000,
    )
    .await;
    let officer = app.web_login("insurance-officer").await;
    let (status, html) = app
        .submit(
            &officer,
            "/supervision/runs",
            &[("from", "2026-09-01"), ("to", "2026-09-30")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("R03 低标准入院"), "{html}");
    let marker = r#"<tr data-alert=""#;
    let start = html.find(marker).unwrap() + marker.len();
    let id: i64 = html[start..start + html[start..].find('"').unwrap()]
        .parse()
        .unwrap();
    let page = format!("/supervision/alerts/{id}");
    let steps = format!("{page}/transitions");

    let (_, html) = app.submit(&officer, &steps, &[("to", "confirmed")]).await;
    assert!(html.contains("初审确认"), "{html}");
    // Assigning without a due date is refused in Chinese on the alert's page.
    let (status, html) = app.submit(&officer, &steps, &[("to", "assigned")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("请填写整改期限"), "{html}");
    let (_, html) = app
        .submit(
            &officer,
            &steps,
            &[
                ("to", "assigned"),
                ("due_on", "2099-01-31"),
                ("note", "约谈"),
            ],
        )
        .await;
    assert!(html.contains("已约谈，待整改"), "{html}");

    // The township centre's staff find it on their home page and rectify it from its page.
    let staff = app.web_login("township-doctor").await;
    let (_, home) = app.page(&staff, "/").await;
    assert!(
        home.contains(r#"id="supervision""#) && home.contains(&page),
        "{home}"
    );
    app.submit(&staff, &steps, &[("to", "rectifying")]).await;
    let (_, html) = app
        .submit(
            &staff,
            &steps,
            &[
                ("to", "submitted"),
                ("note", "严格入院标准"),
                ("refund_yuan", "120.50"),
            ],
        )
        .await;
    assert!(html.contains("120.50"), "{html}");
    let (_, board) = app.page(&officer, "/supervision").await;
    assert!(board.contains("整改已提交"), "{board}");
}

#[tokio::test]
async fn the_office_sets_the_rules_in_the_page() {
    let app = TestApp::spawn().await;
    let session = app.web_login("insurance-officer").await;
    let (status, html) = app.page(&session, "/supervision/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("国家默认") && html.contains("K07"), "{html}");
    let mut form: Vec<(&str, &str)> = ["R01", "R03", "K01"]
        .iter()
        .map(|code| ("enabled", *code))
        .collect();
    form.extend([
        ("split_admission_days", "10"),
        ("planned_episode_codes", "Z51.0, Z51.1，Z49"),
        ("outlier_z", "3"),
    ]);
    let (status, html) = app.submit(&session, "/supervision/rules", &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("版本 1"), "{html}");
    let officer = app.login("insurance-officer").await;
    let rules = app.get_ok(&officer, "/api/v1/supervision/rules").await;
    assert_eq!(rules["enabled"], json!(["K01", "R01", "R03"]));
    assert_eq!(rules["parameters"]["split_admission_days"], 10);
    assert_eq!(
        rules["parameters"]["planned_episode_codes"],
        json!(["Z51.0", "Z51.1", "Z49"])
    );
    assert_eq!(
        rules["parameters"]["frequent_admissions"], 3,
        "the rest keep the defaults"
    );
    // Out of range: refused in Chinese, no new version.
    let (status, html) = app
        .submit(
            &session,
            "/supervision/rules",
            &[("split_admission_days", "0")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("参数超出允许范围"), "{html}");
    let rules = app.get_ok(&officer, "/api/v1/supervision/rules").await;
    assert_eq!(rules["version"], 1);
}
