//! The front door the server calls: settings, authentication of a request (token lookup and rate
//! limit in one call), and authorization, so that the API wires access control in one place.

use std::net::IpAddr;

use domain::UnitId;
use domain::project::{Project, ProjectCommand};
use domain::supervision::{SupervisionCommand, SupervisionItem};
use sqlx::PgPool;
use uuid::Uuid;

use crate::throttle::{FailureLimit, FailureThrottle};
use crate::token::TokenError;
use crate::{
    AuthError, Identity, Operation, PgTokens, RateLimit, RateLimiter, Role, Secret, Tokens, policy,
    secret,
};

/// Access-control flags of `taizhang serve` (flatten into the server's arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// Requests per second each API token may make, sustained.
    #[arg(long, env = "TAIZHANG_RATE_LIMIT", default_value_t = 10.0)]
    pub rate_limit: f64,

    /// Requests each API token may make at once after a quiet spell.
    #[arg(long, env = "TAIZHANG_RATE_BURST", default_value_t = 50)]
    pub rate_burst: u32,

    /// Failed authentications a client address may have per minute; beyond them its failures
    /// are answered 429 (RATE_LIMITED, with Retry-After) until the minute ends, and counted in
    /// the log rather than logged one by one. Valid tokens from that address still pass.
    #[arg(long, env = "TAIZHANG_AUTH_FAILURES_PER_MINUTE", default_value_t = 20)]
    pub auth_failures_per_minute: u32,

    /// Require a token (any role) for /readyz and /metrics too (/healthz stays open).
    #[arg(long, env = "TAIZHANG_PROTECT_OPS_ENDPOINTS")]
    pub protect_ops_endpoints: bool,

    /// DANGER: serve without authentication; every request may do everything and is recorded as
    /// "anonymous (insecure)". For a laptop demo only; a warning is logged at every start.
    #[arg(long, env = "TAIZHANG_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
}

impl Default for AuthArgs {
    fn default() -> Self {
        let limit = RateLimit::default();
        AuthArgs {
            rate_limit: limit.per_second,
            rate_burst: limit.burst,
            auth_failures_per_minute: FailureLimit::default().failures,
            protect_ops_endpoints: false,
            insecure_no_auth: false,
        }
    }
}

/// Authentication, rate limits and authorization for one server process.
#[derive(Debug)]
pub struct Gate {
    tokens: Tokens,
    limiter: RateLimiter,
    failures: FailureThrottle,
    insecure: bool,
    protect_ops_endpoints: bool,
}

/// The name recorded for requests when authentication is off.
pub const INSECURE_ACTOR_NAME: &str = "anonymous (insecure)";

impl Gate {
    /// A gate over tokens in PostgreSQL.
    pub fn new(pool: PgPool, args: &AuthArgs) -> Self {
        Gate::with_tokens(Tokens::Postgres(PgTokens::new(pool)), args)
    }

    /// A gate over tokens in the store's database, on either backend; on SQLite token writes
    /// queue with the store's appends (see [`Tokens::for_store`]). What a server holding its
    /// store calls.
    pub fn for_store(store: &eventstore::AnyEventStore, args: &AuthArgs) -> Self {
        Gate::with_tokens(Tokens::for_store(store), args)
    }

    /// A gate over tokens in `db`, on either backend (see [`Tokens::new`] for SQLite).
    pub fn for_database(db: eventstore::Database, args: &AuthArgs) -> Self {
        Gate::with_tokens(Tokens::new(db), args)
    }

    pub fn with_tokens(tokens: Tokens, args: &AuthArgs) -> Self {
        Gate {
            tokens,
            limiter: RateLimiter::new(RateLimit {
                per_second: args.rate_limit,
                burst: args.rate_burst,
            }),
            failures: FailureThrottle::new(FailureLimit {
                failures: args.auth_failures_per_minute,
                window: std::time::Duration::from_secs(60),
            }),
            insecure: args.insecure_no_auth,
            protect_ops_endpoints: args.protect_ops_endpoints,
        }
    }

