//! The day's actions through the pages alone: a village doctor finds a resident by pinyin and
//! writes a referral (refused fields said next to them, what was typed kept, a second press the
//! same referral) and prints its slip; the county doctor receives it from the work queue; a
//! township doctor records a visit; an inpatient is discharged from the encounter's page.

use reqwest::StatusCode;

use crate::helpers::TestApp;

/// The value of a hidden field of a page.
fn hidden(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no {name} in the page"))
        .to_owned()
}

async fn resident_name(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT name FROM residents WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn residents_are_found_by_pinyin_initials_full_pinyin_and_phone() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let name = resident_name(&app, resident).await;
    let (initials, full): (String, String) = {
        let keys = yijia::resident::pinyin::keys(&name);
        let mut parts = keys.split(' ');
        let full = parts.next().unwrap().to_owned();
        (parts.next().unwrap().to_owned(), full)
    };
    let session = app.web_login("village-doctor").await;
    for q in [initials.as_str(), &full.to_uppercase(), &full[..3]] {
        let (status, html) = app.page(&session, &format!("/residents?q={q}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("/residents/{resident}\"")),
            "{q} finds {name}"
        );
    }
    let phone: String = sqlx::query_scalar("SELECT phone FROM residents WHERE id = $1")
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let token = app.login("village-doctor").await;
    let found = app
        .get_ok(&token, &format!("/api/v1/residents?phone={phone}"))
        .await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == resident),
        "{found}"
    );
    // Outside the village clinic's scope nobody is found, by pinyin either.
    let township = app.institution_of("township-doctor").await;
    let outside = app.resident_outside_township(township).await;
    let outside_keys = yijia::resident::pinyin::keys(&resident_name(&app, outside).await);
    let (_, html) = app
        .page(
            &session,
            &format!("/residents?q={}", outside_keys.split(' ').next().unwrap()),
        )
        .await;
    assert!(!html.contains(&format!("/residents/{outside}\"")));
    let response = app.get(&token, "/api/v1/residents?pinyin=wl1").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_referral_is_written_printed_and_received_through_the_pages() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let name = resident_name(&app, resident).await;
    let session = app.web_login("village-doctor").await;

    let (status, form) = app
        .page(
            &session,
            &format!("/residents/{resident}/referrals?direction=up"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let key = hidden(&form, "form_key");
    // The receivers are the higher levels only, with their departments.
    let lead = app.institution_id("LH").await;
    assert!(form.contains(&format!("value=\"{lead}\"")), "{form}");
    assert!(form.contains(&format!("value=\"{lead}:")));
    assert!(!form.contains(&format!("value=\"{village}\"")));

    // The ICD-10 lookup the diagnosis field uses: by Chinese name and by code.
    let (status, json) = app.page(&session, "/icd10?q=心肌梗死").await;
    assert_eq!(status, StatusCode::OK);
    assert!(json.contains("\"I21.0\""), "{json}");
    let (_, json) = app.page(&session, "/icd10?q=i10").await;
    assert!(json.contains("特发性（原发性）高血压"), "{json}");

    // Refused for a wrong code: the field says so and everything typed is kept.
    let typed = [
        ("form_key", key.as_str()),
        ("direction", "up"),
        ("to", &lead.to_string()),
        ("diagnosis", "U99 不存在"),
        ("reason", "胸闷气短三天，活动后加重"),
        ("urgency", "urgent"),
        ("green_channel", ""),
        ("ecg_id", ""),
        ("catalogue_exception_reason", ""),
    ];
    let (status, html) = app
        .submit(
            &session,
            &format!("/residents/{resident}/referrals"),
            &typed,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("data-field=\"diagnosis\"") && html.contains("不是有效的 ICD-10"));
    assert!(html.contains("胸闷气短三天，活动后加重"));
    assert!(html.contains("value=\"U99 不存在\""));

    // Corrected and sent twice (a second press): one referral.
    let mut corrected = typed.to_vec();
    corrected[3] = ("diagnosis", "I20.0 不稳定性心绞痛");
    let first = app
        .post_form(
            &session,
            &format!("/residents/{resident}/referrals"),
            &corrected,
        )
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let again = app
        .post_form(
            &session,
            &format!("/residents/{resident}/referrals"),
            &corrected,
        )
        .await;
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    let referrals: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM referrals WHERE resident_id = $1")
            .bind(resident)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(referrals, 1, "a second press is the same referral");
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let (_, case) = app.page(&session, &location).await;
    assert!(case.contains("待接收") && case.contains("/slip"));

    // The slip: the standard layout, the patient, the diagnosis by name, a QR code.
    let (status, slip) = app.page(&session, &format!("/referrals/{id}/slip")).await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "双向转诊（转出）单",
        "存根",
        &name,
        "I20.0 不稳定性心绞痛",
        "需转入贵单位",
        "<svg",
    ] {
        assert!(slip.contains(text), "the slip shows {text}");
    }

    // The county doctor's work queue shows it arriving, by the resident's name; accepting it
    // from the board moves it on.
    let county = app.web_login("county-doctor").await;
    let (_, home) = app.page(&county, "/").await;
    let queue = home.split("id=\"referrals\"").nth(1).unwrap();
    assert!(queue.contains("待处理") && queue.contains(&name), "{queue}");
    let (status, _) = app
        .submit(
            &county,
            &format!("/referrals/{id}/transition"),
            &[("to", "accepted")],
        )
        .await;
    assert!(
        status.is_success() || status == StatusCode::SEE_OTHER,
        "{status}"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM referrals WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(state, "accepted");
    // Accepting opened the inpatient stay at the lead hospital: on the county doctor's queue.
    let (_, home) = app.page(&county, "/").await;
    assert!(home.contains("id=\"inpatients\"") || home.contains(&name));
}

#[tokio::test]
async fn another_residents_ecg_cannot_be_attached_to_a_referral() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let token = app.login("village-doctor").await;
    let other = app.resident_in_village(village).await;
    let other = if other == resident {
        sqlx::query_scalar(
            "SELECT id FROM residents WHERE village_clinic_id = $1 AND id <> $2 LIMIT 1",
        )
        .bind(village)
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
    } else {
        other
    };
    let ecg = crate::ecg::upload_stemi(&app, &token, other).await["id"]
        .as_i64()
        .unwrap();
    let lead = app.institution_id("LH").await;
    let response = app
        .post_json(
            Some(&token),
            "/api/v1/referrals",
            &serde_json::json!({
                "resident_id": resident, "direction": "up", "to_institution_id": lead,
                "reason": "胸痛", "diagnosis_icd10": "I20.0", "urgency": "urgent",
                "ecg_id": ecg, "submit": true
            }),
        )
        .await;
    assert!(response.status().is_client_error(), "{}", response.status());
}

