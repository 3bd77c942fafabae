use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

// The worked example of GB 11643-1999 and variants of it.
const VALID_FEMALE: &str = "11010519491231002X";
const WRONG_CHECK_DIGIT: &str = "110105194912310021";
const IMPOSSIBLE_DATE: &str = "110105194902300020"; // 30 February; check digit would not save it

fn new_resident(id_number: &str, village: i64) -> Value {
    json!({"id_number": id_number, "name": "张秀英", "phone": "13800001111", "village_clinic_id": village, "address": "一组"})
}

#[tokio::test]
async fn a_village_doctor_registers_a_resident_with_birth_date_and_sex_from_the_id_number() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let response = app
        .post_json(
            Some(&token),
            "/api/v1/residents",
            &new_resident("11010519491231002x", village),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let resident: Value = response.json().await.unwrap();
    assert_eq!(resident["id_number"], VALID_FEMALE);
    assert_eq!(resident["birth_date"], "1949-12-31");
    assert_eq!(resident["sex"], "female");
    assert_eq!(resident["village_clinic_id"], village);

    let found = app
        .get_ok(
            &token,
            &format!("/api/v1/residents?id_number={VALID_FEMALE}"),
        )
        .await;
    assert_eq!(found["items"][0]["id"], resident["id"]);
    let by_name = app.get_ok(&token, "/api/v1/residents?name=张秀").await;
    assert!(
        by_name["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == resident["id"])
    );
    let one = app
        .get_ok(&token, &format!("/api/v1/residents/{}", resident["id"]))
        .await;
    assert_eq!(one["name"], "张秀英");
}

#[tokio::test]
async fn invalid_id_numbers_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let before = app.count("residents").await;
    for bad in [
        WRONG_CHECK_DIGIT,
        IMPOSSIBLE_DATE,
        "12345",
        "1101051949123100XX",
        "",
    ] {
        let response = app
            .post_json(
                Some(&token),
                "/api/v1/residents",
                &new_resident(bad, village),
            )
            .await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "resident.invalid_id_number",
        )
        .await;
    }
    assert_eq!(app.count("residents").await, before);
}

#[tokio::test]
async fn the_same_id_number_twice_is_a_conflict() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let first = app
        .post_json(
            Some(&token),
            "/api/v1/residents",
            &new_resident(VALID_FEMALE, village),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let before = app.count("residents").await;
    let second = app
        .post_json(
            Some(&token),
            "/api/v1/residents",
            &new_resident(VALID_FEMALE, village),
        )
        .await;
    assert_error(second, StatusCode::CONFLICT, "resident.duplicate").await;
    assert_eq!(app.count("residents").await, before);
}

#[tokio::test]
async fn other_bad_fields_get_their_own_codes() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let village = app.institution_of("village-doctor").await;
    let mut no_name = new_resident(VALID_FEMALE, village);
    no_name["name"] = json!("  ");
    assert_error(
        app.post_json(Some(&token), "/api/v1/residents", &no_name)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resident.invalid",
    )
    .await;
    let mut bad_phone = new_resident(VALID_FEMALE, village);
    bad_phone["phone"] = json!("call me");
    assert_error(
        app.post_json(Some(&token), "/api/v1/residents", &bad_phone)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resident.invalid",
    )
    .await;
    let township = app.institution_id("T01").await;
    assert_error(
        app.post_json(
            Some(&token),
            "/api/v1/residents",
            &new_resident(VALID_FEMALE, township),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resident.unknown_village_clinic",
    )
    .await;
    let other_grid: i64 = sqlx::query_scalar(
        "SELECT id FROM grids WHERE village_clinic_id <> $1 ORDER BY id LIMIT 1",
    )
    .bind(village)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let mut wrong_grid = new_resident(VALID_FEMALE, village);
    wrong_grid["grid_id"] = json!(other_grid);
    assert_error(
        app.post_json(Some(&token), "/api/v1/residents", &wrong_grid)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resident.invalid",
    )
    .await;
    let own_grid: i64 = sqlx::query_scalar("SELECT id FROM grids WHERE village_clinic_id = $1")
        .bind(village)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let mut right_grid = new_resident(VALID_FEMALE, village);
    right_grid["grid_id"] = json!(own_grid);
    let created: Value = app
        .post_json(Some(&token), "/api/v1/residents", &right_grid)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["grid_id"], own_grid);
    let missing = json!({"id_number": VALID_FEMALE});
    let response = app
        .post_json(Some(&token), "/api/v1/residents", &missing)
        .await;
    assert_eq!(response.status().as_u16() / 100, 4);
}

