//! `taizhang schema`: the GraphQL schema in SDL (the checked-in schema.graphql).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

pub fn run(output: Option<&Path>) -> anyhow::Result<ExitCode> {
    let sdl = api::sdl();
    match output {
        Some(path) => {
            std::fs::write(path, sdl).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => print!("{sdl}"),
    }
    Ok(ExitCode::SUCCESS)
}
