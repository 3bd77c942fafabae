use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn health_check_and_openapi_document_are_served() {
    let app = TestApp::spawn().await;
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let doc: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/residents"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/residents/{id}/accesses"]["get"].is_object());
}

#[tokio::test]
async fn a_demo_account_logs_in_and_sees_itself() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let me = app.get_ok(&token, "/api/v1/me").await;
    assert_eq!(me["username"], "village-doctor");
    assert_eq!(me["roles"], json!(["village_doctor"]));
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_calls_without_a_token_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json(
            None,
            "/api/v1/auth/login",
            &json!({"username": "admin", "password": "wrong-password"}),
        )
        .await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        "auth.invalid_credentials",
    )
    .await;
    let response = app
        .client
        .get(format!("{}/api/v1/residents?name=王", app.address))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "auth.unauthenticated").await;
    let response = app.get("not-a-token", "/api/v1/me").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "auth.unauthenticated").await;
}

/// A client connecting from another loopback address, as another machine would.
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(address.parse().unwrap()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn login_from(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn repeated_failed_logins_are_slowed_down_for_that_client_only() {
    let app = TestApp::spawn().await;
    let attacker = client_from("127.0.0.3");
    for _ in 0..5 {
        let response = login_from(&app, &attacker, "admin", "guess-guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = login_from(&app, &attacker, "admin", "yijia-demo").await;
    assert!(response.headers().get("retry-after").is_some());
    assert_error(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "auth.too_many_attempts",
    )
    .await;
    // The real user at their own machine is not locked out by someone else's guesses.
    let response = login_from(&app, &client_from("127.0.0.4"), "admin", "yijia-demo").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn concurrent_guesses_get_five_password_checks_and_a_burst_of_made_up_names_is_answered() {
    let app = TestApp::spawn().await;
    let attacker = client_from("127.0.0.5");
    let guesses = (0..40).map(|_| login_from(&app, &attacker, "village-doctor", "guess-guess"));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS)
    );

    // A burst of logins with made-up usernames: each is answered (refused, or busy), none
    // fails inside, and no row is kept per name.
    let sprayer = client_from("127.0.0.6");
    let burst = (0..300).map(|n| {
        let sprayer = sprayer.clone();
        let url = format!("{}/api/v1/auth/login", app.address);
        async move {
            sprayer
                .post(url)
                .json(&json!({"username": format!("nobody{n}"), "password": "x"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(burst).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The real user from elsewhere still logs in at once.
    let response = login_from(
        &app,
        &client_from("127.0.0.7"),
        "village-doctor",
        "yijia-demo",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let token = app.login("admin").await;
    let response = app
        .client
        .post(format!("{}/api/v1/auth/logout", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.get(&token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "auth.unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn malformed_json_gets_the_one_error_shape() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let response = app
        .client
        .post(format!("{}/api/v1/residents", app.address))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "http.invalid_json").await;
}

#[tokio::test]
async fn the_web_login_sets_a_secure_http_only_cookie_and_pages_need_it() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/residents", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
    let response = app.web_login_with("village-doctor", "yijia-demo").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax")
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = app
        .client
        .get(format!("{}/institutions", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("县总医院") && html.contains("村卫生室"));
}
