//! Checks made on the parsed document before anything walks its expanded tree: one operation
//! per request, no mutation over GET, and the size limits — selections, aliases and directives
//! counted as if every fragment spread were expanded (depth and complexity are then checked by
//! async-graphql's validation, which does expand them).
//!
//! A fragment spread costs what its fragment costs, so a document of a few hundred bytes can
//! name 2^24 selections (`fragment F1 on Query { ...F0 ...F0 }` and so on). The sizes here are
//! computed once per fragment and memoised, so counting costs the document's length, not its
//! expansion, and a document above a limit is refused before async-graphql expands it. Every
//! selection counts, `__typename` included (async-graphql's complexity leaves it out).
//!
//! Parsing and validation are synchronous CPU work: they run where they cannot stall the async
//! runtime ([`off_runtime`]), a few at a time ([`CPU_PERMITS`]). [`Guard`] applies the same
//! limits to every operation of the schema, so WebSocket operations meet them too.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, OperationType,
    Selection, SelectionSet,
};
use async_graphql::parser::{Positioned, parse_query};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use tokio::sync::Semaphore;

use crate::config::Limits;
use crate::error::ApiError;

/// What the server needs to know about a request's document.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The parsed document, handed to async-graphql so it is not parsed twice.
    pub document: ExecutableDocument,
    pub operation: OperationType,
    /// The operation's size with every fragment spread expanded.
    pub size: Size,
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
    /// A size limit, or fragments nested deeper than anything legitimate.
    Limit(Exceeded),
}

pub fn inspect(query: &str, operation_name: Option<&str>) -> Result<Inspected, Refusal> {
    let doc = parse_query(query).map_err(|e| Refusal::Parse(e.to_string()))?;
    let op = select(&doc, operation_name)?;
    let size = Sizer::new(&doc).operation(op).map_err(Refusal::Limit)?;
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
        size,
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

/// What an operation asks for once every fragment spread is expanded (saturating: a bomb's
/// count stops at `u64::MAX` instead of wrapping).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Fields selected, `__typename` included.
    pub selections: u64,
    pub aliases: u64,
    pub directives: u64,
}

impl Size {
    fn add(self, other: Size) -> Size {
        Size {
            selections: self.selections.saturating_add(other.selections),
            aliases: self.aliases.saturating_add(other.aliases),
            directives: self.directives.saturating_add(other.directives),
        }
    }
}

/// A limit a request is above; retrying the same request cannot help (`LIMIT_EXCEEDED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    pub en: String,
    pub zh: String,
}

impl From<Exceeded> for ApiError {
    fn from(e: Exceeded) -> Self {
        ApiError::Limit { en: e.en, zh: e.zh }
    }
}

/// Selection sets (fields and fragments together) nested deeper than this are refused before
/// they are walked: the depth limit (`--max-depth`) is far lower, and the walk must not exhaust
/// its stack on a document of nested spreads.
const MAX_NESTING: usize = 64;

/// Computes sizes with each fragment's size memoised (see the module docs).
struct Sizer<'a> {
    doc: &'a ExecutableDocument,
    memo: HashMap<&'a str, Size>,
    /// Fragments being sized (a cycle counts as nothing here: validation refuses it).
    open: Vec<&'a str>,
}

impl<'a> Sizer<'a> {
    fn new(doc: &'a ExecutableDocument) -> Self {
        Sizer {
            doc,
            memo: HashMap::new(),
            open: Vec::new(),
        }
    }

    fn operation(&mut self, op: &'a OperationDefinition) -> Result<Size, Exceeded> {
        let own = Size {
            directives: op.directives.len() as u64,
            ..Size::default()
        };
        Ok(own.add(self.set(&op.selection_set.node, 0)?))
    }

    /// Every operation of the document together (what a WebSocket `subscribe` sends is
    /// checked before the operation is chosen).
    fn document(&mut self) -> Result<Size, Exceeded> {
        let mut total = Size::default();
        for (_, op) in self.doc.operations.iter() {
            total = total.add(self.operation(&op.node)?);
        }
        Ok(total)
    }

    fn set(&mut self, set: &'a SelectionSet, nesting: usize) -> Result<Size, Exceeded> {
        if nesting > MAX_NESTING {
            return Err(Exceeded {
                en: format!("selections and fragments are nested deeper than {MAX_NESTING}"),
                zh: format!("选择集与片段嵌套超过 {MAX_NESTING} 层"),
            });
        }
        let mut size = Size::default();
        for item in &set.items {
            let item = match &item.node {
                Selection::Field(Positioned { node: f, .. }) => Size {
                    selections: 1,
                    aliases: u64::from(f.alias.is_some()),
                    directives: f.directives.len() as u64,
                }
                .add(self.set(&f.selection_set.node, nesting + 1)?),
                Selection::FragmentSpread(Positioned { node: s, .. }) => Size {
                    directives: s.directives.len() as u64,
                    ..Size::default()
                }
                .add(self.fragment(&s.fragment_name.node, nesting + 1)?),
                Selection::InlineFragment(Positioned { node: i, .. }) => Size {
                    directives: i.directives.len() as u64,
                    ..Size::default()
                }
                .add(self.set(&i.selection_set.node, nesting + 1)?),
            };
            size = size.add(item);
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &'a str, nesting: usize) -> Result<Size, Exceeded> {
        if let Some(size) = self.memo.get(name) {
            return Ok(*size);
        }
        // Unknown fragments and cycles are validation errors, reported by async-graphql.
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(Size::default());
        };
        if self.open.contains(&name) {
            return Ok(Size::default());
        }
        let FragmentDefinition {
            directives,
            selection_set,
            ..
        } = &fragment.node;
        self.open.push(name);
        let inner = self.set(&selection_set.node, nesting);
        self.open.pop();
        let size = Size {
            directives: directives.len() as u64,
            ..Size::default()
        }
        .add(inner?);
        self.memo.insert(name, size);
        Ok(size)
    }
}

