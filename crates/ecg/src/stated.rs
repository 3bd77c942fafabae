//! What an ECG file states beside its samples: the device that recorded it, when, and the device's
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

/// When a file says its recording was made: the date and time as the device wrote them (its
/// local time), and the offset from UTC where the file gives one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatedTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i16>,
}

impl StatedTime {
    /// A date and time that exists (leap years counted; a leap second allowed), between 1900
    /// and 2199; anything else is no statement.
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1900..2200).contains(&year)
            && (1..=days).contains(&day)
            && hour < 24
            && minute < 60
            && second <= 60)
            .then_some(StatedTime {
                year,
                month,
                day,
                hour,
                minute,
                second: second.min(59),
                utc_offset_minutes: None,
            })
    }

    /// The same time with its offset from UTC, when the offset is a real one (±14:00).
    pub fn with_offset(self, minutes: Option<i16>) -> Self {
        StatedTime {
            utc_offset_minutes: minutes.filter(|m| m.abs() <= 14 * 60),
            ..self
        }
    }

    /// Reads `YYYYMMDD[HH[MM[SS[.ffff]]]][+/-ZZZZ]`: an HL7 TS, a DICOM DT, or DA and TM joined.
    pub fn from_compact(text: &str) -> Option<Self> {
        let text = text.trim();
        let (body, offset) = match text.find(['+', '-']) {
            Some(at) => (&text[..at], Some(&text[at..])),
            None => (text, None),
        };
        let body = body.split('.').next().unwrap_or_default();
        if body.len() < 8 || body.len() > 14 || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let field =
            |range: std::ops::Range<usize>| body.get(range).and_then(|s| s.parse::<u8>().ok());
        let time = StatedTime::new(
            body[..4].parse().ok()?,
            field(4..6)?,
            field(6..8)?,
            field(8..10).unwrap_or(0),
            field(10..12).unwrap_or(0),
            field(12..14).unwrap_or(0),
        )?;
        Some(time.with_offset(offset.and_then(parse_offset)))
    }

    /// RFC 3339, with the stated offset, or `default_offset_minutes` where the file gives none.
    pub fn rfc3339(&self, default_offset_minutes: i16) -> String {
        let offset = self.utc_offset_minutes.unwrap_or(default_offset_minutes);
        let sign = if offset < 0 { '-' } else { '+' };
        let offset = offset.unsigned_abs();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            offset / 60,
            offset % 60
        )
    }
}

/// How a written date orders its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateOrder {
    /// `2026-11-30` (Philips).
    YearMonthDay,
    /// `11-30-2026` (GE MUSE).
    MonthDayYear,
    /// `30.11.26` (EDF), `30/11/2026` (WFDB).
    DayMonthYear,
}

impl StatedTime {
    /// A date written with separators in `order` and a time `HH:MM[:SS[.fff]]` (or `HH.MM.SS`);
    /// a two-digit year is 1985–2084, as EDF has it.
    pub fn from_written(date: &str, time: Option<&str>, order: DateOrder) -> Option<Self> {
        let numbers = |text: &str| -> Option<Vec<u16>> {
            text.trim()
                .split(|c: char| !c.is_ascii_digit())
                .filter(|part| !part.is_empty())
                .map(|part| part.parse().ok())
                .collect()
        };
        let date = numbers(date)?;
        let [a, b, c] = date[..] else {
            return None;
        };
        let (year, month, day) = match order {
            DateOrder::YearMonthDay => (a, b, c),
            DateOrder::MonthDayYear => (c, a, b),
            DateOrder::DayMonthYear => (c, b, a),
        };
        let year = match year {
            0..=84 => year + 2000,
            85..=99 => year + 1900,
            _ => year,
        };
        let time = match time {
            Some(time) => numbers(time)?,
            None => vec![0, 0, 0],
        };
        let part = |i: usize| time.get(i).copied().unwrap_or(0);
        if time.len() < 2 || part(0) > 23 || part(1) > 59 || part(2) > 60 {
            return None;
        }
        StatedTime::new(
            year,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
            part(0) as u8,
            part(1) as u8,
            part(2) as u8,
        )
    }
}

/// `+0800`, `-0530` (DICOM and HL7) in minutes.
pub fn parse_offset(text: &str) -> Option<i16> {
    let text = text.trim();
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = &text[1..];
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i16 = digits[..2].parse().ok()?;
    let minutes: i16 = digits[2..].parse().ok()?;
    (minutes < 60).then_some(sign * (hours * 60 + minutes))
}

#[cfg(test)]
mod stated_time_tests {
    use super::*;

    #[test]
    fn compact_times_are_read_with_their_offset() {
        let t = StatedTime::from_compact("20021122091000.000+0100").unwrap();
        assert_eq!(t.rfc3339(480), "2002-11-22T09:10:00+01:00");
        let t = StatedTime::from_compact("20261130").unwrap();
        assert_eq!(t.rfc3339(480), "2026-11-30T00:00:00+08:00");
        for bad in [
            "2026113",
            "20261340",
            "20260230",
            "abcdefgh",
            "20261130256000",
        ] {
            assert_eq!(StatedTime::from_compact(bad), None, "{bad}");
        }
        assert!(StatedTime::new(2024, 2, 29, 0, 0, 0).is_some());
        assert_eq!(StatedTime::new(2023, 2, 29, 0, 0, 0), None);
    }

    #[test]
    fn written_dates_are_read_in_their_order() {
        let at = |d, t, o| StatedTime::from_written(d, t, o).map(|s| s.rfc3339(480));
        let want = Some("2026-11-30T08:05:09+08:00".to_owned());
        assert_eq!(
            at("2026-11-30", Some("08:05:09"), DateOrder::YearMonthDay),
            want
        );
        assert_eq!(
            at("11-30-2026", Some("08:05:09"), DateOrder::MonthDayYear),
            want
        );
        assert_eq!(
            at("30.11.26", Some("08.05.09"), DateOrder::DayMonthYear),
            want
        );
        assert_eq!(
            at("30/11/2026", Some("8:05:09.250"), DateOrder::DayMonthYear),
            want
        );
        assert_eq!(at("XXXX", Some("XXXX"), DateOrder::YearMonthDay), None);
        assert_eq!(at("31.02.26", None, DateOrder::DayMonthYear), None);
    }
}
