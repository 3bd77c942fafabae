//! The text of HL7 v2 fields: escape sequences decoded (`\F\ \S\ \T\ \R\ \E\`, `\Xhh…\` in the
//! message's character set, `\.br\` and the other formatting commands of FT), a backslash that
//! begins no valid escape kept as it is; and DTM times at any precision, with their precision.

use hl7_parser::message::Separators;

use crate::clock::Millis;

/// Decodes the escapes of one field, component or subcomponent as HL7 writes it.
pub fn unescape(
    raw: &str,
    separators: &Separators,
    charset: &'static encoding_rs::Encoding,
) -> String {
    let escape = separators.escape;
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find(escape) {
        out.push_str(&rest[..at]);
        let after = &rest[at + escape.len_utf8()..];
        let Some(end) = after.find(escape).filter(|end| *end <= 256) else {
            out.push(escape); // a lone escape character: kept as sent
            rest = after;
            continue;
        };
        let sequence = &after[..end];
        match decode_escape(sequence, separators, charset) {
            Some(text) => {
                out.push_str(&text);
                rest = &after[end + escape.len_utf8()..];
            }
            None => {
                out.push(escape);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One escape sequence's text, `None` when it is not one HL7 defines.
fn decode_escape(
    sequence: &str,
    separators: &Separators,
    charset: &'static encoding_rs::Encoding,
) -> Option<String> {
    Some(match sequence {
        "F" => separators.field.to_string(),
        "S" => separators.component.to_string(),
        "T" => separators.subcomponent.to_string(),
        "R" => separators.repetition.to_string(),
        "E" => separators.escape.to_string(),
        // Highlighting on and off, and formatting commands of FT that have no text form.
        "H" | "N" | ".fi" | ".nf" => String::new(),
        ".br" => "\n".into(),
        _ if sequence.starts_with(".sp") => {
            let lines: usize = sequence[3..].trim().parse().unwrap_or(1);
            "\n".repeat(lines.clamp(1, 10))
        }
        _ if [".in", ".ti", ".sk", ".ce"]
            .iter()
            .any(|c| sequence.starts_with(c)) =>
        {
            String::new()
        }
        _ if sequence.starts_with('X') => {
            let bytes = hex_bytes(&sequence[1..]).filter(|b| !b.is_empty())?;
            let text = charset
                .decode_without_bom_handling_and_without_replacement(&bytes)
                .or_else(|| {
                    encoding_rs::UTF_8.decode_without_bom_handling_and_without_replacement(&bytes)
                })?;
            text.replace("\r\n", "\n").replace('\r', "\n")
        }
        // Character set switches and locally defined escapes carry no text of their own.
        _ if (sequence.starts_with('C') || sequence.starts_with('M'))
            && sequence.len() > 1
            && sequence[1..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            String::new()
        }
        _ if sequence.starts_with('Z') && sequence.len() > 1 => String::new(),
        _ => return None,
    })
}

/// Bytes written as hexadecimal digits, two per byte.
pub fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// How precisely a DTM names its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Fraction,
}

text_enum!(Precision { Year => "year", Month => "month", Day => "day", Hour => "hour", Minute => "minute", Second => "second", Fraction => "fraction" });

/// A time as HL7 gives it: the start of the period it names, and how long that period is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dtm {
    pub at_ms: Millis,
    pub precision: Precision,
}

/// An HL7 DTM (`YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`, any precision); without an
/// offset it is China Standard Time. An offset beyond ±14:00 is not an offset.
pub fn dtm(text: &str) -> Option<Dtm> {
    let text = text.trim();
    let (digits, offset) = match text.find(['+', '-']) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || ![4, 6, 8, 10, 12, 14].contains(&whole.len())
        || (!fraction.is_empty() && (whole.len() != 14 || fraction.len() > 4))
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let precision = match (whole.len(), fraction.is_empty()) {
        (4, _) => Precision::Year,
        (6, _) => Precision::Month,
        (8, _) => Precision::Day,
        (10, _) => Precision::Hour,
        (12, _) => Precision::Minute,
        (_, true) => Precision::Second,
        (_, false) => Precision::Fraction,
    };
    let part = |from: usize, default: u32| -> Option<u32> {
        whole
            .get(from..from + 2)
            .map_or(Some(default), |p| p.parse().ok())
    };
    let year: i32 = whole[..4].parse().ok()?;
    let month = time::Month::try_from(u8::try_from(part(4, 1)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(part(6, 1)?).ok()?).ok()?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse::<u32>().ok()?
    };
    let clock = time::Time::from_hms_nano(
        u8::try_from(part(8, 0)?).ok()?,
        u8::try_from(part(10, 0)?).ok()?,
        u8::try_from(part(12, 0)?).ok()?,
        nanos,
    )
    .ok()?;
    let offset = match offset {
        None => time::UtcOffset::from_hms(8, 0, 0).ok()?,
        Some(zone) => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let zone = &zone[1..];
            if zone.len() != 4 || !zone.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (hours, minutes): (i32, i32) = (zone[..2].parse().ok()?, zone[2..].parse().ok()?);
            if hours > 14 || minutes > 59 {
                return None;
            }
            time::UtcOffset::from_whole_seconds(sign * (hours * 3600 + minutes * 60)).ok()?
        }
    };
    let at = time::PrimitiveDateTime::new(date, clock).assume_offset(offset);
    Some(Dtm {
        at_ms: (at.unix_timestamp_nanos() / 1_000_000) as Millis,
        precision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(raw: &str) -> String {
        unescape(raw, &Separators::default(), encoding_rs::UTF_8)
    }

    #[test]
    fn escapes_decode_and_a_bare_backslash_stays() {
        assert_eq!(plain(r"a\F\b\S\c\T\d\R\e\E\f"), "a|b^c&d~e\\f");
        assert_eq!(plain(r"line\.br\next"), "line\nnext");
        assert_eq!(plain(r"\X0D0A\"), "\n");
        assert_eq!(plain(r"\XE8A180\"), "血");
        assert_eq!(plain(r"\H\bold\N\"), "bold");
        // Sysmex MOLIS: a backslash in a reference range that begins no escape.
        assert_eq!(plain(r"Peak 5\10"), r"Peak 5\10");
        assert_eq!(plain(r"Peak\"), r"Peak\");
        assert_eq!(plain(r"a\Q\b"), r"a\Q\b");
        let gb = unescape(r"\XD1AA\", &Separators::default(), encoding_rs::GB18030);
        assert_eq!(gb, "血");
    }

    #[test]
    fn times_keep_their_precision() {
        assert_eq!(dtm("20261123").unwrap().precision, Precision::Day);
        assert_eq!(dtm("202611230815").unwrap().precision, Precision::Minute);
        assert_eq!(
            dtm("20261123081500.25").unwrap().precision,
            Precision::Fraction
        );
        assert_eq!(dtm("2026").unwrap().precision, Precision::Year);
        assert_eq!(
            dtm("20261123081500+0000").unwrap().precision,
            Precision::Second
        );
    }
}
