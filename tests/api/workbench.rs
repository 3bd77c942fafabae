//! Everyone works from the pages: the menu shows only what a role may use; the home page is the
//! role's work queue; a village doctor registers a resident and uploads an ECG through the
//! pages alone, and the reader's queue shows it, STAT first.

use reqwest::StatusCode;

use crate::ecg::inferior_stemi_json;
use crate::helpers::TestApp;

/// 11010519491231002X: a valid ID number (female, born 1949-12-31), not in the demo.
const NEW_ID_NUMBER: &str = "11010519491231002X";

#[tokio::test]
async fn each_role_sees_its_own_menu_and_work_queue() {
    let app = TestApp::spawn().await;
    for (user, shows, hides) in [
        (
            "village-doctor",
            vec![
                "/residents",
                "/ecg/inbox",
                "/referrals",
                "/critical-values",
                "id=\"ecg-inbox\"",
                "/residents/new",
            ],
            vec!["/budget", "/claims", "/dip", "/ecg/worklist"],
        ),
        (
            "county-reader",
            vec!["/ecg/worklist", "id=\"ecg-worklist\""],
            vec!["/budget", "/claims", "/critical-values"],
        ),
        (
            "insurance-officer",
            vec!["/budget", "/claims", "/dip"],
            vec!["/ecg/worklist", "/critical-values", "/residents/new"],
        ),
    ] {
        let session = app.web_login(user).await;
        let (status, html) = app.page(&session, "/").await;
        assert_eq!(status, StatusCode::OK, "{user}");
        for text in &shows {
            assert!(html.contains(text), "{user} sees {text}");
        }
        for text in &hides {
            assert!(
                !html.contains(&format!("href=\"{text}\"")),
                "{user} does not see {text}"
            );
        }
    }
}

