//! Name/value pairs of a query string or a submitted form, and the pager every list shares.

use maud::{Markup, html};
use serde_json::Value;

use crate::fmt;

/// The pairs of a query string or an `application/x-www-form-urlencoded` body.
#[derive(Default)]
pub struct Params {
    pub pairs: Vec<(String, String)>,
}

impl Params {
    pub fn query(raw: Option<&str>) -> Params {
        Params {
            pairs: raw
                .and_then(|r| serde_urlencoded::from_str(r).ok())
                .unwrap_or_default(),
        }
    }

    pub fn form(body: &[u8]) -> Params {
        Params {
            pairs: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// The first non-blank value of `key`, trimmed; `""` when there is none.
    pub fn get(&self, key: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// These pairs without the cursor (and `also`), for the pager's links.
    pub fn without_cursor(&self, also: &[&str]) -> String {
        let kept: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(k, v)| {
                k != "after" && k != "before" && !also.contains(&k.as_str()) && !v.is_empty()
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }

    /// The connection arguments `(first, after, last, before)` of the page the cursor asks for.
    pub fn page(&self, size: i64) -> (Option<i64>, Option<&str>, Option<i64>, Option<&str>) {
        match (self.get("after"), self.get("before")) {
            ("", "") => (Some(size), None, None, None),
            (a, "") => (Some(size), Some(a), None, None),
            (_, b) => (None, None, Some(size), Some(b)),
        }
    }
}

/// Previous/next links of a connection's `pageInfo`, keeping the list's other parameters.
pub fn pager(path: &str, base: &str, info: &Value) -> Markup {
    html! {
        nav.pager aria-label="翻页" {
            @if info["hasPreviousPage"] == true {
                a rel="prev" href=(format!("{path}?{base}&before={}", fmt::text(&info["startCursor"]))) { "上一页" }
            }
            @if info["hasNextPage"] == true {
                a rel="next" href=(format!("{path}?{base}&after={}", fmt::text(&info["endCursor"]))) { "下一页" }
            }
        }
    }
}
