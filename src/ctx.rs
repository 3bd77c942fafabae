//! `Ctx`, what every operation needs besides its own arguments. It sits at the bottom of the
//! crate: it holds the database, the archive of files, the audit writer, the login slow-down,
//! the live hub and two settings, and knows nothing of the domains that use it or of the server (`app`) that runs
//! them.

use std::sync::Arc;

use crate::archive::Archive;
use crate::audit::Auditor;
use crate::audit::anchor::Anchor;
use crate::db::Db;
use crate::live::Hub;
use crate::staff::throttle::Throttle;

/// What every operation needs besides its own arguments: the database, the archive, the audit
/// writer, the login slow-down, the hub of live updates and the server's public address.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    /// Files kept by content outside the database (imaging instances).
    pub archive: Archive,
    pub auditor: Auditor,
    /// Failed logins per username and address, and per address.
    pub logins: Arc<Throttle>,
    pub live: Hub,
    /// The server's public base URL (`https://yijia.example.cn`), for absolute links and the
    /// same-origin check of page forms; from `serve --public-url`, else from the address the
    /// server listens on.
    pub public_url: Option<Arc<str>>,
    /// Where the audit chain's signed checkpoints are written, outside the database.
    pub audit_anchor: Option<Anchor>,
}

impl Ctx {
    /// Must be called inside a tokio runtime: it starts the audit writer.
    pub fn new(db: Db, archive: Archive) -> Ctx {
        let auditor = Auditor::start(db.clone());
        Ctx {
            db,
            archive,
            auditor,
            logins: Arc::default(),
            live: Hub::default(),
            public_url: None,
            audit_anchor: None,
        }
    }

    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.public_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8080")
            .trim_end_matches('/')
    }
}
