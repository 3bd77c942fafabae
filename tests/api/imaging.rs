//! The shared imaging centre over DICOMweb, checked with dicomweb-client.

use serde_json::Value;

use crate::helpers::TestApp;

fn shared_dicom() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dicom-imaging");
    assert!(
        dir.is_dir(),
        "the shared DICOM images are missing: {}",
        dir.display()
    );
    dir
}

#[tokio::test]
async fn dicomweb_client_stores_searches_and_retrieves() {
    let app = TestApp::spawn().await;
    let site = app.login("township-doctor").await;
    let reader = app.login("county-reader").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let id_number: String = sqlx::query_scalar("SELECT id_number FROM residents WHERE id = $1")
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let output = tokio::process::Command::new(crate::helpers::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/python/dicomweb_client_check.py"
        ))
        .arg(format!("{}/dicomweb", app.address))
        .arg(&site)
        .arg(&reader)
        .arg(&id_number)
        .arg(shared_dicom())
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "dicomweb-client: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found: Value = serde_json::from_slice(&output.stdout).unwrap();
    // Six transfer syntaxes of one SOP instance: each acknowledged, one instance kept, the first.
    assert_eq!(found["mr_referenced"], 6, "{found}");
    assert_eq!(found["mr_failed"], 0);
    assert_eq!(found["mr_first_kept"], true);
    // One study in two series of 5 and 2.
    assert_eq!(found["series_referenced"], 7);
    assert_eq!(found["series_study_uids"].as_array().unwrap().len(), 1);
    assert_eq!(found["series_in_study"], 2);
    assert_eq!(found["instances_per_series"], serde_json::json!([2, 5]));
    // The truncated file: 409 with the "cannot understand" reason, nothing stored.
    assert_eq!(found["truncated_status"], 409);
    assert_eq!(found["truncated_reasons"], serde_json::json!([0xC000]));
    assert_eq!(found["studies"], 2);
    assert_eq!(found["by_patient"], 2);
    let counts: Vec<i64> = found["study_instances"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<i64>(), 8, "{found}");
    assert_eq!(found["retrieved_uid_matches"], true);
    assert_eq!(found["retrieved_pixels_match"], true);
    assert_eq!(found["byte_for_byte"], true);
    assert_eq!(found["study_retrieved"], 7);
    let instances: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM imaging_instances")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(instances, 8);
    // Each search and retrieval was audited against the resident.
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'imaging_study.retrieve' AND resident_id = $1",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(audited >= 2);
}

#[tokio::test]
async fn dicomweb_refuses_without_a_token_and_an_unknown_patient() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/dicomweb/studies", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let site = app.login("township-doctor").await;
    let file = std::fs::read(shared_dicom().join("CT_small.dcm")).unwrap();
    let mut body = b"--b\r\nContent-Type: application/dicom\r\n\r\n".to_vec();
    body.extend(&file);
    body.extend(b"\r\n--b--\r\n");
    let response = app
        .client
        .post(format!("{}/dicomweb/studies", app.address))
        .bearer_auth(&site)
        .header(
            "Content-Type",
            "multipart/related; type=\"application/dicom\"; boundary=b",
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        409,
        "CT_small's Patient ID is no resident's"
    );
    let warning = response.headers()["warning"].to_str().unwrap().to_owned();
    assert!(warning.contains("ID number"), "{warning}");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["00081198"]["Value"][0]["00081197"]["Value"][0],
        0x0110
    );
    let response = app
        .client
        .post(format!("{}/dicomweb/studies", app.address))
        .bearer_auth(&site)
        .header("Content-Type", "application/dicom")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}
