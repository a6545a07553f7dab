//! Every timestamp shape cloud APIs use, turned into UTC microseconds.
//!
//! | shape | example | rule |
//! |---|---|---|
//! | RFC 3339 / ISO 8601 with `Z` | `2024-02-29T23:59:59.123Z` | as written |
//! | with an offset | `2024-03-01T05:29:59+05:30`, `-00:00`, `+0530`, `+05` | converted to UTC |
//! | with no zone | `2024-02-29 23:59:59` | taken as UTC |
//! | date only | `2024-02-29` | midnight UTC |
//! | 0–9 fractional digits | `…:59.123456789Z` | truncated to microseconds (towards the past) |
//! | epoch number or numeric string | `1709251199`, `"1709251199123"`, `1709251199.5` | by magnitude, below |
//! | SDK date-time | `{secs, nanos}` | to the nearest microsecond |
//!
//! Epoch integers without a documented unit are told apart by magnitude:
//! `|n| < 10^11` is seconds (up to year 5138), `< 10^14` milliseconds
//! (from 1973-03-03 on), `< 10^17` microseconds, anything larger
//! nanoseconds. Numbers with a fraction are seconds. Where an API documents
//! the unit, extractors say so ([`Value::EpochSeconds`],
//! [`Value::EpochMillis`]) and no guess is made. Epoch seconds with a
//! fraction (`1796188377.813`) arrive as binary floating point, from the
//! API's JSON through the SDK, and fall a hair above or below the decimal
//! the API sent (`…377.81299996`); they, and the SDK date-times made from
//! them, are rounded to the nearest microsecond, which is that decimal
//! whenever it has at most six fractional digits. `T` or a space may separate
//! date and time, in either case; a leap second (`:60`) rolls over into the
//! next minute.
//!
//! [`Value::EpochSeconds`]: cloudtab_schema::Value::EpochSeconds
//! [`Value::EpochMillis`]: cloudtab_schema::Value::EpochMillis

use chrono::NaiveDate;

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

const MICROS_PER_SEC: i64 = 1_000_000;
/// Valid range: 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999Z.
const MIN_MICROS: i64 = -62_135_596_800 * MICROS_PER_SEC;
const MAX_MICROS: i64 = 253_402_300_800 * MICROS_PER_SEC - 1;