#[tokio::test]
async fn a_township_doctor_records_a_visit_and_an_admission_is_discharged() {
    let app = TestApp::spawn().await;
    let township = app.institution_of("township-doctor").await;
    let village: i64 = sqlx::query_scalar(
        "SELECT id FROM institutions WHERE township_id = $1 AND kind = 'village_clinic' LIMIT 1",
    )
    .bind(township)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let resident = app.resident_in_village(village).await;
    let session = app.web_login("township-doctor").await;
    let (status, page) = app.page(&session, &format!("/residents/{resident}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/residents/{resident}/encounters")));
    let (_, form) = app
        .page(&session, &format!("/residents/{resident}/encounters"))
        .await;
    let key = hidden(&form, "form_key");
    let typed = [
        ("form_key", key.as_str()),
        ("kind", "inpatient"),
        ("department_id", ""),
        ("started_at", "2026-11-28T09:30"),
        ("diagnosis1", "J18.9 肺炎"),
        ("diagnosis2", "I10"),
        ("diagnosis3", ""),
        ("drugs", "86.5"),
        ("examinations", "120"),
        ("tests", "abc"),
        ("treatment", ""),
        ("beds", ""),
        ("materials", ""),
    ];
    let (status, html) = app
        .submit(
            &session,
            &format!("/residents/{resident}/encounters"),
            &typed,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("化验费应为金额") && html.contains("value=\"86.5\""));
    let mut fixed = typed.to_vec();
    fixed[9] = ("tests", "35.20");
    let (status, html) = app
        .submit(
            &session,
            &format!("/residents/{resident}/encounters"),
            &fixed,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("J18.9") && html.contains("肺炎") && html.contains("241.70"));
    assert!(html.contains("办理出院"));
    let encounter: i64 = sqlx::query_scalar(
        "SELECT id FROM encounters WHERE resident_id = $1 AND kind = 'inpatient' \
         AND ended_at_ms IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let costs: i64 = sqlx::query_scalar("SELECT cost_tests_fen FROM encounters WHERE id = $1")
        .bind(encounter)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(costs, 3520);
    // On the township doctor's queue as an inpatient, until discharged.
    let (_, home) = app.page(&session, "/").await;
    assert!(home.contains(&format!("/encounters/{encounter}")));
    let discharge = [
        ("ended_at", "2026-11-30T10:00"),
        ("main_procedure", ""),
        ("drugs", "486.50"),
        ("examinations", "120"),
        ("tests", "35.20"),
        ("treatment", "60"),
        ("beds", "150"),
        ("materials", "0"),
    ];
    let (status, html) = app
        .submit(
            &session,
            &format!("/encounters/{encounter}/discharge"),
            &discharge,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("2026-11-30 10:00") && !html.contains("办理出院"));
    // Discharging again changes nothing.
    let (status, _) = app
        .submit(
            &session,
            &format!("/encounters/{encounter}/discharge"),
            &discharge,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, home) = app.page(&session, "/").await;
    assert!(!home.contains(&format!("/encounters/{encounter}\"")));
}

