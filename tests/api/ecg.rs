//! The ECG network over HTTP: uploads in every shared format, refusal of damaged files,
//! idempotent retries, and the golden path from a village clinic to a signed, acknowledged report.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use yijia_ecg::synth::{self, Case};

use crate::helpers::{TestApp, assert_error};

pub fn shared(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/ecg")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|_| panic!("shared test data missing: {}", full.display()))
}

/// Files of one upload: (file name, bytes).
pub type Files = Vec<(&'static str, Vec<u8>)>;

pub fn form(resident_id: i64, files: Files) -> Form {
    let mut form = Form::new()
        .text("resident_id", resident_id.to_string())
        .text("recorded_at", "2026-11-23T08:00:00+08:00")
        .text("clinical_note", "胸痛 30 分钟");
    for (name, bytes) in files {
        form = form.part("file", Part::bytes(bytes).file_name(name.to_owned()));
    }
    form
}

pub async fn upload(
    app: &TestApp,
    token: &str,
    form: Form,
    key: Option<&str>,
) -> reqwest::Response {
    let request = app
        .client
        .post(format!("{}/api/v1/ecgs", app.address))
        .bearer_auth(token)
        .multipart(form);
    let request = match key {
        Some(key) => request.header("Idempotency-Key", key),
        None => request,
    };
    request.send().await.unwrap()
}

/// Uploads a synthetic inferior STEMI for a resident; returns the stored ECG.
pub async fn upload_stemi(app: &TestApp, token: &str, resident_id: i64) -> Value {
    let form = form(resident_id, vec![("stemi.json", inferior_stemi_json())]);
    let response = upload(app, token, form, None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub fn inferior_stemi_json() -> Vec<u8> {
    yijia_ecg::formats::json::write(&synth::generate(&Case::InferiorStemi.spec())).into_bytes()
}

#[tokio::test]
async fn every_shared_format_uploads_and_is_analysed() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let cases: Vec<(&str, Files, usize)> = vec![
        (
            "dicom",
            vec![("ecg.dcm", shared("dicom/pydicom_waveform_ecg.dcm"))],
            12,
        ),
        (
            "aecg",
            vec![("ecg.xml", shared("hl7-aecg/ecg_hl7.xml"))],
            12,
        ),
        (
            "wfdb",
            vec![
                ("100s.hea", shared("mitdb/100s.hea")),
                ("100s.dat", shared("mitdb/100s.dat")),
            ],
            2,
        ),
        ("json", vec![("ecg.json", inferior_stemi_json())], 12),
    ];
    for (format, files, leads) in cases {
        let response = upload(&app, &token, form(resident, files), None).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{format}");
        let ecg: Value = response.json().await.unwrap();
        assert_eq!(ecg["format"], format);
        assert_eq!(
            ecg["analysis"]["leads"].as_array().unwrap().len(),
            leads,
            "{format}"
        );
        assert!(
            ecg["analysis"]["beats"].as_array().unwrap().len() > 5,
            "{format}"
        );
        let waveform = app
            .get_ok(&token, &format!("/api/v1/ecgs/{}/waveform", ecg["id"]))
            .await;
        assert_eq!(waveform["leads"].as_object().unwrap().len(), leads);
    }
}

#[tokio::test]
async fn damaged_or_absurd_files_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let dat = shared("mitdb/100s.dat");
    let mut flipped = dat.clone();
    flipped[999] ^= 0x5a;
    let cases: Vec<Files> = vec![
        vec![
            ("100s.hea", shared("mitdb/100s.hea")),
            ("100s.dat", dat[..dat.len() / 3].to_vec()),
        ],
        vec![
            ("100s.hea", shared("mitdb/100s.hea")),
            ("100s.dat", flipped),
        ],
        vec![(
            "ecg.json",
            br#"{"sampling_hz": 5, "leads": {"I": [1, 2, 3]}}"#.to_vec(),
        )],
        vec![("ecg.json", br#"{"sampling_hz": 500, "leads": {}}"#.to_vec())],
        vec![(
            "ecg.dcm",
            shared("dicom/pydicom_waveform_ecg.dcm")[..4000].to_vec(),
        )],
        vec![("notes.txt", b"just some text".to_vec())],
        vec![],
    ];
    let cases = cases
        .into_iter()
        .chain(absurd_values())
        .chain(damaged_dicoms());
    for files in cases {
        let response = upload(
            &app,
            &token,
            form(resident, files),
            Some("same-key-for-failures"),
        )
        .await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "ecg.unreadable").await;
    }
    assert_eq!(app.count("ecgs").await, 0);
}

/// Numbers no ECG can hold: not-a-number and overflowing samples, absurd gains and baselines.
fn absurd_values() -> Vec<Files> {
    let aecg = String::from_utf8(shared("hl7-aecg/ecg_hl7.xml")).unwrap();
    let header = String::from_utf8(shared("mitdb/100s.hea")).unwrap();
    let mut cases: Vec<Files> = ["NaN", "1e309", "-inf"]
        .into_iter()
        .map(|value| {
            let xml = aecg.replacen("<digits>", &format!("<digits>{value} "), 1);
            vec![("ecg.xml", xml.into_bytes())]
        })
        .collect();
    for gain in [
        "NaN",
        "inf",
        "1e-300",
        "1e300",
        "200(2147483648)",
        "200(-2147483648)",
    ] {
        let hea = header.replace(" 212 200 ", &format!(" 212 {gain} "));
        cases.push(vec![
            ("100s.hea", hea.into_bytes()),
            ("100s.dat", shared("mitdb/100s.dat")),
        ]);
    }
    cases
}

/// The waveform DICOM with damaged lengths: its Waveform Data length off by two (which made
/// the parser allocate gigabytes), and bit flips across its element headers.
fn damaged_dicoms() -> Vec<Files> {
    let original = shared("dicom/pydicom_waveform_ecg.dcm");
    let mut off_by_two = original.clone();
    off_by_two[18638..18642].copy_from_slice(&240_002u32.to_le_bytes());
    let mut cases: Vec<Files> = vec![vec![("ecg.dcm", off_by_two)]];
    // A fixed sequence of bit flips across the element headers before the samples, each with
    // a Waveform Data length of 2 GiB that the file does not hold.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..8 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = 132 + (state % 18_500) as usize;
        let mut flipped = original.clone();
        flipped[at] ^= 1 << (state >> 61);
        flipped[18638..18642].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        cases.push(vec![("ecg.dcm", flipped)]);
    }
    cases
}

#[tokio::test]
async fn an_idempotency_key_sent_again_with_another_upload_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let first = upload(
        &app,
        &token,
        form(resident, vec![("ecg.json", inferior_stemi_json())]),
        Some("clinic-7-ecg-0002"),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let other_resident: i64 =
        sqlx::query_scalar("SELECT MAX(id) FROM residents WHERE village_clinic_id = $1")
            .bind(village)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_ne!(other_resident, resident);
    let normal = yijia_ecg::formats::json::write(&synth::generate(&Case::Normal.spec()));
    for (who, file) in [
        (other_resident, inferior_stemi_json()),
        (resident, normal.into_bytes()),
    ] {
        let response = upload(
            &app,
            &token,
            form(who, vec![("ecg.json", file)]),
            Some("clinic-7-ecg-0002"),
        )
        .await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "ecg.idempotency_key_reused",
        )
        .await;
    }
    assert_eq!(app.count("ecgs").await, 1);
    let kept = app
        .get_ok(&token, &format!("/api/v1/ecgs/{}", first["id"]))
        .await;
    assert_eq!(kept["resident_id"], resident);
}

