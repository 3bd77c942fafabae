//! What an ECG file states beside its samples: the device that recorded it and the device's
//! own automatic analysis (rate, intervals, axes, interpretation text). yijia keeps both next
//! to its own analysis and flags where they disagree.

use serde::{Deserialize, Serialize};

/// The recording device, as far as the file names it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

impl Device {
    /// A device from optional names, `None` when the file names nothing.
    pub fn named(manufacturer: Option<String>, model: Option<String>) -> Option<Device> {
        let clean = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let device = Device {
            manufacturer: clean(manufacturer),
            model: clean(model),
        };
        (device.manufacturer.is_some() || device.model.is_some()).then_some(device)
    }
}

/// The device's own automatic analysis, as the file states it (设备自动分析).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatement {
    pub heart_rate_bpm: Option<f64>,
    pub pr_ms: Option<f64>,
    pub qrs_ms: Option<f64>,
    pub qt_ms: Option<f64>,
    pub qtc_ms: Option<f64>,
    pub p_axis_deg: Option<f64>,
    pub qrs_axis_deg: Option<f64>,
    pub t_axis_deg: Option<f64>,
    /// The interpretation statements, one per line.
    pub text: Option<String>,
}

impl DeviceStatement {
    /// `None` when the file stated nothing at all.
    pub fn if_any(self) -> Option<DeviceStatement> {
        (self != DeviceStatement::default()).then_some(self)
    }

    /// Keeps a stated interval only where it is one an ECG can have (a device writes 0 or a
    /// sentinel for "not measured").
    pub fn plausible(mut self) -> DeviceStatement {
        let keep = |v: Option<f64>, range: std::ops::RangeInclusive<f64>| {
            v.filter(|v| v.is_finite() && range.contains(v))
        };
        self.heart_rate_bpm = keep(self.heart_rate_bpm, 10.0..=400.0);
        self.pr_ms = keep(self.pr_ms, 40.0..=600.0);
        self.qrs_ms = keep(self.qrs_ms, 30.0..=300.0);
        self.qt_ms = keep(self.qt_ms, 150.0..=800.0);
        self.qtc_ms = keep(self.qtc_ms, 150.0..=800.0);
        self.p_axis_deg = keep(self.p_axis_deg, -180.0..=360.0);
        self.qrs_axis_deg = keep(self.qrs_axis_deg, -180.0..=360.0);
        self.t_axis_deg = keep(self.t_axis_deg, -180.0..=360.0);
        self.text = self
            .text
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        self
    }
}

/// How far yijia's measurement may be from the device's before the reader is told: PR 20 ms,
/// QRS 15 ms, QT 30 ms, heart rate 5 % (the limits certified algorithms keep against each
/// other; IEC 60601-2-25 asks about ±10 ms for PR and QRS and ±25 ms for QT on the CSE set).
pub const TOLERANCE_PR_MS: f64 = 20.0;
pub const TOLERANCE_QRS_MS: f64 = 15.0;
pub const TOLERANCE_QT_MS: f64 = 30.0;
pub const TOLERANCE_RATE: f64 = 0.05;
