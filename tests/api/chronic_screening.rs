//! Hypertension screening over HTTP: residents at or above 35 not managed for hypertension are on
//! their clinic's list once a year (the high-risk every six months); a raised reading books a
//! re-check; raised on three different days is a suspected hypertension, referred to confirm in
//! one action; enrolment takes the resident off the list. The county's thresholds apply.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::chronic_follow_up::{enrol, villager_born};
use crate::helpers::{TestApp, assert_error};

const DAY: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Midday (China Standard Time) `days` ago, so each day is a different calendar day.
fn days_ago(days: i64) -> String {
    let today_noon = (now_ms() + 8 * 3_600_000) / DAY * DAY + 4 * 3_600_000;
    (today_noon - days * DAY).to_string()
}

/// A minute ago.
fn just_now() -> String {
    (now_ms() - 60_000).to_string()
}

fn date_days_ago(days: i64) -> String {
    let ms = (now_ms() + 8 * 3_600_000) / DAY * DAY - days * DAY;
    let date = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap()
        .date();
    date.to_string()
}

async fn measure(app: &TestApp, token: &str, resident: i64, body: Value) -> reqwest::Response {
    let mut body = body;
    body["resident_id"] = json!(resident);
    app.post_json(Some(token), "/api/v1/chronic/screenings", &body)
        .await
}

async fn measured(app: &TestApp, token: &str, resident: i64, body: Value) -> Value {
    let response = measure(app, token, resident, body).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

/// Every item of the screening list, page by page.
async fn screening_list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut offset = 0;
    loop {
        let page = app
            .get_ok(
                token,
                &format!("/api/v1/chronic/screening?limit=100&offset={offset}{query}"),
            )
            .await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_offset"].as_i64() {
            Some(next) => offset = next,
            None => return items,
        }
    }
}

fn find(items: &[Value], resident: i64) -> Option<&Value> {
    items.iter().find(|i| i["resident_id"] == resident)
}

