//! Filters for reading and subscribing to $all.

/// Which events of $all to deliver. Empty lists mean "all"; both lists given means both must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Stream categories (the part of the stream name before the first `-`).
    pub categories: Vec<String>,
    /// Event types.
    pub event_types: Vec<String>,
}

impl Filter {
    /// Every event.
    pub fn all() -> Self {
        Filter::default()
    }

    /// Only events of streams in these categories.
    pub fn categories<I, S>(categories: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Filter {
            categories: categories.into_iter().map(Into::into).collect(),
            event_types: Vec::new(),
        }
    }

    /// Only events of these types (adds to the filter).
    pub fn with_event_types<I, S>(mut self, event_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_types = event_types.into_iter().map(Into::into).collect();
        self
    }

    /// Whether an event of `stream` with `event_type` passes (the backends filter in SQL; this is
    /// the reference the conformance suite checks them against).
    pub fn matches(&self, stream: &str, event_type: &str) -> bool {
        (self.categories.is_empty()
            || self
                .categories
                .iter()
                .any(|c| c == crate::stream_name::category_of(stream)))
            && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type))
    }
}
