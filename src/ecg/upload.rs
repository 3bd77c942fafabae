//! `yijia upload ecg`: sending an ECG from a village clinic over a poor link. The upload is
//! first written to a spool directory with an idempotency key derived from its content, then
//! sent until the server acknowledges it; a retry — after a dropped connection, a crash or a
//! second run of the command — reuses the key, so the server keeps exactly one ECG.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub struct Request {
    pub files: Vec<PathBuf>,
    pub server: String,
    pub token: String,
    pub id_number: String,
    pub recorded_at: String,
    pub clinical_note: String,
    pub spool_dir: PathBuf,
    pub max_attempts: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct Spooled {
    key: String,
    id_number: String,
    recorded_at: String,
    clinical_note: String,
    files: Vec<String>,
}

/// Copies the upload into the spool and returns its directory and key.
fn spool(request: &Request) -> anyhow::Result<(PathBuf, Spooled)> {
    let mut hasher = Sha256::new();
    hasher.update(request.id_number.trim().as_bytes());
    hasher.update(request.recorded_at.trim().as_bytes());
    let mut contents = Vec::new();
    for path in &request.files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        hasher.update(&bytes);
        let name = path
            .file_name()
            .context("a file name")?
            .to_string_lossy()
            .into_owned();
        contents.push((name, bytes));
    }
    let key = hex::encode(&hasher.finalize()[..16]);
    let dir = request.spool_dir.join(&key);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, bytes) in &contents {
        std::fs::write(dir.join(name), bytes)?;
    }
    let spooled = Spooled {
        key,
        id_number: request.id_number.trim().to_owned(),
        recorded_at: request.recorded_at.trim().to_owned(),
        clinical_note: request.clinical_note.clone(),
        files: contents.into_iter().map(|(name, _)| name).collect(),
    };
    std::fs::write(
        dir.join("upload.json"),
        serde_json::to_vec_pretty(&spooled)?,
    )?;
    Ok((dir, spooled))
}

fn form(dir: &Path, spooled: &Spooled) -> anyhow::Result<reqwest::multipart::Form> {
    let mut form = reqwest::multipart::Form::new()
        .text("id_number", spooled.id_number.clone())
        .text("recorded_at", spooled.recorded_at.clone())
        .text("clinical_note", spooled.clinical_note.clone());
    for name in &spooled.files {
        let bytes = std::fs::read(dir.join(name))?;
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.clone()),
        );
    }
    Ok(form)
}

/// Sends the upload until the server answers; returns the server's JSON for the ECG.
pub async fn run(request: Request) -> anyhow::Result<serde_json::Value> {
    let (dir, spooled) = spool(&request)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let url = format!("{}/api/v1/ecgs", request.server.trim_end_matches('/'));
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = client
            .post(&url)
            .bearer_auth(&request.token)
            .header("Idempotency-Key", &spooled.key)
            .multipart(form(&dir, &spooled)?)
            .send()
            .await;
        let retry_reason = match sent {
            Ok(response) if response.status().is_success() => {
                let body: serde_json::Value = response.json().await?;
                std::fs::remove_dir_all(&dir)?;
                return Ok(body);
            }
            Ok(response)
                if response.status().is_client_error()
                    && response.status().as_u16() != 408
                    && response.status().as_u16() != 429 =>
            {
                // The server read it and refused it: sending again cannot help.
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                std::fs::remove_dir_all(&dir)?;
                bail!("the server refused the upload ({status}): {body}");
            }
            Ok(response) => format!("server answered {}", response.status()),
            Err(error) => format!("no answer: {error}"),
        };
        if request.max_attempts.is_some_and(|max| attempt >= max) {
            bail!(
                "gave up after {attempt} attempts ({retry_reason}); the upload stays in {} and the next run resends it with the same key",
                dir.display()
            );
        }
        let wait = Duration::from_secs((1u64 << attempt.min(6)).min(60));
        eprintln!(
            "attempt {attempt}: {retry_reason}; retrying in {} s",
            wait.as_secs()
        );
        tokio::time::sleep(wait).await;
    }
}