#[tokio::test]
async fn resident_search_pages() {
    let app = TestApp::spawn().await;
    let session = app.web_login("admin").await;
    // Surnames starting with z (张, 赵, 周, 郑 …) are more than a page in the demo.
    let (status, first) = app.page(&session, "/residents?q=z").await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("id=\"next-page\""), "more than one page");
    let (_, second) = app.page(&session, "/residents?q=z&page=2").await;
    assert!(second.contains("第 2 页") && second.contains("上一页"));
    let ids = |html: &str| -> Vec<String> {
        html.split("<td><a href=\"/residents/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_owned))
            .collect()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!(a.len(), 50);
    assert!(
        !b.is_empty() && b.iter().all(|id| !a.contains(id)),
        "pages do not overlap"
    );
}

#[tokio::test]
async fn contact_details_are_changed_from_the_page_and_the_api() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let session = app.web_login("village-doctor").await;
    let (_, page) = app.page(&session, &format!("/residents/{resident}")).await;
    assert!(page.contains(&format!("href=\"/residents/{resident}/contact\"")));
    let path = format!("/residents/{resident}/contact");
    let (status, form) = app.page(&session, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"phone\""));

    // A wrong phone: the form again as typed, the reason by the field, nothing changed.
    let (status, html) = app
        .submit(
            &session,
            &path,
            &[("phone", "12ab"), ("address", "新地址 1 号")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("电话应为 7 至 15 位数字") && html.contains("新地址 1 号"));
    let (status, html) = app
        .submit(
            &session,
            &path,
            &[("phone", "13912345678"), ("address", "东街 8 号")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("13912345678") && html.contains("东街 8 号"));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'resident.update' AND resource_id = $1 \
         AND outcome = 'allowed'",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The API: a field left out stays; a resident outside the caller's scope is refused.
    let token = app.login("village-doctor").await;
    let response = app
        .client
        .patch(format!("{}/api/v1/residents/{resident}", app.address))
        .bearer_auth(&token)
        .json(&serde_json::json!({"phone": "0571-8888 6666"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["phone"], "0571-8888 6666");
    assert_eq!(body["address"], "东街 8 号");
    let township = app.institution_of("township-doctor").await;
    let outside = app.resident_outside_township(township).await;
    let response = app
        .client
        .patch(format!("{}/api/v1/residents/{outside}", app.address))
        .bearer_auth(&token)
        .json(&serde_json::json!({"phone": "13900000000"}))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(response, StatusCode::FORBIDDEN, "access.denied").await;
    let response = app
        .client
        .patch(format!("{}/api/v1/residents/{resident}", app.address))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "改名"}))
        .send()
        .await
        .unwrap();
    // The name comes from the ID card: not a contact detail.
    crate::helpers::assert_error(response, StatusCode::BAD_REQUEST, "http.invalid_json").await;
}

