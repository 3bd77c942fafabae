//! ICD-10 diagnosis codes, checked against the WHO's 2019 table shipped in `data/icd10` (see its
//! README for the source and licence). The Chinese clinical edition (国家临床版) extends a WHO
//! code with more digits and an `x`-numbered suffix (`I21.000x001`, `I10.x00x002`); such a code
//! is accepted when its WHO stem is in the table. The codes common in county care also have a
//! Chinese name (`data/icd10/zh-common.tsv`), so doctors find them by the name they use.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The WHO table in code order.
static CODES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    include_str!("../data/icd10/who-2019.tsv")
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect()
});

static TABLE: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| CODES.iter().copied().collect());

/// Chinese names of the codes common in county care.
static NAMES_ZH: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    include_str!("../data/icd10/zh-common.tsv")
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect()
});

/// The Chinese name of a code where one is kept.
pub fn name_zh(code: &str) -> Option<&'static str> {
    NAMES_ZH.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// How a code is shown: its Chinese name, or the WHO title; for a clinical-edition code, that
/// of its WHO stem.
pub fn display(code: &str) -> Option<&'static str> {
    let mut stem = code;
    loop {
        if stem.len() < 3 || !stem.is_ascii() {
            return None;
        }
        if let Some(name) = name_zh(stem).or_else(|| title(stem)) {
            return Some(name);
        }
        // I21.000x001 → I21.00 → I21.0 → I21.
        let shorter = stem
            .split_once('x')
            .map_or(&stem[..stem.len() - 1], |(s, _)| s);
        stem = shorter.trim_end_matches('.');
    }
}

/// Codes for a search box: by the start of the code (`I21`), else by a part of the Chinese name
/// (`心肌梗死`) or of the WHO title (`infarction`); Chinese names first, at most `limit`.
pub fn search(text: &str, limit: usize) -> Vec<(&'static str, &'static str)> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 50 {
        return Vec::new();
    }
    let upper = text.to_ascii_uppercase();
    let looks_like_code = upper.starts_with(|c: char| c.is_ascii_uppercase())
        && upper[1..].starts_with(|c: char| c.is_ascii_digit());
    if looks_like_code || upper.len() == 1 && upper.starts_with(|c: char| c.is_ascii_uppercase()) {
        return CODES
            .iter()
            .filter(|(code, _)| code.starts_with(&upper))
            .take(limit)
            .map(|(code, _)| (*code, display(code).unwrap_or_default()))
            .collect();
    }
    let lower = text.to_lowercase();
    let mut found: Vec<(&'static str, &'static str)> = NAMES_ZH
        .iter()
        .filter(|(_, name)| name.contains(text))
        .copied()
        .take(limit)
        .collect();
    for (code, title) in CODES.iter() {
        if found.len() >= limit {
            break;
        }
        if !found.iter().any(|(c, _)| c == code) && title.to_lowercase().contains(&lower) {
            found.push((code, display(code).unwrap_or(title)));
        }
    }
    found
}

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
    fn codes_are_found_by_code_chinese_name_or_title() {
        let by_code = search("i21", 20);
        assert_eq!(by_code.first(), Some(&("I21", "急性心肌梗死")));
        assert!(by_code.iter().all(|(c, _)| c.starts_with("I21")));
        let by_name = search("心肌梗死", 20);
        assert!(by_name.iter().any(|(c, _)| *c == "I21.0"), "{by_name:?}");
        let by_title = search("cholera", 5);
        assert!(by_title.iter().any(|(c, _)| *c == "A00"), "{by_title:?}");
        assert_eq!(display("I10.x00x002"), Some("特发性（原发性）高血压"));
        assert_eq!(display("I21.000x001"), Some("急性前壁透壁性心肌梗死"));
        assert_eq!(display(""), None);
        assert_eq!(display("心梗"), None);
    }

    #[test]
    fn every_chinese_name_names_a_who_code() {
        for (code, _) in NAMES_ZH.iter() {
            assert!(title(code).is_some(), "{code}");
        }
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
