//! The statutory chronic care indicators on a hand-built set, with exact numerators and
//! denominators: 规范管理率 and 控制率 for each programme (B.1–B.4), 慢病规范管理率 (C.9) and the
//! hospitalisation rate of the managed population (5.1), for the village and drilled down.

use serde_json::{Value, json};

use crate::chronic_follow_up::{enrol, follow_up, form, villager_born};
use crate::helpers::{TestApp, indicator};

async fn visits(app: &TestApp, token: &str, enrolment: i64, visits: &[(&str, &str, Value)]) {
    for (month, mode, readings) in visits {
        let mut body = form(&format!("2026-{month}-10T09:00:00+08:00"), readings.clone());
        body["mode"] = json!(mode);
        follow_up(app, token, enrolment, &body).await;
    }
}

fn ratio(values: &Value, code: &str) -> (f64, f64) {
    let v = indicator(values, code);
    (
        v["numerator"].as_f64().unwrap_or(-1.0),
        v["denominator"].as_f64().unwrap_or(-1.0),
    )
}

#[tokio::test]
async fn the_statutory_rates_count_visits_last_readings_and_admissions_exactly() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let a = villager_born(&app, "1965-01-01", "1985-01-01", 0).await;
    let b = villager_born(&app, "1965-01-01", "1985-01-01", 1).await;
    let c = villager_born(&app, "1965-01-01", "1985-01-01", 2).await;
    let d = villager_born(&app, "1965-01-01", "1985-01-01", 3).await;
    let good = json!({"sbp": 128, "dbp": 80});
    let high = json!({"sbp": 150, "dbp": 95});

    // A: four clinic visits, last at target → to spec and controlled.
    let a_ht = enrol(&app, &token, a, "hypertension").await;
    visits(
        &app,
        &token,
        a_ht,
        &[
            ("02", "clinic", good.clone()),
            ("04", "home", good.clone()),
            ("07", "clinic", good.clone()),
            ("10", "clinic", good.clone()),
        ],
    )
    .await;
    // B: three in person and a phone call (not face to face); the last BP was high.
    let b_ht = enrol(&app, &token, b, "hypertension").await;
    visits(
        &app,
        &token,
        b_ht,
        &[
            ("02", "clinic", good.clone()),
            ("05", "clinic", good.clone()),
            ("08", "clinic", high.clone()),
            ("10", "phone", json!({})),
        ],
    )
    .await;
    // C: enrolled, never seen → neither.
    enrol(&app, &token, c, "hypertension").await;
    // A's diabetes: four visits with glucose, the last at target.
    let a_dm = enrol(&app, &token, a, "diabetes").await;
    let fpg = |v: f64| json!({"sbp": 128, "dbp": 80, "fpg_mmol": v});
    visits(
        &app,
        &token,
        a_dm,
        &[
            ("02", "clinic", fpg(6.1)),
            ("05", "clinic", fpg(6.4)),
            ("08", "clinic", fpg(6.8)),
            ("11", "clinic", fpg(6.5)),
        ],
    )
    .await;
    // D's diabetes: four visits but glucose at three; the last glucose above target.
    let d_dm = enrol(&app, &token, d, "diabetes").await;
    visits(
        &app,
        &token,
        d_dm,
        &[
            ("02", "clinic", fpg(6.1)),
            ("05", "clinic", good.clone()),
            ("08", "clinic", fpg(6.8)),
            ("11", "clinic", fpg(8.0)),
        ],
    )
    .await;
    // A is admitted at the township centre in 2026.
    let township = app.login("township-doctor").await;
    let response = app
        .post_json(
            Some(&township),
            "/api/v1/encounters",
            &json!({"resident_id": a, "kind": "inpatient",
                    "started_at": "2026-09-01T10:00:00+08:00",
                    "ended_at": "2026-09-06T10:00:00+08:00", "diagnoses": ["I10"]}),
        )
        .await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );

    let village = app.institution_of("village-doctor").await;
    let supervisor = app.login("supervisor").await;
    let values = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/indicators?year=2026&institution={village}"),
        )
        .await;
    assert_eq!(ratio(&values, "B.1"), (1.0, 3.0));
    assert_eq!(ratio(&values, "B.2"), (1.0, 3.0));
    assert_eq!(ratio(&values, "B.3"), (1.0, 2.0));
    assert_eq!(ratio(&values, "B.4"), (1.0, 2.0));
    assert_eq!(ratio(&values, "C.9"), (2.0, 5.0));
    assert_eq!(ratio(&values, "5.1"), (1.0, 4.0));
    assert_eq!(
        indicator(&values, "B.1")["value"].as_f64().unwrap().round(),
        33.0
    );

    // The township counts its villages; the county the same set; a year with none is 0 of 0.
    let township_id = app.institution_of("township-doctor").await;
    let values = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/indicators?year=2026&institution={township_id}"),
        )
        .await;
    assert_eq!(ratio(&values, "C.9"), (2.0, 5.0));
    let county = app
        .get_ok(&supervisor, "/api/v1/indicators?year=2026")
        .await;
    assert_eq!(ratio(&county, "5.1"), (1.0, 4.0));
    let before = app
        .get_ok(&supervisor, "/api/v1/indicators?year=2025")
        .await;
    assert_eq!(ratio(&before, "B.1").1, 0.0);
    // The drill-down gives the village its own row.
    let drill = app
        .get_ok(&supervisor, "/api/v1/indicators/B.1/institutions?year=2026")
        .await;
    let row = drill["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["institution_id"] == village)
        .expect("the village's row");
    assert_eq!(row["numerator"], 1.0);
    assert_eq!(row["denominator"], 3.0);
}