/// Refuses a size above the configured limits.
pub fn check(size: &Size, limits: &Limits) -> Result<(), Exceeded> {
    let over = |found: u64, max: usize, en: &str, zh: &str| -> Result<(), Exceeded> {
        if found > max as u64 {
            return Err(Exceeded {
                en: format!("{found} {en} are above the limit of {max}"),
                zh: format!("{zh} {found} 超过上限 {max}"),
            });
        }
        Ok(())
    };
    over(
        size.selections,
        limits.max_selections,
        "selections (with every fragment spread expanded)",
        "展开片段后的选择字段数",
    )?;
    over(size.aliases, limits.max_aliases, "aliases", "别名数")?;
    over(
        size.directives,
        limits.max_directives,
        "directives",
        "指令数",
    )
}

/// The size of every operation of `doc`, refused when above the limits.
pub fn check_document(doc: &ExecutableDocument, limits: &Limits) -> Result<(), Exceeded> {
    check(&Sizer::new(doc).document()?, limits)
}

/// How many parses and validations run at once: the cores there are. Each is short once the
/// size limits hold, and more at once would only take memory and cores from everything else.
pub static CPU_PERMITS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores))
});

/// Runs a synchronous future (parsing, validation: no `.await` inside) with a CPU permit, on a
/// thread the async runtime has handed its other tasks away from (`block_in_place`), so that
/// `/healthz` and every other client keep being served meanwhile. A single-threaded runtime
/// (some tests) has no other thread to hand them to: there it simply runs.
pub async fn off_runtime<T>(work: impl std::future::Future<Output = T>) -> T {
    // The semaphore is never closed.
    let _permit = CPU_PERMITS.clone().acquire_owned().await.ok();
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(|| futures::executor::block_on(work))
    } else {
        work.await
    }
}

/// The size limits and [`off_runtime`] as an async-graphql extension: every operation of the
/// schema, over HTTP or WebSocket, is parsed and validated off the runtime and refused above
/// the limits before validation expands it.
pub struct Guard {
    limits: Arc<Limits>,
}

impl Guard {
    pub fn new(limits: &Limits) -> Self {
        Guard {
            limits: Arc::new(limits.clone()),
        }
    }
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard {
            limits: self.limits.clone(),
        })
    }
}

#[async_trait::async_trait]
impl Extension for Guard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = off_runtime(next.run(ctx, query, variables)).await?;
        check_document(&doc, &self.limits).map_err(limit_error)?;
        // Every string of the request, before any resolver or query sees one.
        crate::input::check(&doc, variables).map_err(|e| {
            let mut error = async_graphql::Error::from(e).into_server_error(Default::default());
            error.locations.clear();
            error
        })?;
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        off_runtime(next.run(ctx))
            .await
            .map_err(|errors| errors.into_iter().map(crate::explain::explain).collect())
    }
}

fn limit_error(e: Exceeded) -> ServerError {
    let mut error =
        async_graphql::Error::from(ApiError::from(e)).into_server_error(Default::default());
    // The whole document is at fault, not a place in it.
    error.locations.clear();
    error
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
        assert_eq!(
            i.size,
            Size {
                selections: 3,
                aliases: 3,
                directives: 2
            }
        );
        assert_eq!(i.operation, OperationType::Query);
        assert!(!i.introspection_only);
    }

    #[test]
    fn fragments_are_sized_once_without_expanding_them() {
        let mut doc = String::from("{ ...F50 } fragment F0 on Query { a: __typename }");
        for i in 1..=50 {
            doc.push_str(&format!(
                " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        let size = inspect(&doc, None).unwrap().size;
        assert_eq!((size.selections, size.aliases), (1 << 50, 1 << 50));
        let limits = Limits::default();
        assert!(check(&size, &limits).is_err());
        // A cycle is left to validation; it does not loop here.
        let cyclic = "{ ...A } fragment A on Query { x ...B } fragment B on Query { y ...A }";
        assert_eq!(inspect(cyclic, None).unwrap().size.selections, 2);
        // Nesting deeper than anything legitimate is refused before it is walked further.
        let mut deep = String::from("{ ...F0 }");
        for i in 0..100 {
            deep.push_str(&format!(" fragment F{i} on Query {{ x ...F{} }}", i + 1));
        }
        assert!(matches!(inspect(&deep, None), Err(Refusal::Limit(_))));
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
