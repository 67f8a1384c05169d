//! async-graphql's validation errors (a float where whole yuan are expected, a string for an
//! `Int`, an unknown enum value, a missing input field) come as one English sentence with no
//! field. Here each one that names an input gets `extensions.field` (its path in the request,
//! e.g. `input.completedInvestment`), `code`/`class` `VALIDATION`, and the message in English
//! and Chinese saying which field and why. It runs in the schema's validation step
//! ([`crate::limits::Guard`]), so HTTP and WebSocket answers are alike.

use async_graphql::{ErrorExtensionValues, ServerError, Value};

use crate::error::class;

/// Adds the field and both languages to a validation error it recognises; others are left as
/// they are (the HTTP layer still gives them a code).
pub fn explain(mut e: ServerError) -> ServerError {
    if let Some((field, en, zh)) = understand(&e.message) {
        e.message = en;
        let ext = e
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        ext.set("code", class::VALIDATION);
        ext.set("class", class::VALIDATION);
        ext.set("field", Value::String(field));
        ext.set("messageZh", zh);
    }
    e
}

/// `(field, English, Chinese)` of a message async-graphql's validation writes.
fn understand(message: &str) -> Option<(String, String, String)> {
    if let Some(rest) = message.strip_prefix("Invalid value for argument ") {
        let (path, reason) = quoted(rest)?;
        let reason = reason.strip_prefix(", ").unwrap_or(reason);
        return Some(invalid_value(path, reason));
    }
    if let Some(rest) = message.strip_prefix("Unknown argument ") {
        let (arg, rest) = quoted(rest)?;
        let field = rest
            .strip_prefix(" on field ")
            .and_then(quoted)
            .map_or("", |(f, _)| f);
        return Some((
            arg.to_owned(),
            format!("{arg}: field {field} has no argument {arg:?}"),
            format!("字段 {field} 没有参数 {arg}"),
        ));
    }
    if let Some(rest) = message.strip_prefix("Field ")
        && let Some((field, rest)) = quoted(rest)
        && let Some(rest) = rest.strip_prefix(" argument ")
        && let Some((arg, rest)) = quoted(rest)
        && rest.contains("is required but not provided")
    {
        return Some((
            arg.to_owned(),
            format!("{arg}: the argument is required by {field} but was not given"),
            format!("缺少必填参数 {arg}（{field} 需要）"),
        ));
    }
    if let Some(rest) = message.strip_prefix("Variable ")
        && let Some((var, rest)) = quoted(rest)
        && let Some(rest) = rest.strip_prefix(" of type ")
        && let Some((given, rest)) = quoted(rest)
        && let Some(rest) = rest.strip_prefix(" used in position expecting type ")
        && let Some((expected, _)) = quoted(rest)
    {
        let var = var.trim_start_matches('$');
        return Some((
            var.to_owned(),
            format!("variable ${var} is declared {given} but used where {expected} is expected"),
            format!("变量 ${var} 声明为 {given}，但所在位置需要 {expected}"),
        ));
    }
    None
}

/// `"…"` at the start of `s`: the text inside and what follows.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let end = s.find('"')?;
    Some((&s[..end], &s[end + 1..]))
}

fn invalid_value(path: &str, reason: &str) -> (String, String, String) {
    if let Some(rest) = reason.strip_prefix("expected type ")
        && let Some((ty, _)) = quoted(rest)
    {
        let (en, zh) = described(ty);
        return (
            path.to_owned(),
            format!("{path}: the value is not a {ty}: expected {en}"),
            format!("字段 {path} 的值不是 {ty} 类型：应为{zh}"),
        );
    }
    if let Some(rest) = reason.strip_prefix("enumeration type ")
        && let Some((ty, rest)) = quoted(rest)
        && let Some(rest) = rest.strip_prefix(" does not contain the value ")
        && let Some((value, _)) = quoted(rest)
    {
        return (
            path.to_owned(),
            format!("{path}: {value} is not a value of {ty} (see the schema for its values)"),
            format!("字段 {path} 的取值 {value} 不属于枚举 {ty}（可选值见接口定义）"),
        );
    }
    if let Some(rest) = reason.strip_prefix("field ")
        && let Some((name, rest)) = quoted(rest)
    {
        let field = format!("{path}.{name}");
        if let Some(rest) = rest.strip_prefix(" of type ")
            && let Some((ty, rest)) = quoted(rest)
            && rest.contains("is required but not provided")
        {
            return (
                field.clone(),
                format!("{field} is required ({ty}) but was not given"),
                format!("缺少必填字段 {field}（类型 {ty}）"),
            );
        }
    }
    if let Some(rest) = reason.strip_prefix("unknown field ")
        && let Some((name, rest)) = quoted(rest)
    {
        let ty = rest
            .strip_prefix(" of type ")
            .and_then(quoted)
            .map_or("", |(t, _)| t);
        let field = format!("{path}.{name}");
        return (
            field,
            format!("{path}: {ty} has no field {name:?}"),
            format!("字段 {path}：{ty} 没有字段 {name}"),
        );
    }
    (
        path.to_owned(),
        format!("{path}: invalid value: {reason}"),
        format!("字段 {path} 的值无效：{reason}"),
    )
}