#[tokio::test]
async fn a_village_doctor_registers_a_resident_and_uploads_an_ecg_from_the_pages() {
    let app = TestApp::spawn().await;
    let session = app.web_login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;

    // A refused registration keeps what was typed and says what to fix.
    let (status, html) = app
        .submit(
            &session,
            "/residents/new",
            &[
                ("id_number", "110105194912310021"),
                ("name", "李秀兰"),
                ("phone", "13800002222"),
                ("address", "二组"),
                ("village_clinic_id", &village.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("身份证号无效"));
    assert!(html.contains("value=\"李秀兰\""));
    let (status, html) = app
        .submit(
            &session,
            "/residents/new",
            &[
                ("id_number", NEW_ID_NUMBER),
                ("name", "李秀兰"),
                ("phone", "13800002222"),
                ("address", "二组"),
                ("village_clinic_id", &village.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("李秀兰") && html.contains("1949-12-31") && html.contains("上传心电图"));
    let resident: i64 = sqlx::query_scalar("SELECT id FROM residents WHERE id_number = $1")
        .bind(NEW_ID_NUMBER)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    // Registering again is refused as a duplicate, not a second record.
    let (status, html) = app
        .submit(
            &session,
            "/residents/new",
            &[
                ("id_number", NEW_ID_NUMBER),
                ("name", "李秀兰"),
                ("phone", "13800002222"),
                ("address", ""),
                ("village_clinic_id", &village.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("已经登记"));

    // The upload form on the resident page: the file as the cart wrote it, the time from the
    // datetime picker, the note; a second press (same hidden key) is the same upload.
    let (_, page) = app.page(&session, &format!("/residents/{resident}")).await;
    let key = page
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let action = crate::helpers::upload_action(&page, resident);
    let send = || {
        let form = reqwest::multipart::Form::new()
            .text("resident_id", resident.to_string())
            .text("idempotency_key", key.clone())
            .text("recorded_at", "2026-11-30T08:05")
            .text("clinical_note", "胸痛 1 小时")
            .part(
                "file",
                reqwest::multipart::Part::bytes(inferior_stemi_json()).file_name("stemi.json"),
            );
        app.client
            .post(format!("{}{action}", app.address))
            .header("cookie", &session)
            .header("origin", &app.address)
            .multipart(form)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(
        first.status(),
        StatusCode::SEE_OTHER,
        "{}",
        first.text().await.unwrap()
    );
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let again = send().await.unwrap();
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    let ecgs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ecgs WHERE resident_id = $1")
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(ecgs, 1, "a second press is the same upload");
    let (_, reading) = app.page(&session, &location).await;
    assert!(reading.contains("一家自动分析") && reading.contains("STEMI"));
    assert!(reading.contains("2026-11-30 08:05"));

    // The reader's work queue shows it at once, STAT first; the site's queue shows it waiting.
    let reader = app.web_login("county-reader").await;
    let (_, home) = app.page(&reader, "/").await;
    let queue = home.split("id=\"ecg-worklist\"").nth(1).unwrap();
    assert!(queue.contains("李秀兰") && queue.contains("急"), "{queue}");
    let (_, home) = app.page(&session, "/").await;
    assert!(
        home.split("id=\"ecg-inbox\"")
            .nth(1)
            .unwrap()
            .contains("等待诊断")
    );
}

#[tokio::test]
async fn the_demo_shows_a_living_county_last_year_and_this_year() {
    let app = TestApp::spawn_demo(true).await;
    let now = yijia::clock::now_ms();
    let year = yijia::clock::today_cst().year();
    let (this_year_start, _) = yijia::clock::month_bounds_cst(&format!("{year}-01")).unwrap();
    let count = |sql: &'static str| {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(this_year_start)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // Both years have visits; nothing lies in the future; some stays are still in hospital.
    let this_year =
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM encounters WHERE started_at_ms >= $1").await;
    let last_year =
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM encounters WHERE started_at_ms < $1").await;
    assert!(
        this_year > 1_000 && last_year > 3_000,
        "{this_year} {last_year}"
    );
    let future: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM encounters WHERE started_at_ms > $1 OR ended_at_ms > $1",
    )
    .bind(now)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(future, 0);
    let ecgs = count("SELECT CAST(COUNT(*) AS BIGINT) FROM ecgs WHERE recorded_at_ms >= $1").await;
    let referrals =
        count("SELECT CAST(COUNT(*) AS BIGINT) FROM referrals WHERE created_at_ms >= $1").await;
    assert!(
        ecgs > 20 && referrals > 5,
        "{ecgs} ECGs, {referrals} referrals this year"
    );

    // Lab results of the last weeks, a few critical: acknowledged, except this morning's one
    // on each of the village and township doctors' queues.
    let (reports, critical, waiting): (i64, i64, i64) = {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(critical) AS BIGINT) AS c, \
             CAST(SUM(CASE WHEN critical = 1 AND acknowledged_at_ms IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS w \
             FROM lab_reports",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        use sqlx::Row;
        (row.get("n"), row.get("c"), row.get("w"))
    };
    assert!(
        reports > 30 && critical >= 3 && waiting == 2,
        "{reports} {critical} {waiting}"
    );
    for user in ["village-doctor", "township-doctor"] {
        let session = app.web_login(user).await;
        let (_, home) = app.page(&session, "/").await;
        let queue = home.split("id=\"critical-values\"").nth(1).unwrap();
        let queue = queue.split("</section>").next().unwrap();
        assert!(
            queue.contains("/lab-reports/") && queue.contains("肾功能"),
            "{user}: {queue}"
        );
    }

    // The county doctor's queue has inpatients; the insurance officer's has the month; the
    // supervisor's the year's indicators; the dashboard has this year and last.
    let county = app.web_login("county-doctor").await;
    let (_, home) = app.page(&county, "/").await;
    assert!(home.contains("id=\"inpatients\""), "{home}");
    // … and patients to refer down, each one click from the down-referral form.
    let down = home.split("id=\"down-suggestions\"").nth(1).unwrap();
    assert!(down.contains("/referrals?direction=down"), "{down}");
    let officer = app.web_login("insurance-officer").await;
    let (_, home) = app.page(&officer, "/").await;
    let queue = home.split("id=\"insurance-month\"").nth(1).unwrap();
    assert!(
        queue.contains("上月已结算") && !queue.contains("上月已结算 0 笔"),
        "{queue}"
    );
    let supervisor = app.web_login("supervisor").await;
    let (_, home) = app.page(&supervisor, "/").await;
    assert!(home.contains("id=\"indicators-month\"") && home.contains("C.7"));
    let token = app.login("supervisor").await;
    for y in [year - 1, year] {
        let values = app
            .get_ok(&token, &format!("/api/v1/indicators?year={y}"))
            .await;
        let reads = values
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["code"] == "C.7")
            .unwrap()["value"]
            .as_f64()
            .unwrap();
        assert!(reads > 0.0, "remote ECG reads in {y}");
    }
    let budget = app
        .get_ok(
            &app.login("insurance-officer").await,
            &format!("/api/v1/budget/{year}"),
        )
        .await;
    assert!(budget["prepaid_fen"].as_i64().unwrap() > 0, "{budget}");
}

#[tokio::test]
async fn an_admin_merges_duplicates_side_by_side() {
    let app = TestApp::spawn().await;
    let admin = app.web_login("admin").await;
    let (_, home) = app.page(&admin, "/").await;
    assert!(home.contains("id=\"duplicates\"") && home.contains("/residents/duplicates"));
    let (status, page) = app.page(&admin, "/residents/duplicates").await;
    assert_eq!(status, StatusCode::OK);
    let survivor: i64 = page
        .split("name=\"survivor_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    let merged: i64 = page
        .split("name=\"merged_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    let (status, html) = app
        .submit(
            &admin,
            "/residents/merge",
            &[
                ("survivor_id", &survivor.to_string()),
                ("merged_id", &merged.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let into: Option<i64> =
        sqlx::query_scalar("SELECT merged_into_id FROM residents WHERE id = $1")
            .bind(merged)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(into, Some(survivor));
    // The review is the admin's work: not in a village doctor's menu.
    let doctor = app.web_login("village-doctor").await;
    let (_, home) = app.page(&doctor, "/").await;
    assert!(!home.contains("href=\"/residents/duplicates\""));
}

#[tokio::test]
async fn probable_duplicates_are_shown_before_a_registration_is_saved() {
    let app = TestApp::spawn().await;
    let session = app.web_login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let existing = app.resident_in_village(village).await;
    let phone: String = sqlx::query_scalar("SELECT phone FROM residents WHERE id = $1")
        .bind(existing)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let form = [
        ("id_number", NEW_ID_NUMBER),
        ("name", "李秀兰"),
        ("phone", phone.as_str()),
        ("address", ""),
        ("village_clinic_id", &village.to_string()),
    ];
    let before = app.count("residents").await;
    let (status, html) = app.submit(&session, "/residents/new", &form).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("id=\"similar\"") && html.contains(&format!("/residents/{existing}")));
    assert!(html.contains("同一电话") && html.contains("value=\"李秀兰\""));
    assert_eq!(app.count("residents").await, before, "nothing saved");
    // Confirmed as someone else: registered.
    let mut confirmed = form.to_vec();
    confirmed.push(("confirmed", "1"));
    let (status, html) = app.submit(&session, "/residents/new", &confirmed).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(app.count("residents").await, before + 1);
}

#[tokio::test]
async fn an_administrator_creates_an_account_from_the_accounts_page() {
    let app = TestApp::spawn().await;
    let admin = app.web_login("admin").await;
    let (_, home) = app.page(&admin, "/").await;
    assert!(home.contains("href=\"/staff\""));
    let (status, page) = app.page(&admin, "/staff").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("village-doctor") && page.contains("id=\"account\""));
    let township = app.institution_of("township-doctor").await;
    let township_id = township.to_string();
    let account = |username: &'static str, password: &'static str| {
        vec![
            ("username", username),
            ("name", "王晓梅"),
            ("password", password),
            ("institution_id", ""),
            ("title_level", "intermediate"),
            ("roles", "doctor"),
            ("roles", "reader"),
        ]
    };
    // Too short a password: said by the field, the rest kept, nothing created.
    let mut form = account("wang-xm", "short");
    form[3].1 = &township_id;
    let (status, html) = app.submit(&admin, "/staff", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("初始密码至少 10 个字符") && html.contains("value=\"wang-xm\""));
    assert!(html.contains("value=\"reader\" checked"));
    let mut form = account("wang-xm", "a-long-password-1");
    form[3].1 = &township_id;
    let (status, html) = app.submit(&admin, "/staff", &form).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已建立账号 wang-xm") && html.contains("王晓梅"));
    // The new account signs in and has both roles' menus.
    let session = app.web_login_with("wang-xm", "a-long-password-1").await;
    assert_eq!(session.status(), StatusCode::SEE_OTHER);
    // Taken username: refused by the field.
    let (status, html) = app.submit(&admin, "/staff", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("该用户名已被使用"));
    // Not an administrator: the list is readable by staff, the form is not there nor accepted.
    let doctor = app.web_login("village-doctor").await;
    let (_, page) = app.page(&doctor, "/staff").await;
    assert!(!page.contains("id=\"account\""));
    let mut form = account("intruder", "a-long-password-1");
    form[3].1 = &township_id;
    let response = app.post_form(&doctor, "/staff", &form).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_administrator_keeps_the_catalogues_from_the_pages() {
    let app = TestApp::spawn().await;
    let admin = app.web_login("admin").await;
    let (status, page) = app.page(&admin, "/catalogues").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("I10–I15") && page.contains("血常规"));
    let (status, html) = app
        .submit(
            &admin,
            "/catalogues/tiers",
            &[
                ("icd10_from", "N18"),
                ("icd10_to", "N18"),
                ("level", "2"),
                ("name", "慢性肾脏病"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("慢性肾脏病"));
    // The same range again: refused by the form, what was typed kept.
    let (status, html) = app
        .submit(
            &admin,
            "/catalogues/tiers",
            &[
                ("icd10_from", "N18"),
                ("icd10_to", "N18"),
                ("level", "2"),
                ("name", "再一次"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("已在目录中") && html.contains("value=\"再一次\""));
    let (status, html) = app
        .submit(
            &admin,
            "/catalogues/recognition",
            &[
                ("code", "TNI"),
                ("name", "肌钙蛋白 I"),
                ("validity_days", "1"),
                ("price", "80.5"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("肌钙蛋白 I") && html.contains("80.50"));
    let (status, html) = app
        .submit(
            &admin,
            "/catalogues/recognition",
            &[
                ("code", "X"),
                ("name", "某项"),
                ("validity_days", "七"),
                ("price", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("有效天数应为整数") && html.contains("value=\"七\""));
    // A village doctor reads the catalogues and may not change them.
    let doctor = app.web_login("village-doctor").await;
    let (_, page) = app.page(&doctor, "/catalogues").await;
    assert!(page.contains("慢性肾脏病") && !page.contains("id=\"new-tier\""));
    let response = app
        .post_form(
            &doctor,
            "/catalogues/tiers",
            &[
                ("icd10_from", "A00"),
                ("icd10_to", "A09"),
                ("level", "1"),
                ("name", "肠道感染"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
