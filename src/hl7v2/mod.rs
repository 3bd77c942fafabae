//! HL7 v2.x as a LIS speaks it: reading an `ORU^R01` (observation results) into lab reports,
//! and writing the `ACK` that answers every message. No SQL and no HTTP here: the health record
//! stores what this reads, and `mllp` and the HTTP handler carry the bytes.

pub mod mllp;

use hl7_parser::Message;
use hl7_parser::datetime::TimeStamp;

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

/// Reads the MSH of a message; `Reject` when there is none.
pub fn header(text: &str) -> std::result::Result<Header, Refusal> {
    let text = normalise(text);
    let message = Message::parse(&text)
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

/// An HL7 timestamp as milliseconds; without a zone it is China Standard Time.
fn timestamp(text: &str) -> Option<Millis> {
    let stamp: TimeStamp = text.parse().ok()?;
    stamp.month?;
    stamp.day?;
    let local = time::PrimitiveDateTime::try_from(stamp).ok()?;
    let offset = match stamp.offset {
        Some(o) => {
            let minutes =
                i32::from(o.hours) * 60 + i32::from(o.minutes) * i32::from(o.hours.signum());
            time::UtcOffset::from_whole_seconds(minutes * 60).ok()?
        }
        None => time::UtcOffset::from_hms(8, 0, 0).ok()?,
    };
    Some((local.assume_offset(offset).unix_timestamp_nanos() / 1_000_000) as Millis)
}

/// Reads an `ORU^R01`: the patient, and each order with its results.
pub fn read_observations(text: &str) -> std::result::Result<Observations, Refusal> {
    let text = normalise(text);
    let message = Message::parse(&text)
        .map_err(|_| Refusal::Reject("not an HL7 v2 message (no readable MSH segment)".into()))?;
    let header = read_header(&message)?;
    if header.control_id.is_empty() {
        return Err(Refusal::Reject(
            "MSH-10 (message control ID) is empty".into(),
        ));
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
                let observed_at_ms = timestamp(&observed).ok_or_else(|| {
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
    let clean = |text: &str| text.replace(['|', '^', '~', '\\', '&', '\r', '\n'], " ");
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

    pub const ORU: &str = "MSH|^~\\&|LIS|LAB01|YIJIA|C001|20261123083000||ORU^R01|MSG0001|P|2.5.1\r\
PID|1||110101199003074514^^^^NNCHN||张^三\r\
ORC|RE||||||||||||||||||||县人民医院^^^^^^^^^H001\r\
OBR|1|||CBC^血常规|||20261123081500\r\
OBX|1|NM|WBC^白细胞计数||6.1|10*9/L|3.5-9.5|N|||F\r\
OBX|2|NM|PLT^血小板计数||12|10*9/L|125-350|LL|||F\r";

    #[test]
    fn an_oru_is_read_with_its_patient_orders_and_results() {
        let read = read_observations(ORU).unwrap();
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
        assert_eq!(read_observations("hello").unwrap_err().ack_code(), "AR");
        let adt = ORU.replace("ORU^R01", "ADT^A01");
        assert_eq!(read_observations(&adt).unwrap_err().ack_code(), "AR");
        let no_time = ORU.replace("20261123081500", "soon");
        assert_eq!(read_observations(&no_time).unwrap_err().ack_code(), "AE");
        let no_obx: String = ORU
            .split('\r')
            .filter(|s| !s.starts_with("OBX"))
            .collect::<Vec<_>>()
            .join("\r");
        assert_eq!(read_observations(&no_obx).unwrap_err().ack_code(), "AE");
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