#[tokio::test]
async fn a_retried_upload_with_the_same_key_gives_one_ecg() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let first = upload(
        &app,
        &token,
        form(resident, vec![("ecg.json", inferior_stemi_json())]),
        Some("clinic-7-ecg-0001"),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = upload(
        &app,
        &token,
        form(resident, vec![("ecg.json", inferior_stemi_json())]),
        Some("clinic-7-ecg-0001"),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(app.count("ecgs").await, 1);
}

#[tokio::test]
async fn uploads_and_reads_stay_inside_the_access_scope() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let township = app.institution_of("township-doctor").await;
    let outsider = app.resident_outside_township(township).await;
    let token = app.login("village-doctor").await;
    let response = upload(
        &app,
        &token,
        form(outsider, vec![("ecg.json", inferior_stemi_json())]),
        None,
    )
    .await;
    assert_error(response, StatusCode::FORBIDDEN, "access.denied").await;
    let own = app.resident_in_village(village).await;
    let ecg: Value = upload_stemi(&app, &token, own).await;
    for (username, status) in [
        ("township-doctor", StatusCode::OK),
        ("supervisor", StatusCode::FORBIDDEN),
        ("insurance-officer", StatusCode::FORBIDDEN),
    ] {
        let token = app.login(username).await;
        assert_eq!(
            app.get(&token, &format!("/api/v1/ecgs/{}", ecg["id"]))
                .await
                .status(),
            status,
            "{username}"
        );
    }
    let doctor = app.login("township-doctor").await;
    assert_error(
        app.get(&doctor, "/api/v1/ecg/worklist").await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
}

#[tokio::test]
async fn golden_path_from_village_upload_to_acknowledged_signed_report() {
    let app = TestApp::spawn().await;
    let village_doctor = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    // A routine ECG first, then the STEMI: the STEMI must still come first on the worklist.
    let normal =
        yijia_ecg::formats::json::write(&synth::generate(&Case::Normal.spec())).into_bytes();
    let routine: Value = upload(
        &app,
        &village_doctor,
        form(resident, vec![("normal.json", normal)]),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(routine["priority"], "routine");
    let response = upload(
        &app,
        &village_doctor,
        form(resident, vec![("stemi.json", inferior_stemi_json())]),
        Some("stemi-1"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let stemi: Value = response.json().await.unwrap();
    assert_eq!(stemi["priority"], "stat");
    assert_eq!(stemi["auto_critical"], true);
    assert_eq!(stemi["analysis"]["stemi"]["suspected"], true);
    let id = stemi["id"].as_i64().unwrap();

    let reader = app.login("county-reader").await;
    let worklist = app.get_ok(&reader, "/api/v1/ecg/worklist").await;
    let items = worklist.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], id, "the STAT ECG is first");
    assert_eq!(
        items[0]["due_at_ms"].as_i64().unwrap() - items[0]["received_at_ms"].as_i64().unwrap(),
        10 * 60 * 1000
    );
    assert!(
        items[0]["automatic_findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().contains("STEMI"))
    );

    // Reporting needs a claim, and no two readers hold one ECG.
    let report = serde_json::json!({"findings": "窦性心律，II、III、aVF 导联 ST 段抬高", "conclusion": "急性下壁心肌梗死", "critical": true});
    let response = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/ecgs/{id}/reports"),
            &report,
        )
        .await;
    assert_error(response, StatusCode::CONFLICT, "ecg.not_claimed").await;
    let claimed = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/ecgs/{id}/claim"),
            &Value::Null,
        )
        .await;
    assert_eq!(claimed.status(), StatusCode::OK);
    let admin = app.login("admin").await;
    let centre = app.institution_of("county-reader").await;
    let second = serde_json::json!({"username": "second-reader", "password": "second-reader-pw", "name": "第二诊断医师", "institution_id": centre, "roles": ["reader"]});
    assert_eq!(
        app.post_json(Some(&admin), "/api/v1/staff", &second)
            .await
            .status(),
        StatusCode::CREATED
    );
    let other = app
        .post_json(
            None,
            "/api/v1/auth/login",
            &serde_json::json!({"username": "second-reader", "password": "second-reader-pw"}),
        )
        .await;
    let other = other.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        app.post_json(
            Some(&other),
            &format!("/api/v1/ecgs/{id}/claim"),
            &Value::Null,
        )
        .await,
        StatusCode::CONFLICT,
        "ecg.already_claimed",
    )
    .await;

    let signed = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/ecgs/{id}/reports"),
            &report,
        )
        .await;
    assert_eq!(signed.status(), StatusCode::CREATED);
    let signed: Value = signed.json().await.unwrap();
    assert_eq!(signed["state"], "reported");
    assert_eq!(signed["reports"][0]["conclusion"], "急性下壁心肌梗死");
    assert_eq!(signed["reports"][0]["version"], 1);
    let worklist = app.get_ok(&reader, "/api/v1/ecg/worklist").await;
    assert!(
        worklist
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["id"] != id)
    );

    // The village sees the signed report and acknowledges it; every step keeps its time.
    let inbox = app.get_ok(&village_doctor, "/api/v1/ecg/inbox").await;
    let mine = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(mine["state"], "reported");
    let acknowledged = app
        .post_json(
            Some(&village_doctor),
            &format!("/api/v1/ecgs/{id}/acknowledge"),
            &Value::Null,
        )
        .await;
    assert_eq!(acknowledged.status(), StatusCode::OK);
    let done = app
        .get_ok(&village_doctor, &format!("/api/v1/ecgs/{id}"))
        .await;
    let time = |field: &str| {
        done[field]
            .as_i64()
            .unwrap_or_else(|| panic!("{field} is stored"))
    };
    assert!(time("recorded_at_ms") <= time("received_at_ms"));
    assert!(time("received_at_ms") <= time("claimed_at_ms"));
    assert!(time("claimed_at_ms") <= time("reported_at_ms"));
    assert!(time("reported_at_ms") <= time("acknowledged_at_ms"));

    // A signed report is amended by a new signed version, never edited.
    let amended = serde_json::json!({"findings": "补充：V4R 未见抬高", "conclusion": "急性下壁心肌梗死", "critical": true});
    let amended: Value = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/ecgs/{id}/reports"),
            &amended,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(amended["reports"].as_array().unwrap().len(), 2);
    assert_eq!(
        amended["reports"][0]["findings"],
        "窦性心律，II、III、aVF 导联 ST 段抬高"
    );
}

