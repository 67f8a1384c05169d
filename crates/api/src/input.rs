//! The one check of every string a request carries, before anything reads it: arguments written
//! in the document and variables alike, mutations and filters alike, over HTTP and WebSocket.
//!
//! - No NUL (U+0000) anywhere: PostgreSQL can store it neither in text nor in JSON, so it would
//!   fail deep in a query or an append as an internal error. It is refused here as `VALIDATION`
//!   naming the field.
//! - Idempotency keys (every input field named `idempotencyKey`) are bounded by the domain's
//!   table of text lengths (`domain::error::max_chars`), since a key is stored in the metadata
//!   of every event its command records.
//!
//! The texts of commands (names, summaries, reasons, narratives) are bounded by the domain when
//! it decides the command (`domain::error::require_text`), which serves every entry point, the
//! API, the CLI and the demo seed alike; this module only adds what the domain never sees.
//!
//! The walk visits each value of the document once (fragments are not expanded) and each
//! variable once: its cost is the request's length.

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql_value::{ConstValue, Value};

use crate::error::ApiError;

/// The schema's name of the field holding an idempotency key; the domain's name for its limit.
const KEY_FIELD: &str = "idempotencyKey";
const KEY_FIELD_DOMAIN: &str = "idempotency_key";

/// Refuses the first string of the request that breaks a rule above.
pub fn check(doc: &ExecutableDocument, variables: &Variables) -> Result<(), ApiError> {
    let mut walker = Walker { variables };
    for (_, op) in doc.operations.iter() {
        walker.set(&op.node.selection_set.node)?;
    }
    for fragment in doc.fragments.values() {
        walker.set(&fragment.node.selection_set.node)?;
    }
    // Variables no argument uses (or used only in directives) still reach no database, but
    // the rule is simple: no NUL anywhere in a request.
    for (name, value) in variables.iter() {
        let mut path = vec![name.to_string()];
        check_const(value, &mut path)?;
    }
    Ok(())
}

/// A variable used in several places is checked at each (a request is at most `--max-body`).
struct Walker<'a> {
    variables: &'a Variables,
}

impl Walker<'_> {
    fn set(&mut self, set: &SelectionSet) -> Result<(), ApiError> {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    for (name, value) in &f.node.arguments {
                        let mut path = vec![name.node.to_string()];
                        self.value(&value.node, &mut path)?;
                    }
                    self.set(&f.node.selection_set.node)?;
                }
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node)?,
                // Each fragment definition is walked once by `check`.
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    fn value(&self, value: &Value, path: &mut Vec<String>) -> Result<(), ApiError> {
        match value {
            Value::String(s) => string(s, path),
            // A variable is checked where it is used, so that the error names the field it
            // fills (`idempotencyKey: $key` is a key; `input: $i` has the input's fields).
            Value::Variable(name) => match self.variables.get(name) {
                Some(v) => check_const(v, path),
                None => Ok(()),
            },
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(format!("[{i}]"));
                    self.value(item, path)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Object(fields) => {
                for (name, item) in fields {
                    path.push(name.to_string());
                    self.value(item, path)?;
                    path.pop();
                }
                Ok(())
            }
            Value::Null | Value::Number(_) | Value::Boolean(_) | Value::Binary(_) => Ok(()),
            Value::Enum(_) => Ok(()),
        }
    }
}

fn check_const(value: &ConstValue, path: &mut Vec<String>) -> Result<(), ApiError> {
    match value {
        ConstValue::String(s) => string(s, path),
        ConstValue::List(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                check_const(item, path)?;
                path.pop();
            }
            Ok(())
        }
        ConstValue::Object(fields) => {
            for (name, item) in fields {
                path.push(name.to_string());
                check_const(item, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn is_key(path: &[String]) -> bool {
    path.last().is_some_and(|f| f == KEY_FIELD)
}

fn string(s: &str, path: &[String]) -> Result<(), ApiError> {
    if s.contains('\0') {
        let field = path
            .iter()
            .rev()
            .find(|p| !p.starts_with('['))
            .cloned()
            .unwrap_or_default();
        let at = shown(path);
        return Err(ApiError::validation(
            field,
            format!("{at} contains a NUL character (U+0000), which no field may hold"),
            format!("{at} 含有空字符（U+0000），任何字段都不能包含"),
        ));
    }
    if is_key(path) {
        key(s)?;
    }
    Ok(())
}

fn key(s: &str) -> Result<(), ApiError> {
    domain::error::check_text(
        KEY_FIELD_DOMAIN,
        s,
        domain::error::max_chars(KEY_FIELD_DOMAIN),
    )
    .map_err(ApiError::from)
}

/// `input.items[2].summary`, as a client finds the value in what it sent.
fn shown(path: &[String]) -> String {
    let mut out = String::new();
    for p in path {
        if !out.is_empty() && !p.starts_with('[') {
            out.push('.');
        }
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn run(query: &str, vars: serde_json::Value) -> Result<(), ApiError> {
        let doc = parse_query(query).unwrap();
        check(&doc, &Variables::from_json(vars))
    }

    fn field(r: Result<(), ApiError>) -> String {
        match r {
            Err(ApiError::Validation { field, en, .. }) => {
                assert!(en.contains("NUL"), "{en}");
                field.unwrap_or_default()
            }
            Err(ApiError::Domain(d)) => crate::error::camel(d.field),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nul_is_refused_wherever_it_is() {
        let q = r#"{ projects(filter: {search: "a\u0000"}) { totalCount } }"#;
        assert_eq!(field(run(q, serde_json::json!({}))), "search");
        let q = "mutation($i: LogContactInput!) { logContact(input: $i) { position } }";
        let vars = serde_json::json!({"i": {"items": [{"summary": "x\u{0}y"}]}});
        assert_eq!(field(run(q, vars)), "summary");
        let q = "query($s: String) { ...F } fragment F on Query { units(search: $s) { name } }";
        assert_eq!(field(run(q, serde_json::json!({"s": "\u{0}"}))), "search");
        // A variable no field uses is checked too.
        let vars = serde_json::json!({"s": "ok", "unused": ["\u{0}"]});
        assert_eq!(field(run(q, vars)), "unused");
        assert!(run(q, serde_json::json!({"s": "城关镇"})).is_ok());
    }

    #[test]
    fn keys_are_bounded_written_inline_or_as_variables() {
        let long = "k".repeat(domain::error::MAX_KEY_CHARS + 1);
        let q = format!(r#"mutation {{ x(input: {{idempotencyKey: "{long}"}}) }}"#);
        assert_eq!(field(run(&q, serde_json::json!({}))), KEY_FIELD);
        let q = "mutation($k: String!) { x(input: {idempotencyKey: $k}) }";
        assert_eq!(field(run(q, serde_json::json!({"k": long}))), KEY_FIELD);
        let ok = "k".repeat(domain::error::MAX_KEY_CHARS);
        assert!(run(q, serde_json::json!({"k": ok})).is_ok());
        // A long string elsewhere is the domain's to judge, by its field.
        assert!(run(q, serde_json::json!({"k": "k", "other": long})).is_ok());
    }
}
