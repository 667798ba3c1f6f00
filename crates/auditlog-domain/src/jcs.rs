//! RFC 8785 (JSON Canonicalization Scheme) serialisation of a `serde_json::Value`.
//!
//! Every stored event's bytes go through this once at ingest. `serde_json_canonicalizer`, which
//! defined our canonical bytes first, re-parses every object key as JSON to find its sort key
//! and buffers each member separately; that was about 10 % of the server's CPU under ingest
//! load. This writer produces the same bytes directly, and the crate stays as the oracle: the
//! tests below compare the two on thousands of generated values, so a stored leaf hash can never
//! change with this code.

use serde_json::{Map, Number, Value};

/// Appends the RFC 8785 form of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(members, out),
    }
}

/// Appends the RFC 8785 form of a JSON object.
pub(crate) fn write_object(members: &Map<String, Value>, out: &mut Vec<u8>) {
    // Members sorted by their keys' UTF-16 code units (RFC 8785 §3.2.3), which differs from
    // byte order only for characters above U+FFFF against U+E000..U+FFFF.
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_unstable_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push(b'{');
    for (i, (key, member)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write_canonical(member, out);
    }
    out.push(b'}');
}

/// Every JSON number is an IEEE 754 double in ECMAScript's shortest form (RFC 8785 §3.2.2.3):
/// integers are converted as the crate does (`as f64`), and `ryu-js` formats like JavaScript.
pub(crate) fn write_number(number: &Number, out: &mut Vec<u8>) {
    let value = number
        .as_f64()
        .expect("without arbitrary_precision every serde_json number is an f64, i64 or u64");
    // A serde_json::Value holds only finite numbers.
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(value).as_bytes());
}

/// RFC 8785 §3.2.2.2 escapes exactly what serde_json escapes: `"`, `\`, and U+0000..U+001F
/// (`\b \t \n \f \r` by name, the rest as `\u00xx` in lowercase hex); nothing else.
pub(crate) fn write_string(text: &str, out: &mut Vec<u8>) {
    // Writing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::{seed_state, Xorshift};
    use serde_json::json;

    fn ours(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_canonical(value, &mut out);
        out
    }

    fn oracle(value: &Value) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(value).expect("finite numbers only")
    }

    /// A small deterministic generator (xorshift), so a failure names a reproducible seed.
    struct Gen(u64);

    impl Xorshift for Gen {
        fn state(&mut self) -> &mut u64 {
            &mut self.0
        }
    }

    impl Gen {
        fn text(&mut self) -> String {
            const PIECES: &[&str] = &[
                "a", "Z", "0", "_", "-", "id", "type", "é", "ß", "\u{e000}", "\u{ffff}", "😀", "𝄞",
                "\"", "\\", "/", "\n", "\t", "\u{8}", "\u{c}", "\r", "\u{0}", "\u{1f}", "\u{7f}",
                "\u{2028}", "<", "&", " ", "中", "ｱ",
            ];
            (0..self.below(6))
                .map(|_| PIECES[self.below(PIECES.len() as u64)])
                .collect()
        }

        fn number(&mut self) -> Value {
            const FLOATS: &[f64] = &[
                0.0,
                -0.0,
                1.0,
                -1.5,
                0.1,
                1e21,
                1e-7,
                123456789.125,
                5e-324,
                1.7976931348623157e308,
                9007199254740993.0,
                2.5e-5,
                100.0,
                1e20,
            ];
            match self.below(4) {
                0 => json!(self.next() as i64),
                1 => json!(self.next()),
                2 => json!(self.below(1000) as i64 - 500),
                _ => json!(FLOATS[self.below(FLOATS.len() as u64)]),
            }
        }

        fn value(&mut self, depth: usize) -> Value {
            match self.below(if depth == 0 { 4 } else { 6 }) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => self.number(),
                3 => Value::String(self.text()),
                4 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
                _ => {
                    let mut members = Map::new();
                    for _ in 0..self.below(6) {
                        members.insert(self.text(), self.value(depth - 1));
                    }
                    Value::Object(members)
                }
            }
        }
    }

    #[test]
    fn matches_serde_json_canonicalizer_on_generated_values() {
        for seed in 1..=20_000u64 {
            let mut generator = Gen(seed_state(seed));
            let value = generator.value(4);
            assert_eq!(
                String::from_utf8_lossy(&ours(&value)),
                String::from_utf8_lossy(&oracle(&value)),
                "seed {seed}: {value}"
            );
        }
    }

    #[test]
    fn sorts_keys_by_utf16_code_units_not_bytes() {
        // U+E000 sorts after U+1F600 in UTF-16 (0xD83D…), before it in UTF-8.
        let value = json!({"\u{e000}": 1, "😀": 2, "a": 3});
        assert_eq!(ours(&value), "{\"a\":3,\"😀\":2,\"\u{e000}\":1}".as_bytes());
        assert_eq!(ours(&value), oracle(&value));
    }

    #[test]
    fn formats_numbers_as_ecmascript_does() {
        let value = json!([1.0, 1e21, 1e-7, -0.0, 9007199254740993u64, 0.1]);
        assert_eq!(ours(&value), b"[1,1e+21,1e-7,0,9007199254740992,0.1]");
    }
}