/// What a value of the type looks like, in English and Chinese.
fn described(ty: &str) -> (&'static str, &'static str) {
    match ty {
        "Int" => (
            "a whole number (32-bit integer, no decimals, not a string)",
            "整数（32 位，不能有小数，不能是字符串）",
        ),
        "Float" => ("a number", "数字"),
        "String" => ("a string", "字符串"),
        "ID" => ("an ID (a string)", "ID（字符串）"),
        "Boolean" => ("true or false", " true 或 false"),
        "Yuan" => (
            "whole yuan: an integer, or a string of digits (no decimals)",
            "整数元：整数或数字字符串（不能有小数）",
        ),
        "Wan" => (
            "万元 as a string holding a decimal with at most 4 decimals, e.g. \"123.45\"",
            "万元，字符串形式的小数，最多 4 位小数，例如 \"123.45\"",
        ),
        "Mu" => (
            "mu as a string holding a decimal with at most 4 decimals, e.g. \"12.5\"",
            "亩，字符串形式的小数，最多 4 位小数，例如 \"12.5\"",
        ),
        "Decimal" => (
            "an exact decimal as a string, e.g. \"100000000.0000\"",
            "字符串形式的精确小数，例如 \"100000000.0000\"",
        ),
        "Date" => (
            "a date as a string YYYY-MM-DD, e.g. \"2026-06-30\"",
            "日期字符串，格式 YYYY-MM-DD，例如 \"2026-06-30\"",
        ),
        "Period" => (
            "a month as a string YYYY-MM, e.g. \"2026-10\"",
            "月份字符串，格式 YYYY-MM，例如 \"2026-10\"",
        ),
        "DateTime" => (
            "a moment as an RFC 3339 string, e.g. \"2026-11-26T08:30:00Z\"",
            "RFC 3339 时间字符串，例如 \"2026-11-26T08:30:00Z\"",
        ),
        _ => ("a value of that type", "该类型的值"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn async_graphql_messages_become_fields_and_both_languages() {
        let (field, en, zh) = understand(
            r#"Invalid value for argument "input.completedInvestment", expected type "Yuan""#,
        )
        .unwrap();
        assert_eq!(field, "input.completedInvestment");
        assert!(en.contains("whole yuan"), "{en}");
        assert!(
            zh.contains("input.completedInvestment") && zh.contains("整数元"),
            "{zh}"
        );
        let (field, _, zh) = understand(
            r#"Invalid value for argument "filter.stage.0", enumeration type "Stage" does not contain the value "NOPE""#,
        )
        .unwrap();
        assert_eq!(field, "filter.stage.0");
        assert!(zh.contains("NOPE"), "{zh}");
        let (field, _, zh) = understand(
            r#"Invalid value for argument "input", field "period" of type "Period!" is required but not provided"#,
        )
        .unwrap();
        assert_eq!(field, "input.period");
        assert!(zh.contains("缺少"), "{zh}");
        let (field, ..) = understand(
            r#"Invalid value for argument "input", unknown field "x" of type "LogContactInput""#,
        )
        .unwrap();
        assert_eq!(field, "input.x");
        let (field, ..) =
            understand(r#"Unknown argument "bogus" on field "units" of type "Query""#).unwrap();
        assert_eq!(field, "bogus");
        let (field, ..) = understand(
            r#"Field "project" argument "id" of type "Query" is required but not provided"#,
        )
        .unwrap();
        assert_eq!(field, "id");
        let (field, ..) =
            understand(r#"Variable "$n" of type "String" used in position expecting type "Int""#)
                .unwrap();
        assert_eq!(field, "n");
        assert!(understand("Unknown field \"x\" on type \"Query\"").is_none());
    }
}
