//! The chronic care pages over HTTP: a village doctor enrols a resident from the resident page,
//! sees the rules' decision for the values typed, records the follow-up (a refusal said by the
//! field, what was typed kept), finds the follow-up in the record, and works the call list.

use reqwest::StatusCode;

use crate::chronic_follow_up::villager_born;
use crate::helpers::TestApp;

#[tokio::test]
async fn a_village_doctor_enrols_follows_up_and_works_the_call_list_from_the_pages() {
    let app = TestApp::spawn().await;
    let session = app.web_login("village-doctor").await;
    let resident = villager_born(&app, "1965-01-01", "1985-01-01", 0).await;
    let (status, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"chronic-enrol\""), "the enrol form");

    let (status, html) = app
        .submit(
            &session,
            &format!("/residents/{resident}/chronic"),
            &[
                ("program", "hypertension"),
                ("basis", "screened"),
                ("enrolled_on", "2026-01-05"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("高血压管理"), "{html}");
    assert!(html.contains("id=\"follow-up\""));
    let enrolment: i64 =
        sqlx::query_scalar("SELECT id FROM chronic_enrolments WHERE resident_id = $1")
            .bind(resident)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();

    // The decision for the values typed so far, from the server.
    let (status, fragment) = app
        .page(
            &session,
            &format!(
                "/chronic/enrolments/{enrolment}/decision?followed_up_at=2026-03-01T09%3A00&mode=clinic&sbp=182&dbp=96&adherence=regular"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.contains("紧急转诊"), "{fragment}");
    assert!(fragment.contains("收缩压 ≥ 180"), "{fragment}");
    // As the page sends it: every row of the medicines, filled or not.
    let (status, fragment) = app
        .page(
            &session,
            &format!(
                "/chronic/enrolments/{enrolment}/decision?followed_up_at=2026-03-01T09%3A00&mode=clinic&sbp=128&dbp=78&adherence=regular&medicine_name=%E6%B0%A8%E6%B0%AF%E5%9C%B0%E5%B9%B3%E7%89%87&medicine_dose=5+mg&medicine_frequency=qd&medicine_name=&medicine_dose=&medicine_frequency="
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.contains("控制满意"), "{fragment}");

    // A refusal names the field and keeps what was typed.
    let form = |sbp: &'static str| {
        vec![
            ("followed_up_at", "2026-03-01T09:00"),
            ("mode", "clinic"),
            ("sbp", sbp),
            ("dbp", "86"),
            ("adherence", "regular"),
            ("weight_kg", "66"),
            ("height_cm", "162"),
            ("medicine_name", "氨氯地平片"),
            ("medicine_dose", "5 mg"),
            ("medicine_frequency", "每日一次"),
        ]
    };
    let (status, html) = app
        .submit(
            &session,
            &format!("/chronic/enrolments/{enrolment}/follow-ups"),
            &form("320"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("data-field=\"sbp\""), "{html}");
    assert!(html.contains("value=\"320\""));
    assert!(html.contains("氨氯地平片"));

    let (status, html) = app
        .submit(
            &session,
            &format!("/chronic/enrolments/{enrolment}/follow-ups"),
            &form("132"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("132/86"), "{html}");
    assert!(html.contains("1 控制满意"));
    assert!(html.contains("2026-05-30"), "next due in 90 days");
    // The next form is pre-filled from this visit's medicines.
    assert!(html.contains("value=\"氨氯地平片\""));

    // The follow-up is in the resident's record.
    let (_, html) = app.page(&session, &format!("/residents/{resident}")).await;
    assert!(html.contains("慢病随访"), "{html}");
    assert!(
        html.contains("高血压 · 门诊 · 控制满意 · 常规随访"),
        "{html}"
    );

    // Due 2026-05-30 and not seen since: on the call list and the home queue.
    let (status, html) = app.page(&session, "/chronic/overdue").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("/chronic/enrolments/{enrolment}/calls")),
        "{html}"
    );
    let (_, home) = app.page(&session, "/").await;
    assert!(home.contains("慢病随访逾期"));
    let (status, html) = app
        .submit(
            &session,
            &format!("/chronic/enrolments/{enrolment}/calls"),
            &[("result", "agreed")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"overdue-empty\""), "{html}");
}
