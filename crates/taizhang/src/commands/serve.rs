//! `taizhang serve`: the API server until a signal.

use std::process::ExitCode;

use anyhow::Context;

pub async fn run(database_url: String, args: api::ServeArgs) -> anyhow::Result<ExitCode> {
    let config = api::Config {
        database_url: database_url.clone(),
        serve: args,
    };
    let app = api::Application::build(config).await.with_context(|| {
        format!(
            "cannot start the server (database {})",
            super::redact(&database_url)
        )
    })?;
    app.run_until_stopped().await.context("the server failed")?;
    Ok(ExitCode::SUCCESS)
}
