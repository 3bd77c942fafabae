//! `TestApp::spawn()`: the real server on a random port over a fresh database with the small
//! demo community. SQLite by default; PostgreSQL when `YIJIA_TEST_DATABASE_URL` names a server
//! (each test then gets a database of its own).

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::{Response, StatusCode};
use serde_json::Value;
use yijia::app;
use yijia::ctx::Ctx;
use yijia::db::Db;
use yijia::demo;

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The running server's context, for calling jobs directly with a chosen time.
    pub ctx: Ctx,
    /// The audit anchor's folder (checkpoints and their key), outside the database.
    pub anchor_dir: std::path::PathBuf,
    sqlite_dir: Option<std::path::PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = std::fs::remove_dir_all(&self.anchor_dir);
        let _ = std::fs::remove_dir_all(data_dir_of(&self.anchor_dir));
    }
}

/// The data directory (for the archive) of the app whose audit anchor is `anchor_dir`.
fn data_dir_of(anchor_dir: &std::path::Path) -> std::path::PathBuf {
    anchor_dir.with_extension("data")
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "yijia_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        nanos
    )
}

/// A fresh, empty database: its URL, and the SQLite directory to remove afterwards.
async fn fresh_database() -> (String, Option<std::path::PathBuf>) {
    let name = unique_name();
    match std::env::var("YIJIA_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&base)
                .await
                .expect("the test PostgreSQL server is reachable");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .expect("a test database can be created");
            admin.close().await;
            let (prefix, _) = base.rsplit_once('/').expect("the URL names a database");
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let dir = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&dir).unwrap();
            (yijia::db::sqlite_url(&dir), Some(dir))
        }
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_demo(false).await
    }

    /// A server with the small demo and, with `activity`, last year's and this year's activity.
    pub async fn spawn_demo(activity: bool) -> TestApp {
        let (database_url, sqlite_dir) = fresh_database().await;
        let db = Db::connect(&database_url)
            .await
            .expect("the test database opens");
        let anchor_dir = std::env::temp_dir().join(format!("{}.anchor", unique_name()));
        let archive = yijia::archive::Archive::open(&data_dir_of(&anchor_dir).join("archive"))
            .expect("the archive opens");
        let mut ctx = Ctx::new(db.clone(), archive);
        ctx.audit_anchor =
            Some(yijia::audit::anchor::Anchor::open(&anchor_dir).expect("the anchor opens"));
        let now = yijia::clock::now_ms();
        demo::load(
            &ctx,
            now,
            yijia::clock::today_cst(),
            demo::Size::Small,
            1,
            false,
            activity,
        )
        .await
        .expect("the demo community loads")
        .expect("the database was empty");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(app::serve(listener, ctx.clone()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            address,
            database_url,
            client,
            db,
            ctx,
            anchor_dir,
            sqlite_dir,
        }
    }

    pub async fn login(&self, username: &str) -> String {
        self.login_with(username, demo::DEMO_PASSWORD).await
    }

    /// Logs in through the API with these credentials; returns the bearer token.
    pub async fn login_with(&self, username: &str, password: &str) -> String {
        let response = self
            .post_json(
                None,
                "/api/v1/auth/login",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{username} logs in");
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Logs in through the web form, as a browser does (the login page first, for its form
    /// token); returns the session cookie to send as `Cookie`.
    pub async fn web_login(&self, username: &str) -> String {
        let response = self.web_login_with(username, demo::DEMO_PASSWORD).await;
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// Sends the login form with these credentials, as a browser does.
    pub async fn web_login_with(&self, username: &str, password: &str) -> Response {
        let page = self
            .client
            .get(format!("{}/login", self.address))
            .send()
            .await
            .unwrap();
        let form_cookie = page.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let token = form_token(&page.text().await.unwrap());
        self.client
            .post(format!("{}/login", self.address))
            .header("cookie", form_cookie)
            .header("origin", &self.address)
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf", &token),
            ])
            .send()
            .await
            .unwrap()
    }

    /// The form token a signed-in page carries for this session.
    pub async fn form_token(&self, session: &str) -> String {
        form_token(&self.page(session, "/").await.1)
    }

    /// A web page as the holder of a session cookie: its status and HTML.
    pub async fn page(&self, session: &str, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .header("cookie", session)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Submits a page's form as the holder of a session cookie, following the redirect back:
    /// the final status and HTML.
    pub async fn submit(
        &self,
        session: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let response = self.post_form(session, path, form).await;
        if response.status() == StatusCode::SEE_OTHER {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            return self.page(session, &location).await;
        }
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a page's form as the holder of a session cookie, as the browser sends it (from
    /// this origin, with the page's form token).
    pub async fn post_form(&self, session: &str, path: &str, form: &[(&str, &str)]) -> Response {
        let token = self.form_token(session).await;
        let mut form = form.to_vec();
        form.push(("csrf", &token));
        self.client
            .post(format!("{}{path}", self.address))
            .header("cookie", session)
            .header("origin", &self.address)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Starts an MLLP listener for the server, taking what `rules` (`CODE=CIDR`) allow: its
    /// address.
    pub async fn mllp(&self, rules: &[&str]) -> std::net::SocketAddr {
        let allow = yijia::hl7v2::mllp::AllowList::parse(
            &rules.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(yijia::app::serve_mllp(listener, self.ctx.clone(), allow));
        address
    }

    /// Starts the DICOM listener (AE title `YIJIA`) for the server: its address.
    pub async fn dicom(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(yijia::imaging::dimse::serve(
            listener,
            self.ctx.clone(),
            "YIJIA".into(),
        ));
        address
    }

    /// Opens the live event stream as the holder of `token`.
    pub async fn events(&self, token: &str) -> Response {
        self.client
            .get(format!("{}/api/v1/events", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, token: Option<&str>, path: &str, body: &Value) -> Response {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        request.send().await.unwrap()
    }

    /// A GET that must succeed, as JSON.
    pub async fn get_ok(&self, token: &str, path: &str) -> Value {
        let response = self.get(token, path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// The id of an institution by its code.
    pub async fn institution_id(&self, code: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM institutions WHERE code = $1")
            .bind(code)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// The institution a demo account works at.
    pub async fn institution_of(&self, username: &str) -> i64 {
        sqlx::query_scalar("SELECT institution_id FROM staff WHERE username = $1")
            .bind(username)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Some resident registered at a village clinic.
    pub async fn resident_in_village(&self, village_clinic_id: i64) -> i64 {
        sqlx::query_scalar("SELECT MIN(id) FROM residents WHERE village_clinic_id = $1")
            .bind(village_clinic_id)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Some resident of a township, outside the given village.
    pub async fn resident_in_township_outside(
        &self,
        township_id: i64,
        village_clinic_id: i64,
    ) -> i64 {
        sqlx::query_scalar(
            "SELECT MIN(id) FROM residents WHERE township_id = $1 AND village_clinic_id <> $2",
        )
        .bind(township_id)
        .bind(village_clinic_id)
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    pub async fn resident_outside_township(&self, township_id: i64) -> i64 {
        sqlx::query_scalar("SELECT MIN(id) FROM residents WHERE township_id <> $1")
            .bind(township_id)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// A resident's ID number.
    pub async fn id_number_of(&self, resident: i64) -> String {
        sqlx::query_scalar("SELECT id_number FROM residents WHERE id = $1")
            .bind(resident)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// An institution's code.
    pub async fn code_of(&self, institution: i64) -> String {
        sqlx::query_scalar("SELECT code FROM institutions WHERE id = $1")
            .bind(institution)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Runs the `yijia` binary against this app's database.
    pub fn yijia(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_yijia"))
            .args(args)
            .arg("--database-url")
            .arg(&self.database_url)
            .arg("--audit-anchor")
            .arg(&self.anchor_dir)
            .arg("--data-dir")
            .arg(data_dir_of(&self.anchor_dir))
            .env_remove("YIJIA_DATABASE_URL")
            .output()
            .expect("the yijia binary runs")
    }
}

/// The form token in a page's HTML.
/// The action of the resident page's ECG upload form (its form token in the query).
pub fn upload_action(page: &str, resident: i64) -> String {
    page.split("action=\"/residents/")
        .find(|part| part.starts_with(&format!("{resident}/ecgs")))
        .and_then(|part| part.split('"').next())
        .map(|path| format!("/residents/{}", path.replace("&amp;", "&")))
        .expect("the resident page has the upload form")
}

/// One indicator of a list of values, by code.
pub fn indicator<'a>(values: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    values
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == code)
        .unwrap_or_else(|| panic!("{code} is listed"))
}

pub fn form_token(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html
        .find(marker)
        .expect("the page has a form with its token")
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Asserts the status and the stable error code of a response.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// The Python of the virtual environment that holds the independent clients the tests compare
/// with: fhir.resources 6.2.2 (FHIR R4), fhirpy (a FHIR client), python-hl7 and hl7apy (HL7 v2).
/// `.ci/run` makes it.
pub fn python() -> std::path::PathBuf {
    let path = std::env::var_os("YIJIA_FHIR_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fhir-venv/bin/python")
        });
    assert!(
        path.exists(),
        "no Python clients at {}: run `bash .ci/run`, or `python3 -m venv target/fhir-venv && \
         target/fhir-venv/bin/pip install 'fhir.resources==6.2.2' 'pydantic<2' 'hl7==0.4.5' \
         'hl7apy==1.3.5' 'fhirpy==2.0.15'`",
        path.display()
    );
    path
}

/// Runs one of `tests/api/python/*.py` with `input` on stdin: its exit status and output.
pub async fn run_python(script: &str, input: &[u8]) -> (bool, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(python())
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/api/python")
                .join(script),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Validates FHIR resources against the FHIR R4 models of fhir.resources (`tests/fhir/validate.py`).
pub async fn validate_fhir(resources: &[Value]) {
    let file = std::env::temp_dir().join(format!(
        "yijia-fhir-{}-{}.json",
        std::process::id(),
        resources.len()
    ));
    std::fs::write(&file, serde_json::to_vec(resources).unwrap()).unwrap();
    let output = tokio::process::Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fhir/validate.py"
        ))
        .arg(&file)
        .output()
        .await
        .expect("the validator runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "FHIR R4 validation failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
