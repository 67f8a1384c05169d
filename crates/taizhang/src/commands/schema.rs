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
        None => {
            use std::io::Write;
            // `taizhang schema | head` closes the pipe early: that is the reader's choice, not
            // an error (print! would panic on it).
            match std::io::stdout().lock().write_all(sdl.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(e).context("cannot write the schema to standard output");
                }
                _ => {}
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