#[tokio::test]
async fn the_screening_list_follows_the_readings_and_a_suspicion_is_referred_in_one_action() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let young = villager_born(&app, "1995-01-01", "2000-01-01", 0).await;
    let normal = villager_born(&app, "1980-01-01", "1986-01-01", 0).await;
    let elderly = villager_born(&app, "1940-01-01", "1960-01-01", 0).await;
    let normal_high = villager_born(&app, "1980-01-01", "1986-01-01", 1).await;
    let raised = villager_born(&app, "1980-01-01", "1986-01-01", 2).await;
    let settles = villager_born(&app, "1980-01-01", "1986-01-01", 3).await;
    let managed = villager_born(&app, "1980-01-01", "1986-01-01", 4).await;
    enrol(&app, &token, managed, "hypertension").await;

    // Everyone eligible is on the list before anything is measured, and only they are.
    let today = date_days_ago(0);
    let born_by = format!(
        "{}{}",
        date_days_ago(0)[..4].parse::<i32>().unwrap() - 35,
        &today[4..]
    );
    let eligible: Vec<i64> = sqlx::query_scalar(
        "SELECT r.id FROM residents r WHERE r.village_clinic_id = $1 AND r.birth_date <= $2 \
         AND r.died_on IS NULL AND r.merged_into_id IS NULL AND r.id NOT IN \
         (SELECT resident_id FROM chronic_enrolments WHERE program = 'hypertension') ORDER BY r.id",
    )
    .bind(village)
    .bind(&born_by)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let list = screening_list(&app, &token, "").await;
    let mut listed: Vec<i64> = list
        .iter()
        .map(|i| i["resident_id"].as_i64().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, eligible);
    assert!(find(&list, young).is_none() && find(&list, managed).is_none());
    let first = find(&list, normal).unwrap();
    assert_eq!(first["state"]["status"], "due");
    assert_eq!(first["state"]["last_measured_on"], Value::Null);
    assert!(!first["phone"].as_str().unwrap().is_empty());

    // A normal reading: off the list for a year.
    let reading = measured(&app, &token, normal, json!({"measured_at": days_ago(300), "sbp": 122, "dbp": 78, "weight_kg": 60, "height_cm": 170})).await;
    assert_eq!(reading["screening"]["raised"], false);
    assert_eq!(reading["screening"]["bmi"], 20.8);
    assert_eq!(reading["state"]["status"], "screened");
    assert_eq!(reading["state"]["high_risk"], false);
    let next_year = date_days_ago(300 - 365);
    assert_eq!(reading["state"]["due_on"], next_year.as_str());
    // Aged 55 or more, or normal-high: high risk, every six months.
    let old = measured(
        &app,
        &token,
        elderly,
        json!({"measured_at": days_ago(10), "sbp": 120, "dbp": 76}),
    )
    .await;
    assert_eq!(old["state"]["high_risk"], true);
    assert_eq!(old["state"]["high_risk_reasons"], json!(["年龄 ≥ 55 岁"]));
    assert_eq!(old["state"]["due_on"], date_days_ago(10 - 182).as_str());
    let high = measured(&app, &token, normal_high, json!({"measured_at": days_ago(10), "sbp": 135, "dbp": 80, "waist_cm": 95, "risk_factors": ["family_history"]})).await;
    assert_eq!(high["state"]["status"], "screened");
    let reasons = high["state"]["high_risk_reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("正常高值血压")),
        "{reasons:?}"
    );
    assert!(reasons.contains(&json!("高血压家族史")), "{reasons:?}");

    // Raised: the re-check is booked a week later; same-day readings are one day.
    let first_raised = measured(
        &app,
        &token,
        raised,
        json!({"measured_at": days_ago(20), "sbp": 150, "dbp": 88}),
    )
    .await;
    assert_eq!(first_raised["screening"]["raised"], true);
    assert_eq!(first_raised["state"]["status"], "recheck");
    assert_eq!(first_raised["state"]["due_on"], date_days_ago(13).as_str());
    measured(
        &app,
        &token,
        raised,
        json!({"measured_at": days_ago(10), "sbp": 138, "dbp": 92}),
    )
    .await;
    let later_same_day = (days_ago(10).parse::<i64>().unwrap() + 3_600_000).to_string();
    let again = measured(
        &app,
        &token,
        raised,
        json!({"measured_at": later_same_day, "sbp": 146, "dbp": 94}),
    )
    .await;
    assert_eq!(again["state"]["raised_days"], 2);
    assert_eq!(again["state"]["status"], "recheck");
    // Raised then normal: the run starts again.
    measured(
        &app,
        &token,
        settles,
        json!({"measured_at": days_ago(20), "sbp": 150, "dbp": 95}),
    )
    .await;
    let settled = measured(
        &app,
        &token,
        settles,
        json!({"measured_at": days_ago(12), "sbp": 128, "dbp": 82}),
    )
    .await;
    assert_eq!(settled["state"]["raised_days"], 0);
    assert_eq!(settled["state"]["status"], "screened");

    let list = screening_list(&app, &token, "").await;
    for off in [normal, elderly, normal_high, settles] {
        assert!(find(&list, off).is_none(), "{off} should be off the list");
    }
    let recheck = find(&list, raised).unwrap();
    assert_eq!(recheck["state"]["status"], "recheck");
    assert_eq!(recheck["days_overdue"], 3);
    // Looking 90 days ahead brings the next yearly measurement in, not the six-monthly one.
    let ahead = screening_list(&app, &token, "&days=90").await;
    assert_eq!(find(&ahead, normal).unwrap()["days_overdue"], -65);
    assert!(find(&ahead, elderly).is_none());

    // Not yet suspected: no referral.
    let refer = |resident: i64| {
        let app = &app;
        let token = token.clone();
        async move {
            app.post_json(
                Some(&token),
                &format!("/api/v1/chronic/residents/{resident}/screening/referral"),
                &json!({}),
            )
            .await
        }
    };
    assert_error(
        refer(raised).await,
        StatusCode::CONFLICT,
        "chronic.not_suspected",
    )
    .await;
    // The third day: suspected, first on the list.
    let third = measured(
        &app,
        &token,
        raised,
        json!({"measured_at": days_ago(3), "sbp": 152, "dbp": 96}),
    )
    .await;
    assert_eq!(third["state"]["status"], "suspected");
    assert_eq!(third["state"]["raised_days"], 3);
    let list = screening_list(&app, &token, "").await;
    assert_eq!(list[0]["resident_id"], raised);

    // Referred to confirm in one action, to the township centre, once.
    let response = refer(raised).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let referred: Value = response.json().await.unwrap();
    assert_eq!(referred["state"]["status"], "referred");
    assert_eq!(referred["state"]["due_on"], date_days_ago(3 - 14).as_str());
    let referral_id = referred["state"]["referral_id"].as_i64().unwrap();
    let referral = app
        .get_ok(&token, &format!("/api/v1/referrals/{referral_id}"))
        .await;
    let township: i64 = sqlx::query_scalar("SELECT township_id FROM institutions WHERE id = $1")
        .bind(village)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(referral["to_institution_id"], township);
    assert_eq!(referral["resident_id"], raised);
    assert_eq!(referral["diagnosis_icd10"], "R03.0");
    assert!(
        referral["reason"]
            .as_str()
            .unwrap()
            .contains("非同日 3 天血压升高")
    );
    assert_error(
        refer(raised).await,
        StatusCode::CONFLICT,
        "chronic.screening_referred",
    )
    .await;
    let mine = app
        .get_ok(
            &token,
            &format!("/api/v1/chronic/residents/{raised}/screening"),
        )
        .await;
    assert_eq!(mine["readings"].as_array().unwrap().len(), 4);
    assert_eq!(mine["state"]["status"], "referred");

    // Confirmed and enrolled: off the list.
    enrol(&app, &token, raised, "hypertension").await;
    let list = screening_list(&app, &token, "").await;
    assert!(find(&list, raised).is_none());
    // Every resident listed was recorded as read; every reading as written.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'chronic.screening.create' \
         AND resource = 'chronic_screening'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 9);
}

