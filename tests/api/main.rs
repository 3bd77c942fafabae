//! The one integration-test binary: every test drives the real server over HTTP.

mod access;
mod audit;
mod auth;
mod chronic;
mod chronic_calls;
mod chronic_follow_up;
mod chronic_indicators;
mod chronic_monthly;
mod chronic_pages;
mod ecg;
mod ecg_devices;
mod family_doctor;
mod fhir;
mod hardening;
mod health_record;
mod helpers;
mod indicators;
mod institutions;
mod insurance;
mod lab_messages;
mod page_actions;
mod portal;
mod referral;
mod residents;
mod targets;
mod workbench;
