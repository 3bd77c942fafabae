//! Indicators over HTTP on a small hand-computed data set: each value with its exact numerator
//! and denominator, drilled down to one institution, exported as CSV; "no data" where yijia
//! holds no records; aggregates only for those who may see them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, indicator};

#[tokio::test]
async fn each_indicator_has_its_exact_numerator_and_denominator() {
    let app = TestApp::spawn().await;
    let now = yijia::clock::now_ms();
    let month = yijia::clock::format_cst(now)[..7].to_owned();
    let (year, month_number) = (&month[..4], month[5..].trim_start_matches('0'));
    let village_id = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village_id).await;
    let a_minute_ago = (now - 60_000).to_string();
    let visit = |token: String, drugs: i64| {
        let app = &app;
        let started = a_minute_ago.clone();
        async move {
            let body = json!({"resident_id": resident, "kind": "outpatient", "started_at": started, "diagnoses": ["J06.9"], "costs": {"drugs_fen": drugs}});
            let response = app
                .post_json(Some(&token), "/api/v1/encounters", &body)
                .await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
    };
    // Four visits: two at the village clinic, one at the township centre, one at the county.
    visit(app.login("village-doctor").await, 5_000).await;
    visit(app.login("village-doctor").await, 3_000).await;
    visit(app.login("township-doctor").await, 20_000).await;
    let county = app.login("county-doctor").await;
    visit(county.clone(), 40_000).await;
    // One county stay of three days.
    let stay = json!({"resident_id": resident, "kind": "inpatient", "started_at": (now - 3 * 86_400_000 - 60_000).to_string(), "diagnoses": ["J18.9"]});
    let stay: Value = app
        .post_json(Some(&county), "/api/v1/encounters", &stay)
        .await
        .json()
        .await
        .unwrap();
    let discharged = app
        .post_json(
            Some(&county),
            &format!("/api/v1/encounters/{}/discharge", stay["id"]),
            &json!({"ended_at": a_minute_ago, "costs": {"beds_fen": 300_000}}),
        )
        .await;
    assert_eq!(discharged.status(), StatusCode::OK);
    let officer = app.login("insurance-officer").await;
    let settled: Value = app
        .post_json(
            Some(&officer),
            "/api/v1/claims/settle",
            &json!({"month": month}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settled["settled"], 5);
    let claims = app
        .get_ok(&officer, &format!("/api/v1/claims?month={month}"))
        .await;
    let fund: i64 = claims["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fund_paid_fen"].as_i64().unwrap())
        .sum();
    // One stay out of county, from the bureau's export.
    sqlx::query(
        "INSERT INTO out_of_county_claims (community_id, settlement_no, resident_id, hospital_name, \
         kind, admitted_on, discharged_on, month, total_fen, fund_paid_fen, imported_at_ms) \
         SELECT community_id, 'S-9', id, '省人民医院', 'inpatient', '2026-01-01', '2026-01-05', $2, 500000, 250000, 0 \
         FROM residents WHERE id = $1",
    )
    .bind(resident)
    .bind(&month)
    .execute(&app.db.pool)
    .await
    .unwrap();

    let supervisor = app.login("supervisor").await;
    let values = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/indicators?year={year}&month={month_number}"),
        )
        .await;
    let check = |code: &str, numerator: f64, denominator: f64| {
        let v = indicator(&values, code);
        assert_eq!(
            (v["numerator"].as_f64(), v["denominator"].as_f64()),
            (Some(numerator), Some(denominator)),
            "{v}"
        );
    };
    check("3.1", 3.0, 4.0);
    assert_eq!(indicator(&values, "3.1")["value"], 75.0);
    check("C.1", 5.0, 6.0);
    check("4.2", 1.0, 2.0);
    check("C.2", 3.0, 1.0);
    check("C.3", 68_000.0, 4.0);
    assert_eq!(indicator(&values, "C.3")["value"], 170.0, "yuan per visit");
    check("3.2", fund as f64, (fund + 250_000) as f64);
    // Remote reads: the demo's imaging studies signed this month (no ECG read yet).
    let signed: Vec<i64> = sqlx::query_scalar(
        "SELECT reported_at_ms FROM imaging_studies WHERE reported_at_ms IS NOT NULL",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let imaging_reads = signed
        .iter()
        .filter(|at| yijia::clock::month_cst(**at) == month)
        .count();
    check("2.2a", imaging_reads as f64, 2000.0);
    check("2.1", 0.0, 2000.0);
    // No records, no number: said so.
    for code in ["2.3", "5.1", "5.2", "1.1", "C.9"] {
        let v = indicator(&values, code);
        assert!(
            v["value"].is_null() && v["note"].as_str().is_some_and(|n| !n.is_empty()),
            "{v}"
        );
    }

    // Drilled down to the village clinic: its own visits only.
    let village = app
        .get_ok(
            &supervisor,
            &format!(
                "/api/v1/indicators?year={year}&month={month_number}&institution={village_id}"
            ),
        )
        .await;
    let v = indicator(&village, "3.1");
    assert_eq!(
        (v["numerator"].as_f64(), v["denominator"].as_f64()),
        (Some(2.0), Some(2.0))
    );

    // Drilled down to the township centre: its own claim, and the out-of-county stay of a
    // resident of its catchment.
    let township_id = app.institution_of("township-doctor").await;
    let township = app
        .get_ok(
            &supervisor,
            &format!(
                "/api/v1/indicators?year={year}&month={month_number}&institution={township_id}"
            ),
        )
        .await;
    let v = indicator(&township, "C.1");
    assert_eq!(
        (v["numerator"].as_f64(), v["denominator"].as_f64()),
        (Some(1.0), Some(2.0)),
        "{v}"
    );

    // One indicator drilled down to every member: each institution's own visits, adding up to
    // the county's.
    let breakdown = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/indicators/3.1/institutions?year={year}&month={month_number}"),
        )
        .await;
    assert_eq!(breakdown["county"]["numerator"], 3.0);
    let members = breakdown["institutions"].as_array().unwrap();
    let member = |id: i64| {
        members
            .iter()
            .find(|m| m["institution_id"] == id)
            .unwrap_or_else(|| panic!("{id} is listed"))
    };
    assert_eq!(
        (
            member(village_id)["numerator"].as_f64(),
            member(village_id)["denominator"].as_f64()
        ),
        (Some(2.0), Some(2.0))
    );
    let lead = app.institution_id("LH").await;
    assert_eq!(
        (
            member(lead)["numerator"].as_f64(),
            member(lead)["denominator"].as_f64()
        ),
        (Some(0.0), Some(1.0))
    );
    assert_eq!(members[0]["kind"], "牵头医院");
    let visits: f64 = members
        .iter()
        .filter_map(|m| m["denominator"].as_f64())
        .sum();
    assert_eq!(visits, 4.0);
    assert_error(
        app.get(
            &supervisor,
            &format!("/api/v1/indicators/9.9/institutions?year={year}"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "indicator.not_found",
    )
    .await;
    let session = app.web_login("supervisor").await;
    let (status, html) = app
        .page(
            &session,
            &format!("/indicators/3.1?year={year}&month={month_number}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("全县") && html.contains("75 %"), "{html}");

    // CSV for spreadsheets.
    let csv = app
        .get(
            &supervisor,
            &format!("/api/v1/indicators.csv?year={year}&month={month_number}"),
        )
        .await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("code,name,dimension,value,numerator,denominator"));
    assert!(
        csv.contains("3.1,县域内基层医疗卫生机构诊疗人次数占比,促分工,75.0000,3.0000,4.0000"),
        "{csv}"
    );

    // A visit recorded after a read counts at the next read.
    visit(app.login("village-doctor").await, 1_000).await;
    let values = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/indicators?year={year}&month={month_number}"),
        )
        .await;
    let v = indicator(&values, "3.1");
    assert_eq!(
        (v["numerator"].as_f64(), v["denominator"].as_f64()),
        (Some(4.0), Some(5.0))
    );

    // Aggregates are not for village doctors; a bad month is refused.
    let village_doctor = app.login("village-doctor").await;
    assert_error(
        app.get(&village_doctor, &format!("/api/v1/indicators?year={year}"))
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_error(
        app.get(
            &supervisor,
            &format!("/api/v1/indicators?year={year}&month=13"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "indicator.invalid",
    )
    .await;

    // The dashboard page.
    let session = app.web_login("supervisor").await;
    let (status, html) = app
        .page(
            &session,
            &format!("/indicators?year={year}&month={month_number}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("保健康") && html.contains("80 %") && html.contains("<svg"),
        "{html}"
    );
}

#[tokio::test]
async fn chest_pain_intervals_are_indicators_from_the_cases_time_points() {
    let app = TestApp::spawn().await;
    let village = app.login("village-doctor").await;
    let county = app.login("county-doctor").await;
    let lead = app.institution_id("LH").await;
    let site = app.institution_of("village-doctor").await;
    // Two green-channel cases from the village; first medical contact 6 and 14 minutes before
    // the ECG, the wire across 3 and 4 minutes after arrival at the lead hospital; the first
    // case left the village 20 minutes after its ECG.
    for (contact_before, wire_after) in [(6, 3), (14, 4)] {
        let (ecg, _) = crate::referral::critical_ecg(&app).await;
        let referral = crate::referral::green_channel(&app, &village, ecg).await;
        let id = referral["id"].as_i64().unwrap();
        let arrived = app
            .post_json(
                Some(&county),
                &format!("/api/v1/referrals/{id}/transitions"),
                &json!({"to": "arrived", "note": ""}),
            )
            .await;
        assert_eq!(arrived.status(), StatusCode::OK);
        let timeline = app
            .get_ok(&county, &format!("/api/v1/referrals/{id}/timeline"))
            .await;
        let at = |point: &str| timeline["points"][point].as_i64().unwrap();
        let mut points = vec![
            (
                &village,
                "first_medical_contact",
                at("ecg_recorded") - contact_before * 60_000,
            ),
            (
                &county,
                "wire_crossing",
                at("arrival") + wire_after * 60_000,
            ),
        ];
        if contact_before == 6 {
            points.push((&village, "departure", at("ecg_recorded") + 20 * 60_000));
        }
        for (token, point, ms) in points {
            let response = app
                .post_json(
                    Some(token),
                    &format!("/api/v1/referrals/{id}/time-points"),
                    &json!({"point": point, "at": ms}),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "{point}");
        }
    }

    let now = yijia::clock::now_ms();
    let month = yijia::clock::format_cst(now)[..7].to_owned();
    let query = format!(
        "year={}&month={}",
        &month[..4],
        month[5..].trim_start_matches('0')
    );
    let supervisor = app.login("supervisor").await;
    let read = |scope: String| {
        let (app, supervisor, query) = (&app, &supervisor, &query);
        async move {
            app.get_ok(supervisor, &format!("/api/v1/indicators?{query}{scope}"))
                .await
        }
    };
    let values = read(String::new()).await;
    let check = |values: &Value, code: &str, numerator: Option<f64>, denominator: f64| {
        let v = indicator(values, code);
        assert_eq!(v["denominator"].as_f64(), Some(denominator), "{v}");
        if numerator.is_some() {
            assert_eq!(v["numerator"].as_f64(), numerator, "{v}");
        }
        v["value"].as_f64()
    };
    // First medical contact to ECG: (6 + 14) minutes over 2 cases; one within 10 minutes.
    assert_eq!(check(&values, "P.1", Some(1_200.0), 2.0), Some(10.0));
    assert_eq!(check(&values, "P.2", Some(1.0), 2.0), Some(50.0));
    assert_eq!(indicator(&values, "P.1")["unit"], "分钟");
    // The centre signed both reports within minutes of receiving them.
    check(&values, "P.3", None, 2.0);
    assert_eq!(check(&values, "P.4", Some(2.0), 2.0), Some(100.0));
    // Door to balloon: (3 + 4) minutes over 2 cases, both within 90.
    assert_eq!(check(&values, "P.5", Some(420.0), 2.0), Some(3.5));
    assert_eq!(check(&values, "P.6", Some(2.0), 2.0), Some(100.0));
    // First contact (the ECG's recording day) to balloon (today): far beyond 120 minutes.
    assert_eq!(check(&values, "P.8", Some(0.0), 2.0), Some(0.0));
    // Door-in-door-out of the one case that recorded its departure: 6 + 20 minutes.
    assert_eq!(check(&values, "P.9", Some(1_560.0), 1.0), Some(26.0));
    assert_eq!(check(&values, "P.10", Some(1.0), 1.0), Some(100.0));

    // Door to balloon is the PCI hospital's; the rest are the sending village's.
    let at_lead = read(format!("&institution={lead}")).await;
    check(&at_lead, "P.5", Some(420.0), 2.0);
    check(&at_lead, "P.1", Some(0.0), 0.0);
    let at_village = read(format!("&institution={site}")).await;
    check(&at_village, "P.1", Some(1_200.0), 2.0);
    let d2b = indicator(&at_village, "P.5");
    assert!(d2b["value"].is_null() && d2b["note"].is_string(), "{d2b}");

    // A corrected time point counts at the next read.
    let first: i64 =
        sqlx::query_scalar("SELECT MIN(id) FROM referrals WHERE green_channel = 'chest_pain'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let timeline = app
        .get_ok(&county, &format!("/api/v1/referrals/{first}/timeline"))
        .await;
    let recorded = timeline["points"]["ecg_recorded"].as_i64().unwrap();
    let corrected = app
        .post_json(
            Some(&village),
            &format!("/api/v1/referrals/{first}/time-points"),
            &json!({"point": "first_medical_contact", "at": recorded - 2 * 60_000}),
        )
        .await;
    assert_eq!(corrected.status(), StatusCode::OK);
    let values = read(String::new()).await;
    assert_eq!(check(&values, "P.1", Some(960.0), 2.0), Some(8.0));

    // The dashboard shows the chest pain centre's section.
    let session = app.web_login("supervisor").await;
    let (status, html) = app.page(&session, &format!("/indicators?{query}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("胸痛中心") && html.contains("进门至导丝通过"),
        "{html}"
    );
}

#[tokio::test]
async fn a_demo_year_lands_where_the_seeds_put_a_good_county() {
    let app = TestApp::spawn().await;
    let community: i64 = sqlx::query_scalar("SELECT id FROM communities")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let year = yijia::clock::today_cst().year() - 1;
    let activity =
        yijia::demo::activity::generate(&app.ctx, community, year, 1, yijia::clock::now_ms())
            .await
            .unwrap();
    assert_eq!(activity.claims, activity.encounters);
    assert!(activity.encounters > 3_000, "{activity:?}");
    let supervisor = app.login("supervisor").await;
    let values = app
        .get_ok(&supervisor, &format!("/api/v1/indicators?year={year}"))
        .await;
    let value = |code: &str| indicator(&values, code)["value"].as_f64().unwrap();
    assert!(
        (85.0..=95.0).contains(&value("C.1")),
        "in-county care rate {}",
        value("C.1")
    );
    assert!(
        (60.0..=70.0).contains(&value("3.1")),
        "primary-care visit share {}",
        value("3.1")
    );
    assert!(
        (7.0..=8.0).contains(&value("C.2")),
        "mean length of stay {}",
        value("C.2")
    );
    assert!(
        (5.0..=25.0).contains(&value("4.3")),
        "TCM share of visits {}",
        value("4.3")
    );
    assert!(
        (80.0..=95.0).contains(&value("4.2")),
        "in-county stays {}",
        value("4.2")
    );
    // Remote ECG reads: about 53 a year per 1,000 residents (≈ 20,000 for the county demo),
    // each read at the centre and counted once by the indicator.
    let residents = indicator(&values, "2.2a")["denominator"].as_f64().unwrap();
    let per_thousand = activity.remote_ecg_reads as f64 * 1000.0 / residents;
    assert!((45.0..=61.0).contains(&per_thousand), "{activity:?}");
    assert_eq!(value("C.7"), activity.remote_ecg_reads as f64);
    // Referrals up to the county and back down, counted by direction.
    assert!(activity.referrals > 20, "{activity:?}");
    let (up, down) = (value("C.5"), value("C.6"));
    assert_eq!(
        (up + down) as usize,
        activity.referrals,
        "{up} up, {down} down"
    );
    assert!(up > down && down > 0.0, "{up} up, {down} down");
    // Every STEMI read went to the cath lab by green channel, with its time points.
    let cases: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM referrals WHERE green_channel = 'chest_pain'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(cases > 0, "{activity:?}");
    for code in ["P.1", "P.3", "P.5", "P.7"] {
        assert_eq!(
            indicator(&values, code)["denominator"].as_f64(),
            Some(cases as f64),
            "{code}"
        );
    }
    assert!(
        (40.0..=100.0).contains(&value("P.5")),
        "mean door-to-balloon {}",
        value("P.5")
    );
    assert!(value("P.2") >= 50.0 && value("P.4") >= 50.0, "{values}");
    // The year's budget, as the demo's insurance officer set it: prepaid every month, reviewed
    // every quarter, spending within the package, the settlement left to the officer.
    yijia::demo::activity::budget(&app.ctx, yijia::clock::now_ms(), community, year)
        .await
        .unwrap();
    let officer = app.login("insurance-officer").await;
    let position = app
        .get_ok(&officer, &format!("/api/v1/budget/{year}"))
        .await;
    let package = position["packaged_fen"].as_i64().unwrap();
    assert_eq!(
        position["prepaid_fen"].as_i64().unwrap(),
        package - position["reserve_fen"].as_i64().unwrap()
    );
    assert_eq!(position["reviews"].as_array().unwrap().len(), 4);
    let spent = position["spent_in_county_fen"].as_i64().unwrap()
        + position["spent_out_of_county_fen"].as_i64().unwrap();
    assert!(spent < package && spent > package * 8 / 10, "{position}");
    assert!(position["budget"]["settled_at_ms"].is_null());
    // A year's ECG read opens with its tracing from the stored recording.
    let reader = app.login("county-reader").await;
    let ecg: i64 = sqlx::query_scalar("SELECT MAX(id) FROM ecgs")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let detail = app.get_ok(&reader, &format!("/api/v1/ecgs/{ecg}")).await;
    assert_eq!(detail["state"], "reported", "{detail}");
    let waveform = app
        .get_ok(&reader, &format!("/api/v1/ecgs/{ecg}/waveform"))
        .await;
    assert_eq!(waveform["leads"].as_object().unwrap().len(), 12);
    // The year's claims paid out of the fund.
    let claims_fund: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(fund_paid_fen) AS BIGINT) FROM claims")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(claims_fund > 0);
}

#[tokio::test]
async fn a_county_sets_its_own_definition_of_a_derived_indicator() {
    let app = TestApp::spawn().await;
    let now = yijia::clock::now_ms();
    let month = yijia::clock::format_cst(now)[..7].to_owned();
    let (year, month_number) = (&month[..4], month[5..].trim_start_matches('0'));
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    // An outpatient visit at the village clinic and an emergency at the county hospital.
    for (user, kind) in [
        ("village-doctor", "outpatient"),
        ("county-doctor", "emergency"),
    ] {
        let token = app.login(user).await;
        let body = json!({"resident_id": resident, "kind": kind, "started_at": (now - 60_000).to_string(), "diagnoses": ["J06.9"]});
        let response = app
            .post_json(Some(&token), "/api/v1/encounters", &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let supervisor = app.login("supervisor").await;
    let indicators = format!("/api/v1/indicators?year={year}&month={month_number}");
    let share = |values: &Value| {
        let v = indicator(values, "3.1").clone();
        (v["numerator"].as_f64(), v["denominator"].as_f64(), v)
    };
    let (n, d, v) = share(&app.get_ok(&supervisor, &indicators).await);
    assert_eq!((n, d), (Some(1.0), Some(2.0)), "{v}");
    assert_eq!(v["customised"], false);

    let definitions = app
        .get_ok(&supervisor, "/api/v1/indicators/definitions")
        .await;
    let find = |code: &str| {
        definitions
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(find("3.1")["editable"], true);
    assert_eq!(find("3.1")["denominator"], "all_visits");
    assert_eq!(find("2.1")["editable"], false, "official: not the county's");
    let measures = app.get_ok(&supervisor, "/api/v1/indicators/measures").await;
    assert!(
        measures
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "outpatient_visits" && m["label"] == "门诊人次")
    );

    // The county counts outpatient visits only, and says why.
    let put = |token: String, code: &'static str, body: Value| {
        let app = &app;
        async move {
            app.client
                .put(format!(
                    "{}/api/v1/indicators/definitions/{code}",
                    app.address
                ))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let change = json!({"name": "基层门诊人次占比", "numerator": "primary_visits", "denominator": "outpatient_visits", "scale": 100, "unit": "%", "basis": "按市卫健委考核细则，分母不含急诊"});
    let response = put(supervisor.clone(), "3.1", change.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set: Value = response.json().await.unwrap();
    assert_eq!(set["customised"], true);
    let (n, d, v) = share(&app.get_ok(&supervisor, &indicators).await);
    assert_eq!((n, d), (Some(1.0), Some(1.0)), "{v}");
    assert_eq!(v["customised"], true);
    assert_eq!(v["name"], "基层门诊人次占比");
    assert!(
        v["source"].as_str().unwrap().contains("分母不含急诊"),
        "{v}"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'indicator.definition.set'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The page shows the county's 口径 and offers the form to those who may change it.
    let session = app.web_login("supervisor").await;
    let (status, html) = app.page(&session, "/indicators/definitions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("本县口径：按市卫健委考核细则") && html.contains("恢复默认口径"));

    // Not the county's to change, not a measure, not an indicator, not their role.
    assert_error(
        put(supervisor.clone(), "2.1", change.clone()).await,
        StatusCode::CONFLICT,
        "indicator.not_editable",
    )
    .await;
    let mut bad = change.clone();
    bad["denominator"] = json!("beds");
    assert_error(
        put(supervisor.clone(), "3.1", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "indicator.invalid",
    )
    .await;
    let mut no_reason = change.clone();
    no_reason["basis"] = json!(" ");
    assert_error(
        put(supervisor.clone(), "3.1", no_reason).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "indicator.invalid",
    )
    .await;
    assert_error(
        put(supervisor.clone(), "9.9", change.clone()).await,
        StatusCode::NOT_FOUND,
        "indicator.not_found",
    )
    .await;
    for user in ["insurance-officer", "county-doctor"] {
        assert_error(
            put(app.login(user).await, "3.1", change.clone()).await,
            StatusCode::FORBIDDEN,
            "access.denied",
        )
        .await;
    }

    // Reset: the built-in definition again.
    let reset = app
        .client
        .delete(format!("{}/api/v1/indicators/definitions/3.1", app.address))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::OK);
    let (n, d, v) = share(&app.get_ok(&supervisor, &indicators).await);
    assert_eq!((n, d), (Some(1.0), Some(2.0)), "{v}");
    assert_eq!(v["customised"], false);
}