#[tokio::test]
async fn screening_readings_are_checked_and_a_retry_records_nothing_twice() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = villager_born(&app, "1970-01-01", "1980-01-01", 0).await;
    let at = days_ago(1);
    let body = json!({"measured_at": at, "sbp": 150, "dbp": 95});
    measured(&app, &token, resident, body.clone()).await;
    assert_error(
        measure(&app, &token, resident, body).await,
        StatusCode::CONFLICT,
        "chronic.duplicate",
    )
    .await;
    for (field, value) in [
        ("sbp", json!(300)),
        ("dbp", json!(160)),
        ("waist_cm", json!(20)),
    ] {
        let mut body = json!({"measured_at": just_now(), "sbp": 150, "dbp": 95});
        body[field] = value;
        let response = measure(&app, &token, resident, body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "chronic.implausible_value");
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{error}"
        );
    }
    let future = (now_ms() + 2 * DAY).to_string();
    assert_error(
        measure(
            &app,
            &token,
            resident,
            json!({"measured_at": future, "sbp": 120, "dbp": 80}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chronic.invalid",
    )
    .await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chronic_screenings")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);

    // Another village's resident is out of a village doctor's reach; the township sees its
    // villages' lists.
    let village = app.institution_of("village-doctor").await;
    let township: i64 = sqlx::query_scalar("SELECT township_id FROM institutions WHERE id = $1")
        .bind(village)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let elsewhere = app.resident_in_township_outside(township, village).await;
    assert_error(
        measure(
            &app,
            &token,
            elsewhere,
            json!({"measured_at": just_now(), "sbp": 120, "dbp": 80}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let township_token = app.login("township-doctor").await;
    let listed = app
        .get_ok(
            &township_token,
            &format!("/api/v1/chronic/screening?institution={village}&limit=100"),
        )
        .await;
    assert!(!listed["items"].as_array().unwrap().is_empty());
    let county = app.institution_of("county-doctor").await;
    assert_error(
        app.get(
            &token,
            &format!("/api/v1/chronic/screening?institution={county}"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
}

#[tokio::test]
async fn the_county_sets_how_many_raised_days_make_a_suspicion() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let mut thresholds = app.get_ok(&admin, "/api/v1/chronic/thresholds").await;
    assert_eq!(thresholds["confirm_raised_days"], 3);
    thresholds["confirm_raised_days"] = json!(2);
    thresholds["screening_recheck_days"] = json!(14);
    let response = app
        .client
        .put(format!("{}/api/v1/chronic/thresholds", app.address))
        .bearer_auth(&admin)
        .json(&thresholds)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token = app.login("village-doctor").await;
    let resident = villager_born(&app, "1970-01-01", "1980-01-01", 0).await;
    let first = measured(
        &app,
        &token,
        resident,
        json!({"measured_at": days_ago(5), "sbp": 160, "dbp": 85}),
    )
    .await;
    assert_eq!(first["state"]["due_on"], date_days_ago(5 - 14).as_str());
    let second = measured(
        &app,
        &token,
        resident,
        json!({"measured_at": days_ago(1), "sbp": 142, "dbp": 85}),
    )
    .await;
    assert_eq!(second["state"]["status"], "suspected");
}

#[tokio::test]
async fn a_village_doctor_screens_from_the_page_and_refers_a_suspicion_in_one_press() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let session = app.web_login("village-doctor").await;
    let resident = villager_born(&app, "1970-01-01", "1980-01-01", 0).await;
    let row = format!(r#"<tr data-resident="{resident}">"#);

    let (status, home) = app.page(&session, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        home.contains("高血压筛查"),
        "the home page has the screening queue"
    );
    let (status, html) = app.page(&session, "/chronic/screening").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&row), "the never-measured resident is listed");

    // A reading no one can have is refused in Chinese, in the row, and nothing is stored.
    let readings = format!("/chronic/screening/{resident}/readings");
    let (status, html) = app
        .submit(&session, &readings, &[("sbp", "300"), ("dbp", "90")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("收缩压不可信"), "{html}");
    // Two raised days before, the third typed in the page: suspected.
    for days in [20, 10] {
        measured(
            &app,
            &token,
            resident,
            json!({"measured_at": days_ago(days), "sbp": 160, "dbp": 100}),
        )
        .await;
    }
    let (status, html) = app
        .submit(
            &session,
            &readings,
            &[
                ("sbp", "158"),
                ("dbp", "96"),
                ("waist_cm", "92"),
                ("risk_factors", "high_salt"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("疑似高血压，待转诊确诊"), "{html}");
    assert!(html.contains("高盐饮食"), "{html}");
    let state = app
        .get_ok(
            &token,
            &format!("/api/v1/chronic/residents/{resident}/screening"),
        )
        .await;
    assert_eq!(state["state"]["status"], "suspected");
    assert_eq!(state["readings"].as_array().unwrap().len(), 3);
    assert_eq!(state["readings"][2]["waist_cm"], 92.0);

    let (status, html) = app
        .submit(
            &session,
            &format!("/chronic/screening/{resident}/referral"),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已转诊确诊，待随访"), "{html}");
    let state = app
        .get_ok(
            &token,
            &format!("/api/v1/chronic/residents/{resident}/screening"),
        )
        .await;
    let referral = state["state"]["referral_id"].as_i64().unwrap();
    assert!(html.contains(&format!("/referrals/{referral}")), "{html}");
}