    /// Call once at server start: logs a warning when authentication is off, and when no token
    /// could get in yet (with the command that makes one).
    pub async fn startup(&self) -> Result<(), TokenError> {
        if self.insecure {
            tracing::warn!(
                "AUTHENTICATION IS OFF (--insecure-no-auth): anyone who reaches this server may \
                 read and change everything (未启用身份认证，任何人均可读写全部数据)"
            );
        } else if !self.tokens.any_active().await? {
            tracing::warn!(
                "no active API token: create one with `taizhang tokens create --name NAME --role \
                 admin` (尚无有效令牌)"
            );
        }
        Ok(())
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    pub fn is_insecure(&self) -> bool {
        self.insecure
    }

    /// Whether /readyz and /metrics need a token.
    pub fn protects_ops_endpoints(&self) -> bool {
        self.protect_ops_endpoints && !self.insecure
    }

    /// The caller of an HTTP request, from its `Authorization` header value, rate limit
    /// included: one call per request.
    pub async fn authenticate_header(
        &self,
        authorization: Option<&str>,
        source: Option<IpAddr>,
    ) -> Result<Identity, AuthError> {
        let secret = authorization.and_then(secret::bearer);
        self.authenticate(secret.as_ref(), source).await
    }

    /// The caller of a WebSocket, from its graphql-transport-ws `connection_init` payload.
    pub async fn authenticate_connection_init(
        &self,
        payload: &serde_json::Value,
        source: Option<IpAddr>,
    ) -> Result<Identity, AuthError> {
        let secret = secret::from_connection_init(payload);
        self.authenticate(secret.as_ref(), source).await
    }

    async fn authenticate(
        &self,
        secret: Option<&Secret>,
        source: Option<IpAddr>,
    ) -> Result<Identity, AuthError> {
        if self.insecure {
            return Ok(Identity {
                token_id: Uuid::nil(),
                name: INSECURE_ACTOR_NAME.to_owned(),
                role: Role::Admin,
                units: Vec::new(),
            });
        }
        let identity = match self.tokens.authenticate(secret, source).await {
            Ok(identity) => identity,
            Err(AuthError::Unauthenticated) => return Err(self.failed(secret, source)),
            Err(other) => return Err(other),
        };
        self.rate_limit(&identity)?;
        Ok(identity)
    }

    /// Counts a failed authentication against its address: `Unauthenticated` while the
    /// address has failures left in its window, then `RateLimited` until the window ends (a
    /// client honouring Retry-After stops trying). A valid token is never refused for its
    /// address: clerks behind one NAT must not be locked out by one stale client.
    fn failed(&self, secret: Option<&Secret>, source: Option<IpAddr>) -> AuthError {
        let Some(ip) = source else {
            return AuthError::Unauthenticated;
        };
        let now = std::time::Instant::now();
        if let Err(retry_after) = self.failures.check_at(ip, now) {
            return AuthError::RateLimited { retry_after };
        }
        let reason = match secret {
            None => "no token",
            Some(s) if !s.is_well_formed() => "malformed token",
            Some(_) => "unknown, expired or revoked token",
        };
        self.failures.failed_at(ip, reason, now);
        AuthError::Unauthenticated
    }

    /// Counts one request against the identity's token (for messages on a long-lived WebSocket,
    /// e.g. each `subscribe`). Already done by the `authenticate_*` calls.
    pub fn rate_limit(&self, identity: &Identity) -> Result<(), AuthError> {
        if self.insecure {
            return Ok(());
        }
        self.limiter.check(identity.token_id)
    }

    /// [`policy::authorize`], or yes when authentication is off.
    pub fn authorize(
        &self,
        identity: &Identity,
        operation: Operation,
        unit: Option<&UnitId>,
    ) -> Result<(), AuthError> {
        if self.insecure {
            return Ok(());
        }
        Ok(policy::authorize(identity, operation, unit)?)
    }

    /// The check made before an operation's arguments are known to name a unit: refuses roles
    /// the matrix denies outright, and lets scoped grants through to the check on the unit
    /// (made where the unit is known: [`Gate::project_guard`], [`Gate::supervision_guard`]).
    /// The API calls it for every root field it resolves.
    pub fn authorize_role(
        &self,
        identity: &Identity,
        operation: Operation,
    ) -> Result<(), AuthError> {
        if self.insecure {
            return Ok(());
        }
        match policy::grant(identity.role, operation.area()) {
            policy::Grant::Allow | policy::Grant::InScope => Ok(()),
            // `authorize` words (and logs) the refusal.
            policy::Grant::Deny => Ok(policy::authorize(identity, operation, None)?),
        }
    }

    /// [`policy::authorize_project_command`], or yes when authentication is off.
    pub fn authorize_project_command(
        &self,
        identity: &Identity,
        command: &ProjectCommand,
        current_unit: Option<&UnitId>,
    ) -> Result<(), AuthError> {
        if self.insecure {
            return Ok(());
        }
        Ok(policy::authorize_project_command(
            identity,
            command,
            current_unit,
        )?)
    }

    /// The guard for `CommandHandler::handle_guarded::<Project, AuthError>`: the project
    /// command's scope, checked on the project's state as the command is decided.
    pub fn project_guard(
        &self,
        identity: &Identity,
        command: &ProjectCommand,
    ) -> impl Fn(&Project) -> Result<(), AuthError> + '_ {
        // Owned copies: the command itself moves into the envelope beside the guard.
        let (identity, command) = (identity.clone(), command.clone());
        move |project: &Project| {
            self.authorize_project_command(&identity, &command, project.responsible_unit.as_ref())
        }
    }

