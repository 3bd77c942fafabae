//! The ECG network (心电一张网): ECGs uploaded from any clinic, analysed at once, read at the
//! ECG centre. The signal analysis itself lives in the `yijia-ecg` crate.

pub mod cli;