#[tokio::test]
async fn a_refused_upload_says_what_to_fix_on_the_resident_page() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let session = app.web_login("village-doctor").await;
    let (_, page) = app.page(&session, &format!("/residents/{resident}")).await;
    let action = crate::helpers::upload_action(&page, resident);
    let send = |file: Vec<u8>, recorded_at: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("resident_id", resident.to_string())
            .text("idempotency_key", hidden(&page, "idempotency_key"))
            .text("recorded_at", recorded_at)
            .text("clinical_note", "心悸")
            .part(
                "file",
                reqwest::multipart::Part::bytes(file).file_name("cart.xml"),
            );
        app.client
            .post(format!("{}{action}", app.address))
            .header("cookie", &session)
            .header("origin", &app.address)
            .multipart(form)
            .send()
    };
    let response = send(b"<notanecg/>".to_vec(), "2026-11-30T08:05")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"upload-error\"") && html.contains("心电图文件无法读取"));
    assert!(html.contains("data-field=\"file\"") && html.contains("value=\"心悸\""));
    // A time before any digital cart: said by the time field.
    let response = send(b"<notanecg/>".to_vec(), "1980-01-01T08:00")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("data-field=\"recorded_at\"") && html.contains("1990"));
    assert_eq!(app.count("ecgs").await, 0);
}

#[tokio::test]
async fn todays_visits_are_on_the_home_page() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let name = resident_name(&app, resident).await;
    let session = app.web_login("village-doctor").await;
    let (_, home) = app.page(&session, "/").await;
    let queue = home.split("id=\"visits-today\"").nth(1).unwrap();
    assert!(!queue.contains(&name));
    let path = format!("/residents/{resident}/encounters");
    let (_, form) = app.page(&session, &path).await;
    let now = yijia::clock::to_page(yijia::clock::now_ms() - 60_000);
    let typed = [
        ("form_key", hidden(&form, "form_key")),
        ("kind", "outpatient".into()),
        ("started_at", now),
        ("diagnosis1", "I10".into()),
        ("drugs", "12".into()),
    ];
    let typed: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html) = app.submit(&session, &path, &typed).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (_, home) = app.page(&session, "/").await;
    let queue = home.split("id=\"visits-today\"").nth(1).unwrap();
    let queue = queue.split("</section>").next().unwrap();
    assert!(queue.contains(&name) && queue.contains("门诊"), "{queue}");
}

#[tokio::test]
async fn the_referral_board_filters_sorts_and_pages() {
    let app = TestApp::spawn_demo(true).await;
    let session = app.web_login("county-doctor").await;
    let rows = |html: &str| -> Vec<String> {
        let table = html.split("id=\"referrals\"").nth(1).unwrap_or_default();
        let body = table.split("<tbody>").nth(1).unwrap_or_default();
        let body = body.split("</tbody>").next().unwrap_or_default();
        body.split("<tr>").skip(1).map(str::to_owned).collect()
    };
    let (status, first) = app.page(&session, "/referrals").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&first).len(), 50, "a page holds 50");
    assert!(first.contains("id=\"next-page\""));
    let (_, second) = app.page(&session, "/referrals?page=2").await;
    assert!(second.contains("第 2 页") && second.contains("id=\"previous-page\""));
    assert!(rows(&second).iter().all(|row| !rows(&first).contains(row)));

    let (_, down) = app
        .page(&session, "/referrals?direction=down&sort=oldest")
        .await;
    let down_rows = rows(&down);
    assert!(!down_rows.is_empty());
    assert!(down_rows.iter().all(|row| row.contains("<td>下转</td>")));
    let created: Vec<String> = down_rows
        .iter()
        .map(|row| {
            row.split("<td>")
                .nth(8)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = created.clone();
    sorted.sort();
    assert_eq!(created, sorted, "oldest first");
    assert!(down.contains("<option value=\"oldest\" selected>"));

    // The API takes the same order.
    let token = app.login("county-doctor").await;
    let listed = app
        .get_ok(&token, "/api/v1/referrals?sort=updated&limit=5")
        .await;
    let updated: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["updated_at_ms"].as_i64().unwrap())
        .collect();
    assert!(updated.windows(2).all(|w| w[0] >= w[1]), "{updated:?}");
}

