//! The running application: its shared context and the HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::audit::Auditor;
use crate::audit::anchor::Anchor;
use crate::db::Db;
use crate::live::Hub;
use crate::staff::throttle::Throttle;

/// What every operation needs besides its own arguments: the database, the audit writer, the
/// login slow-down, the hub of live updates and the server's public address.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
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
    pub fn new(db: Db) -> Ctx {
        let auditor = Auditor::start(db.clone());
        Ctx {
            db,
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

/// Serves the API and the web pages on `listener` until the process ends, with the
/// background jobs beside it.
pub async fn serve(listener: TcpListener, mut ctx: Ctx) -> std::io::Result<()> {
    if ctx.public_url.is_none() {
        ctx.public_url = Some(format!("http://{}", listener.local_addr()?).into());
    }
    tokio::spawn(crate::critical_value::run(ctx.clone()));
    if let Some(anchor) = ctx.audit_anchor.clone() {
        tokio::spawn(crate::audit::anchor::run(anchor, ctx.db.clone()));
    }
    let router = crate::http::router(ctx);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// Takes HL7 v2 messages from the LIS over MLLP on `listener` until the process ends.
pub async fn serve_mllp(listener: TcpListener, ctx: Ctx) {
    crate::hl7v2::mllp::serve(listener, move |message: Vec<u8>| {
        let ctx = ctx.clone();
        async move {
            let via = crate::health_record::lab::Via::Mllp;
            crate::health_record::lab::receive(&ctx, crate::clock::now_ms(), &message, via)
                .await
                .ack
        }
    })
    .await;
}