#[tokio::test]
async fn the_upload_command_spools_retries_and_never_duplicates() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let id_number: String = sqlx::query_scalar("SELECT id_number FROM residents WHERE id = $1")
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "yijia-upload-{}-{}",
        std::process::id(),
        app.address.rsplit(':').next().unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stemi.json");
    std::fs::write(&file, inferior_stemi_json()).unwrap();
    let spool = dir.join("spool");
    // The server runs on this test's runtime, so the command must not block it.
    let run = |server: &str, attempts: &str| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_yijia"))
            .args(["upload", "ecg"])
            .arg(&file)
            .args([
                "--server",
                server,
                "--id-number",
                &id_number,
                "--recorded-at",
                "2026-11-23T08:00:00+08:00",
                "--max-attempts",
                attempts,
            ])
            .arg("--spool-dir")
            .arg(&spool)
            .env("YIJIA_TOKEN", &token)
            .output()
    };
    // The link is down: the upload waits in the spool.
    let down = run("http://127.0.0.1:9", "1").await.unwrap();
    assert!(!down.status.success());
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 1);
    // The link is back: it arrives once, and the spool is empty.
    let up = run(&app.address, "3").await.unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(String::from_utf8_lossy(&up.stdout).contains("stat"));
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    // Running the command again for the same recording does not create a second ECG.
    assert!(run(&app.address, "3").await.unwrap().status.success());
    assert_eq!(app.count("ecgs").await, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reads server-sent events until one of `kind` arrives (or fails after 10 s).
pub async fn wait_for_event(events: &mut reqwest::Response, kind: &str) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = String::new();
    while !seen.contains(&format!("event: {kind}")) {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event; saw {seen:?}"));
        seen.push_str(&String::from_utf8_lossy(
            &chunk.unwrap().expect("the stream stays open"),
        ));
    }
    seen
}

