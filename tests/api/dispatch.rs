//! Staff dispatch and payroll over HTTP: the personnel office records dispatches (only county
//! staff, to primary institutions, one place at a time — a retry adds nothing), the township
//! centre sees who is sent to it, indicator 2.1 counts mid-level doctors on site at least six
//! months of the year (180 days counts, 179 does not, a junior title does not), and the payroll
//! import (all or nothing, kept as sums) gives indicator 2.3 to the fen.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, indicator};

/// Doctors of the lead hospital, with their title set for the test.
async fn county_doctors(app: &TestApp, titles: &[&str]) -> Vec<i64> {
    let lead = app.institution_of("admin").await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM staff WHERE institution_id = $1 AND roles = 'doctor' \
         AND username LIKE 'staff%' ORDER BY id",
    )
    .bind(lead)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    for (id, title) in ids.iter().zip(titles) {
        sqlx::query("UPDATE staff SET title_level = $1 WHERE id = $2")
            .bind(*title)
            .bind(*id)
            .execute(&app.db.pool)
            .await
            .unwrap();
    }
    ids[..titles.len()].to_vec()
}

async fn dispatch(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json(Some(token), "/api/v1/dispatches", &body)
        .await
}

#[tokio::test]
async fn dispatches_count_for_indicator_2_1_and_the_payroll_gives_2_3() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let township = app.login("township-doctor").await;
    let village = app.login("village-doctor").await;
    let town = app.institution_of("township-doctor").await;
    let year = yijia::clock::today_cst().year() - 1;
    let doctors = county_doctors(&app, &["intermediate", "senior", "junior"]).await;
    let body = |staff: i64, (starts, ends): (&str, &str)| {
        json!({"staff_id": staff, "to_institution_id": town, "starts_on": format!("{year}-{starts}"),
               "ends_on": format!("{year}-{ends}"), "days_per_month": 22, "purpose": "clinic"})
    };

    // 180 days: counted; 179: not; a junior title a whole year: not.
    let first = dispatch(&app, &admin, body(doctors[0], ("01-01", "06-29"))).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        first["from_institution_id"],
        app.institution_of("admin").await
    );
    assert_eq!(first["title_level"], "intermediate");
    for (staff, days) in [
        (doctors[1], ("01-01", "06-28")),
        (doctors[2], ("01-01", "12-31")),
    ] {
        assert_eq!(
            dispatch(&app, &admin, body(staff, days)).await.status(),
            StatusCode::CREATED
        );
    }
    // One place at a time: a retry or an overlapping dispatch is refused and adds nothing.
    assert_error(
        dispatch(&app, &admin, body(doctors[0], ("06-01", "08-31"))).await,
        StatusCode::CONFLICT,
        "dispatch.overlap",
    )
    .await;
    assert_eq!(app.count("staff_dispatches").await, 3);
    // Ended early (151 days), then sent again for the rest of June: two spells adding up to the
    // 180 days that 2.1 counts, below.
    let id = first["id"].as_i64().unwrap();
    let end = |ends_on: String| json!({ "ends_on": ends_on });
    assert_error(
        app.post_json(
            Some(&township),
            &format!("/api/v1/dispatches/{id}/end"),
            &end(format!("{year}-05-31")),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_error(
        app.post_json(
            Some(&admin),
            &format!("/api/v1/dispatches/{id}/end"),
            &end(format!("{year}-07-31")),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dispatch.invalid",
    )
    .await;
    let ended = app
        .post_json(
            Some(&admin),
            &format!("/api/v1/dispatches/{id}/end"),
            &end(format!("{year}-05-31")),
        )
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(
        ended.json::<Value>().await.unwrap()["ends_on"],
        format!("{year}-05-31")
    );
    let rest = dispatch(&app, &admin, body(doctors[0], ("06-01", "06-29"))).await;
    assert_eq!(
        rest.status(),
        StatusCode::CREATED,
        "the freed days can be dispatched again"
    );
    // Only the personnel office records; only county staff, only to primary institutions.
    assert_error(
        dispatch(&app, &township, body(doctors[0], ("09-01", "09-30"))).await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let township_staff: i64 =
        sqlx::query_scalar("SELECT id FROM staff WHERE username = 'township-doctor'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_error(
        dispatch(&app, &admin, body(township_staff, ("09-01", "09-30"))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dispatch.invalid",
    )
    .await;
    let mut to_lead = body(doctors[0], ("09-01", "09-30"));
    to_lead["to_institution_id"] = json!(app.institution_of("county-doctor").await);
    assert_error(
        dispatch(&app, &admin, to_lead).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dispatch.invalid",
    )
    .await;

    // The township centre sees who is sent to it; a village clinic sees none; no one else's.
    let seen = app
        .get_ok(&township, &format!("/api/v1/dispatches?year={year}"))
        .await;
    assert_eq!(seen["items"].as_array().unwrap().len(), 4, "{seen}");
    let none = app.get_ok(&village, "/api/v1/dispatches").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    assert_error(
        app.get(
            &township,
            &format!(
                "/api/v1/dispatches?institution={}",
                app.institution_of("admin").await
            ),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;

    // 2.1: one doctor per the county's residents; at the township, per its catchment.
    let residents: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM residents WHERE merged_into_id IS NULL",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let county = app
        .get_ok(&admin, &format!("/api/v1/indicators?year={year}"))
        .await;
    let dispatched = indicator(&county, "2.1");
    assert_eq!(dispatched["numerator"], 1.0, "{dispatched}");
    assert_eq!(dispatched["denominator"], residents as f64);
    let at_town = app
        .get_ok(
            &admin,
            &format!("/api/v1/indicators?year={year}&institution={town}"),
        )
        .await;
    assert_eq!(indicator(&at_town, "2.1")["numerator"], 1.0);
    let elsewhere = app
        .get_ok(
            &admin,
            &format!(
                "/api/v1/indicators?year={year}&institution={}",
                app.institution_of("village-doctor").await
            ),
        )
        .await;
    assert_eq!(indicator(&elsewhere, "2.1")["numerator"], 0.0);

    // 2.3 from the payroll: the primary institutions' mean over the lead hospital's.
    let no_payroll = indicator(&county, "2.3");
    assert!(no_payroll["value"].is_null(), "{no_payroll}");
    let (lead, town_code, village_code) = (
        app.code_of(app.institution_of("admin").await).await,
        app.code_of(town).await,
        app.code_of(app.institution_of("village-doctor").await)
            .await,
    );
    let dir = std::env::temp_dir().join(format!("payroll-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("payroll.csv");
    let header = "institution_code,staff_id,gross_income_fen";
    let good = format!(
        "{lead},L1,10000000\n{lead},L2,20000000\n{town_code},T1,9000000\n{town_code},T2,12000000\n\
         {town_code},T3,15000000\n{village_code},V1,6000000\n"
    );
    std::fs::write(
        &file,
        format!("{header}\n{good}{town_code},T1,1\nNOPE,X,5\n"),
    )
    .unwrap();
    let year_arg = year.to_string();
    let args = [
        "import",
        "payroll",
        file.to_str().unwrap(),
        "--year",
        &year_arg,
    ];
    let output = app.yijia(&args);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 8") && stderr.contains("line 9"),
        "{stderr}"
    );
    assert_eq!(app.count("payroll_years").await, 0, "nothing imported");
    std::fs::write(&file, format!("{header}\n{good}")).unwrap();
    for _ in 0..2 {
        let output = app.yijia(&args);
        assert!(output.status.success(), "{output:?}");
    }
    assert_eq!(
        app.count("payroll_years").await,
        3,
        "sums per institution, replaced"
    );
    let county = app
        .get_ok(&admin, &format!("/api/v1/indicators?year={year}"))
        .await;
    let income = indicator(&county, "2.3");
    // Primary: (90,000 + 120,000 + 150,000 + 60,000) / 4 = 105,000 yuan; lead: 150,000 yuan.
    assert_eq!(income["numerator"], 10_500_000.0, "{income}");
    assert_eq!(income["denominator"], 15_000_000.0);
    assert_eq!(income["value"], 0.7);
    std::fs::remove_dir_all(&dir).unwrap();

    // The pages: the personnel office's form and list; the centre's list without the form.
    let office = app.web_login("admin").await;
    let (status, html) = app.page(&office, &format!("/dispatches?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("登记派驻") && html.contains("new-dispatch"),
        "{html}"
    );
    let centre = app.web_login("township-doctor").await;
    let (status, html) = app.page(&centre, &format!("/dispatches?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("new-dispatch"));
    assert_eq!(html.matches("<td>坐诊</td>").count(), 4, "{html}");
}

#[tokio::test]
async fn the_personnel_office_records_a_dispatch_from_the_page() {
    let app = TestApp::spawn().await;
    let town = app.institution_of("township-doctor").await;
    let doctors = county_doctors(&app, &["senior"]).await;
    let office = app.web_login("admin").await;
    let today = yijia::clock::today_cst();
    let form = [
        ("staff_id", doctors[0].to_string()),
        ("to_institution_id", town.to_string()),
        ("starts_on", today.to_string()),
        ("ends_on", (today + time::Duration::days(90)).to_string()),
        ("days_per_month", "22".to_owned()),
        ("purpose", "teaching".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html) = app.submit(&office, "/dispatches", &fields).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<td>带教</td>"), "{html}");
    // The same again: refused in Chinese, nothing added.
    let (status, html) = app.submit(&office, "/dispatches", &fields).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已有派驻"), "{html}");
    assert_eq!(app.count("staff_dispatches").await, 1);
    // Ended early from its row; a date after the planned end is refused in Chinese.
    let id: i64 = sqlx::query_scalar("SELECT id FROM staff_dispatches")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let late = (today + time::Duration::days(120)).to_string();
    let (_, html) = app
        .submit(
            &office,
            &format!("/dispatches/{id}/end"),
            &[("ends_on", &late)],
        )
        .await;
    assert!(html.contains("提前结束的日期须在"), "{html}");
    let early = (today + time::Duration::days(30)).to_string();
    let (status, html) = app
        .submit(
            &office,
            &format!("/dispatches/{id}/end"),
            &[("ends_on", &early)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("<td>{early}</td>")), "{html}");
}
