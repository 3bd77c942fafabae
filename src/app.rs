//! The running application: the HTTP server with its background jobs, and the MLLP listener.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::ctx::Ctx;

/// Serves the API and the web pages on `listener` until the process ends, with the
/// background jobs beside it.
pub async fn serve(listener: TcpListener, mut ctx: Ctx) -> std::io::Result<()> {
    if ctx.public_url.is_none() {
        ctx.public_url = Some(format!("http://{}", listener.local_addr()?).into());
    }
    tokio::spawn(crate::critical_value::run(ctx.clone()));
    tokio::spawn(crate::supervision::run_nightly(ctx.clone()));
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

/// Takes HL7 v2 messages from the LIS over MLLP on `listener` until the process ends, from the
/// networks `allow` names for each sending facility.
pub async fn serve_mllp(listener: TcpListener, ctx: Ctx, allow: crate::hl7v2::mllp::AllowList) {
    let rules = std::sync::Arc::new(allow);
    crate::hl7v2::mllp::serve(listener, rules.clone(), move |message: Vec<u8>, peer| {
        let (ctx, rules) = (ctx.clone(), rules.clone());
        async move {
            let via = crate::health_record::lab::Via::Mllp(peer, &rules);
            crate::health_record::lab::receive(&ctx, crate::clock::now_ms(), &message, via)
                .await
                .ack
        }
    })
    .await;
}
