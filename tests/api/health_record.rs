//! The health record over HTTP (and MLLP): lab results from the LIS as HL7 v2 ORU^R01, acked
//! and stored once; critical lab values and their closed loop; encounters; the timeline across
//! institutions; and the mutual recognition of results.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::ecg::wait_for_event;
use crate::helpers::{TestApp, assert_error};

/// An ORU^R01 from the county lab for a blood count ordered by `ordering`; a platelet count of
/// 12 is a panic value (LL) when `critical`.
fn oru(control_id: &str, id_number: &str, ordering: &str, critical: bool) -> String {
    let (platelets, flag) = if critical { ("12", "LL") } else { ("210", "N") };
    [
        format!(
            "MSH|^~\\&|LIS|C-LAB|YIJIA|demo|20261123083000||ORU^R01^ORU_R01|{control_id}|P|2.5.1"
        ),
        format!("PID|1||{id_number}^^^^NNCHN||测试^患者"),
        format!("ORC|RE||||||||||||||||||||检验申请^^^^^^^^^{ordering}"),
        "OBR|1|||CBC^血常规|||20261123081500+0800".to_owned(),
        "OBX|1|NM|WBC^白细胞计数||6.1|10*9/L|3.5-9.5|N|||F".to_owned(),
        format!("OBX|2|NM|PLT^血小板计数||{platelets}|10*9/L|125-350|{flag}|||F"),
    ]
    .join("\r")
}