/// Why a value is not a timestamp. The message goes into `_issues.reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text matches no supported shape.
    #[error("not a timestamp: expected RFC 3339 / ISO 8601 or an epoch number ({0})")]
    Malformed(&'static str),
    /// The shape is right but a field is out of range (month 13, Feb 30).
    #[error("invalid date or time: {0}")]
    Invalid(&'static str),
    /// The instant is outside years 1 to 9999.
    #[error("timestamp outside years 1 to 9999")]
    OutOfRange,
}

fn checked(micros: i128) -> Result<Micros, TimeError> {
    if micros < MIN_MICROS as i128 || micros > MAX_MICROS as i128 {
        return Err(TimeError::OutOfRange);
    }
    Ok(micros as i64)
}

/// An instant in seconds and nanoseconds since the epoch (an SDK
/// date-time), to the nearest microsecond: SDKs read epoch seconds with a
/// fraction as binary floats, so their nanoseconds can fall just short of
/// the microsecond the API sent (`812_999_999` for `.813`).
pub fn from_secs_nanos(secs: i64, nanos: u32) -> Result<Micros, TimeError> {
    if nanos >= 1_000_000_000 {
        return Err(TimeError::Invalid("nanoseconds must be below one second"));
    }
    checked(secs as i128 * MICROS_PER_SEC as i128 + (nanos as i128 + 500) / 1000)
}

/// Epoch seconds.
pub fn from_epoch_seconds(secs: i64) -> Result<Micros, TimeError> {
    checked(secs as i128 * MICROS_PER_SEC as i128)
}

/// Epoch milliseconds.
pub fn from_epoch_millis(millis: i64) -> Result<Micros, TimeError> {
    checked(millis as i128 * 1000)
}

/// An epoch integer whose unit is told by its magnitude (see module docs).
pub fn from_epoch_guess(n: i64) -> Result<Micros, TimeError> {
    let abs = n.unsigned_abs();
    let micros = if abs < 100_000_000_000 {
        n as i128 * 1_000_000
    } else if abs < 100_000_000_000_000 {
        n as i128 * 1000
    } else if abs < 100_000_000_000_000_000 {
        n as i128
    } else {
        (n as i128).div_euclid(1000)
    };
    checked(micros)
}

/// Epoch seconds with a fraction.
pub fn from_epoch_float(secs: f64) -> Result<Micros, TimeError> {
    if !secs.is_finite() {
        return Err(TimeError::Malformed("not a finite number"));
    }
    // Nearest, not floor: the float is the decimal the API sent plus or
    // minus a fraction of a microsecond.
    let micros = (secs * 1e6).round();
    if micros < MIN_MICROS as f64 || micros > MAX_MICROS as f64 {
        return Err(TimeError::OutOfRange);
    }
    Ok(micros as i64)
}

/// Text in any supported shape (see module docs).
pub fn parse_text(raw: &str) -> Result<Micros, TimeError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(TimeError::Malformed("empty"));
    }
    let b = s.as_bytes();
    // An epoch number: optional sign, digits, optional fraction.
    let looks_numeric = b
        .iter()
        .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'-' || *c == b'+')
        && b.iter().any(|c| c.is_ascii_digit())
        && !(b.len() >= 5 && b[4] == b'-' && b[..4].iter().all(u8::is_ascii_digit));
    if looks_numeric {
        if let Ok(n) = s.parse::<i64>() {
            return from_epoch_guess(n);
        }
        if let Ok(f) = s.parse::<f64>() {
            return from_epoch_float(f);
        }
        return Err(TimeError::Malformed("bad epoch number"));
    }
    parse_iso(b)
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize, what: &'static str) -> Result<u32, TimeError> {
        let end = self.pos + n;
        if end > self.b.len() || !self.b[self.pos..end].iter().all(u8::is_ascii_digit) {
            return Err(TimeError::Malformed(what));
        }
        let v = self.b[self.pos..end]
            .iter()
            .fold(0u32, |a, d| a * 10 + (d - b'0') as u32);
        self.pos = end;
        Ok(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
}

