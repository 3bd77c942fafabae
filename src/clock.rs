//! The one place that reads the wall clock. Everything else receives `now` as a parameter, so
//! deadlines, turnaround clocks and intervals can be tested with any time we like.

use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, the one time representation stored in the database.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as Millis
}

/// Today's date in China Standard Time (UTC+8), where every community lives.
pub fn today_cst() -> time::Date {
    (OffsetDateTime::now_utc() + time::Duration::hours(8)).date()
}

/// Reads a time given as RFC 3339 (`2026-11-23T08:00:00+08:00`) or as milliseconds since the
/// epoch, the two forms the API accepts.
pub fn parse_time(text: &str) -> Option<Millis> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<Millis>() {
        return Some(ms);
    }
    let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some((at.unix_timestamp_nanos() / 1_000_000) as Millis)
}

/// A page's `datetime-local` value (`2026-11-23T14:05`, China Standard Time) as RFC 3339; any
/// other text as it is, for `parse_time` to judge.
pub fn from_page(value: &str) -> String {
    let value = value.trim();
    if value.len() == 16 && value.as_bytes().get(10) == Some(&b'T') {
        format!("{value}:00+08:00")
    } else {
        value.to_owned()
    }
}

/// A time as a page's `datetime-local` value, in China Standard Time.
pub fn to_page(ms: Millis) -> String {
    format_cst(ms)[..16].replace(' ', "T")
}

/// Formats a stored time for people: `2026-11-23 14:05` in China Standard Time.
pub fn format_cst(ms: Millis) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        + time::Duration::hours(8);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    at.format(&format).unwrap_or_default()
}

/// The month `YYYY-MM` (China Standard Time) a time falls in.
pub fn month_cst(ms: Millis) -> String {
    format_cst(ms)[..7].to_owned()
}

/// The start of the day (midnight, China Standard Time) a time falls in.
pub fn start_of_day_cst(ms: Millis) -> Millis {
    const DAY: Millis = 86_400_000;
    const CST: Millis = 8 * 3_600_000;
    (ms + CST).div_euclid(DAY) * DAY - CST
}

/// Midnight (China Standard Time) at the start of a day, in milliseconds.
pub fn midnight_cst(date: time::Date) -> Millis {
    (date.midnight().assume_utc().unix_timestamp() - 8 * 3600) * 1000
}

/// Age in whole years on `today` of someone born on `birth_date` (`YYYY-MM-DD`).
pub fn age_on(birth_date: &str, today: time::Date) -> i32 {
    let Some((year, rest)) = birth_date.split_once('-') else {
        return 0;
    };
    let year: i32 = year.parse().unwrap_or(today.year());
    let (month, day) = rest.split_once('-').unwrap_or(("1", "1"));
    let (month, day): (u8, u8) = (month.parse().unwrap_or(1), day.parse().unwrap_or(1));
    let had_birthday = (u8::from(today.month()), today.day()) >= (month, day);
    today.year() - year - i32::from(!had_birthday)
}

/// The same day `years` years later (earlier when negative); 29 February becomes 28 February.
pub fn years_after(date: time::Date, years: i32) -> time::Date {
    date.replace_year(date.year() + years).unwrap_or_else(|_| {
        date.replace_day(28)
            .and_then(|d| d.replace_year(date.year() + years))
            .unwrap_or(date)
    })
}

/// A date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<time::Date> {
    time::Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// The month `shift` months from `month` (`YYYY-MM`).
pub fn shift_month(month: &str, shift: i32) -> String {
    let (year, number) = month.split_once('-').unwrap_or_default();
    let index = year.parse::<i32>().unwrap_or_default() * 12 + number.parse::<i32>().unwrap_or(1)
        - 1
        + shift;
    format!("{}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}

/// A month `YYYY-MM` in China Standard Time as [start, end) in milliseconds.
pub fn month_bounds_cst(month: &str) -> Option<(Millis, Millis)> {
    let (year, month) = month.trim().split_once('-')?;
    let year: i32 = year.parse().ok()?;
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let start = time::Date::from_calendar_date(year, month, 1).ok()?;
    let next = match month {
        time::Month::December => time::Date::from_calendar_date(year + 1, time::Month::January, 1),
        _ => time::Date::from_calendar_date(year, month.next(), 1),
    }
    .ok()?;
    Some((midnight_cst(start), midnight_cst(next)))
}

/// A stored time as RFC 3339 in China Standard Time: `2026-11-23T14:05:00+08:00`.
pub fn rfc3339_cst(ms: Millis) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::macros::offset!(+8));
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The date (China Standard Time) a stored time falls on.
pub fn date_cst(ms: Millis) -> time::Date {
    (OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        + time::Duration::hours(8))
    .date()
}
