//! The imaging centre's DICOM listener, checked with DCMTK's own tools (`echoscu`, `findscu`,
//! `storescu`, `dcmodify`, `dcmdump`): the demo allow-lists their default calling AE titles.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Runs a DCMTK tool in `dir`; in CI a missing DCMTK fails the test.
async fn dcmtk(tool: &str, dir: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .unwrap_or_else(|e| panic!("DCMTK's {tool} (Debian package dcmtk) is needed: {e}"))
}

fn shared_series() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dicom-imaging");
    let mut files = Vec::new();
    for series in ["series-ct5n", "series-ct2n"] {
        let dir = root.join(series);
        assert!(
            dir.is_dir(),
            "the shared CT series are missing: {}",
            dir.display()
        );
        for entry in std::fs::read_dir(dir).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    files
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("yijia-dimse-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One attribute of a DICOM file as DCMTK's dcmdump prints it (the value between brackets).
async fn dumped(dir: &Path, file: &Path, tag: &str) -> String {
    let output = dcmtk("dcmdump", dir, &["+P", tag, file.to_str().unwrap()]).await;
    let line = String::from_utf8_lossy(&output.stdout).into_owned();
    line.split('[')
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn an_order_goes_to_the_modality_worklist_and_its_images_come_back_over_c_store() {
    let app = TestApp::spawn().await;
    let dicom = app.dicom().await;
    let (host, port) = (dicom.ip().to_string(), dicom.port().to_string());
    let dir = temp_dir("golden");

    // C-ECHO from an allow-listed AE title; an unknown calling AE title or a wrong called one
    // is refused at association.
    let echo = dcmtk("echoscu", &dir, &["-aec", "YIJIA", &host, &port]).await;
    assert!(echo.status.success(), "echoscu: {}", text(&echo));
    let stranger = dcmtk(
        "echoscu",
        &dir,
        &["-aet", "NOBODY", "-aec", "YIJIA", &host, &port],
    )
    .await;
    assert!(!stranger.status.success(), "an unknown AE title is refused");
    let wrong = dcmtk("echoscu", &dir, &["-aec", "ORTHANC", &host, &port]).await;
    assert!(
        !wrong.status.success(),
        "a wrong called AE title is refused"
    );

    // A village doctor orders an urgent head CT; it is performed at the township.
    let village = app.login("village-doctor").await;
    let resident: (i64, String, String) = sqlx::query_as(
        "SELECT id, id_number, name FROM residents WHERE village_clinic_id = $1 \
         AND id NOT IN (SELECT resident_id FROM imaging_studies) ORDER BY id LIMIT 1",
    )
    .bind(app.institution_of("village-doctor").await)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let (resident_id, id_number, name) = resident;
    let order: Value = app
        .post_json(
            Some(&village),
            "/api/v1/imaging/orders",
            &json!({"resident_id": resident_id, "modality": "CT", "body_part": "头颅平扫",
                    "reason": "突发头痛伴呕吐 2 小时", "urgent": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let accession = order["accession_number"].as_str().unwrap().to_owned();
    let study_uid = order["study_instance_uid"].as_str().unwrap().to_owned();
    assert!(study_uid.starts_with("2.25."), "{order}");

    // The CT takes the patient from its worklist (C-FIND on the Modality Worklist).
    let find = dcmtk(
        "findscu",
        &dir,
        &[
            "-W",
            "-aec",
            "YIJIA",
            "-X",
            "-k",
            "ScheduledProcedureStepSequence[0].Modality=CT",
            "-k",
            "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate",
            "-k",
            "PatientName",
            "-k",
            "PatientID",
            "-k",
            "AccessionNumber",
            "-k",
            "StudyInstanceUID",
            "-k",
            "PatientBirthDate",
            &host,
            &port,
        ],
    )
    .await;
    assert!(find.status.success(), "findscu: {}", text(&find));
    let mut answers: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("rsp"))
        .collect();
    answers.sort();
    let mut ours = None;
    for answer in &answers {
        if dumped(&dir, answer, "AccessionNumber").await == accession {
            ours = Some(answer.clone());
        }
    }
    let ours = ours.unwrap_or_else(|| panic!("the order is on the worklist: {}", text(&find)));
    assert_eq!(dumped(&dir, &ours, "PatientID").await, id_number);
    assert_eq!(dumped(&dir, &ours, "PatientName").await, name);
    assert_eq!(dumped(&dir, &ours, "StudyInstanceUID").await, study_uid);

    // A modality that asks for another modality's steps does not get this CT's.
    let other = temp_dir("other");
    let find_us = dcmtk(
        "findscu",
        &other,
        &[
            "-W",
            "-aec",
            "YIJIA",
            "-X",
            "-k",
            "ScheduledProcedureStepSequence[0].Modality=US",
            "-k",
            "AccessionNumber",
            &host,
            &port,
        ],
    )
    .await;
    assert!(find_us.status.success(), "findscu: {}", text(&find_us));
    for entry in std::fs::read_dir(&other).unwrap() {
        let path = entry.unwrap().path();
        assert_ne!(dumped(&other, &path, "AccessionNumber").await, accession);
    }

    // The CT's images carry what the worklist gave (written into the shared series by dcmodify);
    // storescu sends both series.
    let images = temp_dir("images");
    let mut sent = Vec::new();
    for (n, file) in shared_series().iter().enumerate() {
        let copy = images.join(format!("ct{n}.dcm"));
        std::fs::copy(file, &copy).unwrap();
        let modify = dcmtk(
            "dcmodify",
            &images,
            &[
                "-nb",
                "-i",
                &format!("(0010,0020)={id_number}"),
                "-i",
                &format!("(0008,0050)={accession}"),
                "-i",
                &format!("(0020,000d)={study_uid}"),
                copy.to_str().unwrap(),
            ],
        )
        .await;
        assert!(modify.status.success(), "dcmodify: {}", text(&modify));
        sent.push(copy.to_str().unwrap().to_owned());
    }
    let mut args = vec![
        "-aec".to_owned(),
        "YIJIA".into(),
        host.clone(),
        port.clone(),
    ];
    args.extend(sent.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let store = dcmtk("storescu", &images, &args).await;
    assert!(store.status.success(), "storescu: {}", text(&store));
    // Sent again: the same instances, nothing new.
    let again = dcmtk("storescu", &images, &args).await;
    assert!(again.status.success(), "storescu again: {}", text(&again));
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM imaging_instances i JOIN imaging_studies s ON s.id = i.study_id \
         WHERE s.study_instance_uid = $1",
    )
    .bind(&study_uid)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(stored, sent.len() as i64, "seven instances, each once");

    // Byte for byte: the data set as sent, after a file meta of our own.
    let reader = app.login("imaging-reader").await;
    let township = app.login("township-doctor").await;
    let orders: Value = app
        .get(&township, "/api/v1/imaging/orders?state=all")
        .await
        .json()
        .await
        .unwrap();
    let performed = orders
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["accession_number"] == accession)
        .unwrap();
    assert_eq!(performed["state"], "performed");
    let study = performed["study_id"].as_i64().unwrap();

    // The reader's worklist has it first (STAT); a critical finding closes the loop.
    let worklist: Value = app
        .get(&reader, "/api/v1/imaging/worklist")
        .await
        .json()
        .await
        .unwrap();
    let listed = worklist.as_array().unwrap();
    let at = listed.iter().position(|s| s["id"] == study).unwrap();
    assert_eq!(listed[at]["priority"], "stat", "the order's urgency");
    assert!(
        listed[..at].iter().all(|s| s["priority"] == "stat"),
        "STAT studies come first: {worklist}"
    );
    // Indicator 2.2a (remote reads per 10,000 residents) counts the imaging read.
    let supervisor = app.login("supervisor").await;
    let today = yijia::clock::today_cst();
    let remote_reads = || async {
        let values = app
            .get_ok(
                &supervisor,
                &format!(
                    "/api/v1/indicators?year={}&month={}",
                    today.year(),
                    u8::from(today.month())
                ),
            )
            .await;
        crate::helpers::indicator(&values, "2.2a")["numerator"]
            .as_f64()
            .unwrap_or(0.0)
    };
    let reads_before = remote_reads().await;
    let claim = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/imaging/studies/{study}/claim"),
            &Value::Null,
        )
        .await;
    assert_eq!(claim.status(), 200);
    let signed = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/imaging/studies/{study}/reports"),
            &json!({"findings": "左侧基底节区见团片状高密度影，周围低密度水肿带",
                    "conclusion": "左侧基底节区脑出血", "critical": true}),
        )
        .await;
    assert_eq!(signed.status(), 200);
    assert_eq!(
        remote_reads().await,
        reads_before + 1.0,
        "the read counts in 2.2a"
    );
    let inbox: Value = app
        .get(&township, "/api/v1/imaging/inbox")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == study && s["report_critical"] == true),
        "{inbox}"
    );
    let acknowledged: Value = app
        .post_json(
            Some(&township),
            &format!("/api/v1/imaging/studies/{study}/acknowledge"),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        acknowledged["acknowledged_at_ms"].is_i64(),
        "{acknowledged}"
    );

    // The performed order has left the worklist.
    let later = temp_dir("later");
    let find_again = dcmtk(
        "findscu",
        &later,
        &[
            "-W",
            "-aec",
            "YIJIA",
            "-X",
            "-k",
            "AccessionNumber",
            &host,
            &port,
        ],
    )
    .await;
    assert!(find_again.status.success());
    for entry in std::fs::read_dir(&later).unwrap() {
        let path = entry.unwrap().path();
        assert_ne!(dumped(&later, &path, "AccessionNumber").await, accession);
    }
}