pub async fn post_hl7(app: &TestApp, token: &str, message: &str) -> (StatusCode, String) {
    let response = app
        .client
        .post(format!("{}/api/v1/hl7v2", app.address))
        .bearer_auth(token)
        .header("content-type", "x-application/hl7-v2+er7")
        .body(message.to_owned())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

pub async fn mllp_exchange(address: std::net::SocketAddr, message: &str) -> String {
    mllp_exchange_bytes(address, message.as_bytes()).await
}

/// One MLLP exchange of raw bytes (a message in another character set): the ACK as text.
pub async fn mllp_exchange_bytes(address: std::net::SocketAddr, message: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut framed = vec![0x0b];
    framed.extend_from_slice(message);
    framed.extend_from_slice(&[0x1c, 0x0d]);
    stream.write_all(&framed).await.unwrap();
    let mut reply = Vec::new();
    while !reply.ends_with(&[0x1c, 0x0d]) {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the MLLP peer closed before answering");
        reply.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(reply[0], 0x0b);
    String::from_utf8(reply[1..reply.len() - 2].to_vec()).unwrap()
}

#[tokio::test]
async fn lab_results_over_http_and_mllp_land_in_the_record_once_and_critical_values_close_the_loop()
{
    let app = TestApp::spawn().await;
    let lis = app.login("lab-interface").await;
    let village_doctor = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let village_code = app.code_of(village).await;
    let resident = app.resident_in_village(village).await;
    let id_number = app.id_number_of(resident).await;
    let mut site_events = app.events(&village_doctor).await;

    // Over HTTP: AA, stored, and the ordering village clinic hears of the critical value live.
    let message = oru("LAB0001", &id_number, &village_code, true);
    let (status, ack) = post_hl7(&app, &lis, &message).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert!(ack.starts_with("MSH|^~\\&|YIJIA|demo|LIS|C-LAB|"), "{ack}");
    assert!(ack.contains("\rMSA|AA|LAB0001"), "{ack}");
    wait_for_event(&mut site_events, "lab.critical").await;
    assert_eq!(app.count("lab_reports").await, 1);
    assert_eq!(app.count("lab_results").await, 2);

    // Sent again: answered again, stored once.
    let (status, ack) = post_hl7(&app, &lis, &message).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ack.contains("\rMSA|AA|LAB0001"));
    assert_eq!(app.count("lab_reports").await, 1);

    // The village clinic's critical values list it, with its results; it acknowledges.
    let critical = app.get_ok(&village_doctor, "/api/v1/critical-values").await;
    let report = &critical["items"][0];
    assert_eq!(report["resident_id"], resident);
    assert_eq!(report["critical"], true);
    assert!(report["acknowledged_at_ms"].is_null());
    let id = report["id"].as_i64().unwrap();
    let full = app
        .get_ok(&village_doctor, &format!("/api/v1/lab-reports/{id}"))
        .await;
    assert_eq!(full["order_code"], "CBC");
    assert_eq!(full["results"][1]["code"], "PLT");
    assert_eq!(full["results"][1]["abnormal_flag"], "LL");
    assert_eq!(full["results"][1]["critical"], true);
    assert_eq!(full["results"][0]["critical"], false);
    // Only the ordering institution acknowledges.
    let township_doctor = app.login("township-doctor").await;
    assert_error(
        app.post_json(
            Some(&township_doctor),
            &format!("/api/v1/lab-reports/{id}/acknowledge"),
            &Value::Null,
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let acknowledged: Value = app
        .post_json(
            Some(&village_doctor),
            &format!("/api/v1/lab-reports/{id}/acknowledge"),
            &Value::Null,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(acknowledged["acknowledged_at_ms"].as_i64().is_some());

    // The critical values page lists it as acknowledged.
    let session = app.web_login("village-doctor").await;
    let (status, html) = app.page(&session, "/critical-values").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("血小板计数 12 10*9/L（LL）") && html.contains("已确认"),
        "{html}"
    );

    // Over MLLP: a second critical result, left unacknowledged, escalates after five minutes.
    let mllp = app.mllp(&[]).await;
    let ack = mllp_exchange(mllp, &oru("LAB0002", &id_number, &village_code, true)).await;
    assert!(ack.contains("\rMSA|AA|LAB0002"), "{ack}");
    assert_eq!(app.count("lab_reports").await, 2);
    let later = yijia::clock::now_ms() + 6 * 60_000;
    assert_eq!(
        yijia::critical_value::escalate_overdue(&app.ctx, later)
            .await
            .unwrap(),
        1,
        "only the unacknowledged report escalates"
    );
    wait_for_event(&mut site_events, "lab.escalated").await;

    // Malformed or unknown: AE/AR with the reason, and nothing stored.
    let before = (
        app.count("hl7v2_messages").await,
        app.count("lab_reports").await,
    );
    let unknown_patient = oru("LAB0003", "110101199003074514", &village_code, false);
    let (status, ack) = post_hl7(&app, &lis, &unknown_patient).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(ack.contains("\rMSA|AE|LAB0003|unknown patient"), "{ack}");
    assert!(
        ack.contains("|204^Unknown key identifier^HL70357|"),
        "{ack}"
    );
    let (status, ack) = post_hl7(&app, &lis, "this is not HL7").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(ack.contains("\rMSA|AR|"), "{ack}");
    // A result without its identifier (OBX-3) is refused: 101, required field missing.
    let no_identifier =
        oru("LAB0004", &id_number, &village_code, false).replace("WBC^白细胞计数", "");
    let ack = mllp_exchange(mllp, &no_identifier).await;
    assert!(ack.contains("\rMSA|AE|LAB0004"), "{ack}");
    assert!(
        ack.contains("|101^Required field missing^HL70357|"),
        "{ack}"
    );
    let ack = mllp_exchange(mllp, &message.replace("|demo|", "|nowhere|")).await;
    assert!(ack.contains("\rMSA|AR|LAB0001"), "{ack}");
    // A member of staff may only send as their own institution.
    let (status, _) = post_hl7(
        &app,
        &village_doctor,
        &oru("LAB0005", &id_number, &village_code, false),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (
            app.count("hl7v2_messages").await,
            app.count("lab_reports").await
        ),
        before
    );
}

#[tokio::test]
async fn the_timeline_shows_one_record_across_three_institutions() {
    let app = TestApp::spawn().await;
    let village_doctor = app.login("village-doctor").await;
    let county_doctor = app.login("county-doctor").await;
    let lis = app.login("lab-interface").await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;

    // An outpatient visit at the village clinic, with a clinical-edition code.
    let visit = json!({"resident_id": resident, "kind": "outpatient", "started_at": "2026-11-20T09:00:00+08:00", "diagnoses": ["I10.x00x002"], "costs": {"drugs_fen": 1850}});
    let response = app
        .post_json(Some(&village_doctor), "/api/v1/encounters", &visit)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let visit: Value = response.json().await.unwrap();
    assert_eq!(visit["diagnoses"][0]["icd10"], "I10.x00x002");
    assert_eq!(
        visit["diagnoses"][0]["title"],
        "Essential (primary) hypertension"
    );
    assert_eq!(visit["costs"]["drugs_fen"], 1850);

    // Codes outside the WHO table are refused.
    let bad = json!({"resident_id": resident, "kind": "outpatient", "started_at": "2026-11-20T09:00:00+08:00", "diagnoses": ["I21.7"]});
    assert_error(
        app.post_json(Some(&village_doctor), "/api/v1/encounters", &bad)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "health_record.invalid",
    )
    .await;

    // An inpatient stay at the county hospital, discharged with its costs.
    let stay = json!({"resident_id": resident, "kind": "inpatient", "started_at": "2026-11-21T10:00:00+08:00", "diagnoses": ["I21.1", "I10"]});
    let stay: Value = app
        .post_json(Some(&county_doctor), "/api/v1/encounters", &stay)
        .await
        .json()
        .await
        .unwrap();
    let stay_id = stay["id"].as_i64().unwrap();
    let discharge = json!({"ended_at": "2026-11-22T10:00:00+08:00", "costs": {"drugs_fen": 320000, "beds_fen": 12000}});
    let discharged: Value = app
        .post_json(
            Some(&county_doctor),
            &format!("/api/v1/encounters/{stay_id}/discharge"),
            &discharge,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(discharged["ended_at_ms"].as_i64().is_some());
    assert_eq!(discharged["costs"]["beds_fen"], 12000);
    assert_error(
        app.post_json(
            Some(&county_doctor),
            &format!("/api/v1/encounters/{stay_id}/discharge"),
            &discharge,
        )
        .await,
        StatusCode::CONFLICT,
        "encounter.already_discharged",
    )
    .await;

    // A blood count from the county lab.
    let id_number = app.id_number_of(resident).await;
    let village_code = app.code_of(village).await;
    let (status, _) = post_hl7(&app, &lis, &oru("T1", &id_number, &village_code, false)).await;
    assert_eq!(status, StatusCode::OK);

    let timeline = app
        .get_ok(
            &county_doctor,
            &format!("/api/v1/residents/{resident}/timeline"),
        )
        .await;
    let items = timeline["items"].as_array().unwrap();
    let institutions: std::collections::BTreeSet<i64> = items
        .iter()
        .map(|i| i["institution_id"].as_i64().unwrap())
        .collect();
    assert!(institutions.len() >= 3, "{timeline}");
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"encounter") && kinds.contains(&"lab_report"));
    assert!(
        items
            .iter()
            .any(|i| i["summary"].as_str().unwrap().starts_with("住院 · I21.1"))
    );
    // Filtered by kind and by time.
    let encounters = app
        .get_ok(
            &county_doctor,
            &format!("/api/v1/residents/{resident}/timeline?kind=encounter"),
        )
        .await;
    assert!(
        encounters["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] == "encounter")
    );
    let from_21st = app
        .get_ok(
            &county_doctor,
            &format!(
                "/api/v1/residents/{resident}/timeline?kind=encounter&from=2026-11-21T00:00:00%2B08:00"
            ),
        )
        .await;
    assert_eq!(from_21st["items"].as_array().unwrap().len(), 1);
    assert_error(
        app.get(
            &county_doctor,
            &format!("/api/v1/residents/{resident}/timeline?kind=gossip"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "health_record.invalid",
    )
    .await;

    // The resident page shows the same record; an administrator's shows none of it.
    let session = app.web_login("county-doctor").await;
    let (status, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("健康档案") && html.contains("住院 · I21.1"),
        "{html}"
    );
    assert!(html.contains("血常规"));
    let session = app.web_login("admin").await;
    let (_, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert!(html.contains("无权查看临床记录") && !html.contains("I21.1"));

    // Insurance officers see money, not the clinical record; every read is audited.
    let officer = app.login("insurance-officer").await;
    assert_error(
        app.get(&officer, &format!("/api/v1/residents/{resident}/timeline"))
            .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'health_record.timeline' AND resident_id = $1",
    )
    .bind(resident)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(audited >= 4);
}

#[tokio::test]
async fn a_recognised_recent_result_blocks_a_silent_repeat() {
    let app = TestApp::spawn().await;
    let county_doctor = app.login("county-doctor").await;
    let township_doctor = app.login("township-doctor").await;
    let resident = app
        .resident_in_village(app.institution_of("village-doctor").await)
        .await;

    // A chest X-ray read at the county hospital three days ago.
    let three_days_ago = yijia::clock::now_ms() - 3 * 86_400_000;
    let report = json!({"resident_id": resident, "kind": "imaging", "item_code": "CXR", "item_name": "胸部正位片", "findings": "双肺纹理清晰", "conclusion": "心肺未见异常", "performed_at": three_days_ago.to_string()});
    let response = app
        .post_json(Some(&county_doctor), "/api/v1/exam-reports", &report)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let report: Value = response.json().await.unwrap();

    // The township centre orders one: the recognised result is shown, and a silent repeat refused.
    let recognised = app
        .get_ok(
            &township_doctor,
            &format!("/api/v1/residents/{resident}/recognised-results?item=CXR"),
        )
        .await;
    assert_eq!(recognised[0]["report_id"], report["id"]);
    assert_eq!(recognised[0]["source"], "exam_report");
    let order = json!({"resident_id": resident, "item_code": "CXR"});
    assert_error(
        app.post_json(Some(&township_doctor), "/api/v1/orders", &order)
            .await,
        StatusCode::CONFLICT,
        "recognition.recent_result",
    )
    .await;
    let used = json!({"resident_id": resident, "item_code": "CXR", "use_recognised": true});
    let used: Value = app
        .post_json(Some(&township_doctor), "/api/v1/orders", &used)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(used["outcome"], "avoided");
    assert_eq!(used["saving_fen"], 9000);
    let repeat =
        json!({"resident_id": resident, "item_code": "CXR", "repeat_reason": "胸痛加重，需复查"});
    let repeat: Value = app
        .post_json(Some(&township_doctor), "/api/v1/orders", &repeat)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repeat["outcome"], "repeated");
    // Nothing recognised for a blood count: a new order.
    let cbc = json!({"resident_id": resident, "item_code": "CBC"});
    let cbc: Value = app
        .post_json(Some(&township_doctor), "/api/v1/orders", &cbc)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cbc["outcome"], "new");

    // The same on the web: the resident page offers the order, the recognised result comes first.
    let session = app.web_login("township-doctor").await;
    let (_, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert!(html.contains("开具检查检验") && html.contains("胸部 X 线（CXR）"));
    let order_page = |form: &'static [(&'static str, &'static str)]| {
        let app = &app;
        let session = session.clone();
        async move {
            app.post_form(&session, &format!("/residents/{resident}/orders"), form)
                .await
                .text()
                .await
                .unwrap()
        }
    };
    let html = order_page(&[("item_code", "CXR")]).await;
    assert!(
        html.contains("该居民已有可互认的结果") && html.contains("采用互认结果"),
        "{html}"
    );
    let html = order_page(&[("item_code", "CXR"), ("use_recognised", "1")]).await;
    assert!(html.contains("已采用互认结果"), "{html}");

    // The month's figures count the avoided repeats and their saving.
    let supervisor = app.login("supervisor").await;
    let month = yijia::clock::format_cst(yijia::clock::now_ms())[..7].to_owned();
    let figures = app
        .get_ok(
            &supervisor,
            &format!("/api/v1/recognition/figures?month={month}"),
        )
        .await;
    let township = app.institution_of("township-doctor").await;
    let row = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["institution_id"] == township)
        .unwrap();
    assert_eq!(
        (
            row["orders"].as_i64(),
            row["avoided"].as_i64(),
            row["repeated"].as_i64()
        ),
        (Some(4), Some(2), Some(1))
    );
    assert_eq!(row["saving_fen"], 18000);
    assert_error(
        app.get(
            &township_doctor,
            &format!("/api/v1/recognition/figures?month={month}"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "access.denied",
    )
    .await;
}

#[tokio::test]
async fn a_critical_value_for_a_resident_the_orderer_cannot_see_goes_to_the_residents_own_clinic() {
    let app = TestApp::spawn().await;
    let lis = app.login("lab-interface").await;
    let village_doctor = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let township = app.institution_of("township-doctor").await;
    let stranger = app.resident_outside_township(township).await;
    let id_number = app.id_number_of(stranger).await;
    // The message names the village clinic as orderer for a resident of another township.
    let message = oru("LAB0100", &id_number, &app.code_of(village).await, true);
    let (status, ack) = post_hl7(&app, &lis, &message).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ack.contains("\rMSA|AA|LAB0100"), "{ack}");

    // The village doctor sees nothing of that resident, in the API or the page.
    let listed = app.get_ok(&village_doctor, "/api/v1/critical-values").await;
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");
    let session = app.web_login("village-doctor").await;
    let (_, html) = app.page(&session, "/critical-values").await;
    assert!(!html.contains("血小板计数 12"), "{html}");

    // The resident's own village clinic has it, and closes the loop.
    let own_clinic: i64 =
        sqlx::query_scalar("SELECT village_clinic_id FROM residents WHERE id = $1")
            .bind(stranger)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let admin = app.login("admin").await;
    let account = json!({"username": "own-clinic-doctor", "password": "own-clinic-password",
        "name": "本村医生", "roles": ["village_doctor"], "institution_id": own_clinic});
    let created = app.post_json(Some(&admin), "/api/v1/staff", &account).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let own_doctor = &app
        .login_with("own-clinic-doctor", "own-clinic-password")
        .await;
    let listed = app.get_ok(own_doctor, "/api/v1/critical-values").await;
    assert_eq!(listed["items"][0]["resident_id"], stranger, "{listed}");
    let id = listed["items"][0]["id"].as_i64().unwrap();
    let acknowledged = app
        .post_json(
            Some(own_doctor),
            &format!("/api/v1/lab-reports/{id}/acknowledge"),
            &Value::Null,
        )
        .await;
    assert_eq!(acknowledged.status(), StatusCode::OK);
}
