//! Results as lab systems send them: `ORU^R01`, and `OUL^R21`, `OUL^R22`, `OUL^R24` with their
//! specimens (SPM). Each OBR is an order with its OBX results and NTE comments; every value is
//! kept with its structure — the text shown, and the raw segment as sent.

use hl7_parser::Message;
use hl7_parser::message::{Segment, Separators};

use super::text::{self, Dtm};
use super::{ErrorCode, Header, MAX_CONTROL_ID, Refusal, check_limits, normalise, read_header};
use crate::clock::Millis;

/// One results message read into what the health record keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct Observations {
    pub header: Header,
    /// PID-3 (and PID-2, PID-4 where senders put it): the identifiers of the patient.
    pub id_numbers: Vec<String>,
    pub orders: Vec<Order>,
}

/// One OBR with its results.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub code: String,
    pub name: String,
    pub observed: Dtm,
    /// ORC-21.10 (or ORC-17.1): the code of whoever ordered the test, as given.
    pub ordering_facility: Option<String>,
    /// ORC-21.1: the orderer's name, as given.
    pub ordering_facility_name: String,
    /// OBR-25 (HL7 table 0123): `F` final, `P` preliminary, `C` corrected, `X` cancelled,
    /// `I` specimen in the lab …
    pub status: String,
    /// NTE segments after the OBR, one per line.
    pub comment: String,
    pub specimen: Option<Specimen>,
    /// The OBR segment as sent.
    pub raw: String,
    pub results: Vec<Result>,
}

/// SPM: the specimen a result was measured on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Specimen {
    /// SPM-2: the specimen ID (the tube's barcode).
    pub id: String,
    /// SPM-4: the specimen type's text (or code).
    pub kind: String,
    /// SPM-17.1: when it was collected.
    pub collected: Option<Dtm>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Result {
    /// OBX-3: the lab's own code and name (or the alternate ones when only those are given).
    pub code: String,
    pub name: String,
    /// The LOINC code and name, where OBX-3 gives one (as the identifier or the alternate).
    pub loinc: Option<(String, String)>,
    /// OBX-2: the value type.
    pub value_type: String,
    /// OBX-5 as text: escapes decoded, repetitions on lines of their own.
    pub value: String,
    pub unit: String,
    pub reference_range: String,
    pub abnormal_flag: String,
    /// OBX-11 (HL7 table 0085): `F` final, `P` preliminary, `C` corrects an earlier result,
    /// `X` cannot be obtained.
    pub status: String,
    /// NTE segments after the OBX, one per line.
    pub comment: String,
    /// An ED value: the embedded document (a PDF, an image).
    pub attachment: Option<Attachment>,
    /// The OBX segment as sent.
    pub raw: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub media_type: String,
    pub data: Vec<u8>,
}

impl Result {
    /// A panic value (HL7 table 0078: `LL`, `HH`, or `AA` critically abnormal).
    pub fn critical(&self) -> bool {
        self.status != "X" && matches!(self.abnormal_flag.as_str(), "LL" | "HH" | "AA")
    }
}

/// 1900-01-01T00:00Z: no result in the record is older.
const EARLIEST_MS: Millis = -2_208_988_800_000;
const DAY_MS: Millis = 86_400_000;

/// The message types read here.
const TYPES: [&str; 4] = ["ORU^R01", "OUL^R21", "OUL^R22", "OUL^R24"];

/// Reads the fields of one segment, escapes decoded.
struct Fields<'a, 'm> {
    segment: &'a Segment<'m>,
    separators: &'a Separators,
    charset: &'static encoding_rs::Encoding,
}

