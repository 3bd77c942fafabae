//! The chest pain centre's time points and intervals for a green-channel case. Points that
//! yijia witnesses (ECG recorded and received, report signed, referral submitted and accepted,
//! arrival) come from its own records; first medical contact, departure, cath-lab activation
//! and wire crossing are entered by staff. Intervals are computed, never stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Point {
    FirstMedicalContact,
    EcgRecorded,
    EcgReceived,
    ReportSigned,
    ReferralSubmitted,
    Accepted,
    Departure,
    /// Arrival at the receiving hospital's door.
    Arrival,
    CathLabActivation,
    /// Reperfusion: the guide wire crosses the culprit lesion.
    WireCrossing,
}

impl Point {
    pub const ENTERED_BY_STAFF: [Point; 4] = [
        Point::FirstMedicalContact,
        Point::Departure,
        Point::CathLabActivation,
        Point::WireCrossing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Point::FirstMedicalContact => "first_medical_contact",
            Point::EcgRecorded => "ecg_recorded",
            Point::EcgReceived => "ecg_received",
            Point::ReportSigned => "report_signed",
            Point::ReferralSubmitted => "referral_submitted",
            Point::Accepted => "accepted",
            Point::Departure => "departure",
            Point::Arrival => "arrival",
            Point::CathLabActivation => "cath_lab_activation",
            Point::WireCrossing => "wire_crossing",
        }
    }

    pub fn parse(text: &str) -> Option<Point> {
        [
            Point::FirstMedicalContact,
            Point::EcgRecorded,
            Point::EcgReceived,
            Point::ReportSigned,
            Point::ReferralSubmitted,
            Point::Accepted,
            Point::Departure,
            Point::Arrival,
            Point::CathLabActivation,
            Point::WireCrossing,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }

    /// The point a referral step marks, if any.
    pub fn of_step(to_state: &str) -> Option<Point> {
        match to_state {
            "submitted" => Some(Point::ReferralSubmitted),
            "accepted" => Some(Point::Accepted),
            "arrived" => Some(Point::Arrival),
            _ => None,
        }
    }
}

/// An interval between two points with its target, in minutes.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Interval {
    pub name: &'static str,
    pub from: Point,
    pub to: Point,
    pub minutes: Option<f64>,
    pub target_minutes: Option<f64>,
    /// Whether the interval met its target; absent while a point is missing or without target.
    pub within_target: Option<bool>,
}

/// The chest pain centre intervals: (name, from, to, target minutes). ECG-to-report's target is
/// yijia's own STAT turnaround.
const INTERVALS: [(&str, Point, Point, Option<f64>); 6] = [
    (
        "fmc_to_ecg",
        Point::FirstMedicalContact,
        Point::EcgRecorded,
        Some(10.0),
    ),
    (
        "ecg_to_report",
        Point::EcgReceived,
        Point::ReportSigned,
        Some(10.0),
    ),
    (
        "report_to_departure",
        Point::ReportSigned,
        Point::Departure,
        None,
    ),
    // Door-in-door-out at the non-PCI site: from first contact there to leaving for the PCI
    // hospital.
    (
        "door_in_door_out",
        Point::FirstMedicalContact,
        Point::Departure,
        Some(30.0),
    ),
    (
        "door_to_balloon",
        Point::Arrival,
        Point::WireCrossing,
        Some(90.0),
    ),
    (
        "fmc_to_balloon",
        Point::FirstMedicalContact,
        Point::WireCrossing,
        Some(120.0),
    ),
];

pub fn intervals(points: &BTreeMap<Point, i64>) -> Vec<Interval> {
    INTERVALS
        .iter()
        .map(|&(name, from, to, target_minutes)| {
            let minutes = match (points.get(&from), points.get(&to)) {
                (Some(a), Some(b)) => Some(((b - a) as f64 / 60_000.0 * 10.0).round() / 10.0),
                _ => None,
            };
            let within_target = minutes.zip(target_minutes).map(|(m, t)| m <= t);
            Interval {
                name,
                from,
                to,
                minutes,
                target_minutes,
                within_target,
            }
        })
        .collect()
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub referral_id: i64,
    /// Point → milliseconds since the epoch.
    pub points: BTreeMap<String, i64>,
    pub intervals: Vec<Interval>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTimePoint {
    pub point: String,
    /// RFC 3339 time, or milliseconds since the epoch.
    pub at: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn door_to_balloon_and_fmc_to_ecg_are_measured_against_their_targets() {
        let minute = 60_000;
        let points = BTreeMap::from([
            (Point::FirstMedicalContact, 0),
            (Point::EcgRecorded, 8 * minute),
            (Point::Arrival, 60 * minute),
            (Point::WireCrossing, 155 * minute),
        ]);
        let all = intervals(&points);
        let get = |name: &str| all.iter().find(|i| i.name == name).unwrap();
        assert_eq!(get("fmc_to_ecg").minutes, Some(8.0));
        assert_eq!(get("fmc_to_ecg").within_target, Some(true));
        assert_eq!(get("door_to_balloon").minutes, Some(95.0));
        assert_eq!(get("door_to_balloon").within_target, Some(false));
        assert_eq!(get("fmc_to_balloon").within_target, Some(false));
        assert_eq!(get("ecg_to_report").minutes, None);
    }
}
