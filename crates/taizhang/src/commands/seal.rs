//! `taizhang seal`

use std::process::ExitCode;

use anyhow::Context;
use eventstore::EventStore;

pub async fn run<S: EventStore>(store: &S) -> anyhow::Result<ExitCode> {
    match store.seal().await.context("sealing failed")? {
        Some(seal) => println!(
            "seal {} covers {} events from {} to {}; hash {}",
            seal.seal_no,
            seal.event_count,
            seal.from,
            seal.to,
            hex::encode(seal.hash)
        ),
        None => println!("nothing new to seal"),
    }
    Ok(ExitCode::SUCCESS)
}
