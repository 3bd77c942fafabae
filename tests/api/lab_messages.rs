//! HL7 v2 as real lab systems send it: the shared real messages land exactly — every order and
//! result compared with an independent parse (python-hl7) — over HTTP and MLLP; Chinese OUL
//! messages with specimens in GB 18030 and UTF-8; batches; corrections; embedded documents;
//! comments; outside orderers; and every ACK validates with hl7apy (strict) for its version.

use reqwest::StatusCode;
use serde_json::Value;

use crate::health_record::{mllp_exchange, mllp_exchange_bytes, post_hl7};
use crate::helpers::{TestApp, run_python};

fn shared(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/hl7")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("shared test data missing: {}", path.display()))
}

/// What the shared README allows to change so a message fits the demo county: MSH-4 (the lab
/// centre), MSH-6 (the community) and PID-3's first ID (a demo resident).
fn addressed(message: &str, id_number: &str) -> String {
    message
        .replace("\r\n", "\r")
        .replace('\n', "\r")
        .split('\r')
        .map(|segment| {
            let mut fields: Vec<String> = segment.split('|').map(str::to_owned).collect();
            match fields.first().map(String::as_str) {
                Some("MSH") if fields.len() > 5 => {
                    fields[3] = "C-LAB".into();
                    fields[5] = "demo".into();
                }
                Some("PID") => {
                    while fields.len() < 4 {
                        fields.push(String::new());
                    }
                    let mut repetitions: Vec<String> =
                        fields[3].split('~').map(str::to_owned).collect();
                    let mut components: Vec<String> =
                        repetitions[0].split('^').map(str::to_owned).collect();
                    components[0] = id_number.to_owned();
                    repetitions[0] = components.join("^");
                    fields[3] = repetitions.join("~");
                }
                _ => {}
            }
            fields.join("|")
        })
        .collect::<Vec<_>>()
        .join("\r")
}

/// The first ACK of an answer (a batch answers with several), validated with hl7apy.
async fn assert_valid_ack(answer: &str) {
    let start = answer.find("MSH|").expect("an ACK has an MSH");
    let end = answer[start + 4..]
        .find("MSH|")
        .or_else(|| answer[start..].find("BTS|"))
        .map_or(answer.len(), |e| {
            start + 4 + e.min(answer.len() - start - 4)
        });
    let ack = &answer[start..end.min(answer.len())];
    let ack = ack.split("BTS|").next().unwrap();
    let (valid, said) = run_python("hl7_validate_ack.py", ack.as_bytes()).await;
    assert!(valid, "hl7apy: {said}\n{ack}");
}

async fn reports_of(app: &TestApp, control_id: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT l.id FROM lab_reports l JOIN hl7v2_messages m ON m.id = l.message_id \
         WHERE m.control_id = $1 ORDER BY l.id",
    )
    .bind(control_id)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

