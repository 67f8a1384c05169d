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

/// Who `--demo` records as having made and revoked its tokens.
const DEMO_TOKEN_ACTOR: &str = "taizhang serve --demo";
/// Long enough to try things over a week, short enough not to linger as a way in.
const DEMO_TOKEN_LIFETIME: time::Duration = time::Duration::days(7);

/// The tokens `--demo` makes: one per role a newcomer wants to try, each with what it may do
/// (docs/security.md has the whole matrix). An admin may not write project facts, by design, so
/// the editor's token is the one for reporting investment.
struct DemoRole {
    role: Role,
    /// The token's name; earlier active tokens of this name made by `--demo` are revoked.
    name: &'static str,
    /// For the editor: the demo unit it acts for.
    unit: Option<&'static str>,
    may: &'static str,
}

const DEMO_ROLES: [DemoRole; 4] = [
    DemoRole {
        role: Role::Admin,
        name: "演示管理员 (serve --demo)",
        unit: None,
        may: "units, targets, rule settings, tokens / 单位、目标、规则、令牌",
    },
    DemoRole {
        role: Role::Editor,
        name: "演示填报员 城关镇 (serve --demo)",
        unit: Some("chengguan-town"),
        may: "project facts of chengguan-town (城关镇): signing, start, monthly investment / 城关镇项目的签约、开工、月度投资填报",
    },
    DemoRole {
        role: Role::Supervisor,
        name: "演示督查员 (serve --demo)",
        unit: None,
        may: "supervision items, close-out, accountability / 督办事项、销号、问责",
    },
    DemoRole {
        role: Role::Auditor,
        name: "演示审计员 (serve --demo)",
        unit: None,
        may: "read everything, the events feed, ledger verification / 只读、事件流、台账校验",
    },
];

/// A token `--demo` made, for the banner.
struct DemoToken {
    role: &'static DemoRole,
    secret: auth::Secret,
}

pub async fn run(
    database_url: String,
    command: ServeCommand,
    sealing: receipts::Sealing,
) -> anyhow::Result<ExitCode> {
    // Seeding and the tokens come before the server starts, so that the server's first-run
    // check (no active token) and the projectors see them.
    let demo_tokens = if command.demo {
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
    if let Some(tokens) = demo_tokens {
        println!("{}", demo_banner(app.local_addr(), &tokens));
    }
    app.run_until_stopped().await.context("the server failed")?;
    Ok(ExitCode::SUCCESS)
}

/// Seeds the demo county and returns a fresh token of each of [`DEMO_ROLES`].
async fn prepare_demo(database_url: &str) -> anyhow::Result<Vec<DemoToken>> {
    let store = AnyEventStore::connect(database_url, 2)
        .await
        .with_context(|| format!("cannot open the store at {}", super::redact(database_url)))?;
    let summary = super::demo::seed(&store).await?;
    println!("{}", super::demo::describe(&summary));

    let tokens = Tokens::for_store(&store);
    let now = time::OffsetDateTime::now_utc();
    let existing = tokens.list().await.context("cannot list the tokens")?;
    let mut made = Vec::with_capacity(DEMO_ROLES.len());
    for role in &DEMO_ROLES {
        for old in &existing {
            if old.name == role.name
                && old.created_by == DEMO_TOKEN_ACTOR
                && old.status(now) == TokenStatus::Active
            {
                tokens
                    .revoke(old.token_id, DEMO_TOKEN_ACTOR)
                    .await
                    .context("cannot revoke a previous demo token")?;
            }
        }
        let units = role
            .unit
            .map(domain::UnitId::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("demo unit: {e:?}"))?
            .into_iter()
            .collect();
        let created = tokens
            .create(
                NewToken {
                    name: role.name.to_owned(),
                    role: role.role,
                    units,
                    lifetime: DEMO_TOKEN_LIFETIME,
                },
                DEMO_TOKEN_ACTOR,
            )
            .await
            .with_context(|| format!("cannot create the demo {} token", role.role))?;
        made.push(DemoToken {
            role,
            secret: created.secret,
        });
    }
    Ok(made)
}

/// What a person needs to start: where to click, what to paste, what to ask.
fn demo_banner(addr: SocketAddr, tokens: &[DemoToken]) -> String {
    use std::fmt::Write;
    // 0.0.0.0 and [::] accept connections but are not addresses a browser can open.
    let host = if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    };
    let year = commands::county_today().year();
    let mut out = format!(
        "\n\
         Playground / 调试页面:  http://{host}/graphql\n\
         Tokens / 令牌 (shown once, valid 7 days / 仅显示一次，7 天有效):\n"
    );
    for t in tokens {
        let _ = writeln!(
            out,
            "  {role:<10} {may}\n  {pad:<10} {secret}",
            role = t.role.role.as_str(),
            may = t.role.may,
            pad = "",
            secret = t.secret.expose()
        );
    }
    let admin = tokens
        .iter()
        .find(|t| t.role.role == Role::Admin)
        .or(tokens.first());
    if let Some(admin) = admin {
        let _ = write!(
            out,
            "Paste one into the playground's Headers tab / 粘贴到调试页面的 Headers 标签:\n\
             \x20 {{\"Authorization\": \"Bearer {}\"}}\n",
            admin.secret.expose()
        );
    }
    let _ = write!(
        out,
        "A first query / 第一个查询:\n\
         \x20 {{ dashboard(year: {year}) {{ asOf projectCount monthProgressPct }} }}\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_points_a_browser_at_loopback_when_listening_everywhere() {
        let tokens: Vec<DemoToken> = DEMO_ROLES
            .iter()
            .enumerate()
            .map(|(i, role)| DemoToken {
                role,
                secret: auth::Secret::new(format!("tz_example{i}")),
            })
            .collect();
        let banner = demo_banner("0.0.0.0:8080".parse().expect("address"), &tokens);
        assert!(banner.contains("http://127.0.0.1:8080/graphql"), "{banner}");
        assert!(banner.contains("\"Bearer tz_example0\""), "{banner}");
        for (i, role) in ["admin", "editor", "supervisor", "auditor"]
            .iter()
            .enumerate()
        {
            assert!(banner.contains(&format!("  {role:<10} ")), "{banner}");
            assert!(banner.contains(&format!("tz_example{i}\n")), "{banner}");
        }
        let banner = demo_banner("10.0.0.5:9000".parse().expect("address"), &tokens);
        assert!(banner.contains("http://10.0.0.5:9000/graphql"), "{banner}");
    }
}
