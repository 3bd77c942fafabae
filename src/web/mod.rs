//! placeholder
use axum::Router;
pub fn routes() -> Router<crate::app::Ctx> { Router::new() }