impl Fields<'_, '_> {
    /// Component `c` of the first repetition, decoded and trimmed.
    fn component(&self, field: usize, c: usize) -> String {
        self.segment
            .field(field)
            .and_then(|f| f.repeats().next())
            .and_then(|r| r.component(c))
            .map(|v| {
                text::unescape(v.raw_value(), self.separators, self.charset)
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default()
    }

    /// Every repetition's components, decoded.
    fn repetitions(&self, field: usize) -> Vec<Vec<String>> {
        self.segment
            .field(field)
            .map(|f| {
                f.repeats()
                    .map(|r| {
                        r.components()
                            .map(|c| text::unescape(c.raw_value(), self.separators, self.charset))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A repetition's raw text decoded whole (for text types, where a component separator is
    /// only text).
    fn whole_repetitions(&self, field: usize) -> Vec<String> {
        self.segment
            .field(field)
            .map(|f| {
                f.repeats()
                    .map(|r| text::unescape(r.raw_value(), self.separators, self.charset))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn time_in_range(dtm: Option<Dtm>, now: Millis) -> Option<Dtm> {
    dtm.filter(|t| (EARLIEST_MS..=now + DAY_MS).contains(&t.at_ms))
}

/// Reads a results message: the patient, and each order with its results and comments; times
/// outside 1900 to a day after `now` are refused.
pub fn read_results(text: &str, now: Millis) -> std::result::Result<Observations, Refusal> {
    let text = normalise(text);
    check_limits(&text)?;
    let message = Message::parse(&text)
        .map_err(|_| Refusal::unreadable("not an HL7 v2 message (no readable MSH segment)"))?;
    let header = read_header(&message)?;
    if header.control_id.is_empty() {
        return Err(Refusal::Reject(
            ErrorCode::RequiredFieldMissing,
            "MSH-10 (message control ID) is empty".into(),
        ));
    }
    if header.control_id.chars().count() > MAX_CONTROL_ID {
        return Err(Refusal::Reject(
            ErrorCode::DataType,
            format!("MSH-10 (message control ID) is longer than {MAX_CONTROL_ID} characters"),
        ));
    }
    if !TYPES.contains(&header.message_type.as_str()) {
        return Err(Refusal::Reject(
            ErrorCode::UnsupportedMessageType,
            format!(
                "message type {} is not accepted here; send {}",
                header.message_type,
                TYPES.join(", ")
            ),
        ));
    }
    let charset = super::encoding_for(&super::declared_charset(text.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let fields = |segment| Fields {
        segment,
        separators: &message.separators,
        charset,
    };
    let message_time = super::value(&message, "MSH.7");

    let mut id_numbers = Vec::new();
    let mut orders: Vec<Order> = Vec::new();
    let mut ordering: (Option<String>, String) = (None, String::new());
    let mut specimen: Option<Specimen> = None;
    // OBX after an SPM (and before the next OBR) describe the specimen: in OUL^R22 they come
    // before the orders they belong to.
    let mut specimen_results: Vec<Result> = Vec::new();
    let mut in_specimen = false;
    // Where an NTE belongs: the last OBX, or the last OBR when no OBX followed it yet.
    let mut note_on_result = false;
    for segment in &message.segments {
        let f = fields(segment);
        match segment.name {
            "PID" => {
                for field in [3, 2, 4] {
                    for repetition in f.repetitions(field) {
                        if let Some(id) = repetition.first().map(|id| id.trim().to_owned())
                            && !id.is_empty()
                        {
                            id_numbers.push(id);
                        }
                    }
                }
            }
            "ORC" => {
                let code = Some(f.component(21, 10))
                    .filter(|c| !c.is_empty())
                    .or_else(|| Some(f.component(17, 1)).filter(|c| !c.is_empty()));
                ordering = (code, f.component(21, 1));
                in_specimen = false;
            }
            "SPM" => {
                let collected = f.component(17, 1);
                specimen = Some(Specimen {
                    id: Some(f.component(2, 1))
                        .filter(|id| !id.is_empty())
                        .unwrap_or_else(|| f.component(2, 2)),
                    kind: Some(f.component(4, 2))
                        .filter(|k| !k.is_empty())
                        .unwrap_or_else(|| f.component(4, 1)),
                    collected: time_in_range(text::dtm(&collected), now),
                });
                in_specimen = true;
                if message_type_is(&header, "R24")
                    && let Some(order) = orders.last_mut()
                {
                    order.specimen = specimen.clone();
                }
            }
            "OBR" => {
                in_specimen = false;
                note_on_result = false;
                let order = read_order(&f, &ordering, specimen.clone(), &message_time, now)?;
                orders.push(order);
                if !specimen_results.is_empty()
                    && let Some(order) = orders.last_mut()
                {
                    order.results.append(&mut specimen_results);
                }
                if message_type_is(&header, "R24") {
                    specimen = None;
                }
            }
            "OBX" => {
                let result = read_result(&f)?;
                if in_specimen && (orders.is_empty() || message_type_is(&header, "R22")) {
                    specimen_results.push(result);
                } else {
                    let order = orders.last_mut().ok_or_else(|| {
                        Refusal::Error(
                            ErrorCode::SegmentSequence,
                            "an OBX segment comes before any OBR".into(),
                        )
                    })?;
                    order.results.push(result);
                }
                note_on_result = true;
            }
            "NTE" => {
                let line = f.whole_repetitions(3).join("\n").trim().to_owned();
                if line.is_empty() {
                    continue;
                }
                let target = match (note_on_result, orders.last_mut()) {
                    (true, Some(order)) => order.results.last_mut().map(|r| &mut r.comment),
                    (false, Some(order)) => Some(&mut order.comment),
                    (_, None) => None,
                };
                if let Some(comment) = target {
                    if !comment.is_empty() {
                        comment.push('\n');
                    }
                    comment.push_str(&line);
                }
            }
            _ => {}
        }
    }
    if orders.is_empty() {
        return Err(Refusal::Error(
            ErrorCode::RequiredFieldMissing,
            "the message holds no OBR (no order to report on)".into(),
        ));
    }
    if id_numbers.is_empty() {
        return Err(Refusal::Error(
            ErrorCode::RequiredFieldMissing,
            "PID-3 holds no patient identifier".into(),
        ));
    }
    Ok(Observations {
        header,
        id_numbers,
        orders,
    })
}

fn message_type_is(header: &Header, trigger: &str) -> bool {
    header.trigger() == trigger
}

fn read_order(
    f: &Fields<'_, '_>,
    ordering: &(Option<String>, String),
    specimen: Option<Specimen>,
    message_time: &str,
    now: Millis,
) -> std::result::Result<Order, Refusal> {
    // OBR-4: the identifier, else the alternate identifier, else the original text (CWE-9).
    let (code, name) = [(1, 2), (4, 5)]
        .into_iter()
        .map(|(c, n)| (f.component(4, c), f.component(4, n)))
        .find(|(code, _)| !code.is_empty())
        .unwrap_or_else(|| {
            let text = [2, 5, 9]
                .into_iter()
                .map(|c| f.component(4, c))
                .find(|t| !t.is_empty())
                .unwrap_or_default();
            (String::new(), text)
        });
    let (code, name) = match (code.is_empty(), name.is_empty()) {
        (true, true) => {
            return Err(Refusal::Error(
                ErrorCode::RequiredFieldMissing,
                "OBR-4 (universal service ID) is empty".into(),
            ));
        }
        (true, false) => (name.clone(), name),
        (false, true) => (code.clone(), code),
        (false, false) => (code, name),
    };
    // OBR-7, else the specimen's collection time, else OBR-22 (results reported), else MSH-7.
    let stated = f.component(7, 1);
    let observed = if stated.is_empty() {
        specimen
            .as_ref()
            .and_then(|s| s.collected)
            .or_else(|| time_in_range(text::dtm(&f.component(22, 1)), now))
            .or_else(|| time_in_range(text::dtm(message_time), now))
            .ok_or_else(|| {
                Refusal::Error(
                    ErrorCode::RequiredFieldMissing,
                    "OBR-7 (observation time) is empty and no other time is given".into(),
                )
            })?
    } else {
        time_in_range(text::dtm(&stated), now).ok_or_else(|| {
            Refusal::Error(
                ErrorCode::DataType,
                format!("OBR-7 (observation time) {stated:?} is not a time from 1900 to now"),
            )
        })?
    };
    Ok(Order {
        code,
        name,
        observed,
        ordering_facility: ordering.0.clone(),
        ordering_facility_name: ordering.1.clone(),
        status: f.component(25, 1).to_ascii_uppercase(),
        comment: String::new(),
        specimen,
        raw: f.segment.raw_value().to_owned(),
        results: Vec::new(),
    })
}

fn read_result(f: &Fields<'_, '_>) -> std::result::Result<Result, Refusal> {
    let identifier = |c: usize| f.component(3, c);
    let (local, alternate) = (
        (identifier(1), identifier(2), identifier(3)),
        (identifier(4), identifier(5), identifier(6)),
    );
    let is_loinc = |system: &str| system.eq_ignore_ascii_case("LN");
    let loinc = [&local, &alternate]
        .into_iter()
        .find(|(code, _, system)| !code.is_empty() && is_loinc(system))
        .map(|(code, name, _)| (code.clone(), name.clone()));
    let (code, name) = if !local.0.is_empty() {
        (local.0.clone(), local.1.clone())
    } else if !alternate.0.is_empty() {
        (alternate.0.clone(), alternate.1.clone())
    } else {
        return Err(Refusal::Error(
            ErrorCode::RequiredFieldMissing,
            "OBX-3 (observation identifier) is empty".into(),
        ));
    };
    let name = if name.is_empty() { code.clone() } else { name };
    let value_type = f.component(2, 1).to_ascii_uppercase();
    let status = f.component(11, 1).to_ascii_uppercase();
    let (value, attachment) = value_of(f, &value_type)?;
    Ok(Result {
        code,
        name,
        loinc,
        value_type,
        value,
        unit: Some(f.component(6, 1))
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| f.component(6, 2)),
        reference_range: f.component(7, 1),
        abnormal_flag: f.component(8, 1).to_ascii_uppercase(),
        status,
        comment: String::new(),
        attachment,
        raw: f.segment.raw_value().to_owned(),
    })
}

/// OBX-5 as text by its type; an ED value also as its document.
fn value_of(
    f: &Fields<'_, '_>,
    value_type: &str,
) -> std::result::Result<(String, Option<Attachment>), Refusal> {
    let lines: Vec<String> = match value_type {
        "SN" => f
            .repetitions(5)
            .iter()
            .map(|c| {
                let part = |i: usize| c.get(i).map_or("", |s| s.trim());
                // comparator, first number, separator or suffix, second number
                format!("{}{}{}{}", part(0), part(1), part(2), part(3))
            })
            .collect(),
        "CE" | "CWE" | "CNE" | "CF" => f
            .repetitions(5)
            .iter()
            .map(|c| {
                let text = c.get(1).map(|s| s.trim()).filter(|s| !s.is_empty());
                text.or_else(|| c.first().map(|s| s.trim()))
                    .unwrap_or("")
                    .to_owned()
            })
            .collect(),
        "ED" => {
            let Some(parts) = f.repetitions(5).into_iter().next() else {
                return Ok((String::new(), None));
            };
            let part = |i: usize| parts.get(i).map_or("", |s| s.trim());
            let (kind, subtype, encoding) = (part(1), part(2), part(3));
            let data = match encoding.to_ascii_lowercase().as_str() {
                "base64" => {
                    use base64::Engine;
                    let compact: String = part(4).chars().filter(|c| !c.is_whitespace()).collect();
                    base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .map_err(|_| {
                            Refusal::Error(
                                ErrorCode::DataType,
                                "OBX-5 (an ED value) says Base64 but is not".into(),
                            )
                        })?
                }
                "hex" => text::hex_bytes(part(4)).ok_or_else(|| {
                    Refusal::Error(
                        ErrorCode::DataType,
                        "OBX-5 (an ED value) says Hex but is not".into(),
                    )
                })?,
                _ => part(4).as_bytes().to_vec(),
            };
            let media_type = media_type(kind, subtype);
            let label = format!("{} {}", kind, subtype).trim().to_owned();
            return Ok((label, Some(Attachment { media_type, data })));
        }
        "NM" | "ST" | "TX" | "FT" | "" => f.whole_repetitions(5),
        _ => f
            .repetitions(5)
            .iter()
            .map(|c| {
                c.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
    };
    let value = lines.join("\n");
    let value = if matches!(value_type, "TX" | "FT") {
        value.trim_end().to_owned()
    } else {
        value.trim().to_owned()
    };
    Ok((value, None))
}

/// The media type of an ED value from its type and subtype (HL7 tables 0191 and 0291).
fn media_type(kind: &str, subtype: &str) -> String {
    match subtype.to_ascii_uppercase().as_str() {
        "PDF" => "application/pdf".into(),
        "JPEG" | "JPG" => "image/jpeg".into(),
        "PNG" => "image/png".into(),
        "TIFF" => "image/tiff".into(),
        "GIF" => "image/gif".into(),
        "RTF" => "application/rtf".into(),
        "HTML" => "text/html".into(),
        "XML" => "application/xml".into(),
        "DICOM" => "application/dicom".into(),
        _ => match kind.to_ascii_uppercase().as_str() {
            "TEXT" | "TX" => "text/plain".into(),
            "IM" | "IMAGE" => "image/*".into(),
            _ => "application/octet-stream".into(),
        },
    }
}
