//! The imaging centre's reading workflow in the pages and the API: a township's study read,
//! signed, escalated and acknowledged; orders from the village performed at the township;
//! report templates kept by the centre.

use serde_json::Value;

use crate::helpers::TestApp;
use crate::imaging::{as_resident, resident_without_studies, stow, with_accession};

#[tokio::test]
async fn a_township_study_is_read_signed_and_acknowledged_in_the_pages_and_the_api() {
    let app = TestApp::spawn().await;
    let site = app.login("township-doctor").await;
    let reader = app.login("imaging-reader").await;
    let ecg_reader = app.login("county-reader").await;
    let (resident, id_number) = resident_without_studies(&app).await;
    let files = [
        as_resident("SC_rgb_rle_2frame.dcm", &id_number),
        as_resident("CT_small.dcm", &id_number),
    ];
    assert_eq!(stow(&app, &site, &files).await.status(), 200);

    // Only the imaging centre's readers read it; the ECG reader is refused both ways round.
    let worklist: Value = app
        .get(&reader, "/api/v1/imaging/worklist")
        .await
        .json()
        .await
        .unwrap();
    let studies: Vec<&Value> = worklist
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["resident_id"] == resident)
        .collect();
    assert_eq!(
        studies.len(),
        2,
        "two studies (their Study Instance UIDs differ)"
    );
    let id = studies[0]["id"].as_i64().unwrap();
    assert_eq!(studies[0]["state"], "waiting");
    assert_eq!(
        app.get(&ecg_reader, "/api/v1/imaging/worklist")
            .await
            .status(),
        403
    );
    assert_eq!(app.get(&reader, "/api/v1/ecg/worklist").await.status(), 403);

    // The reading page: every frame, drawn from the file.
    let session = app.web_login("imaging-reader").await;
    let (status, html) = app.page(&session, &format!("/imaging/studies/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("领取阅片"), "{html}");
    let frame = regex_like_first(&html, "/imaging/instances/", "/frames/1");
    let response = app
        .client
        .get(format!("{}{frame}", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // CT windows: the presets re-draw every frame in the chosen window.
    let ct = studies
        .iter()
        .find(|s| s["modalities"] == "CT")
        .map(|s| s["id"].as_i64().unwrap())
        .unwrap();
    let (_, html) = app
        .page(&session, &format!("/imaging/studies/{ct}?window=400,1800"))
        .await;
    assert!(html.contains("骨窗"), "{html}");
    assert!(html.contains("frames/1?window=400,1800"), "{html}");
    let (status, menu) = app.page(&session, "/").await;
    assert_eq!(status, 200);
    assert!(menu.contains("/imaging/worklist") && !menu.contains("/ecg/worklist"));

    // Claim in the page, sign a critical report, amend it by the API.
    let (status, html) = app
        .submit(&session, &format!("/imaging/studies/{id}/claim"), &[])
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("签发报告"), "{html}");
    let second_reader = app.login("imaging-reader").await;
    let claimed: Value = app
        .post_json(
            Some(&second_reader),
            &format!("/api/v1/imaging/studies/{id}/claim"),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        claimed["state"], "claimed",
        "the holder claiming again is a no-op"
    );
    let (status, html) = app
        .submit(
            &session,
            &format!("/imaging/studies/{id}/report"),
            &[
                ("findings", "右下肺野片状高密度影"),
                ("conclusion", "右下肺炎"),
                ("critical", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("右下肺炎") && html.contains("签发修订版"),
        "{html}"
    );
    let amended: Value = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/imaging/studies/{id}/reports"),
            &serde_json::json!({"findings": "右下肺野片状高密度影，边缘模糊", "conclusion": "右下肺炎，建议抗感染后复查", "critical": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(amended["reports"].as_array().unwrap().len(), 2);
    assert_eq!(
        amended["reports"][0]["conclusion"], "右下肺炎",
        "signed versions never change"
    );

    // The site sees it; unacknowledged past 5 minutes, it is escalated; then acknowledged.
    let signed_at = amended["reported_at_ms"].as_i64().unwrap();
    let escalated = yijia::critical_value::escalate_overdue(&app.ctx, signed_at + 6 * 60_000)
        .await
        .unwrap();
    assert_eq!(escalated, 1);
    let inbox: Value = app
        .get(&site, "/api/v1/imaging/inbox")
        .await
        .json()
        .await
        .unwrap();
    let sent = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap();
    assert!(sent["escalated_at_ms"].is_i64());
    assert_eq!(
        app.post_json(
            Some(&reader),
            &format!("/api/v1/imaging/studies/{id}/acknowledge"),
            &Value::Null
        )
        .await
        .status(),
        403,
        "only the site acknowledges"
    );
    let acknowledged: Value = app
        .post_json(
            Some(&site),
            &format!("/api/v1/imaging/studies/{id}/acknowledge"),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(acknowledged["acknowledged_at_ms"].is_i64());
    let site_session = app.web_login("township-doctor").await;
    let (status, html) = app.page(&site_session, "/imaging/inbox").await;
    assert_eq!(status, 200);
    assert!(html.contains("已签发，已确认"), "{html}");
    // The resident's record lists the study with its conclusion, linked to it.
    let (status, html) = app
        .page(&site_session, &format!("/residents/{resident}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/imaging/studies/{id}")), "{html}");
    assert!(html.contains("右下肺炎，建议抗感染后复查"));

    // FHIR: the resident's ImagingStudy resources, valid R4 by fhir.resources.
    let bundle: Value = app
        .get(&reader, &format!("/fhir/ImagingStudy?patient={resident}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bundle["total"], 2, "{bundle}");
    let study: Value = app
        .get(&reader, &format!("/fhir/ImagingStudy/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(study["subject"]["reference"], format!("Patient/{resident}"));
    assert_eq!(study["numberOfInstances"], 1);
    assert!(
        study["identifier"][0]["value"]
            .as_str()
            .unwrap()
            .starts_with("urn:oid:")
    );
    let mut resources: Vec<Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .collect();
    resources.push(study);
    // The signed report as a DiagnosticReport that points at its ImagingStudy.
    let report: Value = app
        .get(&reader, &format!("/fhir/DiagnosticReport/imaging-{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["status"], "amended", "{report}");
    assert_eq!(
        report["imagingStudy"][0]["reference"],
        format!("ImagingStudy/{id}")
    );
    assert!(report["conclusion"].as_str().unwrap().contains("右下肺炎"));
    let reports: Value = app
        .get(
            &reader,
            &format!("/fhir/DiagnosticReport?patient={resident}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        reports["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"]["id"] == format!("imaging-{id}")),
        "{reports}"
    );
    resources.push(report);
    crate::helpers::validate_fhir(&resources).await;
    let everything: Value = app
        .get(
            &reader,
            &format!("/fhir/Patient/{resident}/$everything?_count=100"),
        )
        .await
        .json()
        .await
        .unwrap();
    let imaging = everything["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "ImagingStudy")
        .count();
    assert_eq!(imaging, 2, "$everything holds the studies");
}

/// The first `start…end` link in a page.
fn regex_like_first(html: &str, start: &str, end: &str) -> String {
    let at = html.find(start).expect("a frame link");
    let rest = &html[at..];
    let stop = rest.find(end).expect("a frame link") + end.len();
    rest[..stop].to_owned()
}

#[tokio::test]
async fn an_order_from_the_village_is_performed_at_the_township_and_files_its_study() {
    let app = TestApp::spawn().await;
    let village = app.login("village-doctor").await;
    let township = app.login("township-doctor").await;
    let (resident, id_number) = resident_without_studies(&app).await;
    let order = serde_json::json!({"resident_id": resident, "modality": "DX", "body_part": "胸部正位", "reason": "咳嗽发热 3 天", "urgent": true});
    let send = |key: &'static str| {
        app.client
            .post(format!("{}/api/v1/imaging/orders", app.address))
            .bearer_auth(&village)
            .header("Idempotency-Key", key)
            .json(&order)
            .send()
    };
    let first = send("order-1").await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let retry = send("order-1").await.unwrap();
    assert_eq!(retry.status(), 200, "a retry is the same order");
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(
        first["institution_id"].as_i64(),
        Some(app.institution_of("township-doctor").await)
    );
    let accession = first["accession_number"].as_str().unwrap().to_owned();
    assert!(accession.starts_with("YJ") && accession.len() <= 16);
    let bad = serde_json::json!({"resident_id": resident, "modality": "XX", "body_part": "胸", "reason": "r"});
    let refused = app
        .post_json(Some(&village), "/api/v1/imaging/orders", &bad)
        .await;
    assert_eq!(refused.status(), 422);

    // The township's worklist of orders; the study sent with its accession number is filed to it.
    let scheduled: Value = app
        .get(&township, "/api/v1/imaging/orders")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        scheduled
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["accession_number"] == accession)
    );
    let file = with_accession("CT_small.dcm", &id_number, Some(&accession));
    assert_eq!(stow(&app, &township, &[file]).await.status(), 200);
    let all: Value = app
        .get(&township, "/api/v1/imaging/orders?state=all")
        .await
        .json()
        .await
        .unwrap();
    let performed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["accession_number"] == accession)
        .unwrap();
    assert_eq!(performed["state"], "performed");
    let study = performed["study_id"].as_i64().unwrap();
    let reader = app.login("imaging-reader").await;
    let detail: Value = app
        .get(&reader, &format!("/api/v1/imaging/studies/{study}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["priority"], "stat", "the order's urgency");

    // In the pages: the resident page's form orders once however often it is pressed.
    let session = app.web_login("township-doctor").await;
    let (status, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert_eq!(status, 200);
    let key_at = html
        .find("name=\"form_key\" value=\"")
        .expect("the order form")
        + 24;
    let key = html[key_at..key_at + 64]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let form = [
        ("form_key", key.as_str()),
        ("modality", "US"),
        ("body_part", "腹部"),
        ("reason", "右上腹痛"),
    ];
    let (status, html) = app
        .submit(
            &session,
            &format!("/residents/{resident}/imaging-orders"),
            &form,
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("右上腹痛"), "{html}");
    app.submit(
        &session,
        &format!("/residents/{resident}/imaging-orders"),
        &form,
    )
    .await;
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM imaging_orders WHERE resident_id = $1 AND reason = '右上腹痛'",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(count, 1);

    // Cancelled from the list page: it leaves the worklist; a performed one cannot be.
    let id: i64 = sqlx::query_scalar(
        "SELECT id FROM imaging_orders WHERE resident_id = $1 AND reason = '右上腹痛'",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let (status, html) = app
        .submit(&session, &format!("/imaging/orders/{id}/cancel"), &[])
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("已取消"), "{html}");
    let scheduled: Value = app
        .get(&township, "/api/v1/imaging/orders")
        .await
        .json()
        .await
        .unwrap();
    assert!(!scheduled.as_array().unwrap().iter().any(|o| o["id"] == id));
    let performed_id = performed["id"].as_i64().unwrap();
    let refused = app
        .post_json(
            Some(&township),
            &format!("/api/v1/imaging/orders/{performed_id}/cancel"),
            &Value::Null,
        )
        .await;
    assert_eq!(refused.status(), 422);
}

#[tokio::test]
async fn report_templates_are_kept_by_the_centre_and_start_a_report() {
    let app = TestApp::spawn().await;
    let reader = app.login("imaging-reader").await;
    let templates: Value = app.get_ok(&reader, "/api/v1/imaging/templates").await;
    let names: Vec<&str> = templates
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"头颅 CT 平扫") && names.contains(&"胸部正位（DR）"),
        "{names:?}"
    );
    let site = app.login("township-doctor").await;
    assert_eq!(
        app.get(&site, "/api/v1/imaging/templates").await.status(),
        403
    );
    // The centre changes one and adds one.
    let saved = app
        .client
        .put(format!("{}/api/v1/imaging/templates", app.address))
        .bearer_auth(&reader)
        .json(
            &serde_json::json!({"name": "头颅 CT 平扫", "modality": "CT",
            "findings": "脑实质密度均匀，未见出血及占位。", "conclusion": "颅内未见明显异常"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let bad = app
        .client
        .put(format!("{}/api/v1/imaging/templates", app.address))
        .bearer_auth(&reader)
        .json(&serde_json::json!({"name": "", "modality": "CT", "findings": "", "conclusion": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let session = app.web_login("imaging-reader").await;
    let added = app
        .post_form(
            &session,
            "/imaging/templates",
            &[
                ("id", "0"),
                ("name", "膝关节正侧位（DR）"),
                ("modality", "DX"),
                ("findings", "膝关节诸骨骨质未见异常。"),
                ("conclusion", "膝关节未见明显异常"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let templates: Value = app.get_ok(&reader, "/api/v1/imaging/templates").await;
    let head = templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "头颅 CT 平扫")
        .unwrap();
    assert_eq!(head["conclusion"], "颅内未见明显异常");
    assert_eq!(templates.as_array().unwrap().len(), names.len() + 1);

    // On a claimed CT study, the template fills the report form; the CT templates come first.
    let worklist: Value = app.get_ok(&reader, "/api/v1/imaging/worklist").await;
    let ct = worklist
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["modalities"] == "CT")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let claimed = app
        .post_json(
            Some(&reader),
            &format!("/api/v1/imaging/studies/{ct}/claim"),
            &Value::Null,
        )
        .await;
    assert_eq!(claimed.status(), 200);
    let (status, html) = app
        .page(
            &session,
            &format!("/imaging/studies/{ct}?template={}", head["id"]),
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("脑实质密度均匀，未见出血及占位。"), "{html}");
    assert!(html.contains("value=\"颅内未见明显异常\""));
    let list = &html[html.find("id=\"templates\"").unwrap()..];
    assert!(
        list.find("（CT）").unwrap() < list.find("（DX）").unwrap(),
        "CT first"
    );
}

#[tokio::test]
async fn the_demo_year_of_remote_imaging_reads_is_at_the_seeds_rate_with_real_images() {
    let app = TestApp::spawn_demo(true).await;
    let reader = app.login("imaging-reader").await;
    // Sangzhi read 12,597 remote imaging studies for about 376,000 residents: 3.35 per hundred,
    // about 67 for the small demo's 2,000 (the six studies of today's worklist besides).
    let year: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM imaging_studies WHERE accession_number LIKE 'YR%' \
         AND reported_at_ms IS NOT NULL",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!((40..=100).contains(&year), "{year} reads in the year");

    // Last month's reads count in indicator 2.2a.
    let now = yijia::clock::now_ms();
    let last_month = yijia::clock::month_cst(now - 31 * 86_400_000);
    let reported: Vec<i64> = sqlx::query_scalar(
        "SELECT reported_at_ms FROM imaging_studies WHERE reported_at_ms IS NOT NULL",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let reads = reported
        .iter()
        .filter(|at| yijia::clock::month_cst(**at) == last_month)
        .count() as f64;
    let supervisor = app.login("supervisor").await;
    let (y, m) = last_month.split_once('-').unwrap();
    let values = app
        .get_ok(
            &supervisor,
            &format!(
                "/api/v1/indicators?year={y}&month={}",
                m.trim_start_matches('0')
            ),
        )
        .await;
    let numerator = crate::helpers::indicator(&values, "2.2a")["numerator"]
        .as_f64()
        .unwrap();
    assert!(reads > 0.0 && numerator >= reads, "{numerator} ≥ {reads}");

    // A CT of the year is the shared CT slice, re-identified to its resident: read back over
    // WADO-RS and parsed by dicom-rs, the patient is the resident, the pixels the sample's.
    let (study_uid, id_number, name): (String, String, String) = sqlx::query_as(
        "SELECT s.study_instance_uid, r.id_number, r.name FROM imaging_studies s \
         JOIN residents r ON r.id = s.resident_id JOIN imaging_instances i ON i.study_id = s.id \
         WHERE s.accession_number LIKE 'YR%' AND i.modality = 'CT' ORDER BY s.id LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let response = app
        .get(&reader, &format!("/dicomweb/studies/{study_uid}"))
        .await;
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    let start = body
        .windows(4)
        .position(|w| w == b"DICM")
        .expect("a DICOM part")
        - 128;
    let end = body
        .windows(4)
        .rposition(|w| w == b"\r\n--")
        .expect("the closing boundary");
    let object = dicom_object::from_reader(&body[start + 128..end]).unwrap();
    let text = |tag| {
        object
            .element(tag)
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(['\0', ' '])
            .to_owned()
    };
    use dicom_dictionary_std::tags;
    assert_eq!(text(tags::PATIENT_ID), id_number);
    assert_eq!(text(tags::PATIENT_NAME), name);
    assert_eq!(text(tags::STUDY_INSTANCE_UID), study_uid);
    let sample =
        dicom_object::open_file(crate::imaging::shared_dicom().join("CT_small.dcm")).unwrap();
    assert_eq!(
        object
            .element(tags::PIXEL_DATA)
            .unwrap()
            .to_bytes()
            .unwrap(),
        sample
            .element(tags::PIXEL_DATA)
            .unwrap()
            .to_bytes()
            .unwrap(),
        "real pixels"
    );
    assert!(object.element(tags::OTHER_PATIENT_I_DS_SEQUENCE).is_err());
}