#[tokio::test]
async fn a_village_doctor_cannot_register_a_resident_in_another_village() {
    let app = TestApp::spawn().await;
    let token = app.login("village-doctor").await;
    let other_village = app.institution_id("V002").await;
    assert_ne!(other_village, app.institution_of("village-doctor").await);
    let response = app
        .post_json(
            Some(&token),
            "/api/v1/residents",
            &new_resident(VALID_FEMALE, other_village),
        )
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "access.denied").await;
}

#[tokio::test]
async fn searches_are_paginated_and_need_a_criterion() {
    let app = TestApp::spawn().await;
    let token = app.login("county-reader").await;
    let village = app.institution_id("V001").await;
    let first = app
        .get_ok(
            &token,
            &format!("/api/v1/residents?village_clinic_id={village}&limit=5"),
        )
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    assert_eq!(first["next_offset"], 5);
    let second = app
        .get_ok(
            &token,
            &format!("/api/v1/residents?village_clinic_id={village}&limit=5&offset=5"),
        )
        .await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert_error(
        app.get(&token, "/api/v1/residents").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resident.invalid",
    )
    .await;
}

#[tokio::test]
async fn probable_duplicates_are_listed_and_a_merge_keeps_both_records() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let pairs = app
        .get_ok(&admin, "/api/v1/residents/duplicates?limit=100")
        .await;
    let pairs = pairs["items"].as_array().unwrap();
    let same_person = pairs
        .iter()
        .find(|p| p["reason"] == "same_name_and_birth_date")
        .expect("the demo plants duplicates");
    assert_eq!(same_person["first"]["name"], same_person["second"]["name"]);
    assert!(pairs.iter().any(|p| p["reason"] == "same_phone"));

    let survivor = same_person["first"]["id"].as_i64().unwrap();
    let merged = same_person["second"]["id"].as_i64().unwrap();
    let response = app
        .post_json(
            Some(&admin),
            "/api/v1/residents/merge",
            &json!({"survivor_id": survivor, "merged_id": merged}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let merged_record = app
        .get_ok(&admin, &format!("/api/v1/residents/{merged}"))
        .await;
    assert_eq!(merged_record["merged_into_id"], survivor);
    // The merged record leaves search results but stays readable.
    let found = app
        .get_ok(
            &admin,
            &format!(
                "/api/v1/residents?id_number={}",
                merged_record["id_number"].as_str().unwrap()
            ),
        )
        .await;
    assert!(found["items"].as_array().unwrap().is_empty());
    let again = app
        .post_json(
            Some(&admin),
            "/api/v1/residents/merge",
            &json!({"survivor_id": survivor, "merged_id": merged}),
        )
        .await;
    assert_error(again, StatusCode::CONFLICT, "resident.already_merged").await;
    // The merge is audited on both records, and the survivor's history includes the merged one's.
    let accesses = app
        .get_ok(
            &admin,
            &format!("/api/v1/residents/{survivor}/accesses?limit=100"),
        )
        .await;
    let actions: Vec<&str> = accesses["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.iter().filter(|a| **a == "resident.merge").count() >= 2,
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_web_search_finds_a_resident_by_id_number_and_shows_the_record() {
    let app = TestApp::spawn().await;
    let village = app.institution_of("village-doctor").await;
    let resident = app.resident_in_village(village).await;
    let id_number: String = sqlx::query_scalar("SELECT id_number FROM residents WHERE id = $1")
        .bind(resident)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let session = app.web_login("village-doctor").await;
    let html = app
        .client
        .get(format!("{}/residents?q={id_number}", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/residents/{resident}")));
    let page = app
        .client
        .get(format!("{}/residents/{resident}", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&id_number) && html.contains("谁查看过此档案") && html.contains("查看档案")
    );
}
