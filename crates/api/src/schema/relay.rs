//! Relay conventions: opaque global IDs (`base64("Type:key")`), the `Node` interface, and cursor
//! connections with `pageInfo` and `totalCount`.

use async_graphql::{ID, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::ApiError;

/// The global ID of an object of `type_name` with key `key`.
pub fn global_id(type_name: &str, key: &str) -> ID {
    ID(STANDARD.encode(format!("{type_name}:{key}")))
}

/// Splits a global ID into (type, key); `None` when it is not one of ours.
pub fn decode_global_id(id: &str) -> Option<(String, String)> {
    let bytes = STANDARD.decode(id.as_bytes()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (t, k) = text.split_once(':')?;
    Some((t.to_owned(), k.to_owned()))
}

/// The key of an ID argument that names a `type_name`: its global ID, or the plain key (a
/// project's UUID, a unit's slug), which people type more easily.
pub fn key_of(type_name: &str, id: &str) -> Result<String, ApiError> {
    match decode_global_id(id) {
        Some((t, k)) if t == type_name => Ok(k),
        Some((t, _)) => Err(ApiError::validation(
            "id",
            format!("this ID names a {t}, not a {type_name}"),
            format!("该 ID 指向 {t}，而不是 {type_name}"),
        )),
        None => Ok(id.to_owned()),
    }
}

/// Paging information of a connection (Relay). 分页信息
#[derive(SimpleObject, Debug, Clone, Default)]
pub struct PageInfo {
    /// Whether more items follow the last edge. 是否有下一页
    pub has_next_page: bool,
    /// Whether items precede the first edge. 是否有上一页
    pub has_previous_page: bool,
    /// Cursor of the first edge. 首条游标
    pub start_cursor: Option<String>,
    /// Cursor of the last edge. 末条游标
    pub end_cursor: Option<String>,
}

/// A page request resolved to an offset window over an ordered result of `total` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}

/// Offset cursors: `base64("o:<offset>")`. Offsets rather than keys because every list can be
/// sorted on several columns; a client paging while rows are added may see an item twice,
/// never an error.
pub fn offset_cursor(offset: i64) -> String {
    STANDARD.encode(format!("o:{offset}"))
}

fn parse_offset_cursor(field: &str, cursor: &str) -> Result<i64, ApiError> {
    STANDARD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| not_a_cursor(field))
}

fn not_a_cursor(field: &str) -> ApiError {
    ApiError::validation(field, "not a cursor of this list", "游标无效，不属于该列表")
}

/// The page arguments of a connection, checked against the page-size limit.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// The window to read, given the total number of items. Without `first` or `last`, the
    /// first `default` items.
    pub fn window(&self, total: i64, default: usize, max: usize) -> Result<Window, ApiError> {
        for (name, v) in [("first", self.first), ("last", self.last)] {
            if let Some(n) = v {
                if n < 0 {
                    return Err(ApiError::validation(
                        name,
                        format!("{name} must not be negative"),
                        format!("{name} 不能为负数"),
                    ));
                }
                if n as usize > max {
                    return Err(ApiError::Limit {
                        en: format!("{name} = {n} is above the page-size limit of {max}"),
                        zh: format!("{name} = {n} 超过每页上限 {max}"),
                    });
                }
            }
        }
        let mut start = match &self.after {
            // The item after the last offset a cursor may name is past any list's end: a
            // cursor of `i64::MAX` is not one this server gave out (it would overflow).
            Some(c) => parse_offset_cursor("after", c)?
                .checked_add(1)
                .ok_or_else(|| not_a_cursor("after"))?,
            None => 0,
        };
        let mut end = match &self.before {
            Some(c) => parse_offset_cursor("before", c)?.min(total),
            None => total,
        };
        start = start.min(end);
        if let Some(f) = self.first {
            end = end.min(start + i64::from(f));
        }
        if let Some(l) = self.last {
            start = start.max(end - i64::from(l));
        }
        if self.first.is_none() && self.last.is_none() {
            end = end.min(start + default as i64);
        }
        Ok(Window {
            offset: start,
            limit: (end - start).max(0),
        })
    }
}

/// The `pageInfo` of `count` items read at `window` out of `total`.
pub fn page_info(window: Window, count: usize, total: i64) -> PageInfo {
    let end = window.offset + count as i64;
    PageInfo {
        has_next_page: end < total,
        has_previous_page: window.offset > 0,
        start_cursor: (count > 0).then(|| offset_cursor(window.offset)),
        end_cursor: (count > 0).then(|| offset_cursor(end - 1)),
    }
}

/// Declares `$conn` and `$edge` for node type `$node` (Relay connection with `totalCount`).
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, " (Relay connection).")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            /// The items of this page with their cursors. 本页条目
            pub edges: Vec<$edge>,
            /// The items of this page. 本页节点
            pub nodes: Vec<$node>,
            /// Paging information. 分页信息
            pub page_info: $crate::schema::relay::PageInfo,
            /// Number of items matching the filter, across all pages. 总数
            pub total_count: i64,
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque cursor of this item, for `after`/`before`. 游标
            pub cursor: String,
            /// The item. 节点
            pub node: $node,
        }

        impl $conn {
            pub fn build(
                items: Vec<$node>,
                window: $crate::schema::relay::Window,
                total: i64,
            ) -> Self {
                let page_info = $crate::schema::relay::page_info(window, items.len(), total);
                let edges = items
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(i, node)| $edge {
                        cursor: $crate::schema::relay::offset_cursor(window.offset + i as i64),
                        node,
                    })
                    .collect();
                $conn {
                    edges,
                    nodes: items,
                    page_info,
                    total_count: total,
                }
            }
        }
    };
}
pub(crate) use connection;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip() {
        let id = global_id("Project", "0190-abc");
        assert_eq!(
            decode_global_id(&id),
            Some(("Project".into(), "0190-abc".into()))
        );
        assert_eq!(key_of("Project", &id).unwrap(), "0190-abc");
        assert_eq!(key_of("Project", "plain").unwrap(), "plain");
        assert!(key_of("Unit", &id).is_err());
    }

    #[test]
    fn windows() {
        let p = |first, after: Option<i64>, last, before: Option<i64>| PageArgs {
            first,
            after: after.map(offset_cursor),
            last,
            before: before.map(offset_cursor),
        };
        let w = |a: PageArgs| a.window(10, 3, 50).unwrap();
        assert_eq!(
            w(p(None, None, None, None)),
            Window {
                offset: 0,
                limit: 3
            }
        );
        assert_eq!(
            w(p(Some(4), Some(1), None, None)),
            Window {
                offset: 2,
                limit: 4
            }
        );
        assert_eq!(
            w(p(None, None, Some(2), None)),
            Window {
                offset: 8,
                limit: 2
            }
        );
        assert_eq!(
            w(p(None, None, Some(2), Some(5))),
            Window {
                offset: 3,
                limit: 2
            }
        );
        assert_eq!(
            w(p(Some(5), Some(8), None, None)),
            Window {
                offset: 9,
                limit: 1
            }
        );
        assert!(p(Some(51), None, None, None).window(10, 3, 50).is_err());
        assert!(p(Some(-1), None, None, None).window(10, 3, 50).is_err());
        let page = page_info(
            Window {
                offset: 2,
                limit: 4,
            },
            4,
            10,
        );
        assert!(page.has_next_page && page.has_previous_page);
    }
}