#[tokio::test]
async fn c_store_refuses_what_it_cannot_keep_and_keeps_nothing_of_it() {
    let app = TestApp::spawn().await;
    let dicom = app.dicom().await;
    let (host, port) = (dicom.ip().to_string(), dicom.port().to_string());
    let dir = temp_dir("refused");
    let before = app.count("imaging_instances").await;

    // An instance of nobody in the community.
    let stranger = dir.join("stranger.dcm");
    std::fs::copy(shared_series()[0].clone(), &stranger).unwrap();
    let modify = dcmtk(
        "dcmodify",
        &dir,
        &[
            "-nb",
            "-i",
            "(0010,0020)=NOT-A-RESIDENT",
            stranger.to_str().unwrap(),
        ],
    )
    .await;
    assert!(modify.status.success(), "{}", text(&modify));
    let store = dcmtk(
        "storescu",
        &dir,
        &[
            "-v",
            "-aec",
            "YIJIA",
            &host,
            &port,
            stranger.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        store.status.success(),
        "held for reconciliation: {}",
        text(&store)
    );
    assert_eq!(app.count("imaging_instances").await, before, "not filed");
    assert_eq!(app.count("imaging_unmatched").await, 1, "held");

    // Damaged: refused, nothing kept anywhere.
    let damaged = dir.join("damaged.dcm");
    let mut bytes = std::fs::read(&stranger).unwrap();
    bytes.truncate(bytes.len() - 100);
    std::fs::write(&damaged, &bytes).unwrap();
    let store = dcmtk(
        "storescu",
        &dir,
        &[
            "-v",
            "-aec",
            "YIJIA",
            &host,
            &port,
            damaged.to_str().unwrap(),
        ],
    )
    .await;
    let said = text(&store);
    assert!(
        said.contains("0xc000") || said.contains("0xC000") || !store.status.success(),
        "{said}"
    );
    assert_eq!(app.count("imaging_instances").await, before);
    assert_eq!(app.count("imaging_unmatched").await, 1);

    // The modality's machine account sends; it cannot read.
    let interface = app.login("pacs-interface").await;
    assert_eq!(
        app.get(&interface, "/api/v1/imaging/worklist")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(&interface, "/dicomweb/studies").await.status(),
        403,
        "a modality cannot search the archive"
    );
    let modalities = app.get(&interface, "/api/v1/imaging/modalities").await;
    assert_eq!(modalities.status(), 403);
    let admin = app.login("admin").await;
    let listed: Value = app.get_ok(&admin, "/api/v1/imaging/modalities").await;
    let titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ae_title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["ECHOSCU", "FINDSCU", "STORESCU"]);

    // An administrator allow-lists a new AE title; it then associates, and once removed, not.
    let added = app
        .post_json(
            Some(&admin),
            "/api/v1/imaging/modalities",
            &json!({"ae_title": "TOWN-CT1", "username": "pacs-interface", "description": "乡镇 CT"}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    let echo = dcmtk(
        "echoscu",
        &dir,
        &["-aet", "TOWN-CT1", "-aec", "YIJIA", &host, &port],
    )
    .await;
    assert!(echo.status.success(), "{}", text(&echo));
    let again = app
        .post_json(
            Some(&admin),
            "/api/v1/imaging/modalities",
            &json!({"ae_title": "TOWN-CT1", "username": "pacs-interface"}),
        )
        .await;
    assert_eq!(again.status(), 422, "one AE title once");
    let staff_account = app
        .post_json(
            Some(&admin),
            "/api/v1/imaging/modalities",
            &json!({"ae_title": "TOWN-US1", "username": "township-doctor"}),
        )
        .await;
    assert_eq!(
        staff_account.status(),
        422,
        "only a modality machine account"
    );
    let removed = app
        .client
        .delete(format!(
            "{}/api/v1/imaging/modalities/{}",
            app.address, added["id"]
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let echo = dcmtk(
        "echoscu",
        &dir,
        &["-aet", "TOWN-CT1", "-aec", "YIJIA", &host, &port],
    )
    .await;
    assert!(!echo.status.success(), "no longer allow-listed");
}
