//! HL7 v2.x as a LIS speaks it: reading an `ORU^R01` (observation results) into lab reports,
//! and writing the `ACK` that answers every message. No SQL and no HTTP here: the health record
//! stores what this reads, and `mllp` and the HTTP handler carry the bytes.

pub mod mllp;

use hl7_parser::Message;

use crate::clock::Millis;

/// Why a message is not taken: `AR` when it cannot be processed at all (unreadable, wrong type
/// or sender), `AE` when it was read but its content is wrong. Nothing is stored either way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Reject(String),
    #[error("{0}")]
    Error(String),
}

impl Refusal {
    pub fn ack_code(&self) -> &'static str {
        match self {
            Refusal::Reject(_) => "AR",
            Refusal::Error(_) => "AE",
        }
    }
}

/// The header fields an ACK needs, read even from a message that is refused later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_facility: String,
    pub control_id: String,
    pub message_type: String,
    pub version: String,
}

/// One `ORU^R01` read into what the health record keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct Observations {
    pub header: Header,
    /// PID-3: the patient's resident ID number (the first identifier that is one).
    pub id_numbers: Vec<String>,
    pub orders: Vec<Order>,
}

/// One OBR with its OBX results.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub code: String,
    pub name: String,
    pub observed_at_ms: Millis,
    /// ORC-21.10 (or ORC-17.1): the institution code of whoever ordered the test.
    pub ordering_facility: Option<String>,
    pub results: Vec<Result>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Result {
    pub code: String,
    pub name: String,
    pub value: String,
    pub unit: String,
    pub reference_range: String,
    pub abnormal_flag: String,
}

impl Result {
    /// A panic value (HL7 table 0078: `LL`, `HH`, or `AA` critically abnormal).
    pub fn critical(&self) -> bool {
        matches!(self.abnormal_flag.as_str(), "LL" | "HH" | "AA")
    }
}

/// The largest message taken, over MLLP or HTTP.
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;
/// Segments in one message: a lab report of many panels has a few hundred.
const MAX_SEGMENTS: usize = 2000;
/// Repetitions of one field (PID-3's identifiers, a result's repeats).
const MAX_REPEATS: usize = 100;
/// MSH-10, the message control ID (ST, at most 199 characters in HL7 v2.7).
const MAX_CONTROL_ID: usize = 199;

/// The text of a message from its bytes, in the character set MSH-18 names (HL7 table 0211,
/// and the labels Chinese LIS use: `GB 18030-2000`, `GBK`, `UNICODE UTF-8` …). Without MSH-18
/// it is UTF-8 (of which ASCII is part) or, failing that, GB 18030 (what Chinese LIS send
/// undeclared). Bytes that are not valid in that character set, and control characters
/// other than the segment and line separators, are refused.
pub fn decode(bytes: &[u8]) -> std::result::Result<String, Refusal> {
    let charset = declared_charset(bytes);
    let encoding = match charset.as_str() {
        "" | "ASCII" | "UNICODE" | "UNICODE UTF-8" => encoding_rs::UTF_8,
        "GB 18030-2000" | "GB18030" => encoding_rs::GB18030,
        "BIG-5" => encoding_rs::BIG5,
        "KS X 1001" => encoding_rs::EUC_KR,
        "ISO IR87" => encoding_rs::ISO_2022_JP,
        label => iso_8859(label)
            .or_else(|| encoding_rs::Encoding::for_label(label.as_bytes()))
            .filter(|e| *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE)
            .ok_or_else(|| {
                Refusal::Reject(format!("MSH-18 character set {label:?} is not supported"))
            })?,
    };
    let text = encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .or_else(|| {
            charset.is_empty().then(|| {
                encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)
            })?
        })
        .ok_or_else(|| {
            Refusal::Reject(if charset.is_empty() {
                "the message is neither UTF-8 nor GB 18030, and MSH-18 names no character set"
                    .into()
            } else {
                format!("the message is not valid {charset} (MSH-18)")
            })
        })?;
    let framing = |c: char| c == '\u{b}' || c == '\u{1c}';
    let body = text.trim_matches(framing);
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
    {
        return Err(Refusal::Reject(
            "the message holds a control character (such as NUL)".into(),
        ));
    }
    Ok(text.into_owned())
}

