//! The taizhang binary: a thin main over `cli` (what the user can ask) and `commands` (doing it).
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod cli;
mod commands;
mod logging;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.log_format);
    match commands::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(commands::EXIT_ERROR)
        }
    }
}
