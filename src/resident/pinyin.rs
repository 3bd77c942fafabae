//! The pinyin keys a resident is found by: `wl` and `wanglan` both find 王兰. A character with
//! several readings (曾 zeng/ceng, 单 shan/dan) gives a key for each, up to a few combinations,
//! so a surname read either way is found.

use pinyin::ToPinyinMulti;

/// At most this many readings of one name are kept.
const MAX_READINGS: usize = 8;

/// The keys of a name, space-separated, lower case: for each reading the full pinyin, then the
/// initials. Latin letters in a name are kept as they are; other characters are left out.
pub fn keys(name: &str) -> String {
    // Each reading is (full, initials), built one character at a time.
    let mut readings: Vec<(String, String)> = vec![(String::new(), String::new())];
    for (c, multi) in name.chars().zip(name.to_pinyin_multi()) {
        let syllables: Vec<&str> = match multi {
            Some(multi) => multi.into_iter().map(|p| p.plain()).collect(),
            None if c.is_ascii_alphabetic() => {
                for (full, initials) in &mut readings {
                    full.push(c.to_ascii_lowercase());
                    initials.push(c.to_ascii_lowercase());
                }
                continue;
            }
            None => continue,
        };
        let mut next = Vec::with_capacity(readings.len() * syllables.len());
        for (full, initials) in &readings {
            for syllable in &syllables {
                if next.len() == MAX_READINGS {
                    break;
                }
                let mut full = full.clone();
                full.push_str(syllable);
                let mut initials = initials.clone();
                initials.extend(syllable.chars().next());
                next.push((full, initials));
            }
        }
        readings = next;
    }
    let mut keys: Vec<String> = Vec::new();
    for (full, initials) in readings {
        for key in [full, initials] {
            if !key.is_empty() && !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys.join(" ")
}

/// A search text that is pinyin: Latin letters only, lower-cased; `None` for anything else.
pub fn query(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.len() <= 60 && text.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_has_its_full_pinyin_and_initials() {
        let keys = keys("王兰");
        assert!(keys.split(' ').any(|k| k == "wanglan"), "{keys}");
        assert!(keys.split(' ').any(|k| k == "wl"), "{keys}");
    }

    #[test]
    fn a_surname_with_two_readings_is_found_by_either() {
        let keys = keys("曾明");
        assert!(keys.split(' ').any(|k| k == "zm"), "{keys}");
        assert!(keys.split(' ').any(|k| k == "cm"), "{keys}");
    }

    #[test]
    fn readings_are_bounded() {
        let keys = keys("行长行长行长行长行长");
        assert!(keys.split(' ').count() <= 2 * MAX_READINGS);
    }

    #[test]
    fn only_letters_are_a_pinyin_query() {
        assert_eq!(query(" WL "), Some("wl".into()));
        assert_eq!(query("王兰"), None);
        assert_eq!(query("wl1"), None);
    }
}
