//! Indicator targets: those that come with the indicators' sources, the county's own with its
//! rule (set, audited, reset), each value saying whether it meets its target, and the
//! supervisor's work queue naming what is off target.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, indicator};

#[tokio::test]
async fn indicators_off_target_are_shown_and_the_county_sets_its_own_targets() {
    let app = TestApp::spawn().await;
    let now = yijia::clock::now_ms();
    let year = &yijia::clock::format_cst(now)[..4];
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    // One visit this year, at the county hospital: primary care's share is 0 %, below 75 %.
    let body = json!({"resident_id": resident, "kind": "outpatient", "started_at": (now - 60_000).to_string(), "diagnoses": ["I10"], "costs": {"drugs_fen": 1_000}});
    let response = app
        .post_json(
            Some(&app.login("county-doctor").await),
            "/api/v1/encounters",
            &body,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let supervisor = app.login("supervisor").await;
    let values = app
        .get_ok(&supervisor, &format!("/api/v1/indicators?year={year}"))
        .await;
    let share = indicator(&values, "3.1");
    assert_eq!(share["target"]["direction"], "at_least");
    assert_eq!(share["target"]["value"], 75.0);
    assert_eq!(share["on_target"], false, "{share}");
    assert_eq!(indicator(&values, "1.1")["target"], Value::Null);
    let session = app.web_login("supervisor").await;
    let (_, home) = app.page(&session, "/").await;
    let queue = home.split("id=\"off-target\"").nth(1).unwrap();
    let queue = queue.split("</section>").next().unwrap();
    assert!(
        queue.contains("3.1") && queue.contains("目标 ≥ 75"),
        "{queue}"
    );
    let (_, dashboard) = app
        .page(&session, &format!("/indicators?year={year}"))
        .await;
    assert!(dashboard.contains("data-code=\"3.1\" class=\"off-target\""));

    // The county's own target, with its rule: in force, audited, and reset.
    let put = |token: String, code: &'static str, body: Value| {
        let app = &app;
        async move {
            app.client
                .put(format!("{}/api/v1/indicators/targets/{code}", app.address))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let ours = json!({"direction": "at_least", "value": 0, "basis": "县医共体 2026 年考核方案"});
    let response = put(supervisor.clone(), "3.1", ours.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let values = app
        .get_ok(&supervisor, &format!("/api/v1/indicators?year={year}"))
        .await;
    let share = indicator(&values, "3.1");
    assert_eq!(share["on_target"], true);
    assert_eq!(share["target"]["customised"], true);
    assert!(
        share["target"]["source"]
            .as_str()
            .unwrap()
            .contains("考核方案")
    );
    let (_, home) = app.page(&session, "/").await;
    let queue = home.split("id=\"off-target\"").nth(1).unwrap();
    assert!(!queue.split("</section>").next().unwrap().contains("3.1 "));
    assert_error(
        put(supervisor.clone(), "1.1", ours.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "indicator.invalid",
    )
    .await;
    assert_error(
        put(app.login("village-doctor").await, "3.1", ours.clone()).await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let no_rule = json!({"direction": "at_most", "value": 7, "basis": " "});
    assert_error(
        put(supervisor.clone(), "C.2", no_rule).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "indicator.invalid",
    )
    .await;
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'indicator.target.set'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
    let response = app
        .client
        .delete(format!("{}/api/v1/indicators/targets/3.1", app.address))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    let back: Value = response.json().await.unwrap();
    assert_eq!(back["value"], 75.0);
    assert_eq!(back["customised"], false);

    // From the definitions page: a target for the mean length of stay.
    let (status, page) = app
        .submit(
            &session,
            "/indicators/targets/C.2",
            &[
                ("direction", "at_most"),
                ("value", "7"),
                ("basis", "市卫健委考核细则"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let row = page.split("data-code=\"C.2\"").nth(1).unwrap();
    assert!(
        row.split("</tr>").next().unwrap().contains("≤ 7 天"),
        "{row}"
    );
}
