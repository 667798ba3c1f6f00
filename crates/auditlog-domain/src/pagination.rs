//! WorkOS list pagination: `limit` 1–100 (default 10), `before`/`after` cursors and
//! `order` = `desc` (default) | `asc` | `normal`.
//!
//! `normal` follows the SDK documentation: results in descending order, with reversed cursor
//! semantics — `after` fetches newer records, `before` older ones.
//!
//! A store only needs one primitive: "up to N keys strictly beyond K, scanning ascending or
//! descending". [`PagePlan`] says which scan to run and [`PagePlan::finish`] turns the rows into a
//! page with its `list_metadata`.

use crate::field_error::FieldErrors;
use std::collections::HashMap;

pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    Desc,
    Asc,
    Normal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub limit: usize,
    pub before: Option<String>,
    pub after: Option<String>,
    pub order: ListOrder,
}

/// Node sends the literal `null` for a cursor set to null; treat it and `""` as absent.
fn cursor(query: &HashMap<String, String>, name: &str) -> Option<String> {
    query
        .get(name)
        .filter(|value| !value.is_empty() && value.as_str() != "null")
        .cloned()
}

impl ListParams {
    /// Parses the pagination part of a query string; unknown parameters are ignored.
    pub fn parse(query: &HashMap<String, String>) -> Result<ListParams, FieldErrors> {
        let mut errors = FieldErrors::default();
        let limit = match query.get("limit").map(String::as_str) {
            None | Some("") => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(
                        "limit",
                        "invalid_value",
                        "limit must be an integer between 1 and 100",
                    );
                    DEFAULT_LIMIT
                }
            },
        };
        let order = match query.get("order").map(String::as_str) {
            None | Some("") | Some("desc") => ListOrder::Desc,
            Some("asc") => ListOrder::Asc,
            Some("normal") => ListOrder::Normal,
            Some(_) => {
                errors.push(
                    "order",
                    "invalid_value",
                    "order must be one of desc, asc, normal",
                );
                ListOrder::Desc
            }
        };
        let before = cursor(query, "before");
        let after = cursor(query, "after");
        if before.is_some() && after.is_some() {
            errors.push(
                "before",
                "invalid_value",
                "before and after cannot be used together",
            );
        }
        errors.into_result(ListParams {
            limit,
            before,
            after,
            order,
        })
    }

    /// Which scan answers this request.
    pub fn plan(&self) -> PagePlan {
        // In `normal` order the cursors swap meaning; otherwise it lists like `desc`.
        let (forward_cursor, backward_cursor, descending) = match self.order {
            ListOrder::Desc => (&self.after, &self.before, true),
            ListOrder::Asc => (&self.after, &self.before, false),
            ListOrder::Normal => (&self.before, &self.after, true),
        };
        match (forward_cursor, backward_cursor) {
            (_, Some(cursor)) => PagePlan {
                start_after: Some(cursor.clone()),
                ascending: descending,
                limit: self.limit,
                backward: true,
                normal: self.order == ListOrder::Normal,
                had_cursor: true,
            },
            (cursor, None) => PagePlan {
                start_after: cursor.clone(),
                ascending: !descending,
                limit: self.limit,
                backward: false,
                normal: self.order == ListOrder::Normal,
                had_cursor: cursor.is_some(),
            },
        }
    }
}

/// One keyset scan: fetch up to `fetch_limit()` rows whose key is strictly beyond `start_after`
/// in the `ascending` (or descending) direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePlan {
    pub start_after: Option<String>,
    pub ascending: bool,
    pub limit: usize,
    /// The scan runs against the presentation order; rows are reversed before answering.
    backward: bool,
    normal: bool,
    had_cursor: bool,
}

