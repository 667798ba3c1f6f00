//! RFC 3339 parsing (any offset, offset-less taken as UTC) and the WorkOS output format.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Parses an RFC 3339 / ISO 8601 date-time. A value without an offset is taken as UTC, because
/// the Python SDK sends naive datetimes that way (`2026-02-02T16:35:39.000`).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    None
}

/// The response format of every WorkOS timestamp: UTC, exactly three fractional digits, `Z`.
pub fn format_millis(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Microseconds since the Unix epoch: the stored, sortable form of every timestamp.
pub fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Inverse of [`to_micros`].
pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The canonical text of a stored event time: UTC with `Z`, millisecond precision when that is
/// exact, microseconds otherwise (finer input is truncated to the microsecond we store).
pub fn format_canonical(at: DateTime<Utc>) -> String {
    if at.timestamp_subsec_micros().is_multiple_of(1000) {
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    } else {
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_offset_and_naive_as_utc() {
        let z = parse_timestamp("2026-02-02T16:35:39.317Z").unwrap();
        let plus = parse_timestamp("2026-02-02T18:35:39.317+02:00").unwrap();
        let naive = parse_timestamp("2026-02-02T16:35:39.317").unwrap();
        assert_eq!(z, plus);
        assert_eq!(z, naive);
        assert_eq!(format_millis(plus), "2026-02-02T16:35:39.317Z");
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("2026-02-30T00:00:00Z").is_none());
    }

    #[test]
    fn canonical_format_keeps_microseconds() {
        let at = parse_timestamp("2026-02-02T16:35:39.123456789Z").unwrap();
        let stored = from_micros(to_micros(at));
        assert_eq!(format_canonical(stored), "2026-02-02T16:35:39.123456Z");
        let ms = parse_timestamp("2026-02-02T16:35:39Z").unwrap();
        assert_eq!(format_canonical(ms), "2026-02-02T16:35:39.000Z");
    }
}
