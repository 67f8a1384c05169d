//! The application: everything `taizhang serve` runs, built once and served until a signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use commands::CommandHandler;
use eventstore::{AnyEventStore, Database, Location, PgEventStore, Position, SqliteEventStore};
use projections::{Projectors, RunnerOptions, Waiter};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, watch};

use crate::config::Config;
use crate::http::{Shared, router};
use crate::schema::{self, StateInner, subscription::Hub};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot open the store: {0}")]
    Store(#[source] eventstore::StoreError),
    #[error("cannot apply the migrations: {0}")]
    Migrate(#[source] eventstore::StoreError),
    #[error("cannot start the projectors: {0}")]
    Projectors(#[source] projections::RuntimeError),
    #[error("cannot read the API tokens: {0}")]
    Tokens(#[source] auth::TokenError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A built server, listening but not yet serving.
pub struct Application {
    listener: TcpListener,
    shared: Arc<Shared>,
    projectors: Option<Projectors>,
    /// The periodic sealer, stopped at shutdown.
    sealer: Option<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    grace: Duration,
}

/// Stops a running [`Application`] as SIGTERM would.
#[derive(Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

impl Application {
    /// Connects, migrates (unless told not to), starts the projectors (unless told not to),
    /// builds the schema and router, and binds the listener.
    pub async fn build(config: Config) -> Result<Application, BuildError> {
        // Installed first, so that everything from the first request on is counted.
        crate::metrics::handle();
        let store = connect(&config).await?;
        if config.serve.migrate {
            store.migrate().await.map_err(BuildError::Migrate)?;
            tracing::info!("migrations applied");
        }
        let db = store.database();
        let projection_names = projections::projection_names();
        let projectors = if config.serve.projectors {
            Some(
                Projectors::start_any(
                    &store,
                    projections::all(projections::system_clock()),
                    RunnerOptions::default(),
                )
                .map_err(BuildError::Projectors)?,
            )
        } else {
            None
        };
        let sealer = (config.serve.seal_every > 0).then(|| {
            config
                .sealing
                .spawn(store.clone(), Duration::from_secs(config.serve.seal_every))
        });
        let (stop, shutdown) = watch::channel(false);
        // The hub starts where the read models are: subscribers get what is recorded after.
        let from = projections::statuses_in(&db)
            .await
            .ok()
            .and_then(|s| s.into_iter().map(|s| s.position).max())
            .unwrap_or(Position::START);
        let hub = Hub::start(store.clone(), from, shutdown.clone());
        let gate = auth::Gate::for_store(&store, &config.serve.auth);
        // Warns at every start without authentication, and when no token can get in yet.
        gate.startup().await.map_err(BuildError::Tokens)?;
        let shutdown_for_cache = shutdown.clone();
        let live = projections::live::LiveLedger::start(store.clone());
        let state = Arc::new(StateInner {
            live: live.clone(),
            handler: CommandHandler::new(store.clone()),
            gate,
            waiter: Waiter::start_for(db.clone()),
            db,
            store,
            config: config.clone(),
            projection_names,
            shutdown,
            verification: Mutex::new(None),
            dashboards: Default::default(),
            responses: Default::default(),
        });
        tokio::spawn(follow_live_ledger(
            state.clone(),
            shutdown_for_cache.clone(),
        ));
        tokio::spawn(follow_projections(state.clone(), shutdown_for_cache));
        let shared = Arc::new(Shared {
            schema: schema::build(state.clone(), hub),
            introspection: schema::build_introspection(state.clone()),
            state,
        });
        let addr = config.serve.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| BuildError::Listen { addr, source })?;
        Ok(Application {
            listener,
            shared,
            projectors,
            sealer,
            stop,
            grace: Duration::from_secs(config.serve.shutdown_grace),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.stop.clone())
    }

    /// Serves until SIGTERM, Ctrl-C or the shutdown handle: then stops accepting connections,
    /// ends subscriptions, lets in-flight requests finish (up to the grace period), stops the
    /// projectors after their current batch and closes the pool.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Application {
            listener,
            shared,
            projectors,
            sealer,
            stop,
            grace,
        } = self;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "serving GraphQL at http://{addr}/graphql");
        let signals = stop.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown requested");
            let _ = signals.send(true);
        });
        let mut stopping = stop.subscribe();
        let mut expired = stop.subscribe();
        // Each request knows its peer's address: failed authentications are logged with it.
        let app = outer_layers(
            router(shared.clone()),
            &shared.state.config.serve.cors_origins,
        )
        .into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            stopped(&mut stopping).await;
        });
        tokio::select! {
            result = server => result?,
            () = async move {
                stopped(&mut expired).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the grace period; closing them");
            }
        }
        if let Some(sealer) = sealer {
            sealer.abort();
        }
        // No request runs any more: the last seal covers everything this server recorded, so a
        // stopped server never leaves the ledger unsealed.
        match shared.state.config.sealing.seal(&shared.state.store).await {
            Ok(Some(receipt)) => tracing::info!(
                seal_no = receipt.seal_no,
                receipt = %receipt.to_line(),
                "sealed at shutdown"
            ),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "sealing at shutdown failed"),
        }
        if let Some(p) = projectors {
            p.shutdown().await;
        }
        shared.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// What wraps every route, whoever added it to the router: compression of each answer as the
