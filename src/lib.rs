//! yijia (一家): the information platform of a close-knit county medical community.
//!
//! The library holds everything; `main.rs` only calls [`cli::main`]. See ARCHITECTURE.md for
//! the map of modules and the rules that hold between them.

#[macro_use]
mod text_enum;

pub mod access;
pub mod app;
pub mod archive;
pub mod assessment;
pub mod audit;
pub mod chronic;
pub mod cli;
pub mod clock;
pub mod critical_value;
pub mod csv_import;
pub mod ctx;
pub mod db;
pub mod demo;
pub mod dispatch;
pub mod ecg;
pub mod family_doctor;
pub mod fhir;
pub mod health_record;
pub mod hl7v2;
pub mod http;
pub mod icd10;
pub mod imaging;
pub mod indicator;
pub mod institution;
pub mod insurance;
pub mod live;
pub mod money;
pub mod portal;
pub mod reading;
pub mod recognition;
pub mod referral;
pub mod resident;
pub mod staff;
pub mod supervision;
pub mod web;
