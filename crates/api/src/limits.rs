//! Checks made on the parsed document before execution: one operation per request, no
//! mutation over GET, and the alias and directive limits (depth and complexity are checked by
//! async-graphql's validation).

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::parser::{Positioned, parse_query};

/// What the server needs to know about a request's document.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The parsed document, handed to async-graphql so it is not parsed twice.
    pub document: ExecutableDocument,
    pub operation: OperationType,
    pub aliases: usize,
    pub directives: usize,
    /// Every root field of the operation is an introspection field (`__schema`, `__type`).
    pub introspection_only: bool,
    /// The root fields' names; `None` when the root selects through fragments.
    pub root_fields: Option<Vec<String>>,
}

/// Why a document is refused before execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Parse(String),
    /// Several operations and no (matching) `operationName`.
    Operation(String),
}

pub fn inspect(query: &str, operation_name: Option<&str>) -> Result<Inspected, Refusal> {
    let doc = parse_query(query).map_err(|e| Refusal::Parse(e.to_string()))?;
    let op = select(&doc, operation_name)?;
    let mut counts = Counts::default();
    counts.directives += op.directives.len();
    counts.selection_set(&doc, &op.selection_set.node, 0);
    let introspection_only = !op.selection_set.node.items.is_empty()
        && op.selection_set.node.items.iter().all(|s| match &s.node {
            Selection::Field(f) => f.node.name.node.starts_with("__"),
            _ => false,
        });
    let operation = op.ty;
    let root_fields = op
        .selection_set
        .node
        .items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => Some(f.node.name.node.to_string()),
            _ => None,
        })
        .collect();
    Ok(Inspected {
        root_fields,
        document: doc,
        operation,
        aliases: counts.aliases,
        directives: counts.directives,
        introspection_only,
    })
}

fn select<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Result<&'a OperationDefinition, Refusal> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), None) => Ok(&op.node),
        (DocumentOperations::Single(op), Some(n)) => {
            // A single named operation must be the one asked for.
            let _ = n;
            Ok(&op.node)
        }
        (DocumentOperations::Multiple(ops), Some(n)) => ops
            .get(n)
            .map(|op| &op.node)
            .ok_or_else(|| Refusal::Operation(format!("no operation named {n:?} in the document"))),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .values()
            .next()
            .map(|o| &o.node)
            .ok_or_else(|| Refusal::Operation(String::new())),
        (DocumentOperations::Multiple(_), None) => Err(Refusal::Operation(
            "the document has several operations: name the one to run with operationName".into(),
        )),
    }
}

#[derive(Default)]
struct Counts {
    aliases: usize,
    directives: usize,
}

/// Fragments are followed at most this deep (cycles are a validation error later anyway).
const MAX_FRAGMENT_NESTING: usize = 32;

impl Counts {
    fn selection_set(&mut self, doc: &ExecutableDocument, set: &SelectionSet, nesting: usize) {
        if nesting > MAX_FRAGMENT_NESTING {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(Positioned { node: f, .. }) => {
                    self.aliases += usize::from(f.alias.is_some());
                    self.directives += f.directives.len();
                    self.selection_set(doc, &f.selection_set.node, nesting);
                }
                Selection::FragmentSpread(Positioned { node: s, .. }) => {
                    self.directives += s.directives.len();
                    if let Some(fragment) = doc.fragments.get(&s.fragment_name.node) {
                        self.directives += fragment.node.directives.len();
                        self.selection_set(doc, &fragment.node.selection_set.node, nesting + 1);
                    }
                }
                Selection::InlineFragment(Positioned { node: i, .. }) => {
                    self.directives += i.directives.len();
                    self.selection_set(doc, &i.selection_set.node, nesting);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_aliases_directives_and_fragments() {
        let i = inspect(
            "query Q { a: units { b: name @include(if: true) ...F } } fragment F on Unit { c: name @skip(if: false) }",
            None,
        )
        .unwrap();
        assert_eq!((i.aliases, i.directives), (3, 2));
        assert_eq!(i.operation, OperationType::Query);
        assert!(!i.introspection_only);
    }

    #[test]
    fn operations_are_selected_by_name() {
        let doc = "query A { units { name } } mutation B { x }";
        assert!(matches!(inspect(doc, None), Err(Refusal::Operation(_))));
        assert_eq!(
            inspect(doc, Some("B")).unwrap().operation,
            OperationType::Mutation
        );
        assert!(inspect(doc, Some("C")).is_err());
        assert!(matches!(inspect("{", None), Err(Refusal::Parse(_))));
        assert!(
            inspect("{ __schema { types { name } } }", None)
                .unwrap()
                .introspection_only
        );
    }
}
