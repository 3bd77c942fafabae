//! Money as people type and read it: amounts are stored in fen (分), shown and typed in yuan.

/// Fen as yuan with thousands separators: `1234567` → `12,345.67`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

/// Fen as yuan for a form field, which [`fen_of_yuan`] reads back: `1234567` → `12345.67`.
pub fn yuan_for_field(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// `12`, `12.5` or `12.50` yuan in fen; empty is nothing.
pub fn fen_of_yuan(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 9
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<i64>().ok()?;
    Some(whole.parse::<i64>().ok()? * 100 + cents)
}

#[cfg(test)]
mod tests {
    use super::{fen_of_yuan, yuan, yuan_for_field};

    #[test]
    fn fen_read_as_yuan() {
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(100_000), "1,000.00");
        assert_eq!(yuan_for_field(123_456_789), "1234567.89");
        assert_eq!(fen_of_yuan(&yuan_for_field(24_170)), Some(24_170));
    }

    #[test]
    fn yuan_are_read_to_the_fen() {
        assert_eq!(fen_of_yuan(""), Some(0));
        assert_eq!(fen_of_yuan("12"), Some(1200));
        assert_eq!(fen_of_yuan("12.5"), Some(1250));
        assert_eq!(fen_of_yuan(" 0.05 "), Some(5));
        for bad in ["-1", "1.234", "1e3", ".5", "1,000", "9999999999"] {
            assert_eq!(fen_of_yuan(bad), None, "{bad}");
        }
    }
}
