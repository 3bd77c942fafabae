//! yijia (一家): the information platform of a close-knit county medical community.
//!
//! The library holds everything; `main.rs` only calls [`cli::main`]. See ARCHITECTURE.md for
//! the map of modules and the rules that hold between them.

pub mod access;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod db;
pub mod demo;
pub mod ecg;
pub mod http;
pub mod institution;
pub mod live;
pub mod referral;
pub mod resident;
pub mod staff;
pub mod web;
