//! Insurance over HTTP: claims follow the year's rules to the fen (deductible, eligible share,
//! rate, referral rules), the budget's ledger balances through prepayments, review and
//! settlement, settling twice changes nothing, surplus and overrun, a closed year refuses
//! changes, the out-of-county import, DIP, and what an insurance officer may not see.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use crate::referral::critical_ecg;

fn now() -> i64 {
    yijia::clock::now_ms()
}

fn this_month() -> String {
    yijia::clock::format_cst(now())[..7].to_owned()
}

fn this_year() -> i64 {
    this_month()[..4].parse().unwrap()
}

async fn encounter(app: &TestApp, token: &str, body: Value) -> i64 {
    let response = app
        .post_json(Some(token), "/api/v1/encounters", &body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn discharge(app: &TestApp, token: &str, id: i64, body: Value) {
    let response = app
        .post_json(
            Some(token),
            &format!("/api/v1/encounters/{id}/discharge"),
            &body,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{:?}",
        response.text().await
    );
}

async fn settle(app: &TestApp, officer: &str) -> Value {
    let response = app
        .post_json(
            Some(officer),
            "/api/v1/claims/settle",
            &json!({"month": this_month()}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// A village visit of 100.00 yuan for `resident`, closed a minute ago; its claim pays 66.50.
async fn village_visit(app: &TestApp, resident: i64) -> i64 {
    let village = app.login("village-doctor").await;
    let started = (now() - 60_000).to_string();
    encounter(
        app,
        &village,
        json!({"resident_id": resident, "kind": "outpatient", "started_at": started, "diagnoses": ["J06.9"], "costs": {"drugs_fen": 8000, "tests_fen": 2000}}),
    )
    .await
}

#[tokio::test]
async fn claims_follow_the_years_rules_to_the_fen_with_the_referral_rules() {
    let app = TestApp::spawn().await;
    let (ecg, resident) = critical_ecg(&app).await;
    let village = app.login("village-doctor").await;
    let county = app.login("county-doctor").await;
    let township = app.login("township-doctor").await;
    let officer = app.login("insurance-officer").await;
    let a_minute_ago = (now() - 60_000).to_string();

    // Level 1: no deductible, 95 % eligible, 70 %: 100.00 → eligible 95.00 → fund 66.50.
    let visit = village_visit(&app, resident).await;

    // Level 3: 12,345.67 yuan → eligible 88 % = 10,864.18, less 500, × 65 % = 6,736.72.
    let stay = encounter(
        &app,
        &county,
        json!({"resident_id": resident, "kind": "inpatient", "started_at": (now() - 5 * 86_400_000).to_string(), "diagnoses": ["I21.0"]}),
    )
    .await;
    discharge(
        &app,
        &county,
        stay,
        json!({"ended_at": a_minute_ago, "costs": {"drugs_fen": 1_000_000, "beds_fen": 234_567}, "main_procedure": "00.66"}),
    )
    .await;

    // The green channel's encounter: one deductible per up-referral episode, so none here.
    let referral = crate::referral::green_channel(&app, &village, ecg).await;
    let emergency = referral["encounter_id"].as_i64().unwrap();
    discharge(
        &app,
        &county,
        emergency,
        json!({"ended_at": now().to_string(), "costs": {"treatment_fen": 1_000_000}}),
    )
    .await;

    // Down-referred to the township centre: its next visit is reimbursed 5 points more.
    let township_id = app.institution_of("township-doctor").await;
    let down = json!({"resident_id": resident, "direction": "down", "to_institution_id": township_id, "reason": "病情稳定", "diagnosis_icd10": "I21.0", "urgency": "routine", "submit": true});
    let down: Value = app
        .post_json(Some(&county), "/api/v1/referrals", &down)
        .await
        .json()
        .await
        .unwrap();
    let accepted = app
        .post_json(
            Some(&township),
            &format!("/api/v1/referrals/{}/transitions", down["id"]),
            &json!({"to": "accepted"}),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    // Level 2: 500.00 → eligible 92 % = 460.00, less 200, × (80 + 5) % = 221.00.
    let follow_up = encounter(
        &app,
        &township,
        json!({"resident_id": resident, "kind": "outpatient", "started_at": now().to_string(), "diagnoses": ["I25.2"], "costs": {"drugs_fen": 50_000}}),
    )
    .await;

    // Only insurance officers settle.
    assert_error(
        app.post_json(
            Some(&county),
            "/api/v1/claims/settle",
            &json!({"month": this_month()}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let settlement = settle(&app, &officer).await;
    assert_eq!(settlement["settled"], 4, "{settlement}");
    let claims = app
        .get_ok(&officer, &format!("/api/v1/claims?month={}", this_month()))
        .await;
    let claim = |encounter: i64| {
        claims["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["encounter_id"] == encounter)
            .unwrap()
            .clone()
    };
    assert_eq!(claim(visit)["fund_paid_fen"], 6_650);
    assert_eq!(claim(visit)["patient_paid_fen"], 3_350);
    assert_eq!(claim(stay)["eligible_fen"], 1_086_418);
    assert_eq!(claim(stay)["deductible_fen"], 50_000);
    assert_eq!(claim(stay)["fund_paid_fen"], 673_672);
    assert_eq!(claim(emergency)["deductible_fen"], 0);
    assert_eq!(claim(emergency)["fund_paid_fen"], 572_000);
    assert_eq!(claim(emergency)["rule_notes"], "single_deductible");
    assert_eq!(claim(follow_up)["rate_pp"], 85);
    assert_eq!(claim(follow_up)["fund_paid_fen"], 22_100);
    assert_eq!(claim(follow_up)["rule_notes"], "down_referral_bonus");

    // Settling again settles nothing twice.
    let again = settle(&app, &officer).await;
    assert_eq!(
        (again["settled"].as_i64(), again["already_settled"].as_i64()),
        (Some(0), Some(4))
    );
    assert_eq!(app.count("claims").await, 4);

    // DIP: the PCI stay scores its group; the month's inpatient fund goes by points.
    let dip = app
        .get_ok(
            &officer,
            &format!("/api/v1/dip/scores?month={}", this_month()),
        )
        .await;
    assert_eq!(dip["total_points"], 3_200);
    assert_eq!(dip["fund_fen"], 673_672);
    assert_eq!(dip["members"][0]["payment_fen"], 673_672);

    // The officer sees money, not clinical notes.
    assert_error(
        app.get(&officer, &format!("/api/v1/encounters/{stay}"))
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_error(
        app.get(&officer, &format!("/api/v1/residents/{resident}/timeline"))
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
}

fn balanced(position: &Value) {
    let sum: i64 = position["accounts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(sum, 0, "the ledger balances: {}", position["accounts"]);
}

#[tokio::test]
async fn a_surplus_is_retained_and_shared_out_and_the_ledger_balances() {
    let app = TestApp::spawn().await;
    let officer = app.login("insurance-officer").await;
    let year = this_year();
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    village_visit(&app, resident).await;
    settle(&app, &officer).await;

    // Out-of-county care from the bureau's export: a bad row stops the whole file.
    let id_number = app.id_number_of(resident).await;
    let day = yijia::clock::format_cst(now())[..10].to_owned();
    let header = "settlement_no,id_number,hospital_name,kind,admitted_on,discharged_on,total_yuan,fund_paid_yuan";
    let good = format!("S-1,{id_number},省人民医院,inpatient,{day},{day},3000.00,1000.00");
    let dir = std::env::temp_dir().join(format!("yijia-ooc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("export.csv");
    std::fs::write(
        &file,
        format!("{header}\n{good}\nS-2,110101199003074514,市医院,住院,{day},{day},12.5,1\n"),
    )
    .unwrap();
    let output = app.yijia(&["import", "out-of-county", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("line 3"),
        "{output:?}"
    );
    assert_eq!(app.count("out_of_county_claims").await, 0);
    std::fs::write(&file, format!("{header}\n{good}\n")).unwrap();
    for _ in 0..2 {
        let output = app.yijia(&["import", "out-of-county", file.to_str().unwrap()]);
        assert!(output.status.success(), "{output:?}");
    }
    assert_eq!(
        app.count("out_of_county_claims").await,
        1,
        "a re-import adds nothing"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // 2,000 insured × 10.00 yuan: package 90 % = 18,000.00, reserve 10 % of it = 1,800.00.
    let response = app
        .post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}"),
            &json!({"method": "per_capita", "per_capita_fen": 1000}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let position: Value = response.json().await.unwrap();
    assert_eq!(position["budget"]["insured_count"], 2000);
    assert_eq!(position["packaged_fen"], 1_800_000);
    assert_eq!(position["reserve_fen"], 180_000);
    balanced(&position);
    for month in [1, 2, 3, 3] {
        let response = app
            .post_json(
                Some(&officer),
                &format!("/api/v1/budget/{year}/prepayments/{month}"),
                &Value::Null,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let position: Value = app
        .post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}/reviews/1"),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(position["prepaid_fen"], 3 * 135_000, "each month paid once");
    assert_eq!(position["reviews"][0]["budget_to_date_fen"], 450_000);
    balanced(&position);

    // Settled: 18,000.00 − (66.50 + 1,000.00) = 16,933.50 surplus, 70 % to performance pay.
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
    balanced(&settled);
    assert_eq!(settled["balance_fen"], 1_693_350);
    let village = app.institution_of("village-doctor").await;
    let accounts = &settled["accounts"];
    assert_eq!(accounts[format!("member:{village}:performance")], 1_185_345);
    assert_eq!(accounts[format!("member:{village}:development")], 508_005);
    assert_eq!(accounts["group"], 0);
    assert_eq!(accounts["reserve"], 0);
    assert_eq!(accounts["budget"], 0);
    assert_eq!(accounts["spending"], 106_650);

    // Settling twice changes nothing; the closed year refuses changes.
    let again: Value = app
        .post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}/settlement"),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["ledger"], settled["ledger"]);
    assert_error(
        app.post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}/prepayments/4"),
            &Value::Null,
        )
        .await,
        StatusCode::CONFLICT,
        "budget.period_closed",
    )
    .await;
    assert_error(
        app.post_json(
            Some(&officer),
            "/api/v1/claims/settle",
            &json!({"month": this_month()}),
        )
        .await,
        StatusCode::CONFLICT,
        "budget.period_closed",
    )
    .await;
    let rule = json!({"year": year, "scheme": "resident", "level": 1, "deductible_fen": 0, "eligible_pp": 100, "rate_pp": 90, "annual_cap_fen": 100});
    let response = app
        .client
        .put(format!("{}/api/v1/insurance/rules", app.address))
        .bearer_auth(&officer)
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::CONFLICT, "budget.period_closed").await;

    // The officer's page shows the year.
    let session = app.web_login("insurance-officer").await;
    let (status, html) = app.page(&session, &format!("/budget?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("已清算") && html.contains("16,933.50") && html.contains("<svg"),
        "{html}"
    );
}

#[tokio::test]
async fn an_overrun_is_shared_with_the_fund_within_the_band() {
    let app = TestApp::spawn().await;
    let officer = app.login("insurance-officer").await;
    let year = this_year();
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    village_visit(&app, resident).await;
    settle(&app, &officer).await;
    // 2,000 × 0.01 yuan: package 18.00 against spending of 66.50.
    let response = app
        .post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}"),
            &json!({"method": "per_capita", "per_capita_fen": 1, "overrun_band_pp": 10, "overrun_fund_pp": 50}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_error(
        app.post_json(
            Some(&officer),
            &format!("/api/v1/budget/{year}"),
            &json!({"method": "per_capita", "per_capita_fen": 1}),
        )
        .await,
        StatusCode::CONFLICT,
        "budget.exists",
    )
    .await;
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
    balanced(&settled);
    assert_eq!(settled["balance_fen"], 1_800 - 6_650);
    // The band is 10 % of 18.00 = 1.80, of which the fund bears half: 0.90; the group the rest.
    let overrun = settled["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "overrun")
        .unwrap();
    assert_eq!(overrun["amount_fen"], 90);
    assert_eq!(settled["accounts"]["group"], 1_800 - 6_650 + 90);
}

#[tokio::test]
async fn the_insurance_officer_works_from_the_pages() {
    let app = TestApp::spawn().await;
    let year = this_year();
    let month = this_month();
    let session = app.web_login("insurance-officer").await;
    let officer = app.login("insurance-officer").await;

    // The budget: set from the form (2,000 insured × 10.00 yuan), then a prepayment and a review.
    let (status, html) = app.page(&session, &format!("/budget?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"new-budget\""), "{html}");
    let shares = [
        ("growth_pp", "0"),
        ("packaged_pp", "90"),
        ("risk_reserve_pp", "10"),
        ("performance_pp", "70"),
        ("overrun_band_pp", "10"),
        ("overrun_fund_pp", "50"),
    ];
    let budget_path = format!("/budget/{year}");
    let mut form = vec![("method", "per_capita"), ("per_capita_yuan", "10.5x")];
    form.extend(shares);
    let (status, html) = app.submit(&session, &budget_path, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("填写的内容不符合要求") && html.contains("insurance.invalid"),
        "{html}"
    );
    form[1] = ("per_capita_yuan", "10.00");
    let (status, html) = app.submit(&session, &budget_path, &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("18,000.00") && html.contains("id=\"prepay\""),
        "{html}"
    );
    let prepay = format!("/budget/{year}/prepayments");
    let (status, _) = app.submit(&session, &prepay, &[("month", "1")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, html) = app
        .submit(
            &session,
            &format!("/budget/{year}/reviews"),
            &[("quarter", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("第 1 季度"), "{html}");
    let position = app
        .get_ok(&officer, &format!("/api/v1/budget/{year}"))
        .await;
    assert_eq!(position["prepaid_fen"], 135_000);
    balanced(&position);
    // Only the officer moves the money.
    let doctor = app.web_login("county-doctor").await;
    let (status, html) = app.submit(&doctor, &prepay, &[("month", "2")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("无权进行此操作"), "{html}");

    // A rule changed from the form, in yuan; the month's claims settled from the page.
    let (status, html) = app
        .submit(
            &session,
            "/claims/rules",
            &[
                ("month", &month),
                ("year", &year.to_string()),
                ("scheme", "resident"),
                ("level", "1"),
                ("deductible_yuan", "5.00"),
                ("eligible_pp", "100"),
                ("rate_pp", "50"),
                ("annual_cap_yuan", "150000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"rules\""), "{html}");
    let rules = app
        .get_ok(&officer, &format!("/api/v1/insurance/rules/{year}"))
        .await;
    let village_rule = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scheme"] == "resident" && r["level"] == 1)
        .unwrap();
    assert_eq!(village_rule["deductible_fen"], 500);
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    village_visit(&app, resident).await;
    let (status, html) = app
        .submit(&session, "/claims/settle", &[("month", &month)])
        .await;
    assert_eq!(status, StatusCode::OK);
    // 100.00 yuan, all eligible, 5.00 deductible, half of the rest: the fund pays 47.50.
    assert!(
        html.contains("本次结算 1 笔") && html.contains("47.50") && html.contains("52.50"),
        "{html}"
    );
    let (_, html) = app
        .submit(&session, "/claims/settle", &[("month", &month)])
        .await;
    assert!(html.contains("本次结算 0 笔；此前已结算 1 笔"), "{html}");

    // The village clinic, now with a claim, is scored for its share of a surplus.
    let village_id = app.institution_of("village-doctor").await.to_string();
    let scores = format!("/budget/{year}/scores");
    let (status, _) = app
        .submit(&session, &scores, &[(village_id.as_str(), "abc")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Typing a score needs its reason.
    let (status, _) = app
        .submit(
            &session,
            &scores,
            &[(village_id.as_str(), "80"), ("reason", "")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, html) = app
        .submit(
            &session,
            &scores,
            &[
                (village_id.as_str(), "80"),
                ("reason", "年中考核未覆盖，按会议决定"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("手工调整：年中考核未覆盖"), "{html}");
    assert!(
        html.contains(&format!(
            "name=\"{village_id}\" type=\"number\" min=\"0\" max=\"100\" value=\"80\""
        )),
        "{html}"
    );

    // A DIP group added from the form; a bad one is refused and changes nothing.
    let group = |prefix: &'static str| {
        [
            ("code", "I50"),
            ("name", "心力衰竭 保守治疗"),
            ("icd10_prefix", prefix),
            ("procedure_code", ""),
            ("points", "700"),
        ]
    };
    let (status, _) = app.submit(&session, "/dip/groups", &group("Q")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, html) = app.submit(&session, "/dip/groups", &group("I50")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-code=\"I50\"") && html.contains("心力衰竭 保守治疗"),
        "{html}"
    );
    let (status, html) = app.page(&session, &format!("/dip?month={month}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("点值"), "{html}");

    // Settled from the page, the year is closed and its forms are gone.
    let (status, html) = app
        .submit(&session, &format!("/budget/{year}/settlement"), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("已清算") && !html.contains("id=\"prepay\""),
        "{html}"
    );
}
