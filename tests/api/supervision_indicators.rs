//! The institution indicators over HTTP: three township centres' months on a hand-built set,
//! one admitting far more than its peers (K01) and on a low threshold (K04); the alerts carry the
//! peer comparison and no resident, a re-run raises nothing twice, an institution sees its own,
//! verifying a month's alert while the next month is still above its peers is refused, and the
//! dashboard's rectification rate and alerts per 100 admissions count them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::ecg::wait_for_event;
use crate::helpers::{TestApp, assert_error, indicator};

const DAY_MS: i64 = 86_400_000;

/// The month `back` months before this one: (`YYYY-MM`, first day, last day, start in ms).
fn month_back(back: i32) -> (String, String, String, i64) {
    let today = yijia::clock::today_cst();
    let index = today.year() * 12 + i32::from(u8::from(today.month())) - 1 - back;
    let month = format!("{}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1);
    let (start, end) = yijia::clock::month_bounds_cst(&month).unwrap();
    let last = yijia::clock::date_cst(end - DAY_MS).to_string();
    (month.clone(), format!("{month}-01"), last, start)
}

/// Writes `visits` outpatient visits and `stays` stays of `stay_days` days costing `stay_fen`
/// at the institution, from `start_ms` on, for residents of the community.
async fn month_of(
    app: &TestApp,
    institution: i64,
    start_ms: i64,
    (visits, stays, stay_days, stay_fen): (i64, i64, i64, i64),
) {
    let residents: Vec<i64> = sqlx::query_scalar("SELECT id FROM residents ORDER BY id LIMIT 60")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    let community: i64 = sqlx::query_scalar("SELECT community_id FROM institutions WHERE id = $1")
        .bind(institution)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    for n in 0..visits + stays {
        let inpatient = n >= visits;
        let at = start_ms + (n % 20) * DAY_MS + 9 * 3_600_000;
        let (kind, ended, fen) = if inpatient {
            ("inpatient", Some(at + stay_days * DAY_MS), stay_fen)
        } else {
            ("outpatient", None, 10_000)
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO encounters (community_id, resident_id, institution_id, kind, started_at_ms, \
             ended_at_ms, cost_drugs_fen, cost_examinations_fen, cost_tests_fen, cost_treatment_fen, \
             cost_beds_fen, cost_materials_fen, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8, 0, 0, $5) RETURNING id",
        )
        .persistent(false)
        .bind(community)
        .bind(residents[(n as usize * 7 + institution as usize) % residents.len()])
        .bind(institution)
        .bind(kind)
        .bind(at)
        .bind(ended)
        .bind(fen / 2)
        .bind(fen - fen / 2)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO encounter_diagnoses (community_id, encounter_id, position, icd10) \
             VALUES ($1, $2, 1, 'J18.9')",
        )
        .bind(community)
        .bind(id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn an_institution_far_above_its_peers_is_called_out_with_the_comparison() {
    let app = TestApp::spawn().await;
    let officer = app.login("insurance-officer").await;
    let township = app.login("township-doctor").await;
    let village = app.login("village-doctor").await;
    let own = app.institution_of("township-doctor").await;
    let peers: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM institutions WHERE kind = 'township_centre' AND id <> $1 ORDER BY id",
    )
    .bind(own)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(
        peers.len() >= 2,
        "the small demo has three township centres"
    );

    let rules = json!({"enabled": ["K01", "K04"], "parameters": {"indicator_min_cases": 5}});
    let response = app
        .client
        .put(format!("{}/api/v1/supervision/rules", app.address))
        .bearer_auth(&officer)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Two months: the own centre admits 20 per 50 visits, one-day stays of 1,500 yuan (low
    // threshold); its peers 5 and 6 per 50, five-day stays of 4,000 yuan.
    let (first, first_day, _, first_ms) = month_back(2);
    let (second, _, last_day, second_ms) = month_back(1);
    for start in [first_ms, second_ms] {
        month_of(&app, own, start, (50, 20, 1, 150_000)).await;
        month_of(&app, peers[0], start, (50, 5, 5, 400_000)).await;
        month_of(&app, peers[1], start, (50, 6, 5, 400_000)).await;
    }
    let period = json!({"from": first_day, "to": last_day});
    let run: Value = app
        .post_json(Some(&officer), "/api/v1/supervision/runs", &period)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(run["raised"], 4, "K01 and K04 in each month: {run}");
    let again: Value = app
        .post_json(Some(&officer), "/api/v1/supervision/runs", &period)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["raised"], 0, "a re-run raises nothing twice");

    let alerts = app
        .get_ok(
            &officer,
            &format!("/api/v1/supervision/alerts?rule=K01&month={first}"),
        )
        .await;
    let items = alerts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{alerts}");
    let alert = &items[0];
    assert_eq!(alert["institution_id"], own);
    assert_eq!(alert["encounter_ids"], json!([]));
    // 20 / 50 = 40 %; the peers 10 % and 12 %: median 11, 90th percentile 11.8.
    let c = &alert["comparison"];
    assert_eq!(c["value"], 40.0);
    assert_eq!(c["peer_median"], 11.0);
    assert!((c["peer_p90"].as_f64().unwrap() - 11.8).abs() < 1e-9, "{c}");
    assert_eq!(c["peers"], 2);
    let low = app
        .get_ok(
            &officer,
            &format!("/api/v1/supervision/alerts?rule=K04&month={second}"),
        )
        .await;
    assert_eq!(low["items"][0]["comparison"]["value"], 100.0, "{low}");
    assert_eq!(low["items"][0]["amount_fen"], 20 * 150_000);

    // The centre sees its own alerts; a village clinic sees none of them.
    let own_alerts = app.get_ok(&township, "/api/v1/supervision/alerts").await;
    assert_eq!(own_alerts["items"].as_array().unwrap().len(), 4);
    let theirs = app.get_ok(&village, "/api/v1/supervision/alerts").await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);

    // The first month's alert through to verification: the next month is still far above the
    // peers, so it is not rectified. The centre's screens hear each step live.
    let id = alert["id"].as_i64().unwrap();
    let mut centre_events = app.events(&township).await;
    let due = yijia::clock::today_cst().to_string();
    for (token, body) in [
        (&officer, json!({"to": "confirmed"})),
        (
            &officer,
            json!({"to": "assigned", "due_on": due, "note": "约谈院长"}),
        ),
        (&township, json!({"to": "rectifying"})),
        (
            &township,
            json!({"to": "submitted", "note": "收住标准已修订", "refund_fen": 0}),
        ),
    ] {
        let response = app
            .post_json(
                Some(token),
                &format!("/api/v1/supervision/alerts/{id}/transitions"),
                &body,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{body}");
    }
    let seen = wait_for_event(&mut centre_events, "supervision.alert").await;
    assert!(seen.contains(&format!("\"id\":{id}")), "{seen}");
    assert_error(
        app.post_json(
            Some(&officer),
            &format!("/api/v1/supervision/alerts/{id}/transitions"),
            &json!({"to": "verified"}),
        )
        .await,
        StatusCode::CONFLICT,
        "supervision.not_rectified",
    )
    .await;

    // On the dashboard: the first month at the centre has 2 alerts per 20 admissions, one
    // confirmed and none verified.
    let (year, number) = first.split_once('-').unwrap();
    let values = app
        .get_ok(
            &officer,
            &format!(
                "/api/v1/indicators?year={year}&month={}&institution={own}",
                number.trim_start_matches('0')
            ),
        )
        .await;
    let per_admissions = indicator(&values, "S.2");
    assert_eq!(
        (
            per_admissions["numerator"].as_f64(),
            per_admissions["denominator"].as_f64()
        ),
        (Some(2.0), Some(20.0)),
        "{per_admissions}"
    );
    assert_eq!(per_admissions["value"], 10.0);
    let rate = indicator(&values, "S.1");
    assert_eq!(
        (
            rate["numerator"].as_f64(),
            rate["denominator"].as_f64(),
            rate["value"].as_f64()
        ),
        (Some(0.0), Some(1.0), Some(0.0)),
        "{rate}"
    );

    // The alert's page shows the comparison.
    let session = app.web_login("insurance-officer").await;
    let (status, html) = app
        .page(&session, &format!("/supervision/alerts/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("与同级机构比较") && html.contains("40.0 %"),
        "{html}"
    );
}