    /// The guard for `CommandHandler::handle_guarded::<SupervisionItem, AuthError>`. Feedback is
    /// scoped by the unit it is given for (the rules accept only the lead unit or a co-unit), an
    /// item being opened by the lead unit it names, anything else by the item's lead unit.
    pub fn supervision_guard(
        &self,
        identity: &Identity,
        command: &SupervisionCommand,
    ) -> impl Fn(&SupervisionItem) -> Result<(), AuthError> + '_ {
        let identity = identity.clone();
        let operation = Operation::from(command);
        let named_unit = match command {
            SupervisionCommand::Open(c) => Some(c.lead_unit.clone()),
            SupervisionCommand::SubmitFeedback(c) => Some(c.unit.clone()),
            _ => None,
        };
        move |item: &SupervisionItem| {
            let unit = named_unit
                .as_ref()
                .or_else(|| item.opened.as_ref().map(|o| &o.lead_unit));
            self.authorize(&identity, operation, unit)
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::project::{InvestmentReported, ProjectCommand};
    use domain::supervision::{FeedbackSubmitted, SupervisionCommand};

    use super::*;

    fn gate() -> Gate {
        // A lazy pool never connects: guards need no database.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .expect("a lazy pool");
        Gate::new(pool, &AuthArgs::default())
    }

    fn editor_of(unit: &str) -> Identity {
        Identity {
            token_id: Uuid::new_v4(),
            name: "clerk".into(),
            role: Role::Editor,
            units: vec![UnitId::parse(unit).expect("unit")],
        }
    }

    #[tokio::test]
    async fn authorize_role_defers_scoped_grants_to_the_unit_check() {
        let gate = gate();
        let editor = editor_of("a-town");
        assert!(
            gate.authorize_role(&editor, Operation::ReportInvestment)
                .is_ok()
        );
        assert!(
            gate.authorize_role(&editor, Operation::SubmitFeedback)
                .is_ok()
        );
        let refused = gate.authorize_role(&editor, Operation::CreateUnit);
        assert_eq!(refused.map_err(|e| e.code()), Err("FORBIDDEN"));
        let viewer = Identity {
            role: Role::Viewer,
            units: vec![],
            ..editor
        };
        assert!(gate.authorize_role(&viewer, Operation::Read).is_ok());
        let refused = gate.authorize_role(&viewer, Operation::ReportInvestment);
        assert_eq!(refused.map_err(|e| e.code()), Err("FORBIDDEN"));
        let insecure = Gate::for_database(
            gate.tokens.database(),
            &AuthArgs {
                insecure_no_auth: true,
                ..AuthArgs::default()
            },
        );
        assert!(
            insecure
                .authorize_role(&viewer, Operation::CreateToken)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn project_guard_reads_the_unit_from_the_state() {
        let gate = gate();
        let report = ProjectCommand::ReportInvestment(
            serde_json::from_value::<InvestmentReported>(serde_json::json!({
                "period": "2026-05", "completed_investment": 1, "funds_in_place": 0
            }))
            .expect("report"),
        );
        let guard = gate.project_guard(&editor_of("a-town"), &report);
        let mut project = Project::default();
        assert!(guard(&project).is_err(), "no unit yet: refused");
        project.responsible_unit = Some(UnitId::parse("a-town").expect("unit"));
        assert!(guard(&project).is_ok());
        project.responsible_unit = Some(UnitId::parse("c-town").expect("unit"));
        assert_eq!(guard(&project).map_err(|e| e.code()), Err("FORBIDDEN"));
    }

    #[tokio::test]
    async fn supervision_guard_reads_the_units_of_command_and_item() {
        let gate = gate();
        // Feedback for xinan-town (the golden sample): scoped by the unit it is given for.
        let feedback = SupervisionCommand::SubmitFeedback(
            serde_json::from_str::<FeedbackSubmitted>(include_str!(
                "../../domain/tests/golden/FeedbackSubmitted.v1.json"
            ))
            .expect("golden"),
        );
        let opened: domain::supervision::SupervisionItemOpened = serde_json::from_str(
            include_str!("../../domain/tests/golden/SupervisionItemOpened.v1.json"),
        )
        .expect("golden");
        let lead = opened.lead_unit.as_str().to_owned();
        let item = SupervisionItem {
            opened: Some(opened),
            ..SupervisionItem::default()
        };
        assert!(gate.supervision_guard(&editor_of("xinan-town"), &feedback)(&item).is_ok());
        assert!(gate.supervision_guard(&editor_of("zz-town"), &feedback)(&item).is_err());
        // A close-out request: scoped by the item's lead unit.
        let request = SupervisionCommand::RequestClosure(
            serde_json::from_str(include_str!(
                "../../domain/tests/golden/ClosureRequested.v1.json"
            ))
            .expect("golden"),
        );
        assert!(gate.supervision_guard(&editor_of(&lead), &request)(&item).is_ok());
        assert!(gate.supervision_guard(&editor_of("zz-town"), &request)(&item).is_err());
        let unknown = SupervisionItem::default();
        assert!(gate.supervision_guard(&editor_of(&lead), &request)(&unknown).is_err());
    }
}
