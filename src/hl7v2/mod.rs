//! HL7 v2.x as lab systems speak it: reading results (`ORU^R01`, and the specimen-centred
//! `OUL^R21`, `OUL^R22`, `OUL^R24`) into lab reports, alone or in a batch (FHS/BHS), and writing
//! the `ACK` that answers every message in the layout of the version it answers. No SQL and no
//! HTTP here: the health record stores what this reads, and `mllp` and the HTTP handler carry
//! the bytes.

pub mod mllp;
pub mod results;
pub mod text;

use hl7_parser::Message;

use crate::clock::Millis;
pub use results::{Attachment, Observations, Order, Result, Specimen, read_results};
pub use text::{Dtm, Precision};

/// HL7 table 0357, the error codes an ACK gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    SegmentSequence,
    RequiredFieldMissing,
    DataType,
    TableValueNotFound,
    UnsupportedMessageType,
    UnsupportedVersion,
    UnknownKey,
    DuplicateKey,
    InternalError,
}

impl ErrorCode {
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::SegmentSequence => 100,
            ErrorCode::RequiredFieldMissing => 101,
            ErrorCode::DataType => 102,
            ErrorCode::TableValueNotFound => 103,
            ErrorCode::UnsupportedMessageType => 200,
            ErrorCode::UnsupportedVersion => 203,
            ErrorCode::UnknownKey => 204,
            ErrorCode::DuplicateKey => 205,
            ErrorCode::InternalError => 207,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            ErrorCode::SegmentSequence => "Segment sequence error",
            ErrorCode::RequiredFieldMissing => "Required field missing",
            ErrorCode::DataType => "Data type error",
            ErrorCode::TableValueNotFound => "Table value not found",
            ErrorCode::UnsupportedMessageType => "Unsupported message type",
            ErrorCode::UnsupportedVersion => "Unsupported version id",
            ErrorCode::UnknownKey => "Unknown key identifier",
            ErrorCode::DuplicateKey => "Duplicate key identifier",
            ErrorCode::InternalError => "Application internal error",
        }
    }
}

/// Why a message is not taken: `AR` when it cannot be processed at all (unreadable, wrong type
/// or sender), `AE` when it was read but its content is wrong. Nothing is stored either way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{1}")]
    Reject(ErrorCode, String),
    #[error("{1}")]
    Error(ErrorCode, String),
}

