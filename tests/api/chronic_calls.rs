//! The overdue call list over HTTP: due date passed, no visit since, within 365 days, alive;
//! each call result hides the patient as CHRONIC-CARE.md says (agreed 30 days, call later 7,
//! removed until the next visit; "died" marks the resident dead and ends the enrolments,
//! "moved" ends the enrolment); the due list looks a week ahead.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chronic_follow_up::{enrol, follow_up, form, villager_born};
use crate::helpers::{TestApp, assert_error};

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A routine (controlled) follow-up `days` ago.
async fn seen_days_ago(app: &TestApp, token: &str, enrolment: i64, days: i64) {
    let at = (now_ms() - days * DAY).to_string();
    let recorded = follow_up(
        app,
        token,
        enrolment,
        &form(&at, json!({"sbp": 128, "dbp": 80})),
    )
    .await;
    assert_eq!(recorded["next_step"], 1);
}

fn enrolment_ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["enrolment_id"].as_i64().unwrap())
        .collect()
}

async fn call(app: &TestApp, token: &str, enrolment: i64, body: Value) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/v1/chronic/enrolments/{enrolment}/calls"),
        &body,
    )
    .await
}

#[tokio::test]
async fn the_call_list_shows_the_overdue_and_each_call_result_has_its_effect() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let mut residents = Vec::new();
    for skip in 0..6 {
        residents.push(villager_born(&app, "1950-01-01", "1985-01-01", skip).await);
    }
    let overdue_ten = enrol(&app, &token, residents[0], "hypertension").await;
    seen_days_ago(&app, &token, overdue_ten, 100).await;
    let recent = enrol(&app, &token, residents[1], "hypertension").await;
    seen_days_ago(&app, &token, recent, 20).await;
    let due_soon = enrol(&app, &token, residents[2], "hypertension").await;
    seen_days_ago(&app, &token, due_soon, 87).await;
    // Never seen since enrolment on 2026-01-05: due 90 days later, long overdue.
    let never_seen = enrol(&app, &token, residents[3], "hypertension").await;
    let dies = enrol(&app, &token, residents[4], "hypertension").await;
    let moves = enrol(&app, &token, residents[5], "diabetes").await;

    let list = app.get_ok(&token, "/api/v1/chronic/overdue").await;
    let ids = enrolment_ids(&list);
    assert!(
        ids.contains(&overdue_ten) && ids.contains(&never_seen),
        "{list}"
    );
    assert!(!ids.contains(&recent) && !ids.contains(&due_soon), "{list}");
    let item = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["enrolment_id"] == overdue_ten)
        .unwrap();
    assert_eq!(item["days_overdue"], 10);
    assert_eq!(item["resident_id"], residents[0]);
    assert!(!item["phone"].as_str().unwrap().is_empty());
    // The longest overdue first.
    let days: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["days_overdue"].as_i64().unwrap())
        .collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "{days:?}");

    let due = app.get_ok(&token, "/api/v1/chronic/due").await;
    assert_eq!(enrolment_ids(&due), [due_soon]);
    assert_eq!(due[0]["days_overdue"], -3);

    // Agreed to come: off the list; call later: off the list.
    let response = call(&app, &token, overdue_ten, json!({"result": "agreed"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let agreed: Value = response.json().await.unwrap();
    let hidden =
        agreed["hidden_until_ms"].as_i64().unwrap() - agreed["called_at_ms"].as_i64().unwrap();
    assert_eq!(hidden, 30 * DAY);
    let later: Value = call(
        &app,
        &token,
        never_seen,
        json!({"result": "call_later", "reason": "外出务工，周末再打"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        later["hidden_until_ms"].as_i64().unwrap() - later["called_at_ms"].as_i64().unwrap(),
        7 * DAY
    );
    // Removed needs one of the reasons.
    assert_error(
        call(
            &app,
            &token,
            dies,
            json!({"result": "removed", "reason": "不想来"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    assert_eq!(
        call(
            &app,
            &token,
            dies,
            json!({"result": "removed", "reason": "died"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        call(
            &app,
            &token,
            moves,
            json!({"result": "removed", "reason": "moved"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let list = app.get_ok(&token, "/api/v1/chronic/overdue").await;
    let ids = enrolment_ids(&list);
    for gone in [overdue_ten, never_seen, dies, moves] {
        assert!(!ids.contains(&gone), "{gone} still listed: {list}");
    }
    // "died" marks the resident dead and ends the enrolment; "moved" ends it.
    let died_on: Option<String> = sqlx::query_scalar("SELECT died_on FROM residents WHERE id = $1")
        .bind(residents[4])
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(died_on.is_some());
    for (enrolment, reason) in [(dies, "死亡"), (moves, "迁出")] {
        let e = app
            .get_ok(&token, &format!("/api/v1/chronic/enrolments/{enrolment}"))
            .await;
        assert_eq!(e["status"], "ended");
        assert_eq!(e["status_reason"], reason);
    }
    // An ended enrolment takes no more calls.
    assert_error(
        call(&app, &token, moves, json!({"result": "agreed"})).await,
        StatusCode::CONFLICT,
        "chronic.ended",
    )
    .await;
    // Another institution's list is not the village doctor's to read.
    let other: i64 = sqlx::query_scalar(
        "SELECT id FROM institutions WHERE kind = 'village_clinic' AND id <> $1 ORDER BY id LIMIT 1",
    )
    .bind(app.institution_of("village-doctor").await)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_error(
        app.get(
            &token,
            &format!("/api/v1/chronic/overdue?institution={other}"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let listed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'chronic.overdue.list' AND resident_id = $1",
    )
    .bind(residents[0])
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(listed >= 1);
}
