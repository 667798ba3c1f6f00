//! Retention periods: the two request variants of
//! `PUT /organizations/{id}/audit_logs_retention` and the cutoff they imply.
//!
//! `retention_period` is one of `1_MONTH`…`11_MONTHS` (30 days each) or `1_YEAR`…`10_YEARS`
//! (365 days each); `retention_period_in_days` must be one of those same day counts (30–330 in
//! steps of 30, 365–3650 in steps of 365), as the newest SDKs allow. Exactly one of the two.

use crate::field_error::FieldErrors;
use serde_json::Value;

const DAY_MICROS: i64 = 86_400_000_000;

/// True for the day counts the newest SDKs accept.
pub fn is_allowed_days(days: i64) -> bool {
    (days % 30 == 0 && (30..=330).contains(&days))
        || (days % 365 == 0 && (365..=3650).contains(&days))
}

/// Days of a `retention_period` enum value, e.g. `3_MONTHS` → 90, `2_YEARS` → 730.
pub fn period_days(period: &str) -> Option<i64> {
    let (count, unit) = period.split_once('_')?;
    let count_text = count;
    let count: i64 = count_text.parse().ok()?;
    if count.to_string() != count_text {
        return None; // no leading zeros or signs
    }
    match (unit, count) {
        ("MONTH", 1) | ("YEAR", 1) => {}
        ("MONTHS", 2..=11) | ("YEARS", 2..=10) => {}
        _ => return None,
    }
    Some(if unit.starts_with("MONTH") {
        count * 30
    } else {
        count * 365
    })
}

/// Parses a retention update body into a number of days.
pub fn parse_retention_update(body: &Value) -> Result<i64, FieldErrors> {
    let mut errors = FieldErrors::default();
    let object = body.as_object();
    let period = object
        .and_then(|o| o.get("retention_period"))
        .filter(|v| !v.is_null());
    let days = object
        .and_then(|o| o.get("retention_period_in_days"))
        .filter(|v| !v.is_null());
    match (period, days) {
        (Some(_), Some(_)) => errors.push(
            "retention_period",
            "mutually_exclusive",
            "send either retention_period or retention_period_in_days, not both",
        ),
        (None, None) => errors.push(
            "retention_period",
            "required",
            "retention_period (e.g. \"1_YEAR\") or retention_period_in_days is required",
        ),
        (Some(period), None) => match period.as_str().and_then(period_days) {
            Some(days) => return Ok(days),
            None => errors.push(
                "retention_period",
                "invalid_value",
                "retention_period must be one of 1_MONTH…11_MONTHS or 1_YEAR…10_YEARS",
            ),
        },
        (None, Some(days)) => match days
            .as_i64()
            .or_else(|| days.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e9).map(|f| f as i64))
            .filter(|d| is_allowed_days(*d))
        {
            Some(days) => return Ok(days),
            None => errors.push(
                "retention_period_in_days",
                "invalid_value",
                "retention_period_in_days must be 30–330 in steps of 30 or 365–3650 in steps of 365",
            ),
        },
    }
    Err(errors)
}

/// Events that occurred strictly before this instant (µs) are past retention at `now`.
pub fn retention_cutoff(now_micros: i64, days: i64) -> i64 {
    now_micros - days * DAY_MICROS
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_every_period() {
        assert_eq!(period_days("1_MONTH"), Some(30));
        assert_eq!(period_days("11_MONTHS"), Some(330));
        assert_eq!(period_days("1_YEAR"), Some(365));
        assert_eq!(period_days("10_YEARS"), Some(3650));
        for bad in [
            "1_MONTHS",
            "2_MONTH",
            "12_MONTHS",
            "0_YEARS",
            "11_YEARS",
            "01_YEAR",
            "YEAR",
            "1_year",
            "",
        ] {
            assert_eq!(period_days(bad), None, "{bad}");
        }
        let allowed: Vec<i64> = (1..=4000).filter(|d| is_allowed_days(*d)).collect();
        assert_eq!(allowed.len(), 11 + 10);
    }

    #[test]
    fn parses_both_variants_and_rejects_the_rest() {
        assert_eq!(
            parse_retention_update(&json!({"retention_period": "6_MONTHS"})),
            Ok(180)
        );
        assert_eq!(
            parse_retention_update(&json!({"retention_period_in_days": 730})),
            Ok(730)
        );
        for bad in [
            json!({}),
            json!({"retention_period": "6_MONTHS", "retention_period_in_days": 180}),
            json!({"retention_period": "FOREVER"}),
            json!({"retention_period_in_days": 31}),
            json!({"retention_period_in_days": 30.5}),
            json!({"retention_period_in_days": "30"}),
            json!([]),
        ] {
            assert!(parse_retention_update(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cutoff_is_exact() {
        assert_eq!(retention_cutoff(30 * DAY_MICROS + 5, 30), 5);
    }
}