#[tokio::test]
async fn lab_reports_go_with_a_referral_and_onto_its_slip() {
    let app = TestApp::spawn_demo(true).await;
    let village = app.institution_of("village-doctor").await;
    // This morning's critical renal panel of the village doctor's resident (the living demo).
    let (report, resident): (i64, i64) = sqlx::query_as(
        "SELECT id, resident_id FROM lab_reports WHERE ordering_institution_id = $1 \
         AND critical = 1 ORDER BY id DESC LIMIT 1",
    )
    .bind(village)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let other: i64 = sqlx::query_scalar(
        "SELECT id FROM lab_reports WHERE resident_id <> $1 ORDER BY id LIMIT 1",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let session = app.web_login("village-doctor").await;
    let path = format!("/residents/{resident}/referrals");
    let (_, form) = app.page(&session, &format!("{path}?direction=up")).await;
    let offered = form.split("id=\"lab-reports\"").nth(1).unwrap();
    assert!(offered.contains(&format!("value=\"{report}\"")) && offered.contains("危急"));
    let lead = app.institution_id("LH").await.to_string();
    let report_id = report.to_string();
    let key = hidden(&form, "form_key");
    let typed = [
        ("form_key", key.as_str()),
        ("direction", "up"),
        ("to", &lead),
        ("diagnosis", "N18.9"),
        ("reason", "血钾升高，肾功能不全"),
        ("urgency", "urgent"),
        ("lab_report_id", &report_id),
    ];
    let (status, case) = app.submit(&session, &path, &typed).await;
    assert_eq!(status, StatusCode::OK, "{case}");
    let attachments = case.split("id=\"attachments\"").nth(1).unwrap();
    assert!(
        attachments.contains(&format!("/lab-reports/{report}")) && attachments.contains("肾功能")
    );
    let referral: i64 =
        sqlx::query_scalar("SELECT referral_id FROM referral_lab_reports WHERE lab_report_id = $1")
            .bind(report)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let (_, slip) = app
        .page(&session, &format!("/referrals/{referral}/slip"))
        .await;
    assert!(slip.contains("肾功能：") && slip.contains("钾 "), "{slip}");
    // The receiver reads the report sent with it.
    let county = app.web_login("county-doctor").await;
    let (status, _) = app.page(&county, &format!("/lab-reports/{report}")).await;
    assert_eq!(status, StatusCode::OK);

    // Another resident's report is refused, said by the field, nothing created.
    let token = app.login("village-doctor").await;
    let before = app.count("referrals").await;
    let body = serde_json::json!({
        "resident_id": resident, "direction": "up", "to_institution_id": lead.parse::<i64>().unwrap(),
        "to_department_id": null, "reason": "复查", "diagnosis_icd10": "N18.9", "urgency": "routine",
        "green_channel": null, "ecg_id": null, "lab_report_ids": [other], "submit": true
    });
    let response = app
        .post_json(Some(&token), "/api/v1/referrals", &body)
        .await;
    crate::helpers::assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "referral.invalid",
    )
    .await;
    assert_eq!(app.count("referrals").await, before);
}