/// `8859/1` … `8859/15` (HL7's spelling of ISO 8859).
fn iso_8859(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let part = label.strip_prefix("8859/")?;
    encoding_rs::Encoding::for_label(format!("iso-8859-{part}").as_bytes())
}

/// MSH-18 as written, read from the raw bytes of the first segment.
fn declared_charset(bytes: &[u8]) -> String {
    let start = bytes.iter().position(|b| *b == b'M').unwrap_or(bytes.len());
    let msh = &bytes[start..];
    let end = msh
        .iter()
        .position(|b| *b == b'\r' || *b == b'\n')
        .unwrap_or(msh.len());
    let msh = &msh[..end];
    if !msh.starts_with(b"MSH") || msh.len() < 4 {
        return String::new();
    }
    let separator = msh[3];
    msh.split(|b| *b == separator)
        .nth(17)
        .map(|field| {
            let first = field.split(|b| *b == b'~').next().unwrap_or_default();
            String::from_utf8_lossy(first).trim().to_ascii_uppercase()
        })
        .unwrap_or_default()
}

/// Refuses a message beyond the sane maxima before it is parsed.
fn check_limits(text: &str) -> std::result::Result<(), Refusal> {
    let segments = text.split('\r').filter(|s| !s.is_empty()).count();
    if segments > MAX_SEGMENTS {
        return Err(Refusal::Reject(format!(
            "the message has {segments} segments; at most {MAX_SEGMENTS} are taken"
        )));
    }
    let repetition = text.chars().nth(5).filter(|c| !c.is_alphanumeric());
    if let Some(repetition) = repetition {
        let field_separator = text.chars().nth(3).unwrap_or('|');
        let most = text
            .split('\r')
            .flat_map(|segment| segment.split(field_separator))
            .map(|field| field.matches(repetition).count())
            .max()
            .unwrap_or(0);
        if most >= MAX_REPEATS {
            return Err(Refusal::Reject(format!(
                "a field repeats more than {MAX_REPEATS} times"
            )));
        }
    }
    Ok(())
}

/// Strips the framing a message may arrive with and normalises segment separators to `\r`.
fn normalise(text: &str) -> String {
    text.trim_matches(|c: char| c == '\u{b}' || c == '\u{1c}' || c.is_whitespace())
        .replace("\r\n", "\r")
        .replace('\n', "\r")
}

