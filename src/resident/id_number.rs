//! The 18-digit resident ID number (居民身份证号, GB 11643-1999): a 6-digit region code, the
//! birth date as YYYYMMDD, a 3-digit sequence whose parity gives the sex, and an ISO 7064
//! MOD 11-2 check character (`0`–`9` or `X`). Parsed once; an [`IdNumber`] is proof of validity.

use std::fmt;

use time::{Date, Month};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

impl TryFrom<String> for Sex {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        match text.as_str() {
            "male" => Ok(Sex::Male),
            "female" => Ok(Sex::Female),
            _ => Err(text),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber {
    text: String,
    birth_date: Date,
    sex: Sex,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIdNumber {
    #[error("must be 17 digits followed by a digit or X")]
    Shape,
    #[error("the region code is not a valid administrative division")]
    Region,
    #[error("the birth date is not a real date")]
    BirthDate,
    #[error("the check digit does not match")]
    CheckDigit,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Province-level codes of GB/T 2260 (the first two digits of every region code).
const PROVINCES: [u32; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    char::from(CHECK_CHARS[(sum % 11) as usize])
}

impl IdNumber {
    /// Parses and checks an ID number; `today` bounds the birth date.
    pub fn parse(text: &str, today: Date) -> Result<IdNumber, InvalidIdNumber> {
        let text = text.trim().to_ascii_uppercase();
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !shape_ok {
            return Err(InvalidIdNumber::Shape);
        }
        let number = |range: std::ops::Range<usize>| -> u32 {
            text[range].parse().expect("digits checked above")
        };
        if !PROVINCES.contains(&number(0..2)) || number(2..6) == 0 {
            return Err(InvalidIdNumber::Region);
        }
        let birth_date = Month::try_from(number(10..12) as u8)
            .ok()
            .and_then(|month| {
                Date::from_calendar_date(number(6..10) as i32, month, number(12..14) as u8).ok()
            })
            .filter(|date| date.year() >= 1880 && *date <= today)
            .ok_or(InvalidIdNumber::BirthDate)?;
        if check_char(&bytes[..17]) != char::from(bytes[17]) {
            return Err(InvalidIdNumber::CheckDigit);
        }
        let sex = if number(16..17) % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        Ok(IdNumber {
            text,
            birth_date,
            sex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Builds a valid ID number from its parts; the demo generator and tests use it.
pub fn compose(region: u32, birth_date: Date, sequence: u32) -> String {
    let first17 = format!(
        "{region:06}{:04}{:02}{:02}{:03}",
        birth_date.year(),
        u8::from(birth_date.month()),
        birth_date.day(),
        sequence % 1000
    );
    let check = check_char(first17.as_bytes());
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    #[test]
    fn the_standard_example_parses_with_its_birth_date_and_sex() {
        // The worked example of GB 11643-1999.
        let id = IdNumber::parse("11010519491231002X", TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.sex(), Sex::Female);
        let id = IdNumber::parse("440524188001010014", TODAY).unwrap();
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn a_lowercase_x_is_accepted_and_normalised() {
        let id = IdNumber::parse("11010519491231002x", TODAY).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn bad_numbers_are_refused_with_the_reason() {
        assert_eq!(
            IdNumber::parse("110105194912310021", TODAY),
            Err(InvalidIdNumber::CheckDigit)
        );
        assert_eq!(
            IdNumber::parse("1101051949123100", TODAY),
            Err(InvalidIdNumber::Shape)
        );
        assert_eq!(
            IdNumber::parse(&compose(110105, date!(2026 - 12 - 01), 1), TODAY),
            Err(InvalidIdNumber::BirthDate)
        );
        assert_eq!(
            IdNumber::parse("110105194902300020", TODAY).unwrap_err(),
            InvalidIdNumber::BirthDate
        );
        assert_eq!(
            IdNumber::parse(&compose(990105, date!(1980 - 01 - 01), 1), TODAY),
            Err(InvalidIdNumber::Region)
        );
    }

    #[test]
    fn compose_makes_numbers_that_parse() {
        let text = compose(430822, date!(1956 - 03 - 07), 123);
        let id = IdNumber::parse(&text, TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1956 - 03 - 07));
        assert_eq!(id.sex(), Sex::Male);
    }
}
