//! Upload → worklist event latency on loopback (issue 3: p99 ≤ 50 ms). Starts the real server
//! in-process over a fresh embedded database with the small demo, keeps a reader's event stream
//! open, uploads synthetic 12-lead ECGs one after another as the village doctor and times each
//! from the start of the upload request to the arrival of its `ecg.uploaded` event (this
//! includes receiving, parsing and analysing the 10 s recording, and the durable commit).
//! Run with `cargo bench --bench ecg_event_latency`.

use std::time::{Duration, Instant};

use yijia::app;
use yijia::ctx::Ctx;
use yijia::db::Db;

const UPLOADS: usize = 200;

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("yijia-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::connect(&yijia::db::sqlite_url(&dir)).await.unwrap();
    let archive = yijia::archive::Archive::open(&dir.join("archive")).unwrap();
    let ctx = Ctx::new(db, archive);
    yijia::demo::load(
        &ctx,
        yijia::clock::now_ms(),
        yijia::clock::today_cst(),
        yijia::demo::Size::Small,
        1,
        false,
        false,
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app::serve(listener, ctx.clone()));

    let client = reqwest::Client::new();
    let login = |username: &'static str| {
        let client = client.clone();
        let url = format!("{base}/api/v1/auth/login");
        async move {
            let body: serde_json::Value = client
                .post(url)
                .json(&serde_json::json!({"username": username, "password": "yijia-demo"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let village = login("village-doctor").await;
    let reader = login("county-reader").await;
    let me: serde_json::Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&village)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let residents: serde_json::Value = client
        .get(format!(
            "{base}/api/v1/residents?village_clinic_id={}&limit=1",
            me["institution_id"]
        ))
        .bearer_auth(&village)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resident_id = residents["items"][0]["id"].to_string();
    let ecg = yijia_ecg::formats::json::write(&yijia_ecg::synth::generate(
        &yijia_ecg::synth::Case::Normal.spec(),
    ));

    let mut events = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    let mut latencies = Vec::with_capacity(UPLOADS);
    let mut pending = String::new();
    for _ in 0..UPLOADS {
        let form = reqwest::multipart::Form::new()
            .text("resident_id", resident_id.clone())
            .text("recorded_at", "2026-11-23T08:00:00+08:00")
            .part(
                "file",
                reqwest::multipart::Part::bytes(ecg.clone().into_bytes()).file_name("ecg.json"),
            );
        let started = Instant::now();
        let upload = client
            .post(format!("{base}/api/v1/ecgs"))
            .bearer_auth(&village)
            .multipart(form)
            .send();
        let wait_event = async {
            while !pending.contains("event: ecg.uploaded") {
                let chunk = tokio::time::timeout(Duration::from_secs(10), events.chunk())
                    .await
                    .unwrap()
                    .unwrap()
                    .unwrap();
                pending.push_str(&String::from_utf8_lossy(&chunk));
            }
            let arrived = started.elapsed();
            // Keep whatever followed the event for the next round.
            let end = pending.find("event: ecg.uploaded").unwrap() + "event: ecg.uploaded".len();
            pending.drain(..end);
            arrived
        };
        let (response, arrived) = tokio::join!(upload, wait_event);
        assert_eq!(response.unwrap().status(), 201);
        latencies.push(arrived);
    }
    latencies.sort();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize).min(latencies.len()) - 1]
            .as_secs_f64()
            * 1000.0
    };
    println!(
        "upload → worklist event over {UPLOADS} uploads: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.95),
        at(0.99),
        at(1.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
