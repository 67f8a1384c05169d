//! `taizhang tokens create|list|revoke`: API tokens from the command line (docs/security.md).
//!
//! The command line needs only database access, which is why it is the way in on first run.

use std::process::ExitCode;

use anyhow::Context;
use auth::{NewToken, Role, TokenInfo, Tokens};
use clap::{Args, Subcommand};
use eventstore::{AnyEventStore, Direction, EventStore};
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print it, once.
    ///
    /// The token is shown once: it goes to standard output and nowhere else. Only its SHA-256
    /// hash is stored, so it cannot be shown again (lose it and create another). Its record goes
    /// to standard error, so `TOKEN=$(taizhang tokens create …)` captures the token alone.
    ///
    /// Roles: admin (units, targets, rule settings, tokens), supervisor (supervision items and
    /// accountability), editor (project commands for the units given with --unit), viewer (read
    /// only), auditor (read, events feed, ledger verification). All of them read the ledger.
    ///
    /// First run: `taizhang tokens create --name "系统管理员" --role admin`.
    Create(CreateArgs),

    /// List every token: id, role, status (active, expired, revoked), expiry, name, units.
    ///
    /// Never shows a token itself (it is not stored). Revoked and expired tokens stay on the list:
    /// they are the record of who could get in, and when.
    List,

    /// Revoke a token: refused from the next request on, in every server process.
    ///
    /// To rotate a token, create its successor first, hand it over, then revoke the old one. For a
    /// leaked token, revoke first.
    Revoke {
        /// The token's id (from `taizhang tokens list`).
        id: Uuid,

        /// Who revokes it, for the record [default: cli:$USER].
        #[arg(long)]
        actor: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Who or what holds the token, e.g. "城关镇 张三" or "metabase-sync". Recorded with every
    /// event the token causes.
    #[arg(long)]
    name: String,

    /// admin, supervisor, editor, viewer or auditor.
    #[arg(long)]
    role: Role,

    /// A unit (责任单位) the editor acts for; repeat for several. Editors need at least one;
    /// the other roles take none.
    #[arg(long = "unit", value_name = "UNIT")]
    units: Vec<String>,

    /// Lifetime: a number and s, m, h, d or w (at most 5 years).
    #[arg(long, default_value = "90d", value_name = "DURATION")]
    expires_in: String,

    /// Who creates it, for the record [default: cli:$USER].
    #[arg(long)]
    actor: Option<String>,
}

pub async fn run(store: &AnyEventStore, command: TokensCommand) -> anyhow::Result<ExitCode> {
    // In the store's own database, on either backend (on SQLite through the store's writer, so
    // a token row and its `token-<id>` event commit together).
    let tokens = Tokens::for_store(store);
    match command {
        TokensCommand::Create(args) => create(store, &tokens, args).await,
        TokensCommand::List => list(&tokens).await,
        TokensCommand::Revoke { id, actor } => {
            let info = tokens
                .revoke(id, &actor_or_default(actor))
                .await
                .map_err(explain)?;
            println!(
                "revoked token {} ({}, {}) at {} (令牌已吊销)",
                info.token_id,
                info.name,
                info.role,
                info.revoked_at.map(when).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn create(
    store: &AnyEventStore,
    tokens: &Tokens,
    args: CreateArgs,
) -> anyhow::Result<ExitCode> {
    let mut units = Vec::with_capacity(args.units.len());
    for u in &args.units {
        let id = domain::UnitId::parse(u).map_err(|e| anyhow::anyhow!("--unit {u}: {e:?}"))?;
        // Other roles take no units; the token store refuses them with that reason.
        if args.role == Role::Editor {
            require_unit(store, &id).await?;
        }
        units.push(id);
    }
    let new = NewToken {
        name: args.name,
        role: args.role,
        units,
        lifetime: auth::parse_lifetime(&args.expires_in)?,
    };
    let created = tokens
        .create(new, &actor_or_default(args.actor))
        .await
        .map_err(explain)?;
    let info = &created.info;
    eprintln!(
        "created token {} for {} ({}{}), expires {}",
        info.token_id,
        info.name,
        info.role,
        units_suffix(info),
        when(info.expires_at)
    );
    eprintln!(
        "The token below is shown only this once; store it now. \
         (令牌仅显示这一次，请立即妥善保存。)"
    );
    // The only place a token is ever written out.
    println!("{}", created.secret.expose());
    Ok(ExitCode::SUCCESS)
}

async fn list(tokens: &Tokens) -> anyhow::Result<ExitCode> {
    let all = tokens.list().await.map_err(explain)?;
    if all.is_empty() {
        println!(
            "no tokens yet (尚无令牌): create the first with \
             `taizhang tokens create --name NAME --role admin`"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let now = OffsetDateTime::now_utc();
    println!(
        "{:<36}  {:<10}  {:<7}  {:<20}  NAME (UNITS), CREATED BY",
        "ID", "ROLE", "STATUS", "EXPIRES"
    );
    for t in &all {
        println!(
            "{:<36}  {:<10}  {:<7}  {:<20}  {}{}, by {}{}",
            t.token_id,
            t.role.as_str(),
            t.status(now).as_str(),
            when(t.expires_at),
            t.name,
            units_suffix(t),
            t.created_by,
            t.revoked_by
                .as_ref()
                .map(|by| format!("; revoked by {by}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A scope names a unit that exists (its `unit-<id>` stream holds its creation): an editor
/// token for a typo would be refused on every write. The event log decides, not a read model,
/// so that this holds while the projections catch up.
async fn require_unit(store: &AnyEventStore, unit: &domain::UnitId) -> anyhow::Result<()> {
    let first = store
        .read_stream(&unit.stream(), Direction::Forwards, 0, 1)
        .await
        .with_context(|| format!("cannot read the unit {unit}"))?;
    if first.is_empty() {
        anyhow::bail!(
            "--unit {unit}: no such unit (单位不存在); the GraphQL query \
             {{ units {{ unitId name }} }} lists them"
        );
    }
    Ok(())
}

fn units_suffix(t: &TokenInfo) -> String {
    if t.units.is_empty() {
        String::new()
    } else {
        let units: Vec<&str> = t.units.iter().map(|u| u.as_str()).collect();
        format!(" [{}]", units.join(", "))
    }
}

/// The CLI's actor: `--actor`, else `cli:<login>`: whoever can run it has the database anyway,
/// so this records intent rather than proving identity.
fn actor_or_default(actor: Option<String>) -> String {
    actor.unwrap_or_else(|| {
        let login = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        format!("cli:{login}")
    })
}

fn when(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
    ))
    .unwrap_or_else(|_| t.to_string())
}

/// A token error, with the likely fix when the schema is missing.
fn explain(error: auth::TokenError) -> anyhow::Error {
    let missing_schema = matches!(
        &error,
        auth::TokenError::Database(sqlx::Error::Database(d)) if d.code().as_deref() == Some("42P01")
    );
    let error = anyhow::Error::new(error);
    if missing_schema {
        error.context(
            "the token table is missing: run `taizhang migrate` first (请先运行 taizhang migrate)",
        )
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn explicit_actor_wins() {
        assert_eq!(super::actor_or_default(Some("ops".into())), "ops");
        assert!(super::actor_or_default(None).starts_with("cli:"));
    }
}
