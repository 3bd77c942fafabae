//! The command line: `serve`, `demo`, `admin create-user`, `backup` and `audit verify`.
//! Errors end here: they are printed once and become the exit code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::access::Role;
use crate::app;
use crate::archive::Archive;
use crate::ctx::Ctx;
use crate::db::{self, Db, Engine};
use crate::staff::model::{NewStaff, TitleLevel};
use crate::{audit, clock, demo, staff};

#[derive(Parser)]
#[command(
    name = "yijia",
    version,
    about = "紧密型县域医共体信息平台 — the county medical community platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives: an embedded SQLite file in the data directory, or PostgreSQL.
#[derive(Args, Clone)]
pub struct Storage {
    /// Directory for the embedded database and stored files.
    #[arg(long, default_value = "./yijia-data")]
    data_dir: PathBuf,
    /// A postgres://… URL to use PostgreSQL instead of the embedded database.
    #[arg(long, env = "YIJIA_DATABASE_URL")]
    database_url: Option<String>,
    /// Where the audit chain's signed checkpoints and their key are kept: outside the
    /// database, on storage its administrators cannot write. Default: beside the data
    /// directory, DATA_DIR.anchor.
    #[arg(long, env = "YIJIA_AUDIT_ANCHOR")]
    audit_anchor: Option<PathBuf>,
}

