//! What an attacker tries, over HTTP: control characters, forms sent from another site, a
//! session used after it ended, links built from a forged Host, and HL7 v2 bodies a LIS should
//! never send — each answered with the one error shape (or an ACK) and nothing stored.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn a_nul_character_is_refused_everywhere_before_the_database() {
    let app = TestApp::spawn().await;
    let login = app
        .post_json(
            None,
            "/api/v1/auth/login",
            &json!({"username": "village\u{0}doctor", "password": "x"}),
        )
        .await;
    assert_error(
        login,
        StatusCode::UNPROCESSABLE_ENTITY,
        "http.control_character",
    )
    .await;
    let token = app.login("village-doctor").await;
    for path in [
        "/api/v1/residents?name=%E7%8E%8B%00",
        "/fhir/Patient?identifier=%00",
        "/api/v1/residents/%00",
    ] {
        let response = app.get(&token, path).await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "http.control_character",
        )
        .await;
    }
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let form = crate::ecg::form(
        resident,
        vec![("ecg.json", crate::ecg::inferior_stemi_json())],
    )
    .text("clinical_note", "胸痛\u{0}");
    let response = crate::ecg::upload(&app, &token, form, None).await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "http.control_character",
    )
    .await;
    assert_eq!(app.count("ecgs").await, 0);
}

#[tokio::test]
async fn an_ecg_recorded_in_the_far_past_or_the_future_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    for recorded_at in ["-1", "2999-01-01T00:00:00+08:00"] {
        let form = reqwest::multipart::Form::new()
            .text("resident_id", resident.to_string())
            .text("recorded_at", recorded_at)
            .part(
                "file",
                reqwest::multipart::Part::bytes(crate::ecg::inferior_stemi_json())
                    .file_name("ecg.json"),
            );
        let response = crate::ecg::upload(&app, &token, form, None).await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "ecg.invalid").await;
    }
    assert_eq!(app.count("ecgs").await, 0);
}

