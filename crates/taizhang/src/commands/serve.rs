//! `taizhang serve`: the API server until a signal; with `--demo`, a ready-to-try county first.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use anyhow::Context;
use auth::{NewToken, Role, TokenStatus, Tokens};
use eventstore::AnyEventStore;

/// `taizhang serve`'s flags: the server's own (crates/api) plus what only the binary can do.
#[derive(Debug, clap::Args)]
pub struct ServeCommand {
    #[command(flatten)]
    pub server: api::ServeArgs,

    /// Try taizhang out: seed the demo county (5 units, 60 projects; a second start adds
    /// nothing), make an admin token valid for 7 days (revoking the previous demo token) and
    /// print it with the playground's URL and a first query. Not for a county's real ledger.
    #[arg(long, env = "TAIZHANG_DEMO", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub demo: bool,
}

/// The name of the token `--demo` makes; earlier ones of this name made by `--demo` are revoked.
const DEMO_TOKEN_NAME: &str = "演示管理员 (serve --demo)";
/// Who `--demo` records as having made and revoked its tokens.
const DEMO_TOKEN_ACTOR: &str = "taizhang serve --demo";
/// Long enough to try things over a week, short enough not to linger as a way in.
const DEMO_TOKEN_LIFETIME: time::Duration = time::Duration::days(7);

pub async fn run(
    database_url: String,
    command: ServeCommand,
    sealing: receipts::Sealing,
) -> anyhow::Result<ExitCode> {
    // Seeding and the token come before the server starts, so that the server's first-run check
    // (no active token) and the projectors see them.
    let demo_token = if command.demo {
        Some(prepare_demo(&database_url).await?)
    } else {
        None
    };
    let config = api::Config {
        database_url: database_url.clone(),
        serve: command.server,
        sealing,
    };
    let app = api::Application::build(config).await.with_context(|| {
        format!(
            "cannot start the server (database {})",
            super::redact(&database_url)
        )
    })?;
    if let Some(token) = demo_token {
        println!("{}", demo_banner(app.local_addr(), &token));
    }
    app.run_until_stopped().await.context("the server failed")?;
    Ok(ExitCode::SUCCESS)
}

/// Seeds the demo county and returns a fresh admin token's text.
async fn prepare_demo(database_url: &str) -> anyhow::Result<auth::Secret> {
    let store = AnyEventStore::connect(database_url, 2)
        .await
        .with_context(|| format!("cannot open the store at {}", super::redact(database_url)))?;
    let summary = super::demo::seed(&store).await?;
    println!("{}", super::demo::describe(&summary));

    let tokens = Tokens::for_store(&store);
    let now = time::OffsetDateTime::now_utc();
    for old in tokens.list().await.context("cannot list the tokens")? {
        if old.name == DEMO_TOKEN_NAME
            && old.created_by == DEMO_TOKEN_ACTOR
            && old.status(now) == TokenStatus::Active
        {
            tokens
                .revoke(old.token_id, DEMO_TOKEN_ACTOR)
                .await
                .context("cannot revoke the previous demo token")?;
        }
    }
    let created = tokens
        .create(
            NewToken {
                name: DEMO_TOKEN_NAME.to_owned(),
                role: Role::Admin,
                units: Vec::new(),
                lifetime: DEMO_TOKEN_LIFETIME,
            },
            DEMO_TOKEN_ACTOR,
        )
        .await
        .context("cannot create the demo admin token")?;
    Ok(created.secret)
}

/// What a person needs to start: where to click, what to paste, what to ask.
fn demo_banner(addr: SocketAddr, token: &auth::Secret) -> String {
    // 0.0.0.0 and [::] accept connections but are not addresses a browser can open.
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    };
    let year = commands::county_today().year();
    format!(
        "\n\
         Playground / 调试页面:  http://{host}/graphql\n\
         Admin token / 管理员令牌 (shown once, valid 7 days / 仅显示一次，7 天有效):\n\
         \x20 {token}\n\
         Paste into the playground's Headers tab / 粘贴到调试页面的 Headers 标签:\n\
         \x20 {{\"Authorization\": \"Bearer {token}\"}}\n\
         A first query / 第一个查询:\n\
         \x20 {{ dashboard(year: {year}) {{ asOf projectCount monthProgressPct }} }}\n",
        token = token.expose(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_points_a_browser_at_loopback_when_listening_everywhere() {
        let token = auth::Secret::new("tz_example");
        let banner = demo_banner("0.0.0.0:8080".parse().expect("address"), &token);
        assert!(banner.contains("http://127.0.0.1:8080/graphql"), "{banner}");
        assert!(banner.contains("\"Bearer tz_example\""), "{banner}");
        let banner = demo_banner("10.0.0.5:9000".parse().expect("address"), &token);
        assert!(banner.contains("http://10.0.0.5:9000/graphql"), "{banner}");
    }
}