fn value(message: &Message, query: &str) -> String {
    message
        .query(query)
        .map(|found| found.display(&message.separators).to_string())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Reads the MSH of a message (and only it, however long the rest); `Reject` when there is
/// none.
pub fn header(text: &str) -> std::result::Result<Header, Refusal> {
    let text = normalise(text);
    let msh = text.split('\r').next().unwrap_or_default();
    let message = Message::parse(msh)
        .map_err(|_| Refusal::Reject("not an HL7 v2 message (no readable MSH segment)".into()))?;
    read_header(&message)
}

fn read_header(message: &Message) -> std::result::Result<Header, Refusal> {
    if message.segments.first().map(|s| s.name) != Some("MSH") {
        return Err(Refusal::Reject(
            "the message does not begin with MSH".into(),
        ));
    }
    Ok(Header {
        sending_application: value(message, "MSH.3.1"),
        sending_facility: value(message, "MSH.4.1"),
        receiving_facility: value(message, "MSH.6.1"),
        control_id: value(message, "MSH.10"),
        message_type: format!(
            "{}^{}",
            value(message, "MSH.9.1"),
            value(message, "MSH.9.2")
        ),
        version: value(message, "MSH.12.1"),
    })
}

/// 1900-01-01T00:00Z: no result in the record is older.
const EARLIEST_MS: Millis = -2_208_988_800_000;
const DAY_MS: Millis = 86_400_000;

/// An HL7 DTM (`YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`, any precision) as the
/// milliseconds of the start of the period it names; without an offset it is China Standard
/// Time. An offset beyond ±14:00 is not an offset.
fn timestamp(text: &str) -> Option<Millis> {
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
    Some((at.unix_timestamp_nanos() / 1_000_000) as Millis)
}

/// Reads an `ORU^R01`: the patient, and each order with its results; times outside 1900 to a
/// day after `now` are refused.
pub fn read_observations(text: &str, now: Millis) -> std::result::Result<Observations, Refusal> {
    let text = normalise(text);
    check_limits(&text)?;
    let message = Message::parse(&text)
        .map_err(|_| Refusal::Reject("not an HL7 v2 message (no readable MSH segment)".into()))?;
    let header = read_header(&message)?;
    if header.control_id.is_empty() {
        return Err(Refusal::Reject(
            "MSH-10 (message control ID) is empty".into(),
        ));
    }
    if header.control_id.chars().count() > MAX_CONTROL_ID {
        return Err(Refusal::Reject(format!(
            "MSH-10 (message control ID) is longer than {MAX_CONTROL_ID} characters"
        )));
    }
    if header.message_type != "ORU^R01" {
        return Err(Refusal::Reject(format!(
            "message type {} is not accepted here; send ORU^R01",
            header.message_type
        )));
    }
    let pid = message
        .segment("PID")
        .ok_or_else(|| Refusal::Error("no PID segment".into()))?;
    let id_numbers: Vec<String> = pid
        .field(3)
        .map(|field| {
            field
                .repeats()
                .filter_map(|r| r.component(1))
                .map(|c| c.display(&message.separators).to_string().trim().to_owned())
                .filter(|id| !id.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if id_numbers.is_empty() {
        return Err(Refusal::Error("PID-3 holds no patient identifier".into()));
    }

    let mut orders: Vec<Order> = Vec::new();
    let mut ordering_facility = None;
    for segment in &message.segments {
        let field = |n: usize, c: usize| -> String {
            segment
                .field(n)
                .and_then(|f| f.component(c))
                .map(|v| v.display(&message.separators).to_string().trim().to_owned())
                .unwrap_or_default()
        };
        match segment.name {
            "ORC" => {
                let facility = Some(field(21, 10))
                    .filter(|f| !f.is_empty())
                    .or_else(|| Some(field(17, 1)).filter(|f| !f.is_empty()));
                ordering_facility = facility;
            }
            "OBR" => {
                let code = field(4, 1);
                if code.is_empty() {
                    return Err(Refusal::Error(
                        "OBR-4 (universal service ID) is empty".into(),
                    ));
                }
                let observed = field(7, 1);
                let observed_at_ms = timestamp(&observed)
                    .filter(|at| (EARLIEST_MS..=now + DAY_MS).contains(at))
                    .ok_or_else(|| {
                        Refusal::Error(format!(
                            "OBR-7 (observation time) {observed:?} is not a time"
                        ))
                    })?;
                orders.push(Order {
                    name: Some(field(4, 2))
                        .filter(|n| !n.is_empty())
                        .unwrap_or(code.clone()),
                    code,
                    observed_at_ms,
                    ordering_facility: ordering_facility.take(),
                    results: Vec::new(),
                });
            }
            "OBX" => {
                let order = orders
                    .last_mut()
                    .ok_or_else(|| Refusal::Error("an OBX segment comes before any OBR".into()))?;
                let code = field(3, 1);
                if code.is_empty() {
                    return Err(Refusal::Error(
                        "OBX-3 (observation identifier) is empty".into(),
                    ));
                }
                let status = field(11, 1);
                if matches!(status.as_str(), "D" | "W" | "X") {
                    continue; // deleted, wrong or cannot be obtained: not a result
                }
                order.results.push(Result {
                    name: Some(field(3, 2))
                        .filter(|n| !n.is_empty())
                        .unwrap_or(code.clone()),
                    code,
                    value: segment
                        .field(5)
                        .map(|f| f.display(&message.separators).to_string().trim().to_owned())
                        .unwrap_or_default(),
                    unit: field(6, 1),
                    reference_range: field(7, 1),
                    abnormal_flag: field(8, 1).to_ascii_uppercase(),
                });
            }
            _ => {}
        }
    }
    if orders.is_empty() || orders.iter().any(|o| o.results.is_empty()) {
        return Err(Refusal::Error(
            "every OBR needs at least one OBX result, and there must be an OBR".into(),
        ));
    }
    Ok(Observations {
        header,
        id_numbers,
        orders,
    })
}

/// The ACK for a message: `AA` with `None`, else the refusal's code and text in MSA-3 and ERR.
pub fn ack(header: &Header, refusal: Option<&Refusal>, now: Millis, ack_id: &str) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    let stamp = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}+0800",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    // Echoed fields are cut to what HL7 allows, so an absurd field is not sent back whole.
    let clean = |text: &str| {
        text.chars()
            .take(MAX_CONTROL_ID)
            .collect::<String>()
            .replace(['|', '^', '~', '\\', '&', '\r', '\n'], " ")
    };
    let version = if header.version.is_empty() {
        "2.5.1"
    } else {
        &header.version
    };
    let trigger = header.message_type.split('^').nth(1).unwrap_or("");
    let mut out = format!(
        "MSH|^~\\&|YIJIA|{}|{}|{}|{stamp}||ACK^{}^ACK|{}|P|{}\r",
        clean(&header.receiving_facility),
        clean(&header.sending_application),
        clean(&header.sending_facility),
        clean(trigger),
        clean(ack_id),
        clean(version),
    );
    match refusal {
        None => out.push_str(&format!("MSA|AA|{}\r", clean(&header.control_id))),
        Some(refusal) => {
            let text = clean(&refusal.to_string());
            out.push_str(&format!(
                "MSA|{}|{}|{text}\rERR|||207^Application internal error^HL70357|E|||{text}\r",
                refusal.ack_code(),
                clean(&header.control_id),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T00:00Z.
    const NOW: Millis = 1_796_083_200_000;

    pub const ORU: &str = "MSH|^~\\&|LIS|LAB01|YIJIA|C001|20261123083000||ORU^R01|MSG0001|P|2.5.1\r\
PID|1||110101199003074514^^^^NNCHN||张^三\r\
ORC|RE||||||||||||||||||||县人民医院^^^^^^^^^H001\r\
OBR|1|||CBC^血常规|||20261123081500\r\
OBX|1|NM|WBC^白细胞计数||6.1|10*9/L|3.5-9.5|N|||F\r\
OBX|2|NM|PLT^血小板计数||12|10*9/L|125-350|LL|||F\r";

    #[test]
    fn an_oru_is_read_with_its_patient_orders_and_results() {
        let read = read_observations(ORU, NOW).unwrap();
        assert_eq!(read.header.control_id, "MSG0001");
        assert_eq!(read.header.sending_facility, "LAB01");
        assert_eq!(read.id_numbers, vec!["110101199003074514".to_owned()]);
        let order = &read.orders[0];
        assert_eq!(
            (order.code.as_str(), order.name.as_str()),
            ("CBC", "血常规")
        );
        assert_eq!(order.ordering_facility.as_deref(), Some("H001"));
        // 08:15 in China Standard Time is 00:15 UTC.
        assert_eq!(order.observed_at_ms % 86_400_000, 15 * 60_000);
        assert_eq!(order.results.len(), 2);
        assert!(!order.results[0].critical());
        assert!(order.results[1].critical());
        assert_eq!(order.results[1].unit, "10*9/L");
    }

    #[test]
    fn broken_messages_are_refused_with_the_right_code() {
        assert_eq!(
            read_observations("hello", NOW).unwrap_err().ack_code(),
            "AR"
        );
        let adt = ORU.replace("ORU^R01", "ADT^A01");
        assert_eq!(read_observations(&adt, NOW).unwrap_err().ack_code(), "AR");
        let no_time = ORU.replace("20261123081500", "soon");
        assert_eq!(
            read_observations(&no_time, NOW).unwrap_err().ack_code(),
            "AE"
        );
        let no_obx: String = ORU
            .split('\r')
            .filter(|s| !s.starts_with("OBX"))
            .collect::<Vec<_>>()
            .join("\r");
        assert_eq!(
            read_observations(&no_obx, NOW).unwrap_err().ack_code(),
            "AE"
        );
    }

    #[test]
    fn times_are_read_at_any_precision_with_their_offset() {
        // 2026-11-23 08:15 China Standard Time is 00:15 UTC.
        assert_eq!(timestamp("202611230815"), Some(1_795_392_900_000));
        let day = timestamp("20261123").unwrap();
        assert_eq!(
            timestamp("202611230815"),
            Some(day + 8 * 3_600_000 + 15 * 60_000)
        );
        assert_eq!(
            timestamp("20261123081500.25+0800"),
            timestamp("202611230815").map(|t| t + 250)
        );
        assert_eq!(timestamp("20261123001500+0000"), timestamp("202611230815"));
        assert_eq!(timestamp("2026"), timestamp("20260101"));
        assert_eq!(timestamp("202611"), timestamp("20261101"));
        for bad in [
            "2026112",
            "20261323",
            "20261123250000",
            "20261123+2500",
            "soon",
            "",
        ] {
            assert_eq!(timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_beyond_reason_and_floods_are_refused() {
        for stamp in ["99991231235959", "18991231", "20261123081500+2500"] {
            let odd = ORU.replace("20261123081500", stamp);
            assert_eq!(
                read_observations(&odd, NOW).unwrap_err().ack_code(),
                "AE",
                "{stamp}"
            );
        }
        let flood = ORU.replace("^^^^NNCHN", &"~1".repeat(200));
        assert_eq!(read_observations(&flood, NOW).unwrap_err().ack_code(), "AR");
        let obx = "OBX|1|NM|WBC^白细胞计数||6.1|10*9/L|3.5-9.5|N|||F\r".repeat(3000);
        let many = format!("{ORU}{obx}");
        assert_eq!(read_observations(&many, NOW).unwrap_err().ack_code(), "AR");
        let long_id = ORU.replace("MSG0001", &"9".repeat(1 << 20));
        assert_eq!(
            read_observations(&long_id, NOW).unwrap_err().ack_code(),
            "AR"
        );
        let ack = ack(&header(&long_id).unwrap(), None, 0, "A");
        assert!(ack.len() < 1000);
    }

    #[test]
    fn text_is_decoded_by_msh_18_and_control_characters_refused() {
        let gb = ORU.replace("|P|2.5.1", "|P|2.5.1||||||GB 18030-2000");
        let (bytes, _, _) = encoding_rs::GB18030.encode(&gb);
        let text = decode(&bytes).unwrap();
        assert!(text.contains("血小板计数"));
        // The same GB18030 bytes without MSH-18 are not UTF-8: read as GB 18030, not mojibake.
        let (plain, _, _) = encoding_rs::GB18030.encode(ORU);
        assert!(decode(&plain).unwrap().contains("血小板计数"));
        // Bytes valid in neither: refused.
        let mut broken = ORU.as_bytes().to_vec();
        broken.extend([0xff, 0xff]);
        assert_eq!(decode(&broken).unwrap_err().ack_code(), "AR");
        let nul = ORU.replace("张^三", "张\0三");
        assert_eq!(decode(nul.as_bytes()).unwrap_err().ack_code(), "AR");
        assert!(decode(ORU.as_bytes()).is_ok());
    }

    #[test]
    fn the_ack_names_the_message_it_answers() {
        let header = header(ORU).unwrap();
        let ack = ack(&header, None, 0, "ACK1");
        assert!(ack.starts_with(
            "MSH|^~\\&|YIJIA|C001|LIS|LAB01|19700101080000+0800||ACK^R01^ACK|ACK1|P|2.5.1\r"
        ));
        assert!(ack.ends_with("MSA|AA|MSG0001\r"));
        let refused = super::ack(
            &header,
            Some(&Refusal::Error("unknown patient".into())),
            0,
            "ACK2",
        );
        assert!(refused.contains("MSA|AE|MSG0001|unknown patient\r"));
    }
}