#[tokio::test]
async fn page_forms_sent_from_another_site_or_without_their_token_change_nothing() {
    let app = TestApp::spawn().await;
    let session = app.web_login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let token = app.form_token(&session).await;
    let path = format!("{}/residents/{resident}/portal-account", app.address);
    // From another site, even with the right token: refused.
    let response = app
        .client
        .post(&path)
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Without a word of where from, and without the token (what a cross-site form with
    // no-referrer sends): refused.
    let response = app
        .client
        .post(&path)
        .header("cookie", &session)
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("staff WHERE resident_id IS NOT NULL").await, 0);
    // Logout from another site does not end the session; login from another site is refused.
    let response = app
        .client
        .post(format!("{}/logout", app.address))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.page(&session, "/residents").await.0, StatusCode::OK);
    let response = app
        .client
        .post(format!("{}/login", app.address))
        .header("origin", "https://evil.example")
        .form(&[("username", "village-doctor"), ("password", "yijia-demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // From our own page, with its token: done.
    let (status, html) = app
        .submit(
            &session,
            &format!("/residents/{resident}/portal-account"),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(app.count("staff WHERE resident_id IS NOT NULL").await, 1);
}

#[tokio::test]
async fn a_session_ended_elsewhere_ends_at_once() {
    let app = TestApp::spawn().await;
    let token = app.login("township-doctor").await;
    assert_eq!(app.get(&token, "/api/v1/me").await.status(), StatusCode::OK);
    // Ended behind the server's back (another server process, an operator).
    sqlx::query("DELETE FROM sessions")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let response = app.get(&token, "/api/v1/me").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "auth.unauthenticated").await;
    // An account made inactive loses its open sessions too.
    let token = app.login("township-doctor").await;
    sqlx::query("UPDATE staff SET active = 0 WHERE username = 'township-doctor'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let response = app.get(&token, "/api/v1/me").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "auth.unauthenticated").await;
}

#[tokio::test]
async fn fhir_links_use_the_servers_own_address_whatever_the_host_header_says() {
    let app = TestApp::spawn().await;
    let token = app.login("county-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let id_number = app.id_number_of(resident).await;
    let response = app
        .client
        .get(format!(
            "{}/fhir/Patient?identifier=urn:yijia:sid:resident-id-number|{id_number}",
            app.address
        ))
        .bearer_auth(&token)
        .header("host", "evil.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let bundle = response.text().await.unwrap();
    assert!(!bundle.contains("evil.example"), "{bundle}");
    assert!(
        bundle.contains(&format!("{}/fhir/Patient", app.address)),
        "{bundle}"
    );
}

fn gb18030(text: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(text).0.into_owned()
}

async fn post_hl7_bytes(app: &TestApp, token: &str, body: Vec<u8>) -> (StatusCode, String) {
    let response = app
        .client
        .post(format!("{}/api/v1/hl7v2", app.address))
        .bearer_auth(token)
        .header("content-type", "x-application/hl7-v2+er7")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn hl7_over_http_always_answers_with_an_ack_and_decodes_by_msh_18() {
    let app = TestApp::spawn().await;
    let lis = app.login("lab-interface").await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let id_number = app.id_number_of(resident).await;
    let message = |control_id: &str, charset: &str| {
        [
            format!(
                "MSH|^~\\&|LIS|C-LAB|YIJIA|demo|20261123083000||ORU^R01^ORU_R01|{control_id}|P|2.5.1||||||{charset}"
            ),
            format!("PID|1||{id_number}^^^^NNCHN||测试^患者"),
            "OBR|1|||GLU^血糖|||20261123081500+0800".to_owned(),
            "OBX|1|NM|GLU^葡萄糖||5.1|mmol/L|3.9-6.1|N|||F".to_owned(),
        ]
        .join("\r")
    };
    // GB18030 text that says so in MSH-18: taken, and stored as the same Chinese.
    let gb = gb18030(&message("GB0001", "GB 18030-2000"));
    let (status, ack) = post_hl7_bytes(&app, &lis, gb).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert!(ack.contains("MSA|AA|GB0001"), "{ack}");
    let name: String = sqlx::query_scalar("SELECT name FROM lab_results")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(name, "葡萄糖");
    // Undeclared GB18030, as many Chinese LIS send it: read as GB 18030, not mojibake.
    let (status, ack) = post_hl7_bytes(&app, &lis, gb18030(&message("GB0003", ""))).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM lab_results")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(names, ["葡萄糖", "葡萄糖"]);
    // Bytes valid in no character set, undeclared: an AR that says why, nothing stored.
    let mut plain = gb18030(&message("GB0002", ""));
    plain.extend([0xff, 0xff]);
    let (status, ack) = post_hl7_bytes(&app, &lis, plain).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        ack.starts_with("MSH|") && ack.contains("MSA|AR|GB0002"),
        "{ack}"
    );
    // A NUL: AR, never an AE that a LIS would resend forever.
    let nul = message("NUL0001", "").replace("测试", "测\u{0}试");
    let (status, ack) = post_hl7_bytes(&app, &lis, nul.into_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(ack.contains("MSA|AR|NUL0001"), "{ack}");
    // Larger than the limit: still an ACK.
    let huge = format!("{}\r{}", message("BIG0001", ""), "NTE|1||x".repeat(600_000));
    let (status, ack) = post_hl7_bytes(&app, &lis, huge.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(ack.starts_with("MSH|") && ack.contains("MSA|AR|"), "{ack}");
    // A megabyte of control ID is not echoed back.
    let long = message(&"9".repeat(1 << 20), "");
    let (status, ack) = post_hl7_bytes(&app, &lis, long.into_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(ack.len() < 2000, "{} bytes", ack.len());
    // A year-9999 observation time: refused.
    let future = message("Y9999", "").replace("20261123081500+0800", "99991123081500");
    let (status, ack) = post_hl7_bytes(&app, &lis, future.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ack}");
    assert_eq!(app.count("lab_reports").await, 2);
}

#[tokio::test]
async fn a_multipart_without_a_boundary_gets_the_one_error_shape() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let response = app
        .client
        .post(format!("{}/api/v1/ecgs", app.address))
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data")
        .body("nothing")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16() / 100, 4);
    let body: Value = response.json().await.unwrap();
    assert!(body["code"].as_str().is_some(), "{body}");
}

#[tokio::test]
async fn a_residents_access_history_does_not_name_another_resident_who_tried() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let (a, b): (i64, i64) =
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM residents WHERE village_clinic_id = $1")
            .bind(village)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let doctor = app.login("village-doctor").await;
    let mut tokens = Vec::new();
    for resident in [a, b] {
        let issued: Value = app
            .post_json(
                Some(&doctor),
                &format!("/api/v1/residents/{resident}/portal-account"),
                &Value::Null,
            )
            .await
            .json()
            .await
            .unwrap();
        let username = issued["username"].as_str().unwrap();
        let password = issued["password"].as_str().unwrap();
        tokens.push(app.login_with(username, password).await);
    }
    let probe = app.get(&tokens[1], &format!("/api/v1/residents/{a}")).await;
    assert_eq!(probe.status(), StatusCode::FORBIDDEN);
    let b_name: String = sqlx::query_scalar("SELECT name FROM residents WHERE id = $1")
        .bind(b)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let history = app
        .get_ok(&tokens[0], &format!("/api/v1/residents/{a}/accesses"))
        .await;
    let text = history.to_string();
    assert!(!text.contains(&b_name), "{text}");
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor_name"] == "另一位居民" && e["outcome"] == "denied"),
        "{text}"
    );
}

#[tokio::test]
async fn behind_an_https_public_url_links_use_it_and_browsers_are_told_to_keep_to_tls() {
    let app = TestApp::spawn().await;
    let mut ctx = app.ctx.clone();
    ctx.public_url = Some("https://yijia.example.cn".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(yijia::app::serve(listener, ctx));
    let response = app
        .client
        .get(format!("{address}/fhir/metadata"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let metadata = response.text().await.unwrap();
    assert!(
        metadata.contains("https://yijia.example.cn/fhir"),
        "{metadata}"
    );
    // Served at its own address with no public URL, no HSTS.
    let plain = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("strict-transport-security").is_none());
}
