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

/// What an attacker with the database's owner rights does first: drop the triggers that keep
/// the audit log append-only.
async fn drop_audit_guards(app: &TestApp) {
    let statements: &[&str] = if app.database_url.starts_with("postgres") {
        &[
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "DROP TRIGGER audit_heads_forward ON audit_heads",
        ]
    } else {
        &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_heads_forward",
        ]
    };
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(*statement))
            .execute(&app.db.pool)
            .await
            .unwrap();
    }
}

fn verify(app: &TestApp) -> (bool, String) {
    let output = app.yijia(&["audit", "verify"]);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_audit_entries() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    for statement in [
        "UPDATE audit_log SET actor_staff_id = 1 WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
        "UPDATE audit_heads SET seq = seq - 1",
        "DELETE FROM audit_heads",
    ] {
        let result = sqlx::query(statement).execute(&app.db.pool).await;
        assert!(result.is_err(), "{statement} was allowed");
    }
    assert!(verify(&app).0);
}

#[tokio::test]
async fn a_truncated_or_recomputed_chain_fails_against_the_signed_checkpoint() {
    let app = TestApp::spawn().await;
    some_activity(&app).await;
    let output = app.yijia(&["audit", "checkpoint"]);
    assert!(output.status.success());
    assert!(!output.stdout.is_empty());
    some_activity(&app).await;
    drop_audit_guards(&app).await;
    let head: i64 = sqlx::query_scalar("SELECT seq FROM audit_heads")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();

    // Delete the newest entries and move the head back to the last one kept.
    let keep = head - 6;
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(keep)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let hash: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(keep)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_heads SET seq = $1, hash = $2")
        .bind(keep)
        .bind(&hash)
        .execute(&app.db.pool)
        .await
        .unwrap();
    // The chain alone is consistent again; the checkpoint is not.
    assert!(matches!(
        yijia::audit::verify(&app.db, None).await.unwrap(),
        yijia::audit::Verdict::Intact { .. }
    ));
    let (ok, said) = verify(&app);
    assert!(!ok && said.contains("truncated"), "{said}");

    // Delete entries in the middle and recompute every hash after them.
    sqlx::query("DELETE FROM audit_log WHERE seq BETWEEN 2 AND 4")
        .execute(&app.db.pool)
        .await
        .unwrap();
    rechain(&app).await;
    assert!(matches!(
        yijia::audit::verify(&app.db, None).await.unwrap(),
        yijia::audit::Verdict::Intact { .. }
    ));
    let (ok, said) = verify(&app);
    assert!(!ok && said.contains("BROKEN"), "{said}");

    // Forging the checkpoint file without its key is found too.
    let checkpoints = app.anchor_dir.join("checkpoints");
    let text = std::fs::read_to_string(&checkpoints).unwrap();
    let forged = text.replacen(" ", " 1", 1);
    std::fs::write(&checkpoints, forged).unwrap();
    assert!(!app.yijia(&["audit", "verify"]).status.success());
}

/// Renumbers the remaining entries and recomputes the chain, as an attacker who knows the
/// hash would.
async fn rechain(app: &TestApp) {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT seq, community_id, at_ms, actor_staff_id, actor_institution_id, action, resource, \
         resource_id, resident_id, outcome, detail FROM audit_log ORDER BY seq",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut prev = yijia::audit::GENESIS_HASH.to_owned();
    for (index, row) in rows.iter().enumerate() {
        let seq = index as i64 + 1;
        let outcome: String = row.get("outcome");
        let entry = yijia::audit::Entry {
            community_id: row.get("community_id"),
            at_ms: row.get("at_ms"),
            actor_staff_id: row.get("actor_staff_id"),
            actor_institution_id: row.get("actor_institution_id"),
            action: row.get("action"),
            resource: row.get("resource"),
            resource_id: row.get("resource_id"),
            resident_id: row.get("resident_id"),
            outcome: if outcome == "denied" {
                yijia::audit::Outcome::Denied
            } else {
                yijia::audit::Outcome::Allowed
            },
            detail: row.get("detail"),
        };
        let hash = yijia::audit::entry_hash(&prev, seq, &entry);
        sqlx::query("UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(seq)
            .bind(&prev)
            .bind(&hash)
            .bind(row.get::<i64, _>("seq"))
            .execute(&app.db.pool)
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE audit_heads SET seq = $1, hash = $2")
        .bind(rows.len() as i64)
        .bind(&prev)
        .execute(&app.db.pool)
        .await
        .unwrap();
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
    drop_audit_guards(&app).await;
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
    drop_audit_guards(&app).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert!(!app.yijia(&["audit", "verify"]).status.success());

    let app = TestApp::spawn().await;
    some_activity(&app).await;
    drop_audit_guards(&app).await;
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
    // The demo's images are in the archive beside the copy, each file by its digest.
    let digests: Vec<String> = sqlx::query_scalar("SELECT content_sha256 FROM imaging_instances")
        .fetch_all(&copy.pool)
        .await
        .unwrap();
    assert!(!digests.is_empty());
    let archive = yijia::archive::Archive::open(&dir.join("copy.db.archive")).unwrap();
    for digest in &digests {
        let bytes = archive
            .get_blocking(digest)
            .expect("every image is in the backup");
        assert_eq!(&bytes[128..132], b"DICM");
    }
    assert!(
        yijia::audit::verify(&copy, None).await.unwrap()
            != yijia::audit::Verdict::Intact { entries: 0 }
    );
    copy.pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn on_postgresql_the_servers_role_cannot_change_the_audit_log_even_without_the_triggers() {
    let app = TestApp::spawn().await;
    if !app.database_url.starts_with("postgres") {
        return; // a PostgreSQL role; SQLite has the triggers only
    }
    some_activity(&app).await;
    drop_audit_guards(&app).await;
    let role = format!("yijia_server_{}", std::process::id());
    let script = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/postgres-server-role.sql"),
    )
    .unwrap()
    .replace("yijia_server", &role);
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(&app.db.pool)
        .await
        .unwrap();
    let mut conn = app.db.pool.acquire().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("SET ROLE {role}")))
        .execute(&mut *conn)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM residents")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(count > 0);
    for statement in [
        "UPDATE audit_log SET detail = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let refused = sqlx::query(statement)
            .execute(&mut *conn)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("permission denied"),
            "{refused}"
        );
    }
    sqlx::query("RESET ROLE").execute(&mut *conn).await.unwrap();
    drop(conn);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; \
         REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}; \
         REVOKE ALL ON SCHEMA public FROM {role}; DROP ROLE {role}"
    )))
    .execute(&app.db.pool)
    .await
    .unwrap();
}