fn normal(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn the_shared_real_messages_land_exactly_as_an_independent_parse_reads_them() {
    let app = TestApp::spawn().await;
    let lis = app.login("lab-interface").await;
    let doctor = app.login("village-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let id_number = app.id_number_of(resident).await;
    let mllp = app.mllp(&[]).await;

    for (file, over_mllp) in [
        ("01_pyhl7_ghh_lab_2.4.hl7", false),
        ("06_dotnetcore_medat_2.3.hl7", true),
        ("08_ti_epic_mayo_2.3.hl7", false),
        ("10_ti_ca_nbs_2.5.1.hl7", true),
        ("13_prs_batch_covid_2.5.1.hl7", true),
    ] {
        let message = addressed(&shared(file), &id_number);
        let ack = if over_mllp {
            mllp_exchange(mllp, &message).await
        } else {
            let (status, ack) = post_hl7(&app, &lis, &message).await;
            assert_eq!(status, StatusCode::OK, "{file}: {ack}");
            ack
        };
        assert!(ack.contains("MSA|AA|"), "{file}: {ack}");
        assert_valid_ack(&ack).await;
        // The independent parse of the message as sent (for a batch, the message inside it).
        let inner = match message.find("MSH|") {
            Some(at) => message[at..].split("BTS|").next().unwrap().to_owned(),
            None => message.clone(),
        };
        let (ok, reference) = run_python("hl7_reference.py", inner.as_bytes()).await;
        assert!(ok, "{file}: {reference}");
        let reference: Value = serde_json::from_str(&reference).unwrap();
        let ids = reports_of(&app, reference["control_id"].as_str().unwrap()).await;
        let orders = reference["orders"].as_array().unwrap();
        assert_eq!(ids.len(), orders.len(), "{file}: one report per OBR");
        for (id, order) in ids.iter().zip(orders) {
            let report = app
                .get_ok(&doctor, &format!("/api/v1/lab-reports/{id}"))
                .await;
            assert_eq!(report["order_code"], order["code"], "{file}");
            let precision = match order["observed"]
                .as_str()
                .unwrap()
                .split(['+', '-'])
                .next()
                .unwrap()
                .len()
            {
                8 => "day",
                12 => "minute",
                14 => "second",
                _ => "fraction",
            };
            assert_eq!(report["observed_precision"], precision, "{file}");
            let results = report["results"].as_array().unwrap();
            let expected = order["results"].as_array().unwrap();
            assert_eq!(results.len(), expected.len(), "{file} {}", order["code"]);
            for (ours, theirs) in results.iter().zip(expected) {
                for key in ["code", "value_type", "unit", "abnormal_flag", "status"] {
                    assert_eq!(
                        ours[key], theirs[key],
                        "{file}: {key} of {}",
                        theirs["code"]
                    );
                }
                assert_eq!(
                    normal(ours["value"].as_str().unwrap()),
                    normal(theirs["value"].as_str().unwrap()),
                    "{file}: value of {}",
                    theirs["code"]
                );
            }
        }
    }
    // The comments (NTE) are kept with what they follow: MEDAT's reference ranges per phase,
    // Mayo's long interpretation.
    let medat = reports_of(&app, "6227281").await;
    let lh = app
        .get_ok(&doctor, &format!("/api/v1/lab-reports/{}", medat[0]))
        .await;
    assert!(
        lh["results"][0]["comment"]
            .as_str()
            .unwrap()
            .contains("Follikelphase")
    );
    let mayo = reports_of(&app, "169066674328696234").await;
    let mayo = app
        .get_ok(&doctor, &format!("/api/v1/lab-reports/{}", mayo[0]))
        .await;
    assert_eq!(mayo["results"][0]["loinc_code"], "21668-9");
    let comments: usize = mayo["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["comment"].as_str().unwrap().lines().count())
        .sum();
    assert!(comments >= 20, "Mayo's NTE lines are kept: {comments}");
    // The newborn screen's first order has no results of its own: kept as an order.
    let screen = reports_of(&app, "220220550").await;
    let first = app
        .get_ok(&doctor, &format!("/api/v1/lab-reports/{}", screen[0]))
        .await;
    assert_eq!(first["results"], serde_json::json!([]));
    let narrative = app
        .get_ok(&doctor, &format!("/api/v1/lab-reports/{}", screen[1]))
        .await;
    let text = narrative["results"][5]["value"].as_str().unwrap();
    assert!(
        text.contains("COMMUNITY REG MEDICAL CENTER LAB ~2823 FRESNO ST"),
        "{text}"
    );
    assert!(
        text.contains("\nGenetic Disease Laboratory"),
        "\\.br\\ is a line break"
    );

    // Every FHIR resource built from the real messages validates against FHIR R4; units are
    // UCUM only where they are UCUM.
    let mut emitted = Vec::new();
    for search in ["Observation", "DiagnosticReport"] {
        let bundle = app
            .get_ok(
                &doctor,
                &format!("/fhir/{search}?patient={resident}&_count=100"),
            )
            .await;
        emitted.extend(
            bundle["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["resource"].clone()),
        );
        emitted.push(bundle);
    }
    let units: Vec<(&str, bool)> = emitted
        .iter()
        .filter_map(|r| {
            r["valueQuantity"]["unit"]
                .as_str()
                .map(|u| (u, r["valueQuantity"]["system"].is_string()))
        })
        .collect();
    assert!(
        units.contains(&("µmol/L", false)),
        "µmol/L is not UCUM (umol/L is): {units:?}"
    );
    assert!(units.contains(&("enzyme units", false)), "{units:?}");
    assert!(units.contains(&("nmol/L", true)), "{units:?}");
    crate::helpers::validate_fhir(&emitted).await;

    // MSH-10 empty: not processable, AR with 101, nothing stored.
    let before = app.count("lab_reports").await;
    let (status, ack) = post_hl7(
        &app,
        &lis,
        &addressed(&shared("07_dotnetcore_sca_no_msh10_2.4.hl7"), &id_number),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // MSA-2 echoes MSH-10, which the message lacks: the only field hl7apy would want filled.
    assert!(ack.contains("\rMSA|AR||"), "{ack}");
    assert!(ack.contains("101&Required field missing&HL70357"), "{ack}");
    assert_eq!(app.count("lab_reports").await, before);
}

/// A Chinese LIS's OUL^R22: the specimen (barcode, type, collection time), a critical glucose
/// phoned through, in the character set MSH-18 names.
fn oul_r22(control_id: &str, id_number: &str, charset: &str) -> String {
    [
        format!("MSH|^~\\&|LIS|C-LAB|YIJIA|demo|20261123083000||OUL^R22^OUL_R22|{control_id}|P|2.5.1|||||CHN|{charset}"),
        format!("PID|1||{id_number}^^^^NNCHN||测试^患者"),
        "SPM|1|2026112300123^LIS||BLD^静脉血^HL70487|||||||||||||20261123070000+0800".into(),
        "ORC|RE||||||||||||||||||||外院门诊部^^^^^^^^^OUT-9".into(),
        "OBR|1|||GLU^血糖|||202611230815".into(),
        "OBX|1|NM|GLU^葡萄糖^L^2345-7^Glucose^LN||28.6|mmol/L|3.9-6.1|HH|||F".into(),
        "NTE|1||危急值已电话通知王医生".into(),
    ]
    .join("\r")
}

#[tokio::test]
async fn chinese_specimen_results_batches_corrections_and_documents_land() {
    let app = TestApp::spawn().await;
    let lis = app.login("lab-interface").await;
    let doctor = app.login("village-doctor").await;
    let session = app.web_login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let id_number = app.id_number_of(resident).await;
    let mllp = app.mllp(&[]).await;

    // GB 18030 over MLLP, declared in MSH-18; the orderer is outside the community.
    let chinese = oul_r22("CN-1", &id_number, "GB 18030-2000");
    let (gb, _, _) = encoding_rs::GB18030.encode(&chinese);
    let ack = mllp_exchange_bytes(mllp, &gb).await;
    assert!(ack.contains("MSA|AA|CN-1"), "{ack}");
    assert_valid_ack(&ack).await;
    let id = reports_of(&app, "CN-1").await[0];
    let report = app
        .get_ok(&doctor, &format!("/api/v1/lab-reports/{id}"))
        .await;
    assert_eq!(report["order_name"], "血糖");
    assert_eq!(report["specimen_id"], "2026112300123");
    assert_eq!(report["specimen_type"], "静脉血");
    assert!(report["specimen_collected_at_ms"].is_i64());
    assert_eq!(report["observed_precision"], "minute");
    assert_eq!(report["ordering_facility_given"], "OUT-9 外院门诊部");
    // The outside orderer cannot acknowledge: the critical value goes to the resident's clinic.
    assert_eq!(report["ordering_institution_id"], village);
    assert_eq!(report["critical"], true);
    assert_eq!(report["results"][0]["comment"], "危急值已电话通知王医生");
    assert_eq!(report["results"][0]["loinc_code"], "2345-7");
    let (status, html) = app.page(&session, &format!("/lab-reports/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "血糖",
        "静脉血",
        "危急值已电话通知王医生",
        "OUT-9 外院门诊部",
        "2026-11-23 08:15",
        "LOINC 2345-7",
    ] {
        assert!(html.contains(text), "the lab report page shows {text}");
    }

    // The same in UTF-8 over HTTP, as OUL^R24 (the specimen inside the order).
    let r24 = oul_r22("CN-2", &id_number, "UNICODE UTF-8")
        .replace("OUL^R22^OUL_R22", "OUL^R24^OUL_R24")
        .replace(
            "SPM|1|2026112300123^LIS||BLD^静脉血^HL70487|||||||||||||20261123070000+0800\r",
            "",
        )
        .replace(
            "OBR|1|||GLU^血糖|||202611230815",
            "OBR|1|||GLU^血糖|||202611230815\rSPM|1|2026112300456||SER^血清",
        );
    let (status, ack) = post_hl7(&app, &lis, &r24).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let id = reports_of(&app, "CN-2").await[0];
    let report = app
        .get_ok(&doctor, &format!("/api/v1/lab-reports/{id}"))
        .await;
    assert_eq!(
        (
            report["specimen_id"].as_str(),
            report["specimen_type"].as_str()
        ),
        (Some("2026112300456"), Some("血清"))
    );

    // A batch of two results: one ACK per message inside a batch answer; both stored.
    let first = oul_r22("B-1", &id_number, "UNICODE UTF-8")
        .replace("HH", "N")
        .replace("28.6", "5.1");
    let second = first.replace("B-1", "B-2");
    let batch =
        format!("FHS|^~\\&|LIS|C-LAB\rBHS|^~\\&|LIS|C-LAB\r{first}\r{second}\rBTS|2\rFTS|1\r");
    let (status, ack) = post_hl7(&app, &lis, &batch).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert!(
        ack.starts_with("FHS|") && ack.contains("MSA|AA|B-1\r") && ack.contains("MSA|AA|B-2\r"),
        "{ack}"
    );
    assert!(ack.contains("BTS|2\r"), "{ack}");
    assert_valid_ack(&ack).await;
    assert_eq!(
        (
            reports_of(&app, "B-1").await.len(),
            reports_of(&app, "B-2").await.len()
        ),
        (1, 1)
    );

    // A corrected result (OBX-11 C) supersedes the earlier one of the same order and test,
    // which is kept as history.
    let corrected = oul_r22("CN-3", &id_number, "UNICODE UTF-8")
        .replace("28.6|mmol/L|3.9-6.1|HH|||F", "8.6|mmol/L|3.9-6.1|H|||C");
    let (status, _) = post_hl7(&app, &lis, &corrected).await;
    assert_eq!(status, StatusCode::OK);
    let earlier = app
        .get_ok(
            &doctor,
            &format!("/api/v1/lab-reports/{}", reports_of(&app, "CN-1").await[0]),
        )
        .await;
    assert_eq!(earlier["results"][0]["superseded"], true);
    let later = app
        .get_ok(
            &doctor,
            &format!("/api/v1/lab-reports/{}", reports_of(&app, "CN-3").await[0]),
        )
        .await;
    assert_eq!(
        (
            later["results"][0]["status"].as_str(),
            later["results"][0]["superseded"].as_bool()
        ),
        (Some("C"), Some(false))
    );
    let (_, html) = app
        .page(
            &session,
            &format!("/lab-reports/{}", reports_of(&app, "CN-1").await[0]),
        )
        .await;
    assert!(html.contains("已被更正"));

    // An embedded PDF (ED): stored as an attachment, served in its own media type.
    let pdf = b"%PDF-1.4\n% yijia test document\n";
    let encoded = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(pdf)
    };
    let with_pdf = oul_r22("CN-4", &id_number, "UNICODE UTF-8").replace(
        "NTE|1||危急值已电话通知王医生",
        &format!("OBX|2|ED|RPT^报告单||^AP^PDF^Base64^{encoded}||||||F"),
    );
    let (status, ack) = post_hl7(&app, &lis, &with_pdf).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let id = reports_of(&app, "CN-4").await[0];
    let response = app
        .get(
            &doctor,
            &format!("/api/v1/lab-reports/{id}/results/2/attachment"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.bytes().await.unwrap().as_ref(), pdf);
    let (_, html) = app.page(&session, &format!("/lab-reports/{id}")).await;
    assert!(html.contains(&format!("/lab-reports/{id}/results/2/attachment")));
    // The interface account reads nothing, attachments included.
    let response = app
        .get(
            &lis,
            &format!("/api/v1/lab-reports/{id}/results/2/attachment"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Refusals carry the HL7 error code that fits, in the layout of the message's version.
    let unknown =
        oul_r22("CN-5", "110101199003074514", "UNICODE UTF-8").replace("|2.5.1|", "|2.3.1|");
    let (status, ack) = post_hl7(&app, &lis, &unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        ack.contains("ERR|^^^204&Unknown key identifier&HL70357"),
        "{ack}"
    );
    assert_valid_ack(&ack).await;
    let adt = oul_r22("CN-6", &id_number, "").replace("OUL^R22^OUL_R22", "ADT^A01^ADT_A01");
    let (_, ack) = post_hl7(&app, &lis, &adt).await;
    assert!(
        ack.contains("MSA|AR|CN-6") && ack.contains("200^Unsupported message type^HL70357"),
        "{ack}"
    );
    assert_valid_ack(&ack).await;
}

#[tokio::test]
async fn mllp_peers_send_only_from_the_networks_allowed_for_their_facility() {
    let app = TestApp::spawn().await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;
    let id_number = app.id_number_of(resident).await;
    // The lab centre may send from here: taken.
    let open = app.mllp(&["C-LAB=127.0.0.0/8"]).await;
    let ack = mllp_exchange(open, &oul_r22("AL-1", &id_number, "")).await;
    assert!(ack.contains("MSA|AA|AL-1"), "{ack}");
    // Another facility is allowed from here, the lab centre is not: refused with AR.
    let other = app.mllp(&["C-IMG=127.0.0.1", "C-LAB=10.2.0.0/16"]).await;
    let ack = mllp_exchange(other, &oul_r22("AL-2", &id_number, "")).await;
    assert!(ack.contains("MSA|AR|AL-2"), "{ack}");
    assert!(reports_of(&app, "AL-2").await.is_empty());
    // A peer on no allowed network is not read at all: the connection is closed.
    let closed = app.mllp(&["C-LAB=10.2.0.0/16"]).await;
    let mut stream = tokio::net::TcpStream::connect(closed).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream
        .write_all(&yijia::hl7v2::mllp::frame(&oul_r22("AL-3", &id_number, "")))
        .await;
    let mut reply = Vec::new();
    let read = stream.read_to_end(&mut reply).await;
    assert!(
        read.is_err() || reply.is_empty(),
        "no answer to a refused peer"
    );
    assert!(reports_of(&app, "AL-3").await.is_empty());
}
