//! A walk over a DICOM file's element structure that checks every declared length against the
//! bytes actually present, before the DICOM parser is trusted with the file. A damaged length
//! (one flipped bit in a 32-bit length field) otherwise makes a parser allocate gigabytes for a
//! value that is not there. The walk allocates nothing.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

use super::{Unreadable, unreadable};

const UNDEFINED: u32 = 0xFFFF_FFFF;
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_END: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_END: (u16, u16) = (0xFFFE, 0xE0DD);
/// Sequences nest a few levels in real files; far deeper nesting is an attack on the stack.
const MAX_DEPTH: usize = 32;

#[derive(Clone, Copy)]
struct Encoding {
    explicit: bool,
    big_endian: bool,
}

/// One element header: tag, VR (explicit, or from the dictionary), value length, and where the
/// value starts.
struct Header {
    tag: (u16, u16),
    vr: Option<VR>,
    length: u32,
    value: usize,
}

struct Walk<'a> {
    bytes: &'a [u8],
}

fn damaged(what: &str, at: usize) -> Unreadable {
    unreadable(format!("DICOM: {what} at byte {at}"))
}

impl Walk<'_> {
    fn u16_at(&self, at: usize, encoding: Encoding) -> Result<u16, Unreadable> {
        let b = self
            .bytes
            .get(at..at + 2)
            .ok_or_else(|| damaged("the file ends inside an element header", at))?;
        Ok(if encoding.big_endian {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    }

    fn u32_at(&self, at: usize, encoding: Encoding) -> Result<u32, Unreadable> {
        let b = self
            .bytes
            .get(at..at + 4)
            .ok_or_else(|| damaged("the file ends inside an element header", at))?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(if encoding.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The element header at `at`.
    fn header(&self, at: usize, encoding: Encoding) -> Result<Header, Unreadable> {
        let group = self.u16_at(at, encoding)?;
        let element = self.u16_at(at + 2, encoding)?;
        let tag = (group, element);
        if group == 0xFFFE || !encoding.explicit {
            let length = self.u32_at(at + 4, encoding)?;
            let vr = (group != 0xFFFE).then(|| implicit_vr(tag)).flatten();
            return Ok(Header {
                tag,
                vr,
                length,
                value: at + 8,
            });
        }
        let code = self
            .bytes
            .get(at + 4..at + 6)
            .ok_or_else(|| damaged("the file ends inside an element header", at))?;
        let vr = std::str::from_utf8(code)
            .ok()
            .and_then(|text| text.parse::<VR>().ok())
            .ok_or_else(|| damaged("an unknown value representation", at + 4))?;
        let (length, value) = if long_length(vr) {
            (self.u32_at(at + 8, encoding)?, at + 12)
        } else {
            (u32::from(self.u16_at(at + 6, encoding)?), at + 8)
        };
        Ok(Header {
            tag,
            vr: Some(vr),
            length,
            value,
        })
    }

    /// Elements from `at` up to `end`, or up to an item delimiter when `in_undefined_item`.
    /// Returns where the walk stopped.
    fn dataset(
        &self,
        mut at: usize,
        end: usize,
        encoding: Encoding,
        in_undefined_item: bool,
        depth: usize,
    ) -> Result<usize, Unreadable> {
        if depth > MAX_DEPTH {
            return Err(damaged("sequences nested too deeply", at));
        }
        while at < end {
            let Header {
                tag,
                vr,
                length,
                value,
            } = self.header(at, encoding)?;
            if tag == ITEM_END {
                if in_undefined_item {
                    return Ok(value);
                }
                return Err(damaged("an item end outside an item", at));
            }
            if tag.0 == 0xFFFE {
                return Err(damaged("an item outside a sequence", at));
            }
            let is_sequence = vr == Some(VR::SQ);
            at = if length == UNDEFINED {
                match vr {
                    Some(VR::SQ) => self.items(value, end, encoding, None, depth + 1)?,
                    // An undefined-length UN is a sequence in implicit little endian.
                    Some(VR::UN) => self.items(value, end, IMPLICIT, None, depth + 1)?,
                    // Encapsulated pixel data: items of fragments.
                    Some(VR::OB | VR::OW) | None => self.fragments(value, end, encoding)?,
                    Some(_) => return Err(damaged("an undefined length on a plain value", at)),
                }
            } else {
                let value_end = value
                    .checked_add(length as usize)
                    .filter(|&e| e <= end)
                    .ok_or_else(|| {
                        damaged(
                            &format!("a length of {length} bytes beyond the end of the data"),
                            at,
                        )
                    })?;
                if is_sequence {
                    self.items(value, value_end, encoding, Some(value_end), depth + 1)?;
                }
                value_end
            };
        }
        if in_undefined_item {
            return Err(damaged("an item without its end", at));
        }
        Ok(at)
    }

    /// The fragments of encapsulated pixel data: items of raw bytes (the first the offset
    /// table), each with its length, up to the sequence delimiter.
    fn fragments(
        &self,
        mut at: usize,
        end: usize,
        encoding: Encoding,
    ) -> Result<usize, Unreadable> {
        loop {
            let Header {
                tag, length, value, ..
            } = self.header(at, encoding)?;
            match tag {
                SEQUENCE_END => return Ok(value),
                ITEM if length != UNDEFINED => {
                    at = value
                        .checked_add(length as usize)
                        .filter(|&e| e <= end)
                        .ok_or_else(|| {
                            damaged("a pixel data fragment beyond the end of the data", at)
                        })?;
                }
                _ => {
                    return Err(damaged(
                        "encapsulated pixel data holds something other than fragments",
                        at,
                    ));
                }
            }
        }
    }

    /// The items of a sequence: up to `defined_end`, or up to the sequence delimiter.
    fn items(
        &self,
        mut at: usize,
        end: usize,
        encoding: Encoding,
        defined_end: Option<usize>,
        depth: usize,
    ) -> Result<usize, Unreadable> {
        loop {
            if defined_end == Some(at) {
                return Ok(at);
            }
            let Header {
                tag, length, value, ..
            } = self.header(at, encoding)?;
            match tag {
                SEQUENCE_END if defined_end.is_none() => return Ok(value),
                ITEM if length == UNDEFINED => {
                    at = self.dataset(value, end, encoding, true, depth)?;
                }
                ITEM => {
                    let item_end = value
                        .checked_add(length as usize)
                        .filter(|&e| e <= end)
                        .ok_or_else(|| damaged("an item longer than its sequence", at))?;
                    self.dataset(value, item_end, encoding, false, depth)?;
                    at = item_end;
                }
                _ => return Err(damaged("a sequence holds something other than items", at)),
            }
            if at > end {
                return Err(damaged("a sequence runs past the end of the data", at));
            }
        }
    }
}

const IMPLICIT: Encoding = Encoding {
    explicit: false,
    big_endian: false,
};

fn long_length(vr: VR) -> bool {
    matches!(
        vr,
        VR::OB
            | VR::OD
            | VR::OF
            | VR::OL
            | VR::OV
            | VR::OW
            | VR::SQ
            | VR::SV
            | VR::UC
            | VR::UN
            | VR::UR
            | VR::UT
            | VR::UV
    )
}

/// The VR of an element in implicit VR files: sequences matter to the walk, the rest does not.
fn implicit_vr(tag: (u16, u16)) -> Option<VR> {
    let entry = StandardDataDictionary.by_tag(Tag(tag.0, tag.1))?;
    match entry.vr() {
        VirtualVr::Exact(vr) => Some(vr),
        _ => None,
    }
}

/// Checks the structure of a DICOM file with a 128-byte preamble and `DICM`.
pub fn check(bytes: &[u8]) -> Result<(), Unreadable> {
    let walk = Walk { bytes };
    let explicit_le = Encoding {
        explicit: true,
        big_endian: false,
    };
    // File meta information: explicit VR little endian, group 0002.
    let mut at = 132;
    let mut transfer_syntax = String::new();
    while at < bytes.len() && walk.u16_at(at, explicit_le)? == 0x0002 {
        let Header {
            tag, length, value, ..
        } = walk.header(at, explicit_le)?;
        let value_end = value
            .checked_add(length as usize)
            .filter(|&e| length != UNDEFINED && e <= bytes.len())
            .ok_or_else(|| damaged("a file meta element longer than the file", at))?;
        if tag == (0x0002, 0x0010) {
            transfer_syntax = String::from_utf8_lossy(&bytes[value..value_end])
                .trim_end_matches(['\0', ' '])
                .to_owned();
        }
        at = value_end;
    }
    let encoding = match transfer_syntax.as_str() {
        "1.2.840.10008.1.2" => IMPLICIT,
        "1.2.840.10008.1.2.2" => Encoding {
            explicit: true,
            big_endian: true,
        },
        "1.2.840.10008.1.2.1.99" => {
            return Err(unreadable(
                "DICOM: the deflated transfer syntax is not supported",
            ));
        }
        "" => return Err(unreadable("DICOM: no transfer syntax in the file meta")),
        _ => explicit_le,
    };
    walk.dataset(at, bytes.len(), encoding, false, 0)?;
    Ok(())
}
