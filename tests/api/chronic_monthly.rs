//! The monthly follow-up measures over HTTP on a hand-built set, with exact numerators and
//! denominators: under care and lost to follow-up, the 3-month outcomes (controlled,
//! uncontrolled, missed visit, visited without a BP), overdue at month start, called and
//! returned to care; who may see which institution's measures.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chronic_follow_up::{enrol, enrol_on, follow_up, form, villager_born};
use crate::helpers::{TestApp, assert_error};

const DAY: i64 = 86_400_000;
const CST: i64 = 8 * 3_600_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The start (midnight, China Standard Time) of the current month, and the month `YYYY-MM`.
fn this_month() -> (i64, String) {
    let today = time::OffsetDateTime::from_unix_timestamp(now_ms() / 1000)
        .unwrap()
        .to_offset(time::macros::offset!(+8))
        .date();
    let first = today.replace_day(1).unwrap();
    let start = (first.midnight().assume_utc().unix_timestamp() * 1000) - CST;
    (
        start,
        format!("{:04}-{:02}", first.year(), u8::from(first.month())),
    )
}

async fn visit(app: &TestApp, token: &str, enrolment: i64, at: i64, readings: Value) -> Value {
    follow_up(app, token, enrolment, &form(&at.to_string(), readings)).await
}