fn parse_iso(b: &[u8]) -> Result<Micros, TimeError> {
    let mut c = Cursor { b, pos: 0 };
    let year = c.digits(4, "year must have four digits")?;
    if !c.eat(b'-') {
        return Err(TimeError::Malformed("expected '-' after the year"));
    }
    let month = c.digits(2, "month must have two digits")?;
    if !c.eat(b'-') {
        return Err(TimeError::Malformed("expected '-' after the month"));
    }
    let day = c.digits(2, "day must have two digits")?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or(TimeError::Invalid("no such date"))?;
    let (mut hour, mut minute, mut second, mut micros) = (0, 0, 0, 0i64);
    if matches!(c.peek(), Some(b'T' | b't' | b' ')) {
        c.pos += 1;
        hour = c.digits(2, "hour must have two digits")?;
        if !c.eat(b':') {
            return Err(TimeError::Malformed("expected ':' after the hour"));
        }
        minute = c.digits(2, "minute must have two digits")?;
        if c.eat(b':') {
            second = c.digits(2, "second must have two digits")?;
            if c.eat(b'.') || c.eat(b',') {
                let start = c.pos;
                while matches!(c.peek(), Some(b'0'..=b'9')) {
                    c.pos += 1;
                }
                let frac = &b[start..c.pos];
                if frac.is_empty() || frac.len() > 9 {
                    return Err(TimeError::Malformed("fraction must have 1 to 9 digits"));
                }
                for i in 0..6 {
                    micros = micros * 10 + frac.get(i).map_or(0, |d| (d - b'0') as i64);
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(TimeError::Invalid("hour, minute or second out of range"));
        }
    }
    // Zone: Z, ±HH:MM, ±HHMM, ±HH, or none (UTC).
    let mut offset_secs = 0i64;
    match c.peek() {
        None => {}
        Some(b'Z' | b'z') => c.pos += 1,
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let oh = c.digits(2, "offset hours must have two digits")?;
            let om = if c.eat(b':') || matches!(c.peek(), Some(b'0'..=b'9')) {
                c.digits(2, "offset minutes must have two digits")?
            } else {
                0
            };
            if oh > 23 || om > 59 {
                return Err(TimeError::Invalid("offset out of range"));
            }
            offset_secs = (oh * 3600 + om * 60) as i64;
            if sign == b'-' {
                offset_secs = -offset_secs;
            }
        }
        Some(_) => return Err(TimeError::Malformed("unexpected text after the time")),
    }
    if c.pos != b.len() {
        return Err(TimeError::Malformed("unexpected text after the zone"));
    }
    let days = date
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default())
        .num_days();
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    checked(secs as i128 * MICROS_PER_SEC as i128 + micros as i128)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
    use proptest::prelude::*;

    fn utc(s: &str) -> Micros {
        DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&Utc)
            .timestamp_micros()
    }

    #[test]
    fn every_documented_shape() {
        let t = utc("2024-02-29T23:59:59.123456Z");
        let cases: &[(&str, Micros)] = &[
            ("2024-02-29T23:59:59.123456Z", t),
            ("2024-02-29t23:59:59.123456z", t),
            ("2024-02-29 23:59:59.123456", t),
            ("2024-02-29T23:59:59.123456", t),
            ("2024-02-29T23:59:59.123456789Z", t),
            ("2024-02-29T23:59:59.1234569Z", t),
            ("2024-03-01T05:29:59.123456+05:30", t),
            ("2024-03-01T05:29:59.123456+0530", t),
            ("2024-02-29T23:59:59.123456-00:00", t),
            ("2024-02-29T23:59:59.123456+00:00", t),
            ("2024-02-29T18:59:59.123456-05", t),
            ("2024-02-29T23:59:59Z", t - 123_456),
            ("2024-02-29T23:59:59.1Z", t - 23_456),
            ("2024-02-29T23:59Z", t - 59_123_456),
            ("2024-02-29", utc("2024-02-29T00:00:00Z")),
            ("  2024-02-29T23:59:59.123456Z\n", t),
            ("1709251199", utc("2024-02-29T23:59:59Z")),
            ("1709251199123", utc("2024-02-29T23:59:59.123Z")),
            ("1709251199123456", utc("2024-02-29T23:59:59.123456Z")),
            ("1709251199123456789", utc("2024-02-29T23:59:59.123456Z")),
            ("1709251199.5", utc("2024-02-29T23:59:59.5Z")),
            ("-86400", utc("1969-12-31T00:00:00Z")),
            ("0", 0),
            ("1969-07-20T20:17:40Z", utc("1969-07-20T20:17:40Z")),
            ("0001-01-01T00:00:00Z", MIN_MICROS),
            ("9999-12-31T23:59:59.999999Z", MAX_MICROS),
            ("2016-12-31T23:59:60Z", utc("2017-01-01T00:00:00Z")),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_text(raw), Ok(*want), "{raw}");
        }
    }

    #[test]
    fn unreadable_values_are_errors_not_panics() {
        for raw in [
            "",
            "   ",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2023-02-29",
            "2024-02-30T00:00:00Z",
            "2024-02-29T24:00:00Z",
            "2024-02-29T23:61:00Z",
            "2024-02-29T23:59:59.Z",
            "2024-02-29T23:59:59.1234567890Z",
            "2024-02-29T23:59:59+25:00",
            "2024-02-29T23:59:59 UTC",
            "24-02-29",
            "2024/02/29",
            "1.2.3",
            "--5",
            "99999999999999999999",
            "9999-12-31T23:59:59-01:00",
            "0000-12-31T00:00:00Z",
            "2024-02-29T23:59:59Zjunk",
            "ñ",
        ] {
            assert!(parse_text(raw).is_err(), "{raw:?} should be an error");
        }
    }

    #[test]
    fn epoch_fractions_land_on_the_decimal_the_api_sent() {
        // Issue #12: binary floats of these fall below (.813, .1) and above
        // (.7, .999999) the decimal; each must land on it exactly.
        for (text, want) in [
            ("1796188377.813", 1_796_188_377_813_000i64),
            ("1796188377.1", 1_796_188_377_100_000),
            ("1796188377.000001", 1_796_188_377_000_001),
            ("1796188377.7", 1_796_188_377_700_000),
            ("1796188377.999999", 1_796_188_377_999_999),
            ("1700000000.123456", 1_700_000_000_123_456),
        ] {
            let f: f64 = text.parse().unwrap();
            assert_eq!(from_epoch_float(f), Ok(want), "{text} as a float");
            // What an SDK makes of the float: whole seconds and nanoseconds.
            let secs = f.floor();
            let nanos = ((f - secs) * 1e9) as u32;
            assert_eq!(
                from_secs_nanos(secs as i64, nanos),
                Ok(want),
                "{text} as secs + nanos"
            );
        }
    }

    #[test]
    fn epoch_magnitude_rule() {
        assert_eq!(
            from_epoch_guess(99_999_999_999),
            Ok(99_999_999_999 * 1_000_000)
        );
        assert_eq!(
            from_epoch_guess(100_000_000_000),
            Ok(100_000_000_000 * 1000)
        );
        assert_eq!(from_epoch_guess(-1_000), Ok(-1_000_000_000));
        assert_eq!(
            from_epoch_millis(1_700_000_000_123),
            Ok(1_700_000_000_123_000)
        );
        assert_eq!(from_epoch_seconds(i64::MAX), Err(TimeError::OutOfRange));
        assert_eq!(from_secs_nanos(1, 999_999_999), Ok(2_000_000));
        assert_eq!(from_secs_nanos(1, 999_999_499), Ok(1_999_999));
        assert_eq!(from_secs_nanos(-2, 500), Ok(-1_999_999));
        assert!(from_secs_nanos(1, 1_000_000_000).is_err());
        assert_eq!(
            from_epoch_float(f64::NAN),
            Err(TimeError::Malformed("not a finite number"))
        );
    }

    fn instant() -> impl Strategy<Value = Micros> {
        MIN_MICROS..=MAX_MICROS
    }

    proptest! {
        #[test]
        fn rfc3339_round_trip(m in instant(), digits in 0usize..=9, offset_min in -23*60i32..=23*60) {
            let dt = Utc.timestamp_micros(m).unwrap();
            let off = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
            let local = dt.with_timezone(&off);
            // Skip offsets that push the local time outside years 1..9999.
            prop_assume!((1..=9999).contains(&chrono::Datelike::year(&local)));
            let base = local.format("%Y-%m-%dT%H:%M:%S").to_string();
            let frac = format!("{:09}", dt.timestamp_subsec_nanos());
            let text = if digits == 0 { base.clone() } else { format!("{base}.{}", &frac[..digits]) };
            let text = format!("{text}{}", local.format("%:z"));
            let kept = 10i64.pow(6u32.saturating_sub(digits as u32));
            let want = m - m.rem_euclid(kept);
            prop_assert_eq!(parse_text(&text), Ok(want), "{}", text);
        }

        #[test]
        fn zulu_and_no_zone_agree(m in instant()) {
            let dt = Utc.timestamp_micros(m).unwrap();
            let z = dt.to_rfc3339_opts(SecondsFormat::Micros, true);
            prop_assert_eq!(parse_text(&z), Ok(m));
            prop_assert_eq!(parse_text(z.trim_end_matches('Z')), Ok(m));
            prop_assert_eq!(parse_text(&z.replace('T', " ")), Ok(m));
        }

        #[test]
        fn epoch_round_trip(secs in -62_135_596_800i64..=-1, ms in 0i64..1000) {
            prop_assert_eq!(from_epoch_seconds(secs), Ok(secs * 1_000_000));
            prop_assert_eq!(from_epoch_millis(secs * 1000 + ms), Ok((secs * 1000 + ms) * 1000));
            prop_assert_eq!(from_secs_nanos(secs, (ms * 1_000_000) as u32), Ok(secs * 1_000_000 + ms * 1000));
        }

        #[test]
        fn epoch_strings_match_numbers(secs in 0i64..99_999_999_999) {
            prop_assert_eq!(parse_text(&secs.to_string()), from_epoch_guess(secs));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_text(&s);
        }
    }
}
