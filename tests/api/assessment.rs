//! The member performance assessment over HTTP: the administrators' schemes (weights sum to
//! 100), scores from the platform's data with each input's source (a confirmed supervision
//! finding deducts), a member's own scorecard and no one else's, the freeze (once, and then the
//! schemes stay), and the frozen scores splitting the budget's surplus to the fen.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

async fn put_scheme(
    app: &TestApp,
    token: &str,
    year: i32,
    kind: &str,
    items: Value,
) -> reqwest::Response {
    app.client
        .put(format!(
            "{}/api/v1/assessments/{year}/schemes/{kind}",
            app.address
        ))
        .bearer_auth(token)
        .json(&json!({ "items": items }))
        .send()
        .await
        .unwrap()
}

async fn visit(app: &TestApp, username: &str, resident: i64, code: &str) {
    let token = app.login(username).await;
    let started = (yijia::clock::now_ms() - 60_000).to_string();
    let response = app
        .post_json(
            Some(&token),
            "/api/v1/encounters",
            &json!({"resident_id": resident, "kind": "outpatient", "started_at": started,
                    "diagnoses": [code], "costs": {"drugs_fen": 8000, "tests_fen": 2000}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

fn member(scores: &Value, id: i64) -> &Value {
    scores["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["institution_id"] == id)
        .unwrap_or_else(|| panic!("{id} is scored: {scores}"))
}

#[tokio::test]
async fn frozen_scores_split_the_surplus_and_each_input_has_its_source() {
    let app = TestApp::spawn().await;
    let (admin, officer) = (
        app.login("admin").await,
        app.login("insurance-officer").await,
    );
    let village_doctor = app.login("village-doctor").await;
    let (village, town) = (
        app.institution_of("village-doctor").await,
        app.institution_of("township-doctor").await,
    );
    let today = yijia::clock::today_cst();
    let year = today.year();

    // The schemes: only administrators set them, and their weights sum to 100.
    let village_items = json!([
        {"name": "家庭医生签约服务履约率", "input": {"kind": "contract_fulfilment"}, "weight": 70, "target": 90, "scoring": "pro_rata"},
        {"name": "监管发现问题", "input": {"kind": "supervision"}, "weight": 30, "scoring": "deduction", "points_per_case": 5}
    ]);
    let township_items = json!([
        {"name": "监管发现问题", "input": {"kind": "supervision"}, "weight": 100, "scoring": "deduction", "points_per_case": 10}
    ]);
    assert_error(
        put_scheme(
            &app,
            &officer,
            year,
            "village_clinic",
            village_items.clone(),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let mut short = village_items.clone();
    short[0]["weight"] = json!(60);
    assert_error(
        put_scheme(&app, &admin, year, "village_clinic", short).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "assessment.invalid",
    )
    .await;
    for (kind, items) in [
        ("village_clinic", &village_items),
        ("township", &township_items),
    ] {
        let response = put_scheme(&app, &admin, year, kind, items.clone()).await;
        assert_eq!(response.status(), StatusCode::OK, "{kind}");
    }
    let schemes = app
        .get_ok(&admin, &format!("/api/v1/assessments/{year}/schemes"))
        .await;
    assert_eq!(schemes[0]["customised"], true);

    // Activity: a visit at each, claimed; at the village a diagnosis of the other sex, an alert
    // the office confirms.
    let female: i64 = sqlx::query_scalar(
        "SELECT id FROM residents WHERE village_clinic_id = $1 AND sex = 'female' ORDER BY id LIMIT 1",
    )
    .bind(village)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    visit(&app, "village-doctor", female, "N40").await;
    visit(&app, "township-doctor", female, "J06.9").await;
    let month = yijia::clock::format_cst(yijia::clock::now_ms())[..7].to_owned();
    let settled = app
        .post_json(
            Some(&officer),
            "/api/v1/claims/settle",
            &json!({"month": month}),
        )
        .await;
    assert_eq!(settled.status(), StatusCode::OK);
    let run: Value = app
        .post_json(
            Some(&officer),
            "/api/v1/supervision/runs",
            &json!({"from": today.to_string(), "to": today.to_string()}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(run["raised"], 1, "{run}");
    let alerts = app
        .get_ok(&officer, "/api/v1/supervision/alerts?rule=R05")
        .await;
    let alert = alerts["items"][0]["id"].as_i64().unwrap();
    let confirmed = app
        .post_json(
            Some(&officer),
            &format!("/api/v1/supervision/alerts/{alert}/transitions"),
            &json!({"to": "confirmed"}),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    // Scores: the village loses 5 of 30 for the finding and has no contracts to fulfil.
    let scores = app
        .get_ok(&officer, &format!("/api/v1/assessments/{year}/scores"))
        .await;
    let at_village = member(&scores, village);
    assert_eq!(at_village["score"], 25.0, "{at_village}");
    let finding = &at_village["items"][1];
    assert_eq!(finding["value"], 1.0);
    assert_eq!(finding["points"], 25.0);
    assert!(
        finding["source"]
            .as_str()
            .unwrap()
            .contains("确认违规 1 项"),
        "{finding}"
    );
    assert!(at_village["items"][0]["value"].is_null());
    assert_eq!(member(&scores, town)["score"], 100.0);
    let quarter = app
        .get_ok(
            &officer,
            &format!("/api/v1/assessments/{year}/scores?period=q1"),
        )
        .await;
    assert_eq!(quarter["period"], "q1");

    // A member sees its own scorecard only.
    let own = app
        .get_ok(
            &village_doctor,
            &format!("/api/v1/assessments/{year}/scores"),
        )
        .await;
    assert_eq!(own["members"].as_array().unwrap().len(), 1);
    assert_error(
        app.get(
            &village_doctor,
            &format!("/api/v1/assessments/{year}/scores?institution={town}"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;

    // A budget with a surplus; the year frozen, once; the schemes then stay.
    let response = app
        .post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}"),
            &json!({"method": "per_capita", "per_capita_fen": 1000}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let freeze = format!("/api/v1/assessments/{year}/freeze");
    assert_error(
        app.post_json(Some(&admin), &freeze, &Value::Null).await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let frozen = app.post_json(Some(&officer), &freeze, &Value::Null).await;
    assert_eq!(frozen.status(), StatusCode::CREATED);
    assert_error(
        app.post_json(Some(&officer), &freeze, &Value::Null).await,
        StatusCode::CONFLICT,
        "assessment.frozen",
    )
    .await;
    assert_error(
        put_scheme(&app, &admin, year, "township", village_items.clone()).await,
        StatusCode::CONFLICT,
        "assessment.frozen",
    )
    .await;
    let budget = app
        .get_ok(&officer, &format!("/api/v1/budget/{year}/scores"))
        .await;
    let sources: Vec<&str> = budget
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["source"].as_str().unwrap())
        .collect();
    assert!(sources.iter().all(|s| *s == "assessment"), "{budget}");

    // The surplus goes 100 : 25 between the township and the village, to the fen.
    let settled: Value = app
        .post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}/settlement"),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    let balance = settled["balance_fen"].as_i64().unwrap();
    assert!(balance > 0, "{settled}");
    let performance = balance * 70 / 100;
    let account = |id: i64| {
        settled["accounts"][format!("member:{id}:performance")]
            .as_i64()
            .unwrap()
    };
    let (to_village, to_town) = (account(village), account(town));
    assert_eq!(to_village + to_town, performance);
    // 25 / 125 of it, rounded to the fen.
    assert!(
        (to_village * 125 - performance * 25).abs() < 125,
        "{to_village} of {performance}"
    );

    // The pages: the table with its freeze done, the member's scorecard, the editor.
    let session = app.web_login("insurance-officer").await;
    let (status, html) = app
        .page(&session, &format!("/assessments?year={year}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"frozen\"") && !html.contains("id=\"freeze\""),
        "{html}"
    );
    let own_page = app.web_login("village-doctor").await;
    let (status, html) = app
        .page(
            &own_page,
            &format!("/assessments/members/{village}?year={year}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("25.0") && html.contains("确认违规 1 项"),
        "{html}"
    );
    // County staff are not assessed: the page says so rather than refusing.
    let county = app.web_login("county-doctor").await;
    let (status, html) = app.page(&county, "/assessments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("没有考核对象"), "{html}");
    let editor = app.web_login("admin").await;
    let (status, html) = app
        .page(&editor, &format!("/assessments/schemes?year={year}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("本县方案"), "{html}");
}

#[tokio::test]
async fn an_administrator_edits_a_scheme_in_the_page() {
    let app = TestApp::spawn().await;
    let year = yijia::clock::today_cst().year() + 1;
    let editor = app.web_login("admin").await;
    let path = format!("/assessments/schemes/{year}/village_clinic");
    let rows = [
        ("name", "高血压患者规范管理率"),
        ("input", "indicator:B.1"),
        ("weight", "60"),
        ("target", "60"),
        ("scoring", "pro_rata"),
        ("points_per_case", ""),
        ("name", "监管发现问题"),
        ("input", "supervision"),
        ("weight", "30"),
        ("target", ""),
        ("scoring", "deduction"),
        ("points_per_case", "3"),
        ("name", ""),
        ("input", ""),
        ("weight", ""),
        ("target", ""),
        ("scoring", "pro_rata"),
        ("points_per_case", ""),
    ];
    let (status, html) = app.submit(&editor, &path, &rows).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("权重之和须为 100"), "{html}");
    let mut fixed = rows.to_vec();
    fixed[2] = ("weight", "70");
    let (status, html) = app.submit(&editor, &path, &fixed).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("本县方案"), "{html}");
    let admin = app.login("admin").await;
    let schemes = app
        .get_ok(&admin, &format!("/api/v1/assessments/{year}/schemes"))
        .await;
    let village = schemes
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "village_clinic")
        .unwrap();
    assert_eq!(village["items"].as_array().unwrap().len(), 2);
    assert_eq!(village["items"][1]["points_per_case"], 3.0);
}