fn ratio(counts: &Value, measure: &str) -> (i64, i64) {
    (
        counts[measure]["numerator"].as_i64().unwrap(),
        counts[measure]["denominator"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn the_month_counts_care_outcomes_and_calls_exactly() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let (start, month) = this_month();
    let mut people = Vec::new();
    for skip in 0..10 {
        people.push(villager_born(&app, "1950-01-01", "1985-01-01", skip).await);
    }
    let good = json!({"sbp": 128, "dbp": 80});
    let high = json!({"sbp": 150, "dbp": 95});

    // A: seen 40 days before the month with BP at target → controlled, not overdue.
    let a = enrol(&app, &token, people[0], "hypertension").await;
    visit(&app, &token, a, start - 40 * DAY, good.clone()).await;
    // B: seen 40 days before with a high BP → uncontrolled; the 2-week recheck is overdue.
    let b = enrol(&app, &token, people[1], "hypertension").await;
    let recheck = visit(&app, &token, b, start - 40 * DAY, high.clone()).await;
    assert_eq!(recheck["next_step"], 2, "{recheck}");
    // C, D, E: last seen 100 days before the month → overdue at its start.
    let c = enrol(&app, &token, people[2], "hypertension").await;
    let d = enrol(&app, &token, people[3], "hypertension").await;
    let e = enrol(&app, &token, people[4], "hypertension").await;
    for id in [c, d, e] {
        visit(&app, &token, id, start - 100 * DAY, good.clone()).await;
    }
    // G: a phone follow-up without a BP 30 days before → visited, no measurement (and, not
    // known to be controlled, its 2-week recheck is overdue).
    let g = enrol(&app, &token, people[5], "hypertension").await;
    let mut phone = form(&(start - 30 * DAY).to_string(), json!({}));
    phone["mode"] = json!("phone");
    follow_up(&app, &token, g, &phone).await;
    // H: enrolled 10 days before the month → under care, not yet in the 3-month cohort.
    let h_date = time::OffsetDateTime::from_unix_timestamp((start - 10 * DAY + CST) / 1000)
        .unwrap()
        .date()
        .to_string();
    enrol_on(&app, &token, people[6], "hypertension", &h_date).await;
    // L: enrolled long ago, never seen → lost to follow-up (and too long overdue to call).
    enrol_on(&app, &token, people[7], "hypertension", "2024-06-01").await;
    // M: moved away before the month → not counted; N: diabetes only → not in these counts.
    let m = enrol(&app, &token, people[8], "hypertension").await;
    let moved = app
        .client
        .patch(format!("{}/api/v1/chronic/enrolments/{m}", app.address))
        .bearer_auth(&token)
        .json(&json!({"status": "ended", "status_on": "2026-02-01", "reason": "迁出"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    enrol(&app, &token, people[9], "diabetes").await;

    // C and D are called this month; C comes in right after the call, D does not.
    for (id, result) in [(c, "call_later"), (d, "agreed")] {
        let called = app
            .post_json(
                Some(&token),
                &format!("/api/v1/chronic/enrolments/{id}/calls"),
                &json!({"result": result, "reason": ""}),
            )
            .await;
        assert_eq!(called.status(), StatusCode::CREATED);
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    visit(&app, &token, c, now_ms(), good.clone()).await;

    let path = format!("/api/v1/chronic/measures?program=hypertension&month={month}");
    let measures = app.get_ok(&token, &path).await;
    let total = &measures["total"];
    assert_eq!(total["registered"], 8, "{measures}");
    assert_eq!(ratio(total, "under_care"), (7, 8));
    assert_eq!(ratio(total, "lost_to_follow_up"), (1, 8));
    assert_eq!(total["cohort"], 6);
    assert_eq!(ratio(total, "controlled"), (2, 6), "A and C: {total}");
    assert_eq!(ratio(total, "uncontrolled"), (1, 6));
    assert_eq!(ratio(total, "missed_visit"), (2, 6), "D and E");
    assert_eq!(ratio(total, "visited_no_measurement"), (1, 6));
    assert_eq!(total["controlled"]["percent"], 33.3);
    assert_eq!(total["overdue_at_month_start"], 5, "B, C, D, E, G: {total}");
    assert_eq!(ratio(total, "called"), (2, 5));
    assert_eq!(ratio(total, "returned_to_care"), (1, 2));
    let village = app.institution_of("village-doctor").await;
    let groups = measures["institutions"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["id"], village);
    assert_eq!(&groups[0]["counts"], total);

    let diabetes = app
        .get_ok(
            &token,
            &format!("/api/v1/chronic/measures?program=diabetes&month={month}"),
        )
        .await;
    assert_eq!(diabetes["total"]["registered"], 1);
    assert_eq!(diabetes["total"]["cohort"], 1);
    assert_eq!(ratio(&diabetes["total"], "missed_visit"), (1, 1));
}

#[tokio::test]
async fn measures_are_seen_by_the_clinic_its_township_and_the_county_only() {
    let app = TestApp::spawn().await;
    let village_doctor = app.login("village-doctor").await;
    let resident = villager_born(&app, "1950-01-01", "1985-01-01", 0).await;
    enrol(&app, &village_doctor, resident, "hypertension").await;
    let village = app.institution_of("village-doctor").await;
    let township = app.institution_of("township-doctor").await;

    let township_doctor = app.login("township-doctor").await;
    let seen = app
        .get_ok(
            &township_doctor,
            &format!("/api/v1/chronic/measures?institution={township}"),
        )
        .await;
    let ids: Vec<i64> = seen["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![village], "{seen}");
    assert_eq!(seen["total"]["registered"], 1);
    let supervisor = app.login("supervisor").await;
    let county = app.get_ok(&supervisor, "/api/v1/chronic/measures").await;
    assert_eq!(county["total"]["registered"], 1);

    let other = app.institution_id("V002").await;
    assert_ne!(other, village);
    let refused = app
        .get(
            &village_doctor,
            &format!("/api/v1/chronic/measures?institution={other}"),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let resident_token = app.login("lab-interface").await;
    let refused = app.get(&resident_token, "/api/v1/chronic/measures").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_error(
        app.get(&village_doctor, "/api/v1/chronic/measures?month=2999-01")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
}

#[tokio::test]
async fn the_dashboard_shows_the_month_the_chart_and_the_call_list_count() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let (start, month) = this_month();
    let resident = villager_born(&app, "1950-01-01", "1985-01-01", 0).await;
    let enrolment = enrol(&app, &token, resident, "hypertension").await;
    visit(
        &app,
        &token,
        enrolment,
        start - 100 * DAY,
        json!({"sbp": 128, "dbp": 80}),
    )
    .await;

    let session = app.web_login("village-doctor").await;
    let (status, html) = app.page(&session, "/chronic").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("高血压 · {month}")), "{html}");
    assert!(html.contains("id=\"by-institution\""));
    assert!(html.contains("<svg"), "the control chart");
    assert!(
        html.contains("id=\"overdue-now\" href=\"/chronic/overdue\">1 人"),
        "{html}"
    );
    assert!(
        html.contains("0 / 1（0.0%）"),
        "not controlled in the last 3 months"
    );

    let township = app.institution_of("township-doctor").await;
    let township_session = app.web_login("township-doctor").await;
    let (status, html) = app
        .page(
            &township_session,
            &format!("/chronic?program=hypertension&institution={township}&month="),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("登记在册</dt><dd>1 人"), "{html}");
    let other = app.institution_id("V002").await;
    let (status, _) = app
        .page(&session, &format!("/chronic?institution={other}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