/// client's `Accept-Encoding` asks (br, gzip: GraphQL answers and the playground's megabyte of
/// assets are text that shrinks several times), and CORS for the allowed origins (none by
/// default, and then no CORS layer at all: a preflight is answered 405 as before).
pub fn outer_layers(router: axum::Router, cors_origins: &[String]) -> axum::Router {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::compression::CompressionLayer;
    use tower_http::cors::{AllowOrigin, CorsLayer};

    let router = router.layer(CompressionLayer::new().br(true).gzip(true));
    let origins: Vec<HeaderValue> = cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return router;
    }
    router.layer(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([header::RETRY_AFTER])
            // Browsers cache the preflight for an hour instead of asking before every query.
            .max_age(Duration::from_secs(3600)),
    )
}

/// Opens the store `config.database_url` names (see [`eventstore::Location`]) and logs which
/// backend and where.
async fn connect(config: &Config) -> Result<AnyEventStore, BuildError> {
    match Location::parse(&config.database_url).map_err(BuildError::Store)? {
        Location::Postgres { url } => {
            let options: PgConnectOptions = url.parse().map_err(BuildError::Connect)?;
            // PostgreSQL's JIT compiler can take seconds on a plan that then runs in
            // milliseconds (measured here on the former SQL metric functions: 6.4 s with JIT,
            // 0.08 s without); the read side's queries are all short. The projectors'
            // connections derive from these options too.
            let options = options.options([("jit", "off")]);
            tracing::info!(
                backend = "postgresql",
                host = options.get_host(),
                database = options.get_database().unwrap_or_default(),
                "event store and read models on PostgreSQL"
            );
            let pool = PgPoolOptions::new()
                .max_connections(config.serve.db_pool)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(BuildError::Connect)?;
            Ok(AnyEventStore::Postgres(PgEventStore::new(pool)))
        }
        Location::Sqlite { path } => {
            eventstore::create_parent_dir(&path).map_err(BuildError::Store)?;
            tracing::info!(
                backend = "sqlite",
                file = %path.display(),
                "event store and read models in an embedded SQLite file"
            );
            // Readers run concurrently under WAL; writers queue on the store's one-writer lock.
            let pool = SqlitePoolOptions::new()
                .max_connections(config.serve.db_pool.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(eventstore::sqlite::connect_options(&path))
                .await
                .map_err(BuildError::Connect)?;
            Ok(AnyEventStore::Sqlite(SqliteEventStore::new(pool)))
        }
    }
}

/// Invalidates cached figures whenever a projection commits a batch, until shutdown: on
/// PostgreSQL the runners NOTIFY `projections::postgres::CHANNEL`; on SQLite, which has no
/// notifications, this process's runners signal their commits in memory
/// (`projections::sqlite::progress_signal`) and the positions are polled for other processes'.
async fn follow_projections(state: schema::State, shutdown: watch::Receiver<bool>) {
    match state.db.clone() {
        Database::Postgres(pool) => listen_for_projections(&state, &pool, shutdown).await,
        Database::Sqlite(_) => poll_projections(&state, shutdown).await,
    }
}

/// Cached answers hold while the facts in memory stand still: each time they move, the cache's
/// generation moves too.
async fn follow_live_ledger(state: schema::State, mut shutdown: watch::Receiver<bool>) {
    let mut position = state.live.watch();
    loop {
        tokio::select! {
            changed = position.changed() => {
                if changed.is_err() {
                    return;
                }
                state.dashboards.invalidate();
            }
            () = stopped(&mut shutdown) => return,
        }
    }
}

/// How often a SQLite server reads the projections' positions, for batches committed by runners
/// of another process (this process's runners signal their commits at once).
const PROJECTION_POLL: Duration = Duration::from_secs(1);

async fn poll_projections(state: &schema::State, mut shutdown: watch::Receiver<bool>) {
    let mut committed_here = projections::sqlite::progress_signal();
    let mut seen: Option<Vec<(String, Position)>> = None;
    loop {
        match projections::statuses_in(&state.db).await {
            Ok(statuses) => {
                let now: Vec<_> = statuses
                    .into_iter()
                    .map(|s| (s.projection, s.position))
                    .collect();
                if seen.as_ref() != Some(&now) {
                    state.dashboards.invalidate();
                    seen = Some(now);
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read projection progress"),
        }
        tokio::select! {
            changed = committed_here.changed() => {
                if changed.is_err() {
                    // The signal lives as long as the process: this does not happen.
                    tokio::time::sleep(PROJECTION_POLL).await;
                }
            }
            () = tokio::time::sleep(PROJECTION_POLL) => {}
            () = stopped(&mut shutdown) => return,
        }
    }
}

async fn listen_for_projections(
    state: &schema::State,
    pool: &sqlx::PgPool,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(l) => l,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for projection progress; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(projections::postgres::CHANNEL).await {
            tracing::warn!(%error, "cannot listen for projection progress; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Whatever happened while not listening is unknown: start from a clean slate.
        state.dashboards.invalidate();
        loop {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(_) => state.dashboards.invalidate(),
                    Err(error) => {
                        tracing::warn!(%error, "projection listener failed; reconnecting");
                        break;
                    }
                },
                () = stopped(&mut shutdown) => return,
            }
        }
    }
}

/// Resolves once the shutdown flag is set (never, if its sender is gone without setting it).
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