impl Storage {
    pub fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
                Ok(db::sqlite_url(&self.data_dir))
            }
        }
    }

    fn anchor(&self) -> anyhow::Result<audit::anchor::Anchor> {
        let dir = self.audit_anchor.clone().unwrap_or_else(|| {
            let mut name = self.data_dir.clone().into_os_string();
            name.push(".anchor");
            PathBuf::from(name)
        });
        Ok(audit::anchor::Anchor::open(&dir)?)
    }

    async fn connect(&self) -> anyhow::Result<Db> {
        let url = self.url()?;
        Db::connect(&url).await.context("cannot open the database")
    }

    /// Where files are kept by their content: DATA_DIR/archive, with either database.
    fn archive(&self) -> anyhow::Result<Archive> {
        let dir = self.data_dir.join("archive");
        Archive::open(&dir).with_context(|| format!("cannot open {}", dir.display()))
    }

    /// The database and the archive, for one command.
    async fn ctx(&self) -> anyhow::Result<Ctx> {
        Ok(Ctx::new(self.connect().await?, self.archive()?))
    }
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Out-of-county care from the insurance bureau's settlement export (CSV); bad rows are
    /// reported with their line numbers and nothing is imported.
    OutOfCounty {
        file: PathBuf,
        /// The community's code (needed when the database holds several).
        #[arg(long)]
        community: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
    /// The year's payroll from the personnel system (CSV: institution_code, staff_id,
    /// gross_income_fen); kept only as each institution's sum and head count, replacing the
    /// year's. Bad rows are reported with their line numbers and nothing is imported.
    Payroll {
        file: PathBuf,
        /// The year the income was paid in.
        #[arg(long)]
        year: i32,
        #[arg(long)]
        community: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations and serve the API and web pages.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[command(flatten)]
        storage: Storage,
        /// Load the small demo community into an empty database and print its accounts.
        #[arg(long)]
        demo: bool,
        /// Also take HL7 v2 messages from the LIS over MLLP (TCP) here, e.g. 127.0.0.1:2575.
        #[arg(long)]
        mllp_addr: Option<SocketAddr>,
        /// Which networks each sending facility may send HL7 v2 from over MLLP, as CODE=CIDR
        /// (repeat it: --mllp-allow C-LAB=10.2.0.0/16 --mllp-allow H-LAB=10.3.1.7); without
        /// it any peer may connect.
        #[arg(long = "mllp-allow", value_name = "CODE=CIDR")]
        mllp_allow: Vec<String>,
        /// Also take DICOM from the modalities here (C-ECHO, C-STORE, Modality Worklist),
        /// e.g. 127.0.0.1:11112; the calling AE titles are the allow-listed modalities'.
        /// With --demo and without it: 127.0.0.1:11112 when free.
        #[arg(long)]
        dicom_addr: Option<SocketAddr>,
        /// The imaging centre's own AE title, the one the modalities call.
        #[arg(long, default_value = "YIJIA")]
        dicom_aet: String,
        /// The address users reach the server at, e.g. https://yijia.example.cn behind a
        /// proxy: used for absolute links and the same-origin check of forms. Default:
        /// http://ADDR.
        #[arg(long, env = "YIJIA_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Load demo data.
    Demo {
        #[arg(long, value_enum, default_value = "small")]
        size: demo::Size,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        storage: Storage,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write a consistent copy of the database to PATH while the server runs.
    Backup {
        path: PathBuf,
        #[command(flatten)]
        storage: Storage,
    },
    /// Import data from other systems.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Send files to a yijia server, retrying until it acknowledges them.
    Upload {
        #[command(subcommand)]
        command: UploadCommand,
    },
    /// ECG tools that work on files, without a server.
    Ecg {
        #[command(subcommand)]
        command: EcgCommand,
    },
}

#[derive(Subcommand)]
enum UploadCommand {
    /// Upload an ECG (one DICOM, aECG or JSON file, or a WFDB .hea and .dat) for a resident.
    Ecg {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        server: String,
        #[arg(long, env = "YIJIA_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long)]
        id_number: String,
        /// When the ECG was recorded (RFC 3339); default now.
        #[arg(long)]
        recorded_at: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
        /// Where uploads wait until the server has them.
        #[arg(long, default_value = "./yijia-spool")]
        spool_dir: PathBuf,
        /// Stop after this many attempts (default: keep trying).
        #[arg(long)]
        max_attempts: Option<u32>,
    },
}

#[derive(Subcommand)]
enum EcgCommand {
    /// Analyse an ECG recording and print the findings: one file (DICOM, HL7 aECG, SCP-ECG,
    /// GE MUSE/CardioSoft or Philips XML, EDF/BDF, JSON) or a WFDB .hea with its signal files.
    Analyze {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the whole analysis as JSON.
        #[arg(long)]
        json: bool,
        /// The patient's sex (male or female), for the V2–V3 STEMI limits.
        #[arg(long)]
        sex: Option<String>,
        #[arg(long)]
        age: Option<u32>,
    },
    /// List the ECG formats read, with the sample files that prove each.
    Formats,
    /// Score QRS detection against reference annotations (.atr beside each .hea), as EC57.
    Score {
        #[arg(required = true)]
        records: Vec<PathBuf>,
    },
    /// Print a deterministic synthetic 12-lead ECG in the JSON form.
    Synth {
        #[arg(value_enum)]
        case: crate::ecg::cli::SynthCase,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a staff account. The password is read from YIJIA_PASSWORD.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// village_doctor, doctor, reader, admin, insurance_officer or supervisor; repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The code of the institution the person works at (e.g. LH, T01, V001).
        #[arg(long)]
        institution: Option<String>,
        /// junior, intermediate, associate_senior or senior.
        #[arg(long)]
        title_level: Option<String>,
        /// The community's code; defaults to the only community.
        #[arg(long)]
        community: Option<String>,
        #[arg(long, env = "YIJIA_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Exit 0 only if every community's audit chain is intact and still holds its newest
    /// signed checkpoint.
    Verify {
        #[command(flatten)]
        storage: Storage,
    },
    /// Write a signed checkpoint of every chain's head now, and print it (to keep a copy
    /// elsewhere as well).
    Checkpoint {
        #[command(flatten)]
        storage: Storage,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve {
            addr,
            storage,
            demo,
            mllp_addr,
            mllp_allow,
            dicom_addr,
            dicom_aet,
            public_url,
        } => {
            let listeners = Listeners {
                mllp_addr,
                mllp_allow,
                dicom_addr,
                dicom_aet,
            };
            serve(addr, listeners, public_url, storage, demo).await
        }
        Command::Demo {
            size,
            seed,
            storage,
        } => {
            let ctx = storage.ctx().await?;
            let started = std::time::Instant::now();
            match demo::load(
                &ctx,
                clock::now_ms(),
                clock::today_cst(),
                size,
                seed,
                true,
                true,
            )
            .await?
            {
                Some(summary) => {
                    println!(
                        "demo community loaded in {:.1} s: {} institutions, {} residents",
                        started.elapsed().as_secs_f64(),
                        summary.institutions,
                        summary.residents
                    );
                    print_accounts(&summary.accounts);
                }
                None => println!("the demo community is already loaded; nothing done"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    username,
                    name,
                    roles,
                    institution,
                    title_level,
                    community,
                    password,
                    storage,
                },
        } => {
            let ctx = storage.ctx().await?;
            let community_id = community_id(&ctx, community.as_deref()).await?;
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).with_context(|| format!("unknown role {r:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let institution_id = match institution {
                Some(code) => Some(
                    sqlx::query_scalar::<_, i64>(
                        "SELECT id FROM institutions WHERE community_id = $1 AND code = $2",
                    )
                    .bind(community_id)
                    .bind(&code)
                    .fetch_optional(&ctx.db.pool)
                    .await?
                    .with_context(|| format!("no institution with code {code:?}"))?,
                ),
                None => None,
            };
            let title_level = match title_level {
                Some(text) => Some(
                    TitleLevel::parse(&text)
                        .with_context(|| format!("unknown title level {text:?}"))?,
                ),
                None => None,
            };
            let new = NewStaff {
                username,
                password,
                name,
                institution_id,
                department_id: None,
                title_level,
                roles,
                resident_id: None,
            };
            let id = staff::create_unchecked(&ctx, clock::now_ms(), community_id, &new).await?;
            println!("created account {} (id {id})", new.username);
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { path, storage } => {
            backup(&storage, &path).await?;
            let files = backup_archive(&storage.archive()?, &archive_beside(&path))?;
            println!(
                "backup written to {} and its {files} archived files to {}",
                path.display(),
                archive_beside(&path).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Ecg { command } => crate::ecg::cli::run(command_to_ecg(command)),
        Command::Upload {
            command:
                UploadCommand::Ecg {
                    files,
                    server,
                    token,
                    id_number,
                    recorded_at,
                    note,
                    spool_dir,
                    max_attempts,
                },
        } => {
            let recorded_at = match recorded_at {
                Some(text) => text,
                None => time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)?,
            };
            let request = crate::ecg::upload::Request {
                files,
                server,
                token,
                id_number,
                recorded_at,
                clinical_note: note,
                spool_dir,
                max_attempts,
            };
            let ecg = crate::ecg::upload::run(request).await?;
            println!(
                "uploaded: ECG {} ({})",
                ecg["id"],
                ecg["priority"].as_str().unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            command:
                ImportCommand::OutOfCounty {
                    file,
                    community,
                    storage,
                },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let ctx = storage.ctx().await?;
            let community_id = community_id(&ctx, community.as_deref()).await?;
            let lines = text.lines().count().saturating_sub(1) as u64;
            let bar = indicatif::ProgressBar::new(lines);
            let result = crate::insurance::import::out_of_county(
                &ctx,
                clock::now_ms(),
                community_id,
                &text,
                &|n| bar.set_position(n),
            )
            .await;
            bar.finish_and_clear();
            match result {
                Ok(imported) => {
                    println!(
                        "{} rows: {} imported, {} already imported",
                        imported.rows, imported.imported, imported.already_imported
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::insurance::import::ImportError::BadRows(rows)) => {
                    eprintln!("{rows}");
                    Ok(ExitCode::from(1))
                }
                Err(error) => Err(error.into()),
            }
        }
        Command::Import {
            command:
                ImportCommand::Payroll {
                    file,
                    year,
                    community,
                    storage,
                },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let ctx = storage.ctx().await?;
            let community_id = community_id(&ctx, community.as_deref()).await?;
            let bar = indicatif::ProgressBar::new(text.lines().count().saturating_sub(1) as u64);
            let result = crate::staff::payroll::import(
                &ctx,
                clock::now_ms(),
                (community_id, year),
                &text,
                &|n| bar.set_position(n),
            )
            .await;
            bar.finish_and_clear();
            match result {
                Ok(imported) => {
                    println!(
                        "{} rows: payroll {year} of {} institutions imported",
                        imported.rows, imported.institutions
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::staff::payroll::Error::BadRows(rows)) => {
                    eprintln!("{rows}");
                    Ok(ExitCode::from(1))
                }
                Err(error) => Err(error.into()),
            }
        }
        Command::Audit {
            command: AuditCommand::Checkpoint { storage },
        } => {
            let db = storage.connect().await?;
            let lines = storage.anchor()?.checkpoint(&db, clock::now_ms()).await?;
            if lines.is_empty() {
                println!("no chain moved since the last checkpoint");
            }
            for line in lines {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { storage },
        } => {
            let db = storage.connect().await?;
            match audit::verify(&db, Some(&storage.anchor()?)).await? {
                audit::Verdict::Intact { entries } => {
                    println!("audit chain intact: {entries} entries");
                    Ok(ExitCode::SUCCESS)
                }
                audit::Verdict::Broken {
                    community_id,
                    seq,
                    reason,
                } => {
                    println!(
                        "audit chain BROKEN in community {community_id} at entry {seq}: {reason}"
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

async fn community_id(ctx: &Ctx, code: Option<&str>) -> anyhow::Result<i64> {
    let ids: Vec<i64> = match code {
        Some(code) => {
            sqlx::query_scalar("SELECT id FROM communities WHERE code = $1")
                .bind(code.to_owned())
                .fetch_all(&ctx.db.pool)
                .await?
        }
        None => {
            sqlx::query_scalar("SELECT id FROM communities ORDER BY id")
                .fetch_all(&ctx.db.pool)
                .await?
        }
    };
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => bail!("no such community; load one first (yijia demo)"),
        _ => bail!("several communities: name one with --community"),
    }
}

/// Where `serve --demo` listens for DICOM when no `--dicom-addr` is given.
const DEMO_DICOM_ADDR: &str = "127.0.0.1:11112";

/// The listeners beside HTTP: HL7 v2 over MLLP and DICOM.
struct Listeners {
    mllp_addr: Option<SocketAddr>,
    mllp_allow: Vec<String>,
    dicom_addr: Option<SocketAddr>,
    dicom_aet: String,
}

async fn serve(
    addr: SocketAddr,
    listeners: Listeners,
    public_url: Option<String>,
    storage: Storage,
    load_demo: bool,
) -> anyhow::Result<ExitCode> {
    let mut ctx = storage.ctx().await?;
    ctx.audit_anchor = Some(storage.anchor()?);
    let moved = crate::imaging::store::move_to_archive(&ctx.db, &ctx.archive).await?;
    if moved > 0 {
        println!("moved {moved} imaging instances from the database to the archive");
    }
    let filled = crate::resident::store::fill_pinyin(&ctx.db).await?;
    if filled > 0 {
        println!("wrote the pinyin of {filled} residents' names");
    }
    if let Some(url) = public_url {
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "--public-url must begin with http:// or https://"
        );
        ctx.public_url = Some(url.trim_end_matches('/').into());
    }
    if load_demo {
        match demo::load(
            &ctx,
            clock::now_ms(),
            clock::today_cst(),
            demo::Size::Small,
            1,
            false,
            true,
        )
        .await?
        {
            Some(summary) => {
                println!(
                    "loaded the demo community: {} institutions, {} residents",
                    summary.institutions, summary.residents
                );
                print_accounts(&summary.accounts);
            }
            None => println!(
                "the demo community is already loaded (password of the demo accounts: {})",
                demo::DEMO_PASSWORD
            ),
        }
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!("yijia is listening on http://{}", listener.local_addr()?);
    if let Some(mllp_addr) = listeners.mllp_addr {
        let mllp = tokio::net::TcpListener::bind(mllp_addr)
            .await
            .with_context(|| format!("cannot listen for MLLP on {mllp_addr}"))?;
        println!("HL7 v2 over MLLP on {}", mllp.local_addr()?);
        let allow = crate::hl7v2::mllp::AllowList::parse(&listeners.mllp_allow)
            .map_err(|e| anyhow::anyhow!("--mllp-allow: {e}"))?;
        tokio::spawn(app::serve_mllp(mllp, ctx.clone(), allow));
    }
    let aet = listeners.dicom_aet.trim().to_owned();
    anyhow::ensure!(
        crate::imaging::modality::valid_ae_title(&aet),
        "--dicom-aet: 1 to 16 ASCII characters without a backslash"
    );
    if let Some(dicom_addr) = listeners.dicom_addr {
        let dicom = tokio::net::TcpListener::bind(dicom_addr)
            .await
            .with_context(|| format!("cannot listen for DICOM on {dicom_addr}"))?;
        println!("DICOM (AE title {aet}) on {}", dicom.local_addr()?);
        tokio::spawn(crate::imaging::dimse::serve(dicom, ctx.clone(), aet));
    } else if load_demo {
        // The demo listens for DICOM where DCMTK's tools call by default, when that port is free.
        match tokio::net::TcpListener::bind(DEMO_DICOM_ADDR).await {
            Ok(dicom) => {
                println!("DICOM (AE title {aet}) on {DEMO_DICOM_ADDR}");
                tokio::spawn(crate::imaging::dimse::serve(dicom, ctx.clone(), aet));
            }
            Err(error) => println!("no DICOM listener: {DEMO_DICOM_ADDR} is taken ({error})"),
        }
    }
    app::serve(listener, ctx).await?;
    Ok(ExitCode::SUCCESS)
}

fn print_accounts(accounts: &[demo::DemoAccount]) {
    println!("demo accounts (password {}):", demo::DEMO_PASSWORD);
    for account in accounts {
        println!(
            "  {:<18} {:<18} {}",
            account.username,
            account.role.as_str(),
            account.place
        );
    }
}

async fn backup(storage: &Storage, path: &std::path::Path) -> anyhow::Result<()> {
    if path.exists() {
        bail!("{} exists already; choose a new path", path.display());
    }
    let db = storage.connect().await?;
    match db.engine {
        Engine::Sqlite => {
            // VACUUM INTO writes a consistent snapshot while other connections keep working.
            let target = path
                .to_str()
                .context("the backup path must be UTF-8")?
                .replace('\'', "''");
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{target}'")))
                .execute(&db.pool)
                .await?;
        }
        Engine::Postgres => {
            let url = storage.url()?;
            let status = std::process::Command::new("pg_dump")
                .args(["--format=custom", "--file"])
                .arg(path)
                .arg(&url)
                .status()
                .context("pg_dump is needed to back up PostgreSQL")?;
            if !status.success() {
                bail!("pg_dump failed with {status}");
            }
        }
    }
    Ok(())
}

/// Where the backup at `path` keeps the archive's files: PATH.archive.
fn archive_beside(path: &std::path::Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".archive");
    PathBuf::from(name)
}

/// Copies the archive's files to `target` after the database's snapshot: every file a row of
/// the snapshot names was written before that row, so the copy holds them all.
fn backup_archive(archive: &Archive, target: &std::path::Path) -> anyhow::Result<usize> {
    let mut copied = 0;
    for folder in std::fs::read_dir(archive.root())? {
        let folder = folder?;
        if !folder.file_type()?.is_dir() {
            continue;
        }
        let into = target.join(folder.file_name());
        std::fs::create_dir_all(&into)?;
        for file in std::fs::read_dir(folder.path())? {
            let file = file?;
            if file.file_name().to_string_lossy().starts_with('.') {
                continue; // still being written: no row names it yet
            }
            std::fs::copy(file.path(), into.join(file.file_name()))
                .with_context(|| format!("cannot copy {}", file.path().display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

fn command_to_ecg(command: EcgCommand) -> crate::ecg::cli::Command {
    match command {
        EcgCommand::Analyze {
            files,
            json,
            sex,
            age,
        } => crate::ecg::cli::Command::Analyze {
            files,
            json,
            sex,
            age,
        },
        EcgCommand::Formats => crate::ecg::cli::Command::Formats,
        EcgCommand::Score { records } => crate::ecg::cli::Command::Score { records },
        EcgCommand::Synth { case } => crate::ecg::cli::Command::Synth { case },
    }
}
