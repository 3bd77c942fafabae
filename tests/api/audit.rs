//! The audit chain and the command-line tools that work on the database.

use reqwest::StatusCode;

use crate::helpers::TestApp;

async fn some_activity(app: &TestApp) {
    let token = app.login("county-reader").await;
    for id in [1, 2, 3] {
        assert_eq!(
            app.get(&token, &format!("/api/v1/residents/{id}"))
                .await
                .status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn audit_verify_passes_on_an_untouched_chain() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let output = app.yijia(&["audit", "verify"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("intact"));
}

#[tokio::test]
async fn audit_verify_detects_an_edited_entry() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    sqlx::query("UPDATE audit_log SET actor_staff_id = 1 WHERE seq = 2")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let output = app.yijia(&["audit", "verify"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("BROKEN"));
}

#[tokio::test]
async fn audit_verify_detects_a_deleted_entry_in_the_middle_or_at_the_end() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert!(!app.yijia(&["audit", "verify"]).status.success());

    let app = TestApp::spawn().await;
    some_activity(&app).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert!(!app.yijia(&["audit", "verify"]).status.success());
}

#[tokio::test]
async fn concurrent_reads_keep_one_unbroken_chain() {
    let app = TestApp::spawn().await;
    let token = app.login("county-reader").await;
    let mut tasks = Vec::new();
    for id in 1..=40 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/residents/{id}", app.address);
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let reads: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'resident.read'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(reads, 40);
    assert!(app.yijia(&["audit", "verify"]).status.success());
}

#[tokio::test]
async fn the_demo_is_not_loaded_twice() {
    let app = TestApp::spawn().await;
    let before = app.count("residents").await;
    let output = app.yijia(&["demo", "--size", "small"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("already loaded"));
    assert_eq!(app.count("residents").await, before);
}

#[tokio::test]
async fn admin_create_user_makes_an_account_that_can_log_in() {
    let app = TestApp::spawn().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_yijia"))
        .args([
            "admin",
            "create-user",
            "--username",
            "cli-reader",
            "--name",
            "命令行医师",
            "--role",
            "reader",
            "--institution",
            "C-ECG",
            "--title-level",
            "senior",
        ])
        .arg("--database-url")
        .arg(&app.database_url)
        .env("YIJIA_PASSWORD", "cli-password-1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response = app
        .post_json(
            None,
            "/api/v1/auth/login",
            &serde_json::json!({"username": "cli-reader", "password": "cli-password-1"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn backup_writes_a_consistent_copy_while_the_server_runs() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    if !app.database_url.starts_with("sqlite:") {
        // PostgreSQL backups go through pg_dump, tested where the database is SQLite only
        // when pg_dump is absent; here we check it writes a file.
        let path = std::env::temp_dir().join(format!("yijia-backup-{}.dump", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let output = app.yijia(&["backup", path.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
        let _ = std::fs::remove_file(&path);
        return;
    }
    let dir = std::env::temp_dir().join(format!(
        "yijia-backup-{}-{}",
        std::process::id(),
        app.address.rsplit(':').next().unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("copy.db");
    let output = app.yijia(&["backup", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let copy = yijia::db::Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let residents: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM residents")
        .fetch_one(&copy.pool)
        .await
        .unwrap();
    assert_eq!(residents, app.count("residents").await);
    assert!(
        yijia::audit::verify(&copy).await.unwrap() != yijia::audit::Verdict::Intact { entries: 0 }
    );
    copy.pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