/// A page in presentation order with its `list_metadata` cursors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl PagePlan {
    /// One more than the page size, to learn whether more rows exist.
    pub fn fetch_limit(&self) -> usize {
        self.limit + 1
    }

    /// Turns the scanned rows (in scan order, at most `fetch_limit()`) into a page.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let more_in_scan = rows.len() > self.limit;
        rows.truncate(self.limit);
        // `more_ahead`: rows follow the page in presentation order; `more_behind`: rows precede it.
        let (more_ahead, more_behind) = if self.backward {
            rows.reverse();
            (self.had_cursor, more_in_scan)
        } else {
            (more_in_scan, self.had_cursor)
        };
        let first = rows.first().map(&key);
        let last = rows.last().map(&key);
        let (after, before) = if self.normal {
            // Presentation is newest first; `after` means newer, i.e. towards the first row.
            (first.filter(|_| more_behind), last.filter(|_| more_ahead))
        } else {
            (last.filter(|_| more_ahead), first.filter(|_| more_behind))
        };
        Page {
            data: rows,
            before,
            after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let query = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListParams::parse(&query).unwrap()
    }

    /// Runs a plan against the sorted keys 1..=n, as a store would.
    fn run(keys: &[u32], params: &ListParams) -> Page<u32> {
        let plan = params.plan();
        let bound = plan.start_after.as_ref().map(|c| c.parse::<u32>().unwrap());
        let mut rows: Vec<u32> = keys
            .iter()
            .copied()
            .filter(|k| match bound {
                None => true,
                Some(b) if plan.ascending => *k > b,
                Some(b) => *k < b,
            })
            .collect();
        if !plan.ascending {
            rows.reverse();
        }
        rows.truncate(plan.fetch_limit());
        plan.finish(rows, |k| k.to_string())
    }

    #[test]
    fn parses_defaults_and_rejects_bad_values() {
        let p = params(&[("after", "null"), ("before", "")]);
        assert_eq!(
            p,
            ListParams {
                limit: 10,
                before: None,
                after: None,
                order: ListOrder::Desc
            }
        );
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("order", "up"),
        ] {
            let query = [(bad.0.to_string(), bad.1.to_string())]
                .into_iter()
                .collect();
            assert!(ListParams::parse(&query).is_err(), "{bad:?}");
        }
        let both = [
            ("before".to_string(), "a".to_string()),
            ("after".to_string(), "b".to_string()),
        ];
        assert!(ListParams::parse(&both.into_iter().collect()).is_err());
    }

    #[test]
    fn desc_pages_forward_with_after_and_back_with_before() {
        let keys: Vec<u32> = (1..=5).collect();
        let first = run(&keys, &params(&[("limit", "2")]));
        assert_eq!(
            (
                first.data.clone(),
                first.before.clone(),
                first.after.clone()
            ),
            (vec![5, 4], None, Some("4".into()))
        );
        let second = run(&keys, &params(&[("limit", "2"), ("after", "4")]));
        assert_eq!(
            (
                second.data.clone(),
                second.before.clone(),
                second.after.clone()
            ),
            (vec![3, 2], Some("3".into()), Some("2".into()))
        );
        let third = run(&keys, &params(&[("limit", "2"), ("after", "2")]));
        assert_eq!((third.data, third.after), (vec![1], None));
        let back = run(&keys, &params(&[("limit", "2"), ("before", "3")]));
        assert_eq!(
            (back.data, back.before, back.after),
            (vec![5, 4], None, Some("4".into()))
        );
    }

    #[test]
    fn asc_and_normal_orders() {
        let keys: Vec<u32> = (1..=5).collect();
        let asc = run(
            &keys,
            &params(&[("limit", "2"), ("order", "asc"), ("after", "2")]),
        );
        assert_eq!(
            (asc.data, asc.before, asc.after),
            (vec![3, 4], Some("3".into()), Some("4".into()))
        );
        let normal = run(&keys, &params(&[("limit", "2"), ("order", "normal")]));
        assert_eq!(
            (normal.data, normal.before.clone(), normal.after),
            (vec![5, 4], Some("4".into()), None)
        );
        let older = run(
            &keys,
            &params(&[("limit", "2"), ("order", "normal"), ("before", "4")]),
        );
        assert_eq!(
            (older.data, older.before, older.after),
            (vec![3, 2], Some("2".into()), Some("3".into()))
        );
        let newer = run(
            &keys,
            &params(&[("limit", "2"), ("order", "normal"), ("after", "2")]),
        );
        assert_eq!(
            (newer.data, newer.before, newer.after),
            (vec![4, 3], Some("3".into()), Some("4".into()))
        );
    }
}
