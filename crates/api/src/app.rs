//! The application: everything `taizhang serve` runs, built once and served until a signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use commands::CommandHandler;
use eventstore::{PgEventStore, Position};
use projections::{Projectors, RunnerOptions, Waiter};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, watch};

use crate::config::Config;
use crate::http::{Shared, router};
use crate::schema::{self, StateInner, subscription::Hub};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
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
        let options: PgConnectOptions = config.database_url.parse().map_err(BuildError::Connect)?;
        // PostgreSQL's JIT compiler takes seconds to compile the metric functions' plans (their
        // set-returning functions are estimated at 1000 rows each, which crosses jit_above_cost)
        // and then runs them in milliseconds: measured here, unit_ranking_as_of took 6.4 s with
        // JIT and 0.08 s without. The projectors' connections derive from these options too.
        let options = options.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(config.serve.db_pool)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(BuildError::Connect)?;
        let store = PgEventStore::new(pool.clone());
        if config.serve.migrate {
            store.migrate().await.map_err(BuildError::Migrate)?;
            tracing::info!("migrations applied");
        }
        let projection_names = projections::all(projections::system_clock())
            .iter()
            .map(|p| p.name())
            .collect();
        let projectors = if config.serve.projectors {
            let list = projections::all(projections::system_clock());
            Some(
                Projectors::start(&store, list, RunnerOptions::default())
                    .map_err(BuildError::Projectors)?,
            )
        } else {
            None
        };
        let sealer = (config.serve.seal_every > 0)
            .then(|| store.spawn_sealer(Duration::from_secs(config.serve.seal_every)));
        let (stop, shutdown) = watch::channel(false);
        // The hub starts where the read models are: subscribers get what is recorded after.
        let from = projections::statuses(&pool)
            .await
            .ok()
            .and_then(|s| s.into_iter().map(|s| s.position).max())
            .unwrap_or(Position::START);
        let hub = Hub::start(store.clone(), from, shutdown.clone());
        let gate = auth::Gate::new(pool.clone(), &config.serve.auth);
        // Warns at every start without authentication, and when no token can get in yet.
        gate.startup().await.map_err(BuildError::Tokens)?;
        let shutdown_for_cache = shutdown.clone();
        let state = Arc::new(StateInner {
            handler: CommandHandler::new(store.clone()),
            gate,
            waiter: Waiter::start(pool.clone()),
            pool,
            store,
            config: config.clone(),
            projection_names,
            shutdown,
            verification: Mutex::new(None),
            dashboards: Default::default(),
            responses: Default::default(),
        });
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
        let app = router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            stopped(&mut stopping).await;
        });
        tokio::select! {
            result = server => result?,
            () = async move {
                stopped(&mut expired).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(?grace, "requests still running after the grace period; closing them");
            }
        }
        if let Some(sealer) = sealer {
            sealer.abort();
        }
        if let Some(p) = projectors {
            p.shutdown().await;
        }
        shared.state.pool.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Invalidates cached figures whenever a projection commits a batch (its runner NOTIFYs
/// `projections::postgres::CHANNEL`), until shutdown.
async fn follow_projections(state: schema::State, mut shutdown: watch::Receiver<bool>) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&state.pool).await {
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
