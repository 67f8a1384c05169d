//! PostgreSQL's text form of `jsonb` (`jsonb::text`), produced in Rust.
//!
//! The event hash covers `data` and `metadata` as PostgreSQL prints them (crate::hash). A backend
//! without jsonb (SQLite) stores and hashes exactly this text, so its events carry the hashes
//! PostgreSQL would have computed and can move between the backends with `verify` still passing.
//!
//! The form, as PostgreSQL 15 writes it (src/backend/utils/adt/jsonb.c, json.c `escape_json`,
//! numeric.c):
//! * object keys ordered by byte length, then bytewise; duplicate keys keep the last value (a
//!   `serde_json::Value` has already done that);
//! * `", "` between members and elements, `": "` between a key and its value; `{}` and `[]` empty;
//! * strings escape `"` `\` and `\b \f \n \r \t`; other characters below U+0020 as `\u00xx` (lower
//!   case hex); everything else, DEL and non-ASCII included, as raw UTF-8;
//! * numbers are `numeric`: parsed from the text the client sent and printed without exponent,
//!   with as many fraction digits as the input implied (`1.5e-7` → `0.00000015`, `1e3` → `1000`,
//!   `2.50` → `2.50`, `-0.0` → `0.0`). The client text is serde_json's (sqlx binds a `Value` by
//!   serialising it), so numbers are rendered from `serde_json::to_string` of the number.
//!
//! jsonb cannot hold U+0000 in a string (PostgreSQL refuses `\u0000` in jsonb); such a value is
//! refused here too, so a store never accepts an event another backend could not take.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// A JSON value PostgreSQL's jsonb cannot store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonbTextError {
    #[error(
        "a string contains the character U+0000, which PostgreSQL jsonb cannot store \
         (字符串含 U+0000，PostgreSQL jsonb 无法存储)"
    )]
    NulCharacter,
}

/// `value` as PostgreSQL prints it after a round trip through jsonb.
pub fn jsonb_text(value: &Value) -> Result<String, JsonbTextError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), JsonbTextError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s)?,
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| {
                a.len()
                    .cmp(&b.len())
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            });
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key)?;
                out.push_str(": ");
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(out: &mut String, s: &str) -> Result<(), JsonbTextError> {
    out.push('"');
    for c in s.chars() {
        match c {
            '\0' => return Err(JsonbTextError::NulCharacter),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

fn write_number(out: &mut String, n: &Number) {
    out.push_str(&numeric_text(&n.to_string()));
}

/// What PostgreSQL's `numeric_out(numeric_in(text))` gives for a JSON number's `text`: the exact
/// decimal value without exponent, with `max(0, fraction digits − exponent)` fraction digits,
/// and no sign on zero.
pub fn numeric_text(text: &str) -> String {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = int_part.chars().chain(frac_part.chars()).collect();
    // The value is `digits × 10^-shift`; `shift` fraction digits are printed when positive.
    let shift = i64::try_from(frac_part.len()).unwrap_or(i64::MAX) - exponent;
    let (mut int_digits, frac_digits) = if shift <= 0 {
        let zeros = usize::try_from(-shift).unwrap_or(0);
        (format!("{digits}{}", "0".repeat(zeros)), String::new())
    } else {
        let shift = usize::try_from(shift).unwrap_or(0);
        let padded = if digits.len() <= shift {
            format!("{}{digits}", "0".repeat(shift + 1 - digits.len()))
        } else {
            digits
        };
        let (i, f) = padded.split_at(padded.len() - shift);
        (i.to_owned(), f.to_owned())
    };
    let trimmed = int_digits.trim_start_matches('0');
    int_digits = if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    };
    let is_zero = int_digits == "0" && frac_digits.bytes().all(|b| b == b'0');
    let mut out = String::with_capacity(int_digits.len() + frac_digits.len() + 2);
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(&int_digits);
    if !frac_digits.is_empty() {
        out.push('.');
        out.push_str(&frac_digits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn orders_keys_by_length_then_bytes_with_pg_separators() {
        let v = json!({"bb": 1, "a": [1, "x", null, true], "c": {}, "aaa": [], "B": false});
        assert_eq!(
            jsonb_text(&v).unwrap(),
            r#"{"B": false, "a": [1, "x", null, true], "c": {}, "bb": 1, "aaa": []}"#
        );
    }

    #[test]
    fn escapes_like_escape_json() {
        let v = json!("q\"b\\n\nt\tu\u{1}d\u{7f}é中");
        assert_eq!(
            jsonb_text(&v).unwrap(),
            "\"q\\\"b\\\\n\\nt\\tu\\u0001d\u{7f}é中\""
        );
        assert_eq!(
            jsonb_text(&json!({"a\u{0}": 1})),
            Err(JsonbTextError::NulCharacter)
        );
    }

    #[test]
    fn numbers_print_as_numeric() {
        for (input, pg) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0.0"),
            ("1.5e-7", "0.00000015"),
            ("1e3", "1000"),
            ("1.5e10", "15000000000"),
            ("15000000000.0", "15000000000.0"),
            ("2.50", "2.50"),
            ("-12.345e1", "-123.45"),
            ("5e-324", &format!("0.{}5", "0".repeat(323))),
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
        ] {
            assert_eq!(numeric_text(input), pg, "{input}");
        }
    }
}