impl Refusal {
    pub fn ack_code(&self) -> &'static str {
        match self {
            Refusal::Reject(..) => "AR",
            Refusal::Error(..) => "AE",
        }
    }

    pub fn error_code(&self) -> ErrorCode {
        match self {
            Refusal::Reject(code, _) | Refusal::Error(code, _) => *code,
        }
    }

    /// An `AR` for a message that cannot be read.
    pub fn unreadable(text: impl Into<String>) -> Refusal {
        Refusal::Reject(ErrorCode::DataType, text.into())
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

impl Header {
    /// The trigger event of MSH-9 (`R01` of `ORU^R01`).
    pub fn trigger(&self) -> &str {
        self.message_type.split('^').nth(1).unwrap_or("")
    }
}

/// The largest message taken, over MLLP or HTTP.
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;
/// Segments in one message: a lab report of many panels has a few hundred.
pub(crate) const MAX_SEGMENTS: usize = 2000;
/// Repetitions of one field (PID-3's identifiers, a result's repeats).
const MAX_REPEATS: usize = 100;
/// MSH-10, the message control ID (ST, at most 199 characters in HL7 v2.7).
pub(crate) const MAX_CONTROL_ID: usize = 199;

/// The text of a message from its bytes, in the character set MSH-18 names (HL7 table 0211,
/// and the labels Chinese LIS use: `GB 18030-2000`, `GBK`, `UNICODE UTF-8` …). Without MSH-18
/// it is UTF-8 (of which ASCII is part) or, failing that, GB 18030 (what Chinese LIS send
/// undeclared). Bytes that are not valid in that character set, and control characters
/// other than the segment and line separators, are refused.
pub fn decode(bytes: &[u8]) -> std::result::Result<String, Refusal> {
    let charset = declared_charset(bytes);
    let encoding = encoding_for(&charset).ok_or_else(|| {
        Refusal::Reject(
            ErrorCode::TableValueNotFound,
            format!("MSH-18 character set {charset:?} is not supported"),
        )
    })?;
    let text = encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .or_else(|| {
            charset.is_empty().then(|| {
                encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes)
            })?
        })
        .ok_or_else(|| {
            Refusal::unreadable(if charset.is_empty() {
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
        return Err(Refusal::unreadable(
            "the message holds a control character (such as NUL)",
        ));
    }
    Ok(text.into_owned())
}

/// The character set a MSH-18 label names (HL7 table 0211, and the labels Chinese LIS use);
/// an empty label is UTF-8, of which ASCII is part.
pub fn encoding_for(label: &str) -> Option<&'static encoding_rs::Encoding> {
    match label {
        "" | "ASCII" | "UNICODE" | "UNICODE UTF-8" | "UTF-8" => Some(encoding_rs::UTF_8),
        "GB 18030-2000" | "GB18030" | "GB 18030" | "GBK" | "GB2312" | "GB 2312" => {
            Some(encoding_rs::GB18030)
        }
        "BIG-5" => Some(encoding_rs::BIG5),
        "KS X 1001" => Some(encoding_rs::EUC_KR),
        "ISO IR87" => Some(encoding_rs::ISO_2022_JP),
        label => iso_8859(label)
            .or_else(|| encoding_rs::Encoding::for_label(label.as_bytes()))
            .filter(|e| *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE),
    }
}

/// `8859/1` … `8859/15` (HL7's spelling of ISO 8859).
fn iso_8859(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let part = label.strip_prefix("8859/")?;
    encoding_rs::Encoding::for_label(format!("iso-8859-{part}").as_bytes())
}

/// MSH-18 as written, read from the raw bytes of the first segment.
pub fn declared_charset(bytes: &[u8]) -> String {
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
pub(crate) fn check_limits(text: &str) -> std::result::Result<(), Refusal> {
    let segments = text.split('\r').filter(|s| !s.is_empty()).count();
    if segments > MAX_SEGMENTS {
        return Err(Refusal::unreadable(format!(
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
            return Err(Refusal::unreadable(format!(
                "a field repeats more than {MAX_REPEATS} times"
            )));
        }
    }
    Ok(())
}

/// Strips the framing a message may arrive with and normalises segment separators to `\r`.
pub(crate) fn normalise(text: &str) -> String {
    text.trim_matches(|c: char| c == '\u{b}' || c == '\u{1c}' || c.is_whitespace())
        .replace("\r\n", "\r")
        .replace('\n', "\r")
}

pub(crate) fn value(message: &Message, query: &str) -> String {
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
        .map_err(|_| Refusal::unreadable("not an HL7 v2 message (no readable MSH segment)"))?;
    read_header(&message)
}

pub(crate) fn read_header(message: &Message) -> std::result::Result<Header, Refusal> {
    if message.segments.first().map(|s| s.name) != Some("MSH") {
        return Err(Refusal::Reject(
            ErrorCode::SegmentSequence,
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

/// The versions whose ACK layout is written here; another version is answered as 2.5.1.
const VERSIONS: [&str; 7] = ["2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6"];

/// The ACK for a message: `AA` with `None`, else the refusal's code, text and HL7 error code,
/// in the layout of the version the message was sent in: MSH-9 with the message structure from
/// 2.3.1 on; ERR-1 (code and location) up to 2.4, ERR-3 and ERR-4 (code and severity) from 2.5.
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
    let version = VERSIONS
        .iter()
        .find(|v| **v == header.version)
        .copied()
        .unwrap_or("2.5.1");
    let trigger = clean(header.trigger());
    let message_type = match version {
        "2.2" | "2.3" => format!("ACK^{trigger}"),
        _ => format!("ACK^{trigger}^ACK"),
    };
    let mut out = format!(
        "MSH|^~\\&|YIJIA|{}|{}|{}|{stamp}||{message_type}|{}|P|{version}\r",
        clean(&header.receiving_facility),
        clean(&header.sending_application),
        clean(&header.sending_facility),
        clean(ack_id),
    );
    match refusal {
        None => out.push_str(&format!("MSA|AA|{}\r", clean(&header.control_id))),
        Some(refusal) => {
            let text = clean(&refusal.to_string());
            let code = refusal.error_code();
            out.push_str(&format!(
                "MSA|{}|{}|{text}\r",
                refusal.ack_code(),
                clean(&header.control_id),
            ));
            let error = format!("{}&{}&HL70357", code.code(), code.text());
            match version {
                "2.2" | "2.3" | "2.3.1" | "2.4" => out.push_str(&format!("ERR|^^^{error}\r")),
                _ => out.push_str(&format!(
                    "ERR|||{}^{}^HL70357|E||||{text}\r",
                    code.code(),
                    code.text()
                )),
            }
        }
    }
    out
}

/// The messages of a batch (`FHS`/`BHS` … `BTS`/`FTS`), each beginning at its MSH; `None` when
/// the text is a single message.
pub fn batch_messages(text: &str) -> Option<Vec<String>> {
    let text = normalise(text);
    if !(text.starts_with("FHS") || text.starts_with("BHS")) {
        return None;
    }
    let mut messages: Vec<String> = Vec::new();
    for segment in text.split('\r').filter(|s| !s.is_empty()) {
        match &segment.get(..3).unwrap_or_default() {
            &"FHS" | &"BHS" | &"BTS" | &"FTS" => {}
            &"MSH" => messages.push(format!("{segment}\r")),
            _ => {
                if let Some(current) = messages.last_mut() {
                    current.push_str(segment);
                    current.push('\r');
                }
            }
        }
    }
    Some(messages)
}

/// The answer to a batch: a batch of the messages' ACKs, with the count in BTS-1.
pub fn batch_ack(acks: &[String], now: Millis) -> String {
    let stamp = ack(&Header::default(), None, now, "")
        .split('|')
        .nth(6)
        .unwrap_or_default()
        .to_owned();
    let mut out = format!("FHS|^~\\&|YIJIA||||{stamp}\rBHS|^~\\&|YIJIA||||{stamp}\r");
    for ack in acks {
        out.push_str(ack);
    }
    out.push_str(&format!("BTS|{}\rFTS|1\r", acks.len()));
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
        let read = read_results(ORU, NOW).unwrap();
        assert_eq!(read.header.control_id, "MSG0001");
        assert_eq!(read.header.sending_facility, "LAB01");
        assert_eq!(read.id_numbers, vec!["110101199003074514".to_owned()]);
        let order = &read.orders[0];
        assert_eq!(
            (order.code.as_str(), order.name.as_str()),
            ("CBC", "血常规")
        );
        assert_eq!(order.ordering_facility.as_deref(), Some("H001"));
        assert_eq!(order.ordering_facility_name, "县人民医院");
        // 08:15 in China Standard Time is 00:15 UTC.
        assert_eq!(order.observed.at_ms % 86_400_000, 15 * 60_000);
        assert_eq!(order.observed.precision, Precision::Second);
        assert_eq!(order.results.len(), 2);
        assert!(!order.results[0].critical());
        assert!(order.results[1].critical());
        assert_eq!(order.results[1].unit, "10*9/L");
    }

    #[test]
    fn values_keep_their_structure_comments_codes_and_statuses() {
        let message = ORU.replace(
            "OBX|2|NM|PLT^血小板计数||12|10*9/L|125-350|LL|||F\r",
            "OBX|2|SN|GLU^葡萄糖^L^2345-7^Glucose^LN||^182|mg/dl|70_105|H|||C\r\
NTE|1||危急值已电话通知\\R\\王医生\r\
OBX|3|ED|PDF^报告||^AP^PDF^Base64^JVBERi0xLjQ=||||||F\r\
OBX|4|ST|PEAK^峰值||Peak 5\\10||||||F\r\
OBX|5|ST|^^^8480-6^Systolic^LN||\\X0D0A\\ok||||||X\r",
        );
        let read = read_results(&message, NOW).unwrap();
        let results = &read.orders[0].results;
        assert_eq!(results[1].value, "182");
        assert_eq!(results[1].status, "C");
        assert_eq!(results[1].loinc, Some(("2345-7".into(), "Glucose".into())));
        assert_eq!(results[1].comment, "危急值已电话通知~王医生");
        let pdf = results[2].attachment.as_ref().unwrap();
        assert_eq!(pdf.media_type, "application/pdf");
        assert!(pdf.data.starts_with(b"%PDF-1.4"));
        // Sysmex MOLIS: a backslash that begins no escape stays.
        assert_eq!(results[3].value, "Peak 5\\10");
        // Only the alternate (LOINC) identifier: taken as the code; "cannot be done" is kept.
        assert_eq!(results[4].code, "8480-6");
        assert_eq!(results[4].status, "X");
        assert!(!results[4].critical());
        // OBX-3 empty: the observation identifier is required.
        let empty = read_results(&ORU.replace("WBC^白细胞计数", ""), NOW).unwrap_err();
        assert_eq!((empty.ack_code(), empty.error_code().code()), ("AE", 101));
    }

    #[test]
    fn broken_messages_are_refused_with_the_code_that_fits() {
        let code = |text: &str| read_results(text, NOW).unwrap_err();
        assert_eq!(code("hello").ack_code(), "AR");
        let adt = code(&ORU.replace("ORU^R01", "ADT^A01"));
        assert_eq!((adt.ack_code(), adt.error_code().code()), ("AR", 200));
        let no_time = code(&ORU.replace("20261123081500", "soon"));
        assert_eq!(
            (no_time.ack_code(), no_time.error_code().code()),
            ("AE", 102)
        );
        let no_id = code(&ORU.replace("MSG0001", ""));
        assert_eq!((no_id.ack_code(), no_id.error_code().code()), ("AR", 101));
        // An OBR without results is an order with its state, not a refusal.
        let no_obx: String = ORU
            .split('\r')
            .filter(|s| !s.starts_with("OBX"))
            .collect::<Vec<_>>()
            .join("\r");
        assert!(
            read_results(&no_obx, NOW).unwrap().orders[0]
                .results
                .is_empty()
        );
        // OUL^R22 with its specimen.
        let oul = ORU.replace("ORU^R01", "OUL^R22^OUL_R22").replace(
            "ORC|RE",
            "SPM|1|2026112300123||BLD^全血|||||||||||||20261123070000\rORC|RE",
        );
        let read = read_results(&oul, NOW).unwrap();
        let specimen = read.orders[0].specimen.clone().unwrap();
        assert_eq!(
            (specimen.id.as_str(), specimen.kind.as_str()),
            ("2026112300123", "全血")
        );
    }

    #[test]
    fn times_beyond_reason_and_floods_are_refused() {
        for stamp in ["99991231235959", "18991231", "20261123081500+2500"] {
            let odd = ORU.replace("20261123081500", stamp);
            assert_eq!(
                read_results(&odd, NOW).unwrap_err().ack_code(),
                "AE",
                "{stamp}"
            );
        }
        let day = read_results(&ORU.replace("20261123081500", "20261123"), NOW).unwrap();
        assert_eq!(day.orders[0].observed.precision, Precision::Day);
        let flood = ORU.replace("^^^^NNCHN", &"~1".repeat(200));
        assert_eq!(read_results(&flood, NOW).unwrap_err().ack_code(), "AR");
        let obx = "OBX|1|NM|WBC^白细胞计数||6.1|10*9/L|3.5-9.5|N|||F\r".repeat(3000);
        let many = format!("{ORU}{obx}");
        assert_eq!(read_results(&many, NOW).unwrap_err().ack_code(), "AR");
        let long_id = ORU.replace("MSG0001", &"9".repeat(1 << 20));
        assert_eq!(read_results(&long_id, NOW).unwrap_err().ack_code(), "AR");
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
    fn the_ack_is_laid_out_for_the_version_it_answers() {
        let header = header(ORU).unwrap();
        let ack = ack(&header, None, 0, "ACK1");
        assert!(ack.starts_with(
            "MSH|^~\\&|YIJIA|C001|LIS|LAB01|19700101080000+0800||ACK^R01^ACK|ACK1|P|2.5.1\r"
        ));
        assert!(ack.ends_with("MSA|AA|MSG0001\r"));
        let unknown = Refusal::Error(ErrorCode::UnknownKey, "unknown patient".into());
        let refused = super::ack(&header, Some(&unknown), 0, "ACK2");
        assert!(refused.contains("MSA|AE|MSG0001|unknown patient\r"));
        assert!(
            refused.contains("ERR|||204^Unknown key identifier^HL70357|E||||unknown patient\r")
        );
        let old = Header {
            version: "2.3".into(),
            ..header.clone()
        };
        let refused = super::ack(&old, Some(&unknown), 0, "ACK3");
        assert!(refused.contains("||ACK^R01|ACK3|P|2.3\r"));
        assert!(refused.contains("ERR|^^^204&Unknown key identifier&HL70357\r"));
    }

    #[test]
    fn a_batch_is_split_into_its_messages() {
        let batch = format!(
            "FHS|^~\\&|LIS\rBHS|^~\\&|LIS\r{ORU}{}BTS|2\rFTS|1\r",
            ORU.replace("MSG0001", "MSG0002")
        );
        let messages = batch_messages(&batch).unwrap();
        assert_eq!(messages.len(), 2);
        assert!(messages[1].contains("MSG0002"));
        assert!(batch_messages(ORU).is_none());
    }
}
