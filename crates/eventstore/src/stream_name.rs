//! Stream names: `category-id`, as in EventStoreDB.

use crate::StoreError;

/// Longest accepted stream name, in bytes; the database checks the same bound.
pub const MAX_STREAM_NAME_LEN: usize = 400;

/// Checks that `stream` is `category-id`: the category starts with an ASCII letter and holds only
/// ASCII letters, digits and `_`; the id is not empty (it may hold further dashes, e.g. a UUID).
/// Names starting with `$` are reserved for the store, as in EventStoreDB, and refused here.
pub fn validate_stream_name(stream: &str) -> Result<(), StoreError> {
    let invalid = |reason: &str| StoreError::InvalidStreamName {
        stream: stream.to_owned(),
        reason: reason.to_owned(),
    };
    if stream.len() > MAX_STREAM_NAME_LEN {
        return Err(invalid("longer than 400 bytes"));
    }
    let Some((category, id)) = stream.split_once('-') else {
        return Err(invalid("expected `category-id`"));
    };
    validate_category(category)
        .map_err(|_| invalid("the category must be a letter followed by letters, digits or `_`"))?;
    if id.is_empty() {
        return Err(invalid("the id after `category-` is empty"));
    }
    if id.chars().any(char::is_control) {
        return Err(invalid("the id contains a control character"));
    }
    Ok(())
}

/// The category of a valid stream name: everything before the first `-`.
pub fn category_of(stream: &str) -> &str {
    stream
        .split_once('-')
        .map_or(stream, |(category, _)| category)
}

/// Checks a category on its own (used for key kinds and filters).
pub fn validate_category(category: &str) -> Result<(), StoreError> {
    let mut chars = category.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidStreamName {
            stream: category.to_owned(),
            reason: "a category must be a letter followed by letters, digits or `_`".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_category_dash_id() {
        for ok in [
            "project-0190a0b2-7c1e-7000-8000-000000000001",
            "unit-1",
            "targets-2026",
            "projectcode-2024-330000-04-01-000001",
        ] {
            assert!(validate_stream_name(ok).is_ok(), "{ok}");
        }
        assert_eq!(category_of("project-a-b"), "project");
    }

    #[test]
    fn refuses_malformed_names() {
        for bad in [
            "project",
            "-1",
            "project-",
            "$all-x",
            "1abc-x",
            "pro ject-1",
            "a-b\nc",
        ] {
            assert!(validate_stream_name(bad).is_err(), "{bad}");
        }
        assert!(validate_stream_name(&format!("a-{}", "x".repeat(400))).is_err());
    }
}
