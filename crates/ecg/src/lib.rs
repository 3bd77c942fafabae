//! ECG signal analysis for yijia, with no knowledge of HTTP or SQL: reading ECG files into one
//! canonical [`Waveform`], detecting QRS complexes, measuring rate, rhythm, intervals and ST
//! deviation, screening for STEMI, and generating synthetic 12-lead ECGs for tests.

pub mod analysis;
pub mod annotations;
pub mod delineate;
pub mod detect;
pub mod filter;
pub mod formats;
pub mod measure;
pub mod score;
pub mod stated;
pub mod stemi;
pub mod synth;
pub mod waveform;

pub use analysis::{Analysis, Patient, analyze};
pub use waveform::{Lead, Waveform};
