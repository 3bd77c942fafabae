//! ECG files as the county's carts write them, uploaded over HTTP: SCP-ECG, Philips (UTF-8 and
//! UTF-16), EDF, MUSE and WFDB with pleth and respiration; the original kept byte for byte; the
//! device's own analysis beside yijia's on the reading page, disagreements flagged; non-ECG
//! channels never leads, never in FHIR.

use reqwest::StatusCode;
use serde_json::Value;

use crate::ecg::{Files, form, shared, upload};
use crate::helpers::TestApp;

/// A fixture of the project's own (`tests/fixtures/ecg`).
fn fixture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ecg")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|_| panic!("fixture missing: {}", full.display()))
}

#[tokio::test]
async fn device_files_upload_with_the_devices_own_analysis_beside_yijias() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let session = app.web_login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let philips = shared("devices/philips/deid_3.xml");
    let mut philips_utf16 = vec![0xff, 0xfe];
    philips_utf16.extend(
        String::from_utf8(philips.clone())
            .unwrap()
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let cases: Vec<(&str, Files, usize)> = vec![
        (
            "scp",
            vec![("ecg.scp", shared("devices/scp/ecgtoolkit_Example.scp"))],
            12,
        ),
        ("philips", vec![("ecg.xml", philips.clone())], 12),
        ("philips", vec![("ecg.xml", philips_utf16)], 12),
        ("edf", vec![("ecg.edf", fixture("ptb_s0010_5s.edf"))], 12),
        (
            "muse",
            vec![("ecg.xml", fixture("ptb_s0010_5s_muse.xml"))],
            12,
        ),
        (
            "wfdb",
            vec![
                ("v102s.hea", shared("devices/wfdb/v102s.hea")),
                ("v102s.dat", shared("devices/wfdb/v102s.dat")),
            ],
            2,
        ),
    ];
    let mut ids = Vec::new();
    for (format, files, leads) in cases {
        let original = (files.len() == 1).then(|| files[0].1.clone());
        let response = upload(&app, &token, form(resident, files), None).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{format}");
        let ecg: Value = response.json().await.unwrap();
        assert_eq!(ecg["format"], format);
        assert_eq!(
            ecg["analysis"]["leads"].as_array().unwrap().len(),
            leads,
            "{format}"
        );
        if let Some(original) = original {
            let stored: Vec<u8> = sqlx::query_scalar(
                "SELECT r.original FROM ecg_recordings r JOIN ecgs e ON e.recording_id = r.id WHERE e.id = $1",
            )
            .bind(ecg["id"].as_i64().unwrap())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            assert!(
                stored == original,
                "{format}: the original is kept byte for byte"
            );
        }
        ids.push((format, ecg));
    }
    // The Philips cart's own statement is stored beside yijia's analysis and shown on the page.
    let (_, philips_ecg) = &ids[1];
    let stated = &philips_ecg["analysis"]["device_statement"];
    assert_eq!(stated["pr_ms"], 222.0);
    assert_eq!(stated["qt_ms"], 398.0);
    assert_eq!(
        philips_ecg["analysis"]["disagreements"],
        serde_json::json!([])
    );
    assert_eq!(
        philips_ecg["analysis"]["device"]["manufacturer"],
        "Cardiac Science"
    );
    let (status, html) = app
        .page(&session, &format!("/ecg/{}", philips_ecg["id"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "一家自动分析",
        "设备自动分析",
        "Sinus bradycardia with 1st degree A-V block",
        "Cardiac Science PREMI",
        "222 ms",
    ] {
        assert!(html.contains(text), "the reading page shows {text}");
    }
    assert!(!html.contains("id=\"disagreement\""));

    // A device that says QT 498 ms where yijia measures about 370 is flagged for the reader.
    let disagreeing = String::from_utf8(philips)
        .unwrap()
        .replace("<qtint>398</qtint>", "<qtint>498</qtint>");
    let response = upload(
        &app,
        &token,
        form(resident, vec![("ecg.xml", disagreeing.into_bytes())]),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let flagged: Value = response.json().await.unwrap();
    let disagreements = flagged["analysis"]["disagreements"].as_array().unwrap();
    assert_eq!(disagreements.len(), 1);
    assert_eq!(disagreements[0]["measure"], "qt_ms");
    assert_eq!(disagreements[0]["device"], 498.0);
    let (_, html) = app.page(&session, &format!("/ecg/{}", flagged["id"])).await;
    assert!(html.contains("id=\"disagreement\""));
    assert!(html.contains("不一致"));

    // Pulse oximetry and respiration are kept in the original, never leads: not in the
    // analysis, not on the page as leads, not in FHIR as µV.
    let (_, v102) = &ids[5];
    assert_eq!(v102["analysis"]["leads"], serde_json::json!(["II", "V"]));
    assert_eq!(
        v102["analysis"]["non_ecg_channels"],
        serde_json::json!(["PLETH", "RESP"])
    );
    let (_, html) = app.page(&session, &format!("/ecg/{}", v102["id"])).await;
    assert!(html.contains("PLETH、RESP（已保存，不作导联分析）"));
    let observation = app
        .get_ok(&token, &format!("/fhir/Observation/ecg-{}", v102["id"]))
        .await;
    let components = observation["component"].as_array().unwrap();
    assert_eq!(components.len(), 2);
    assert_eq!(components[0]["code"]["coding"][0]["code"], "131330");
    assert_eq!(
        components[0]["code"]["coding"][0]["display"],
        "MDC_ECG_ELEC_POTL_II"
    );
    let (_, scp) = &ids[0];
    let observation = app
        .get_ok(&token, &format!("/fhir/Observation/ecg-{}", scp["id"]))
        .await;
    let codes: Vec<(&str, &str)> = observation["component"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"]["coding"][0]["code"].as_str().unwrap(),
                c["code"]["coding"][0]["display"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(codes[2], ("131389", "MDC_ECG_ELEC_POTL_III"));
    assert_eq!(codes[3], ("131390", "MDC_ECG_ELEC_POTL_AVR"));
    assert_eq!(codes[6], ("131331", "MDC_ECG_ELEC_POTL_V1"));
}

#[tokio::test]
async fn the_recording_time_comes_from_the_file_when_not_given() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let without_time = |files: Files| {
        let mut form = reqwest::multipart::Form::new().text("resident_id", resident.to_string());
        for (name, bytes) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        }
        form
    };
    // SCP-ECG section 1 says 2002-11-22 09:10:00, the cart's local (China Standard) time.
    let response = upload(
        &app,
        &token,
        without_time(vec![(
            "ecg.scp",
            shared("devices/scp/ecgtoolkit_Example.scp"),
        )]),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let ecg: Value = response.json().await.unwrap();
    let recorded = yijia::clock::parse_time("2002-11-22T09:10:00+08:00").unwrap();
    assert_eq!(ecg["recorded_at_ms"].as_i64(), Some(recorded), "{ecg}");
    // Given, the time typed wins over the file's.
    let response = upload(
        &app,
        &token,
        form(
            resident,
            vec![("ecg.scp", shared("devices/scp/ecgtoolkit_Example.scp"))],
        ),
        Some("given-time-1"),
    )
    .await;
    let ecg: Value = response.json().await.unwrap();
    assert_eq!(
        ecg["recorded_at_ms"].as_i64(),
        yijia::clock::parse_time("2026-11-23T08:00:00+08:00")
    );
    // A file that states no time, and no time given: refused, saying so, nothing stored.
    let before = app.count("ecgs").await;
    let response = upload(
        &app,
        &token,
        without_time(vec![("stemi.json", crate::ecg::inferior_stemi_json())]),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("does not say when it was recorded"),
        "{body}"
    );
    assert_eq!(app.count("ecgs").await, before);
}
