//! Calendar arithmetic for the generator: epoch seconds to civil UTC date and time, and the
//! three text forms the output needs (Zeek's `#open` stamp, ISO 8601 with microseconds, and
//! the object key's date path). No time-zone database: everything is UTC, as sensors write.

/// Microseconds since the Unix epoch: every timestamp the generator makes is a whole number of
/// microseconds, because Zeek writes six decimals.
pub(crate) type Micros = i64;

/// One second in microseconds.
pub(crate) const SECOND_US: Micros = 1_000_000;

/// A civil UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
}

impl Civil {
    /// Convert whole seconds since the epoch (Howard Hinnant's `civil_from_days`).
    pub(crate) fn from_epoch_s(epoch_s: i64) -> Self {
        let days = epoch_s.div_euclid(86_400);
        let secs = epoch_s.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }
}

/// Seconds since the epoch of a civil UTC date and time (`days_from_civil`); the inverse of
/// [`Civil::from_epoch_s`], used by the tests to check it.
#[cfg(test)]
pub(crate) fn epoch_s_from_civil(c: Civil) -> i64 {
    let year = c.year - i64::from(c.month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(c.month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(c.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + i64::from(c.hour) * 3600 + i64::from(c.minute) * 60 + i64::from(c.second)
}

/// Append `value` as exactly `width` decimal digits (zero padded; wider values are cut to the
/// low digits, which never happens for calendar fields).
pub(crate) fn push_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut v = value;
    for slot in digits.iter_mut().rev().take(width) {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(digits.get(20 - width.min(20)..).unwrap_or(&[]));
}

fn push_year(out: &mut Vec<u8>, year: i64) {
    // Years before 0 or after 9999 do not occur in logs; clamp instead of failing.
    push_padded(out, year.clamp(0, 9999) as u64, 4);
}

/// Zeek's meta-line stamp, `%Y-%m-%d-%H-%M-%S` (used by `#open` and `#close`).
pub(crate) fn push_zeek_stamp(out: &mut Vec<u8>, epoch_s: i64) {
    let c = Civil::from_epoch_s(epoch_s);
    push_year(out, c.year);
    for (sep, value) in [
        (b'-', c.month),
        (b'-', c.day),
        (b'-', c.hour),
        (b'-', c.minute),
        (b'-', c.second),
    ] {
        out.push(sep);
        push_padded(out, u64::from(value), 2);
    }
}

/// ISO 8601 with microseconds and `Z`, as json-streaming-logs writes (`2018-03-24T17:15:20.865716Z`).
pub(crate) fn push_iso8601(out: &mut Vec<u8>, t: Micros) {
    let c = Civil::from_epoch_s(t.div_euclid(SECOND_US));
    push_year(out, c.year);
    out.push(b'-');
    push_padded(out, u64::from(c.month), 2);
    out.push(b'-');
    push_padded(out, u64::from(c.day), 2);
    out.push(b'T');
    push_padded(out, u64::from(c.hour), 2);
    out.push(b':');
    push_padded(out, u64::from(c.minute), 2);
    out.push(b':');
    push_padded(out, u64::from(c.second), 2);
    out.push(b'.');
    push_padded(out, t.rem_euclid(SECOND_US) as u64, 6);
    out.push(b'Z');
}

/// Epoch seconds with exactly six decimals from whole microseconds (TSV `time`).
pub(crate) fn push_epoch_fixed6(out: &mut Vec<u8>, t: Micros) {
    if t < 0 {
        out.push(b'-');
    }
    let abs = t.unsigned_abs();
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(abs / 1_000_000).as_bytes());
    out.push(b'.');
    push_padded(out, abs % 1_000_000, 6);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn civil_round_trips_known_dates() {
        // 2024-05-01T12:00:00Z, a leap day and the epoch.
        for (epoch, (y, mo, d, h, mi, s)) in [
            (1_714_564_800_i64, (2024, 5, 1, 12, 0, 0)),
            (1_709_164_799, (2024, 2, 28, 23, 59, 59)),
            (1_709_251_199, (2024, 2, 29, 23, 59, 59)),
            (0, (1970, 1, 1, 0, 0, 0)),
            (1_521_911_720, (2018, 3, 24, 17, 15, 20)),
        ] {
            let c = Civil::from_epoch_s(epoch);
            assert_eq!(
                (c.year, c.month, c.day, c.hour, c.minute, c.second),
                (y, mo, d, h, mi, s)
            );
            assert_eq!(epoch_s_from_civil(c), epoch);
        }
    }

    #[test]
    fn text_forms() {
        assert_eq!(
            text(|o| push_zeek_stamp(o, 1_714_564_800)),
            "2024-05-01-12-00-00"
        );
        assert_eq!(
            text(|o| push_iso8601(o, 1_521_911_720_865_716)),
            "2018-03-24T17:15:20.865716Z"
        );
        assert_eq!(
            text(|o| push_epoch_fixed6(o, 1_521_911_720_000_007)),
            "1521911720.000007"
        );
        assert_eq!(text(|o| push_padded(o, 7, 3)), "007");
    }
}
