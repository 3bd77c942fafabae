//! FHIR R4 at /fhir: search by identifier finds the patient, every kind of resource the server
//! emits is read and searched, each one validates against the FHIR R4 models of the Python
//! package fhir.resources, and errors are OperationOutcomes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::referral::critical_ecg;

struct Fhir<'a> {
    app: &'a TestApp,
    token: String,
    emitted: Vec<Value>,
}

impl Fhir<'_> {
    async fn get(&mut self, path: &str) -> (StatusCode, Value) {
        let response = self
            .app
            .client
            .get(format!("{}{path}", self.app.address))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json"),
            "{path}"
        );
        let body: Value = response.json().await.unwrap();
        self.emitted.push(body.clone());
        (status, body)
    }

    async fn ok(&mut self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// The resources of a searchset.
    async fn search(&mut self, path: &str) -> Vec<Value> {
        let bundle = self.ok(path).await;
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "searchset");
        // An empty searchset has no entry at all (FHIR forbids empty arrays).
        bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                assert!(
                    e["fullUrl"]
                        .as_str()
                        .unwrap()
                        .starts_with("http://127.0.0.1")
                );
                e["resource"].clone()
            })
            .collect()
    }
}

#[tokio::test]
async fn the_record_is_served_as_fhir_r4_and_every_resource_validates() {
    let app = TestApp::spawn().await;
    let (ecg, resident) = critical_ecg(&app).await;
    let village = app.login("village-doctor").await;
    let county = app.login("county-doctor").await;
    let lis = app.login("lab-interface").await;

    // A record with every kind of item: a green-channel referral with its encounter, a visit,
    // a lab report and an imaging report.
    let referral = crate::referral::green_channel(&app, &village, ecg).await;
    let visit = json!({"resident_id": resident, "kind": "outpatient", "started_at": "2026-11-20T09:00:00+08:00", "diagnoses": ["I10"], "costs": {"drugs_fen": 1200}});
    let response = app
        .post_json(Some(&village), "/api/v1/encounters", &visit)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id_number = app.id_number_of(resident).await;
    let village_code = app
        .code_of(app.institution_of("village-doctor").await)
        .await;
    let oru = [
        "MSH|^~\\&|LIS|C-LAB|YIJIA|demo|20261123083000||ORU^R01|F1|P|2.5.1".to_owned(),
        format!("PID|1||{id_number}"),
        format!("ORC|RE||||||||||||||||||||申请^^^^^^^^^{village_code}"),
        "OBR|1|||CBC^血常规|||20261123081500".to_owned(),
        "OBX|1|NM|WBC^白细胞计数||6.1|10*9/L|3.5-9.5|N|||F".to_owned(),
        "OBX|2|ST|MORPH^血涂片||未见异常||||||F".to_owned(),
    ]
    .join("\r");
    let response = app
        .client
        .post(format!("{}/api/v1/hl7v2", app.address))
        .bearer_auth(&lis)
        .body(oru)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let exam = json!({"resident_id": resident, "kind": "imaging", "item_code": "CXR", "item_name": "胸部正位片", "findings": "", "conclusion": "心肺未见异常", "performed_at": (yijia::clock::now_ms() - 3_600_000).to_string()});
    assert_eq!(
        app.post_json(Some(&county), "/api/v1/exam-reports", &exam)
            .await
            .status(),
        StatusCode::CREATED
    );

    let mut fhir = Fhir {
        app: &app,
        token: county.clone(),
        emitted: Vec::new(),
    };
    let capability = fhir.ok("/fhir/metadata").await;
    assert_eq!(capability["fhirVersion"], "4.0.1");

    // Search by identifier finds the patient.
    let patients = fhir
        .search(&format!(
            "/fhir/Patient?identifier=urn:yijia:sid:resident-id-number|{id_number}"
        ))
        .await;
    assert_eq!(patients.len(), 1);
    assert_eq!(patients[0]["id"], resident.to_string());
    assert_eq!(patients[0]["identifier"][0]["value"], id_number);
    fhir.ok(&format!("/fhir/Patient/{resident}")).await;

    let lead = app.institution_id("LH").await;
    let organizations = fhir.search("/fhir/Organization?identifier=LH").await;
    assert_eq!(organizations[0]["id"], lead.to_string());
    fhir.ok(&format!("/fhir/Organization/{lead}")).await;
    let practitioners = fhir
        .search(&format!(
            "/fhir/Practitioner?organization=Organization/{lead}"
        ))
        .await;
    assert!(!practitioners.is_empty());
    fhir.ok(&format!(
        "/fhir/Practitioner/{}",
        practitioners[0]["id"].as_str().unwrap()
    ))
    .await;

    let encounters = fhir
        .search(&format!("/fhir/Encounter?patient=Patient/{resident}"))
        .await;
    assert_eq!(
        encounters.len(),
        2,
        "the visit and the green channel's encounter"
    );
    assert!(encounters.iter().any(|e| e["class"]["code"] == "EMER"
        && e["basedOn"][0]["reference"] == format!("ServiceRequest/{}", referral["id"])));
    fhir.ok(&format!(
        "/fhir/Encounter/{}",
        encounters[0]["id"].as_str().unwrap()
    ))
    .await;
    // Paged: one per page, with a link to the next.
    let page = fhir
        .ok(&format!("/fhir/Encounter?patient={resident}&_count=1"))
        .await;
    assert!(
        page["link"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["relation"] == "next")
    );

    let observations = fhir
        .search(&format!("/fhir/Observation?patient={resident}&code=WBC"))
        .await;
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0]["valueQuantity"]["value"], 6.1);
    let all = fhir
        .search(&format!("/fhir/Observation?patient={resident}"))
        .await;
    assert!(all.iter().any(|o| o["valueString"] == "未见异常"));
    // The ECG tracing is an Observation of the patient too; by category, labs alone.
    assert!(all.iter().any(|o| o["id"] == format!("ecg-{ecg}")));
    let on_the_day = fhir
        .search(&format!(
            "/fhir/Observation?patient={resident}&category=laboratory&date=2026-11-23"
        ))
        .await;
    assert_eq!(on_the_day.len(), 2);
    let tracings = fhir
        .search(&format!(
            "/fhir/Observation?patient={resident}&code=http://loinc.org|11524-6"
        ))
        .await;
    assert_eq!(tracings.len(), 1);
    let before = fhir
        .search(&format!(
            "/fhir/Observation?patient={resident}&date=lt2026-11-23"
        ))
        .await;
    assert!(before.is_empty());

    let reports = fhir
        .search(&format!("/fhir/DiagnosticReport?patient={resident}"))
        .await;
    let ids: Vec<&str> = reports.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&format!("ecg-{ecg}").as_str()), "{ids:?}");
    assert!(
        ids.iter().any(|id| id.starts_with("lab-")) && ids.iter().any(|id| id.starts_with("exam-"))
    );
    for report in &reports {
        let url = report["presentedForm"][0]["url"].as_str().unwrap();
        assert!(url.starts_with("http://127.0.0.1"), "absolute: {url}");
        fhir.ok(&format!(
            "/fhir/DiagnosticReport/{}",
            report["id"].as_str().unwrap()
        ))
        .await;
    }
    // The ECG report's tracing: one valueSampledData per lead.
    let tracing = fhir.ok(&format!("/fhir/Observation/ecg-{ecg}")).await;
    let leads = tracing["component"].as_array().unwrap();
    assert_eq!(leads.len(), 12);
    assert_eq!(leads[0]["valueSampledData"]["dimensions"], 1);
    assert!(
        leads[0]["valueSampledData"]["data"]
            .as_str()
            .unwrap()
            .split(' ')
            .count()
            > 1000
    );
    fhir.ok(&format!(
        "/fhir/Observation/{}",
        observations[0]["id"].as_str().unwrap()
    ))
    .await;

    let requests = fhir
        .search(&format!("/fhir/ServiceRequest?patient={resident}"))
        .await;
    assert_eq!(requests[0]["priority"], "stat");
    let tasks = fhir.search(&format!("/fhir/Task?patient={resident}")).await;
    assert_eq!(tasks[0]["status"], "accepted");
    fhir.ok(&format!("/fhir/ServiceRequest/{}", referral["id"]))
        .await;
    fhir.ok(&format!("/fhir/Task/{}", referral["id"])).await;

    // Bundle.total, _summary=count, paging by the total, the self link of applied parameters.
    let counted = fhir
        .ok(&format!(
            "/fhir/Observation?patient={resident}&_summary=count&nonsense=1"
        ))
        .await;
    assert_eq!(counted["total"], all.len());
    assert!(counted["entry"].is_null());
    assert!(
        !counted["link"][0]["url"]
            .as_str()
            .unwrap()
            .contains("nonsense")
    );
    let page = fhir
        .ok(&format!(
            "/fhir/Observation?patient={resident}&_count=1&_elements=status,code"
        ))
        .await;
    assert_eq!(page["total"], all.len());
    let entry = &page["entry"][0]["resource"];
    assert!(entry["subject"].is_null() && entry["code"].is_object());
    assert_eq!(entry["meta"]["tag"][0]["code"], "SUBSETTED");
    // Strict handling refuses what it does not know.
    let response = app
        .client
        .get(format!(
            "{}/fhir/Observation?patient={resident}&nonsense=1",
            app.address
        ))
        .bearer_auth(&fhir.token)
        .header("prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The identifier search honours the system; _id works.
    let id_number = app.id_number_of(resident).await;
    let by_system = fhir
        .search(&format!(
            "/fhir/Patient?identifier=urn:yijia:sid:resident-id-number|{id_number}"
        ))
        .await;
    assert_eq!(by_system.len(), 1);
    assert!(
        fhir.search(&format!(
            "/fhir/Patient?identifier=urn:other:system|{id_number}"
        ))
        .await
        .is_empty()
    );
    assert_eq!(
        fhir.search(&format!("/fhir/Patient?_id={resident}"))
            .await
            .len(),
        1
    );
    // fhirpy, a client nobody here wrote: .count(), paging through next links, read, search.
    let output = tokio::process::Command::new(crate::helpers::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/python/fhirpy_client.py"
        ))
        .arg(format!("{}/fhir", app.address))
        .arg(&fhir.token)
        .arg(resident.to_string())
        .arg(&id_number)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "fhirpy: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let client: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(client["count"], all.len());
    assert_eq!(client["fetched"], all.len(), "fhirpy fetched every page");
    assert_eq!(client["found"], json!([resident.to_string()]));
    assert_eq!(client["patient"], resident.to_string());

    // meta, ETag and vread; If-None-Match answers 304.
    let patient = fhir.ok(&format!("/fhir/Patient/{resident}")).await;
    let version = patient["meta"]["versionId"].as_str().unwrap().to_owned();
    assert!(patient["meta"]["lastUpdated"].is_string());
    let response = app
        .client
        .get(format!("{}/fhir/Patient/{resident}", app.address))
        .bearer_auth(&fhir.token)
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("W/\"{version}\""));
    assert!(response.headers().contains_key("last-modified"));
    let response = app
        .client
        .get(format!("{}/fhir/Patient/{resident}", app.address))
        .bearer_auth(&fhir.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let old = fhir
        .ok(&format!("/fhir/Patient/{resident}/_history/{version}"))
        .await;
    assert_eq!(old["id"], patient["id"]);
    let (status, _) = fhir
        .get(&format!("/fhir/Patient/{resident}/_history/0"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // $everything: the whole record as one Bundle, paged.
    let everything = fhir
        .ok(&format!("/fhir/Patient/{resident}/$everything?_count=100"))
        .await;
    let kinds: std::collections::BTreeSet<&str> = everything["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    for kind in [
        "Patient",
        "Encounter",
        "Observation",
        "DiagnosticReport",
        "ServiceRequest",
        "Task",
    ] {
        assert!(kinds.contains(kind), "$everything holds {kind}");
    }
    // XML is not served: 406; writes are not offered: 405; both as OperationOutcomes.
    let (status, outcome) = fhir
        .get(&format!("/fhir/Patient/{resident}?_format=xml"))
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let response = app
        .client
        .post(format!("{}/fhir/Patient", app.address))
        .bearer_auth(&fhir.token)
        .header("content-type", "application/fhir+json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let outcome: Value = response.json().await.unwrap();
    fhir.emitted.push(outcome.clone());
    assert_eq!(outcome["issue"][0]["code"], "not-supported");

    // Errors are OperationOutcomes with the API's status.
    let (status, outcome) = fhir.get("/fhir/Patient/99999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let (status, _) = fhir.get("/fhir/Basic?patient=1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, outcome) = fhir.get("/fhir/Encounter").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(outcome["issue"][0]["code"], "invalid");
    fhir.token = app.login("insurance-officer").await;
    let (status, outcome) = fhir
        .get(&format!("/fhir/Encounter?patient={resident}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(outcome["issue"][0]["code"], "forbidden");
    fhir.token = "not-a-token".into();
    let (status, outcome) = fhir.get(&format!("/fhir/Patient/{resident}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(outcome["issue"][0]["code"], "login");
    let response = app
        .client
        .get(format!("{}/fhir/Patient/{resident}", app.address))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    // Every emitted resource, and each resource inside a Bundle, validates against FHIR R4.
    let mut resources = Vec::new();
    for body in &fhir.emitted {
        resources.push(body.clone());
        for entry in body["entry"].as_array().into_iter().flatten() {
            resources.push(entry["resource"].clone());
        }
    }
    let kinds: std::collections::BTreeSet<&str> = resources
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap())
        .collect();
    for kind in [
        "CapabilityStatement",
        "Patient",
        "Organization",
        "Practitioner",
        "Encounter",
        "Observation",
        "DiagnosticReport",
        "ServiceRequest",
        "Task",
        "Bundle",
        "OperationOutcome",
    ] {
        assert!(kinds.contains(kind), "{kind} was emitted");
    }
    crate::helpers::validate_fhir(&resources).await;
}
