//! Subscriptions: recorded events and dashboard changes, over graphql-transport-ws (and the
//! legacy graphql-ws) on `/graphql/ws`.
//!
//! One task per server follows `$all` (see [`Hub`]) and fans events out to every subscriber
//! in order, so a thousand open dashboards cost one database subscription. A subscriber that
//! gives `after` (an `events` cursor) first catches up from the store itself, then joins.

use std::time::Duration;

use async_graphql::{Context, ID, InputObject, Subscription as SubscriptionMacro};
use eventstore::{AnyEventStore, EventStore, Filter, Position, RecordedEvent};
use futures::{Stream, StreamExt};
use tokio::sync::{broadcast, watch};

use super::State;
use super::audit::{Event, parse_position_cursor};
use super::dashboard::{self, AsOf, Dashboard};
use super::relay::key_of;
use crate::error::ApiError;

/// Fans `$all` out to subscribers.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<RecordedEvent>,
}

/// Events a slow subscriber may fall behind before it is dropped (it can resume with `after`).
const HUB_CAPACITY: usize = 4096;

impl Hub {
    /// Follows `$all` from `from` until `shutdown`.
    pub fn start(store: AnyEventStore, from: Position, mut shutdown: watch::Receiver<bool>) -> Hub {
        let (sender, _) = broadcast::channel(HUB_CAPACITY);
        let hub = Hub {
            sender: sender.clone(),
        };
        tokio::spawn(async move {
            let mut events = store.subscribe_all(from, Filter::all());
            loop {
                tokio::select! {
                    next = events.next() => match next {
                        Some(Ok(event)) => {
                            // No receivers is fine: nobody is subscribed right now.
                            let _ = sender.send(event);
                        }
                        Some(Err(error)) => {
                            tracing::error!(%error, "the $all subscription of the hub failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        None => break,
                    },
                    () = crate::app::stopped(&mut shutdown) => break,
                }
            }
        });
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RecordedEvent> {
        self.sender.subscribe()
    }
}

/// Which recorded events to receive (事件订阅条件).
#[derive(InputObject, Debug, Default, Clone)]
pub struct EventSubscriptionFilter {
    /// Only this project's events (global ID or UUID). 项目
    pub project: Option<ID>,
    /// Only events about this unit: its own stream, its projects' and the supervision items it
    /// leads (slug or global ID). 单位
    pub unit: Option<ID>,
    /// Only these event types. 事件类型
    pub types: Option<Vec<String>>,
}

struct Matcher {
    state: State,
    project_stream: Option<String>,
    unit: Option<String>,
    types: Vec<String>,
}

impl Matcher {
    fn new(state: State, filter: EventSubscriptionFilter) -> Result<Matcher, ApiError> {
        let project_stream = match &filter.project {
            Some(p) => Some(super::inputs::project_id("filter.project", p)?.stream()),
            None => None,
        };
        let unit = filter.unit.map(|u| key_of("Unit", &u)).transpose()?;
        Ok(Matcher {
            state,
            project_stream,
            unit,
            types: filter.types.unwrap_or_default(),
        })
    }

    async fn matches(&self, e: &RecordedEvent) -> bool {
        if !self.types.is_empty() && !self.types.contains(&e.event_type) {
            return false;
        }
        if let Some(s) = &self.project_stream
            && *s != e.stream
        {
            return false;
        }
        let Some(unit) = &self.unit else {
            return true;
        };
        let (category, id) = e.stream.split_once('-').unwrap_or((&e.stream, ""));
        let (column, table, key) = match category {
            "unit" => return id == unit,
            "project" => {
                // The event itself names the unit when it (re)assigns responsibility.
                if let Some(u) = e.data.get("responsible_unit").and_then(|u| u.as_str()) {
                    return u == unit;
                }
                ("unit_id", "projects", "project_id")
            }
            "supervision" => {
                if let Some(u) = e.data.get("lead_unit").and_then(|u| u.as_str()) {
                    return u == unit;
                }
                ("lead_unit_id", "supervision_items", "item_id")
            }
            _ => return false,
        };
        let d = self.state.dialect();
        let sql = crate::sql!(
            "SELECT {column} FROM {} WHERE {} = $1",
            d.table(table),
            d.text(key)
        );
        match crate::on_db!(&self.state.db, |pool| sqlx::query_scalar::<_, String>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)
        {
            Ok(found) => found.as_deref() == Some(unit.as_str()),
            Err(error) => {
                tracing::warn!(%error, "cannot resolve the unit of an event");
                false
            }
        }
    }
}

pub struct Subscription;

/// Live updates (订阅).
#[SubscriptionMacro(guard = "crate::access::subscription_root")]
impl Subscription {
    /// Events as they are recorded, in `$all` order. With `after` (an `events` cursor), first
    /// the events recorded since then. 实时事件
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events. 订阅条件")] filter: Option<EventSubscriptionFilter>,
        #[graphql(desc = "Resume after this cursor (replays what was missed). 续订游标")]
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Event>>> {
        let state = ctx.data::<State>()?.clone();
        let hub = ctx.data::<Hub>()?.clone();
        let matcher = Matcher::new(state.clone(), filter.unwrap_or_default())?;
        let after = after
            .map(|c| parse_position_cursor("after", &c))
            .transpose()?;
        let mut shutdown = state.shutdown.clone();
        Ok(async_stream(move |tx| async move {
            // Joined before catching up, so nothing recorded meanwhile is missed; duplicates
            // are skipped by position.
            let mut live = hub.subscribe();
            let mut last = after.unwrap_or(Position::START);
            if let Some(from) = after {
                last = from;
                // Catch up to what the hub has already passed: read until a batch is empty.
                loop {
                    let batch = state.store.read_all(last, &Filter::all(), 500).await;
                    let batch = match batch {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = tx.send(Err(ApiError::from(e).into())).await;
                            return;
                        }
                    };
                    if batch.is_empty() {
                        break;
                    }
                    for e in batch {
                        last = e.position;
                        if matcher.matches(&e).await && tx.send(Ok(Event::of(e))).await.is_err() {
                            return;
                        }
                    }
                }
            }
            loop {
                tokio::select! {
                    next = live.recv() => match next {
                        Ok(e) => {
                            if after.is_some() && e.position <= last {
                                continue;
                            }
                            last = e.position;
                            if matcher.matches(&e).await && tx.send(Ok(Event::of(e))).await.is_err() {
                                return;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            let error: async_graphql::Error = ApiError::Limit {
                                en: format!("the subscriber fell {n} events behind; resubscribe with `after`"),
                                zh: format!("订阅者落后 {n} 个事件，请以 after 游标重新订阅"),
                            }.into();
                            let _ = tx.send(Err(error)).await;
                            return;
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    () = crate::app::stopped(&mut shutdown) => return,
                }
            }
        }))
    }

    /// The dashboard of a year, sent now and again whenever a recorded event changes it (after
    /// the read models include the event). 驾驶舱变化
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The year. 年度")] year: i32,
        #[graphql(desc = "A unit's slug or global ID; county-wide when absent. 单位")] unit: Option<
            ID,
        >,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Dashboard>>> {
        let state = ctx.data::<State>()?.clone();
        let hub = ctx.data::<Hub>()?.clone();
        let unit = unit.map(|u| key_of("Unit", &u)).transpose()?;
        let mut shutdown = state.shutdown.clone();
        Ok(async_stream(move |tx| async move {
            let mut live = hub.subscribe();
            let now = AsOf::default();
            let mut previous: Option<String> = None;
            let mut pending: Option<Position> = None;
            loop {
                if previous.is_none() || pending.is_some() {
                    if let Some(p) = pending.take() {
                        let _ = state
                            .waiter
                            .wait_for(
                                projections::Which::Named(&state.projection_names),
                                p,
                                state.config.write_wait(),
                            )
                            .await;
                        let _ = state.live.wait_for(p, state.config.write_wait()).await;
                    }
                    match dashboard::dashboard(&state, year, unit.as_deref(), &now).await {
                        Ok(d) => {
                            let key = format!("{d:?}");
                            if previous.as_deref() != Some(key.as_str()) {
                                previous = Some(key);
                                if tx.send(Ok(d)).await.is_err() {
                                    return;
                                }
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.into())).await;
                            return;
                        }
                    }
                }
                tokio::select! {
                    next = live.recv() => match next {
                        Ok(e) => {
                            pending = Some(e.position);
                            // Coalesce a burst of events into one recomputation.
                            while let Ok(e) = live.try_recv() {
                                pending = Some(e.position);
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => pending = Some(Position::START),
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    () = crate::app::stopped(&mut shutdown) => return,
                }
            }
        }))
    }
}

type Sender<T> = tokio::sync::mpsc::Sender<async_graphql::Result<T>>;

/// A stream fed by a task: the producer runs until the consumer goes away (send fails) or it
/// returns. Bounded, so a slow WebSocket slows the producer instead of buffering without end.
fn async_stream<T, F, Fut>(produce: F) -> impl Stream<Item = async_graphql::Result<T>>
where
    T: Send + 'static,
    F: FnOnce(Sender<T>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let task = tokio::spawn(produce(tx));
    let guard = AbortOnDrop(task);
    tokio_stream_from(rx, guard)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn tokio_stream_from<T>(
    rx: tokio::sync::mpsc::Receiver<T>,
    guard: AbortOnDrop,
) -> impl Stream<Item = T> {
    futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv().await.map(|item| (item, (rx, guard)))
    })
}