#[tokio::test]
async fn the_site_hears_live_of_its_report_and_an_unacknowledged_critical_report_escalates() {
    let app = TestApp::spawn().await;
    let village_doctor = app.login("village-doctor").await;
    let reader = app.login("county-reader").await;
    let mut site_events = app.events(&village_doctor).await;
    let mut reader_events = app.events(&reader).await;
    assert_eq!(site_events.headers()["content-type"], "text/event-stream");

    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let ecg: Value = upload_stemi(&app, &village_doctor, resident).await;
    let id = ecg["id"].as_i64().unwrap();
    let seen = wait_for_event(&mut reader_events, "ecg.uploaded").await;
    assert!(
        seen.contains(&format!("\"id\":{id}")) && !seen.contains("name"),
        "events carry identifiers only: {seen}"
    );

    app.post_json(
        Some(&reader),
        &format!("/api/v1/ecgs/{id}/claim"),
        &Value::Null,
    )
    .await;
    let report =
        serde_json::json!({"findings": "", "conclusion": "急性下壁心肌梗死", "critical": true});
    let signed = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/ecgs/{id}/reports"),
            &report,
        )
        .await;
    assert_eq!(signed.status(), StatusCode::CREATED);
    wait_for_event(&mut site_events, "ecg.reported").await;

    // Not yet overdue a minute later; escalated once after five minutes; never twice.
    let signed_at = yijia::clock::now_ms();
    assert_eq!(
        yijia::critical_value::escalate_overdue(&app.ctx, signed_at + 60_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        yijia::critical_value::escalate_overdue(&app.ctx, signed_at + 6 * 60_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        yijia::critical_value::escalate_overdue(&app.ctx, signed_at + 7 * 60_000)
            .await
            .unwrap(),
        0
    );
    wait_for_event(&mut site_events, "ecg.escalated").await;
    let escalated = app
        .get_ok(&village_doctor, &format!("/api/v1/ecgs/{id}"))
        .await;
    assert!(escalated["escalated_at_ms"].as_i64().is_some());
    assert!(escalated["acknowledged_at_ms"].is_null());
    let escalations: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'ecg.escalated'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(escalations, 1);
}
