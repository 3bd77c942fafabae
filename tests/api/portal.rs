//! The resident portal: credentials issued at a clinic, the resident's own record and reports,
//! and the list of everyone who looked at it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use crate::referral::critical_ecg;

async fn issue(app: &TestApp, token: &str, resident: i64) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/v1/residents/{resident}/portal-account"),
        &Value::Null,
    )
    .await
}

async fn resident_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_json(
        None,
        "/api/v1/auth/login",
        &json!({"username": username, "password": password}),
    )
    .await
}

#[tokio::test]
async fn a_resident_sees_their_record_their_ecg_report_and_who_looked_at_it() {
    let app = TestApp::spawn().await;
    let (ecg, resident) = critical_ecg(&app).await;
    let village_doctor = app.login("village-doctor").await;

    // The village clinic issues the credentials; the password is shown once.
    let response = issue(&app, &village_doctor, resident).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let credentials: Value = response.json().await.unwrap();
    let username = credentials["username"].as_str().unwrap().to_owned();
    let password = credentials["password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 12);

    // A county doctor looks at the record.
    let county = app.login("county-doctor").await;
    app.get_ok(&county, &format!("/api/v1/residents/{resident}"))
        .await;

    // The resident signs in and sees their own record, and only theirs.
    let response = resident_login(&app, &username, &password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let timeline = app
        .get_ok(&token, &format!("/api/v1/residents/{resident}/timeline"))
        .await;
    assert!(
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "ecg" && i["id"] == ecg)
    );
    let other = resident + 1;
    assert_error(
        app.get(&token, &format!("/api/v1/residents/{other}/timeline"))
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    assert_error(
        issue(&app, &token, resident).await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let accesses = app
        .get_ok(&token, &format!("/api/v1/residents/{resident}/accesses"))
        .await;
    assert!(
        accesses["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["actor_name"] == "胸痛中心医生"),
        "{accesses}"
    );

    // On the web: the portal, the ECG report with its tracing, the accesses.
    let login = app.web_login_with(&username, &password).await;
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let home = app
        .client
        .get(format!("{}/", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(home.headers()["location"], "/portal");
    let (status, html) = app.page(&session, "/portal").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("谁查看过我的档案") && html.contains("胸痛中心医生"));
    assert!(html.contains(&format!("/portal/ecgs/{ecg}")));
    let (status, html) = app.page(&session, &format!("/portal/ecgs/{ecg}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<svg") && html.contains("急性下壁心肌梗死"));

    // Reissued: the old password stops working, the new one works.
    let reissued: Value = issue(&app, &village_doctor, resident)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        resident_login(&app, &username, &password).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&token, &format!("/api/v1/residents/{resident}/timeline"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "the old session ended"
    );
    let new_password = reissued["password"].as_str().unwrap();
    assert_eq!(
        resident_login(&app, &username, new_password).await.status(),
        StatusCode::OK
    );
}
