//! The shared imaging centre over DICOMweb, checked with dicomweb-client.

use serde_json::Value;

use crate::helpers::TestApp;

/// A resident of the village doctor's village with no imaging study yet (the demo has some),
/// with their ID number.
pub(crate) async fn resident_without_studies(app: &TestApp) -> (i64, String) {
    let village = app.institution_of("village-doctor").await;
    sqlx::query_as(
        "SELECT id, id_number FROM residents WHERE village_clinic_id = $1 \
         AND id NOT IN (SELECT resident_id FROM imaging_studies) ORDER BY id LIMIT 1",
    )
    .bind(village)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

pub(crate) fn shared_dicom() -> std::path::PathBuf {
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
    let (resident, id_number) = resident_without_studies(&app).await;
    let name: String = sqlx::query_scalar("SELECT name FROM residents WHERE id = $1")
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
        .arg(&name)
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
    assert!(
        found["studies"].as_i64().unwrap() >= 2,
        "the demo's studies and these"
    );
    assert_eq!(found["by_patient"], 2);
    // The patient's name: whole, by wildcard (`*`, `?`), by part with fuzzy matching.
    assert_eq!(found["by_name"], 2, "{found}");
    assert_eq!(found["by_name_wildcard"], 2);
    assert_eq!(found["by_name_one_char"], 2);
    assert_eq!(found["by_name_fuzzy"], 2);
    assert_eq!(found["by_other_name"], 0);
    // Any of several modalities; pages; asked-for fields; instances by study-level keys.
    assert_eq!(found["by_modalities"], 1, "the CT study, not the MR one");
    assert_eq!(found["paged"], 1);
    assert_eq!(found["with_fields"], 2);
    assert_eq!(found["ct_instances_by_patient"], 7);
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
    assert_eq!(found["metadata"], 7, "WADO-RS metadata of every instance");
    assert_eq!(found["metadata_uid_matches"], true);
    assert_eq!(
        found["metadata_pixels_by_uri"],
        serde_json::json!(["BulkDataURI", "vr"]),
        "pixel data by reference, not inline"
    );
    assert_eq!(found["frame_is_pixel_data"], true, "{found}");
    assert_eq!(found["bulkdata_is_pixel_data"], true);
    assert_eq!(found["no_such_frame"], 404);
    assert_eq!(found["rendered_jpeg"], true);
    assert_eq!(
        found["rendered_png_size"],
        serde_json::json!([8, 8]),
        "the viewport"
    );
    for thumbnail in found["thumbnails"].as_array().unwrap() {
        assert_eq!(thumbnail, &serde_json::json!([200, "image/jpeg", true]));
    }
    let instances: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM imaging_instances i JOIN imaging_studies s ON s.id = i.study_id \
         WHERE s.resident_id = $1",
    )
    .bind(resident)
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
    // CT_small's Patient ID is no resident's: held for the centre to assign, not filed.
    assert_eq!(response.status(), 202);
    let warning = response.headers()["warning"].to_str().unwrap().to_owned();
    assert!(warning.contains("held"), "{warning}");
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["00081199"]["Value"][0]["00081155"].is_object(),
        "{answer}"
    );
    let sent = dicom_object::from_reader(&file[128..]).unwrap();
    let text = |tag| {
        sent.element(tag)
            .unwrap()
            .to_str()
            .unwrap()
            .trim()
            .to_owned()
    };
    let (study_uid, patient_id) = (
        text(dicom_dictionary_std::tags::STUDY_INSTANCE_UID),
        text(dicom_dictionary_std::tags::PATIENT_ID),
    );
    assert_eq!(app.count("imaging_unmatched").await, 1);
    // The centre's readers see it, in the list and in QIDO-RS; the site's doctor does not.
    let reader = app.login("imaging-reader").await;
    let held: Value = app.get_ok(&reader, "/api/v1/imaging/unmatched").await;
    assert_eq!(held[0]["study_instance_uid"], study_uid.as_str(), "{held}");
    assert_eq!(held[0]["patient_id"], patient_id.as_str());
    let search = format!("/dicomweb/studies?PatientID={patient_id}");
    let found: Value = app.get(&reader, &search).await.json().await.unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let found: Value = app.get(&site, &search).await.json().await.unwrap();
    assert_eq!(found.as_array().unwrap().len(), 0);
    assert_eq!(
        app.get(&site, "/api/v1/imaging/unmatched").await.status(),
        403
    );
    // Assigned to a resident: filed, on the worklist, off the list.
    let (resident, id_number) = resident_without_studies(&app).await;
    let wrong = app
        .post_json(
            Some(&reader),
            "/api/v1/imaging/unmatched/assign",
            &serde_json::json!({"study_instance_uid": study_uid, "id_number": "NOT-AN-ID"}),
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let session = app.web_login("imaging-reader").await;
    let (status, html) = app.page(&session, "/imaging/unmatched").await;
    assert_eq!(status, 200);
    assert!(html.contains(&patient_id), "{html}");
    let assigned = app
        .post_form(
            &session,
            "/imaging/unmatched",
            &[
                ("study_instance_uid", &study_uid),
                ("id_number", &id_number),
            ],
        )
        .await;
    assert_eq!(assigned.status(), 303, "to the study page");
    assert_eq!(app.count("imaging_unmatched").await, 0);
    let worklist: Value = app.get_ok(&reader, "/api/v1/imaging/worklist").await;
    assert!(
        worklist
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["resident_id"] == resident && s["study_instance_uid"] == study_uid.as_str()),
        "{worklist}"
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

/// A shared image with `id_number` as its Patient ID, written back in its own transfer syntax.
pub(crate) fn as_resident(name: &str, id_number: &str) -> Vec<u8> {
    with_accession(name, id_number, None)
}

/// The same, with the accession number a worklist gave.
pub(crate) fn with_accession(name: &str, id_number: &str, accession: Option<&str>) -> Vec<u8> {
    use dicom_core::value::PrimitiveValue;
    use dicom_core::{DataElement, VR};
    let mut object = dicom_object::open_file(shared_dicom().join(name)).unwrap();
    object.put(DataElement::new(
        dicom_dictionary_std::tags::PATIENT_ID,
        VR::LO,
        PrimitiveValue::from(id_number),
    ));
    if let Some(accession) = accession {
        object.put(DataElement::new(
            dicom_dictionary_std::tags::ACCESSION_NUMBER,
            VR::SH,
            PrimitiveValue::from(accession),
        ));
    }
    let mut bytes = Vec::new();
    object.write_all(&mut bytes).unwrap();
    bytes
}

pub(crate) async fn stow(app: &TestApp, token: &str, files: &[Vec<u8>]) -> reqwest::Response {
    let mut body = Vec::new();
    for file in files {
        body.extend(b"\r\n--part\r\nContent-Type: application/dicom\r\n\r\n");
        body.extend(file);
    }
    body.extend(b"\r\n--part--\r\n");
    app.client
        .post(format!("{}/dicomweb/studies", app.address))
        .bearer_auth(token)
        .header(
            "Content-Type",
            "multipart/related; type=\"application/dicom\"; boundary=part",
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_modality_account_stows_and_other_content_under_a_held_uid_is_refused() {
    let app = TestApp::spawn().await;
    let modality = app.login("pacs-interface").await;
    let (_, id_number) = resident_without_studies(&app).await;
    let ct = as_resident("CT_small.dcm", &id_number);
    let before = app.count("imaging_instances").await;
    // One request with the instance twice and other content under its UID: kept once, the
    // other refused with its reason.
    let altered = with_accession("CT_small.dcm", &id_number, Some("YJ0000000001"));
    let partly = stow(&app, &modality, &[ct.clone(), ct.clone(), altered.clone()]).await;
    assert_eq!(partly.status(), 202);
    let answer: Value = partly.json().await.unwrap();
    assert_eq!(answer["00081199"]["Value"].as_array().unwrap().len(), 2);
    assert_eq!(
        answer["00081198"]["Value"][0]["00081197"]["Value"][0],
        0x0111
    );
    assert_eq!(app.count("imaging_instances").await, before + 1);
    let held = app.count("imaging_instances").await;
    assert_eq!(
        stow(&app, &modality, &[ct]).await.status(),
        200,
        "the same instance again is taken"
    );
    // The same SOP Instance UID with another accession number: other content, refused.
    let refused = stow(&app, &modality, &[altered]).await;
    assert_eq!(refused.status(), 409);
    let warning = refused.headers()["warning"].to_str().unwrap().to_owned();
    assert!(warning.contains("other content"), "{warning}");
    let answer: Value = refused.json().await.unwrap();
    assert_eq!(
        answer["00081198"]["Value"][0]["00081197"]["Value"][0],
        0x0111
    );
    assert_eq!(app.count("imaging_instances").await, held, "nothing stored");
    // The LIS's machine account stores no images, not even ones held for reconciliation.
    let lis = app.login("lab-interface").await;
    let held = app.count("imaging_unmatched").await;
    let unknown = as_resident("CT_small.dcm", "NOT-A-RESIDENT");
    assert_eq!(stow(&app, &lis, &[unknown]).await.status(), 403);
    assert_eq!(app.count("imaging_unmatched").await, held);
    // The modality's account sends; it searches and reads nothing.
    assert_eq!(app.get(&modality, "/dicomweb/studies").await.status(), 403);
    assert_eq!(
        app.get(&modality, "/api/v1/imaging/worklist")
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn instances_are_archived_by_digest_and_older_rows_move_to_the_archive() {
    use sha2::Digest as _;
    let app = TestApp::spawn().await;
    let modality = app.login("pacs-interface").await;
    let reader = app.login("imaging-reader").await;
    let (_, id_number) = resident_without_studies(&app).await;
    let ct = as_resident("CT_small.dcm", &id_number);
    assert_eq!(
        stow(&app, &modality, std::slice::from_ref(&ct))
            .await
            .status(),
        200
    );
    // The row names the file by the SHA-256 of the bytes as sent; the database keeps no copy.
    let sop = dicom_object::from_reader(&ct[128..])
        .unwrap()
        .element(dicom_dictionary_std::tags::SOP_INSTANCE_UID)
        .unwrap()
        .to_str()
        .unwrap()
        .trim_end_matches('\0')
        .to_owned();
    let (digest, kept): (String, Vec<u8>) = sqlx::query_as(
        "SELECT content_sha256, content FROM imaging_instances WHERE sop_instance_uid = $1",
    )
    .bind(&sop)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(digest, hex::encode(sha2::Sha256::digest(&ct)));
    assert!(kept.is_empty());
    assert_eq!(app.ctx.archive.get_blocking(&digest).unwrap(), ct);

    // A row from before the archive (bytes in the database) is moved at start, and read back.
    std::fs::remove_file(app.ctx.archive.root().join(&digest[..2]).join(&digest)).unwrap();
    sqlx::query(
        "UPDATE imaging_instances SET content = $1, content_sha256 = '' WHERE sop_instance_uid = $2",
    )
    .bind(&ct)
    .bind(&sop)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let moved = yijia::imaging::store::move_to_archive(&app.db, &app.ctx.archive)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let study = dicom_object::from_reader(&ct[128..])
        .unwrap()
        .element(dicom_dictionary_std::tags::STUDY_INSTANCE_UID)
        .unwrap()
        .to_str()
        .unwrap()
        .trim_end_matches('\0')
        .to_owned();
    let response = app
        .get(&reader, &format!("/dicomweb/studies/{study}"))
        .await;
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    assert!(
        body.windows(ct.len()).any(|window| window == ct.as_slice()),
        "the instance comes back byte for byte"
    );
    // A damaged file is an error, never other bytes.
    let path = app.ctx.archive.root().join(&digest[..2]).join(&digest);
    std::fs::write(&path, b"not the instance").unwrap();
    let response = app
        .get(&reader, &format!("/dicomweb/studies/{study}/metadata"))
        .await;
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn a_reader_out_of_the_residents_scope_finds_and_retrieves_nothing() {
    let app = TestApp::spawn().await;
    let modality = app.login("pacs-interface").await;
    let township = app.institution_of("township-doctor").await;
    let resident = app.resident_outside_township(township).await;
    let id_number = app.id_number_of(resident).await;
    let ct = as_resident("CT_small.dcm", &id_number);
    assert_eq!(
        stow(&app, &modality, std::slice::from_ref(&ct))
            .await
            .status(),
        200
    );
    let object = dicom_object::from_reader(&ct[128..]).unwrap();
    let uid = |tag| {
        object
            .element(tag)
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches('\0')
            .to_owned()
    };
    use dicom_dictionary_std::tags;
    let (study, series, sop) = (
        uid(tags::STUDY_INSTANCE_UID),
        uid(tags::SERIES_INSTANCE_UID),
        uid(tags::SOP_INSTANCE_UID),
    );
    let search = format!("/dicomweb/studies?PatientID={id_number}");
    let instance = format!("/dicomweb/studies/{study}/series/{series}/instances/{sop}");
    // The county's imaging reader reaches every resident of the community.
    let reader = app.login("imaging-reader").await;
    let found: Value = app.get(&reader, &search).await.json().await.unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&reader, &format!("{instance}/frames/1"))
            .await
            .status(),
        200
    );
    // Another township's doctor: no study found, nothing retrieved, at any level.
    let outsider = app.login("township-doctor").await;
    let found: Value = app.get(&outsider, &search).await.json().await.unwrap();
    assert_eq!(found, serde_json::json!([]));
    let instances: Value = app
        .get(&outsider, &format!("/dicomweb/studies/{study}/instances"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(instances, serde_json::json!([]));
    for path in [
        format!("/dicomweb/studies/{study}"),
        format!("/dicomweb/studies/{study}/metadata"),
        format!("{instance}/frames/1"),
        format!("{instance}/rendered"),
        format!("/dicomweb/studies/{study}/thumbnail"),
    ] {
        assert_eq!(app.get(&outsider, &path).await.status(), 404, "{path}");
    }
}
