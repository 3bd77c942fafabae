//! Reading WFDB (MIT format) annotation files, for scoring QRS detection against reference beats.

/// Annotation codes that mark beats (WFDB's `isqrs`): N L R a V F J A S E j / Q B ? e n f r.
pub fn is_beat(code: u8) -> bool {
    matches!(code, 1..=13 | 25 | 30 | 34 | 35 | 38 | 41)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Annotation {
    pub sample: u64,
    pub code: u8,
}

#[derive(Debug, thiserror::Error)]
#[error("malformed annotation file")]
pub struct Malformed;

/// Parses an MIT-format annotation file (e.g. `100.atr`).
pub fn parse_mit(bytes: &[u8]) -> Result<Vec<Annotation>, Malformed> {
    const SKIP: u8 = 59;
    const NUM: u8 = 60;
    const SUB: u8 = 61;
    const CHN: u8 = 62;
    const AUX: u8 = 63;
    let word = |at: usize| -> Result<u16, Malformed> {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or(Malformed)
    };
    let mut annotations = Vec::new();
    let mut time: u64 = 0;
    let mut at = 0;
    while at + 1 < bytes.len() {
        let w = word(at)?;
        at += 2;
        let code = (w >> 10) as u8;
        let value = u64::from(w & 0x3ff);
        match code {
            0 if value == 0 => break,
            SKIP => {
                let high = u64::from(word(at)?);
                let low = u64::from(word(at + 2)?);
                at += 4;
                let interval = ((high << 16) | low) as u32 as i32;
                time = time
                    .checked_add_signed(i64::from(interval))
                    .ok_or(Malformed)?;
            }
            NUM | SUB | CHN => {}
            AUX => at += (value as usize).div_ceil(2) * 2,
            _ => {
                time += value;
                annotations.push(Annotation { sample: time, code });
            }
        }
    }
    Ok(annotations)
}
