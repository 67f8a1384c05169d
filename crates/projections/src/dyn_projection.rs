//! An object-safe view of [`Projection`], so the runtime can hold a list of different read models.
//!
//! [`Projection`] returns `impl Future`, which keeps implementations free of boxing but makes the
//! trait unusable as `dyn`. Every `Projection` is an [`AnyProjection`] through the blanket impl;
//! the runtime, the registry and the CLI deal in [`SharedProjection`].

use std::sync::Arc;

use eventstore::RecordedEvent;
use futures::future::BoxFuture;

use crate::{CaughtUp, Projection, ProjectionError, Tx};

/// A projection behind a pointer: what the registry returns and the runtime runs.
pub type SharedProjection = Arc<dyn AnyProjection>;

/// [`Projection`] with boxed futures (implemented for every `Projection`; do not implement it).
pub trait AnyProjection: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn tables(&self) -> &'static [&'static str];
    fn apply_batch<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>>;
    fn after_catch_up<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        caught_up: &'a CaughtUp<'a>,
    ) -> BoxFuture<'a, Result<(), ProjectionError>>;
}

impl<P: Projection> AnyProjection for P {
    fn name(&self) -> &'static str {
        Projection::name(self)
    }

    fn tables(&self) -> &'static [&'static str] {
        Projection::tables(self)
    }

    fn apply_batch<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(Projection::apply_batch(self, tx, events))
    }

    fn after_catch_up<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        caught_up: &'a CaughtUp<'a>,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(Projection::after_catch_up(self, tx, caught_up))
    }
}

/// Wraps a projection for the registry and the runtime.
pub fn shared<P: Projection>(projection: P) -> SharedProjection {
    Arc::new(projection)
}
