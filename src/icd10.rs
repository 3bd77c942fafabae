//! ICD-10 diagnosis codes, checked against the WHO's 2019 table shipped in `data/icd10` (see its
//! README for the source and licence). The Chinese clinical edition (国家临床版) extends a WHO
//! code with more digits and an `x`-numbered suffix (`I21.000x001`, `I10.x00x002`); such a code
//! is accepted when its WHO stem is in the table.

use std::collections::HashMap;
use std::sync::LazyLock;

static TABLE: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    include_str!("../data/icd10/who-2019.tsv")
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect()
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an ICD-10 code")]
pub struct UnknownCode;

/// The WHO title of a category or subcategory (`I21`, `I21.0`).
pub fn title(code: &str) -> Option<&'static str> {
    TABLE.get(code).copied()
}

/// Checks a diagnosis code and returns it in canonical spelling: letters upper case, the
/// clinical edition's `x` lower case.
pub fn check(code: &str) -> Result<String, UnknownCode> {
    let upper = code.trim().to_ascii_uppercase();
    let (stem, extension) = match upper.len().checked_sub(4).map(|at| upper.split_at(at)) {
        Some((stem, ext))
            if stem.len() > 3
                && ext.starts_with('X')
                && ext[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            (stem, ext)
        }
        _ => (upper.as_str(), ""),
    };
    if !stem_is_known(stem) {
        return Err(UnknownCode);
    }
    // Only the first character is a letter in WHO codes; any later `X` is the clinical edition's.
    Ok(format!(
        "{}{}{}",
        &stem[..1],
        stem[1..].replace('X', "x"),
        extension.to_ascii_lowercase()
    ))
}

/// A WHO code, or a WHO code followed by the clinical edition's further digits (`I21.000`,
/// `I10.X00`).
fn stem_is_known(stem: &str) -> bool {
    if TABLE.contains_key(stem) {
        return true;
    }
    let Some((category, detail)) = stem.split_once('.') else {
        return false;
    };
    if !TABLE.contains_key(category) || detail.is_empty() || detail.len() > 4 {
        return false;
    }
    let mut chars = detail.chars();
    match chars.next() {
        // A category without WHO subcategories, extended: `I10.x00`.
        Some('X') => chars.all(|c| c.is_ascii_digit()),
        Some(first) if first.is_ascii_digit() => {
            let rest_digits = detail[1..].bytes().all(|b| b.is_ascii_digit());
            let one = format!("{category}.{first}");
            let two = detail.get(..2).map(|d| format!("{category}.{d}"));
            rest_digits
                && (TABLE.contains_key(one.as_str())
                    || two.is_some_and(|two| TABLE.contains_key(two.as_str())))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_codes_and_clinical_extensions_are_accepted() {
        assert_eq!(check("i21.3"), Ok("I21.3".into()));
        assert_eq!(check("I10"), Ok("I10".into()));
        assert_eq!(check("I21.000x001"), Ok("I21.000x001".into()));
        assert_eq!(check("I10.x00x002"), Ok("I10.x00x002".into()));
        assert_eq!(check("J18.900"), Ok("J18.900".into()));
        assert_eq!(check("x00"), Ok("X00".into()));
        assert_eq!(
            title("I21.1"),
            Some("Acute transmural myocardial infarction of inferior wall")
        );
    }

    #[test]
    fn unknown_stems_are_refused() {
        for code in [
            "I21.7",
            "Z99.50x001",
            "I2",
            "121.0",
            "I21.0AB",
            "",
            "U99",
            "I21.",
        ] {
            assert_eq!(check(code), Err(UnknownCode), "{code}");
        }
    }
}
