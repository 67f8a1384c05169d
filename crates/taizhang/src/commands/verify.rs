//! `taizhang verify`

use std::process::ExitCode;

use anyhow::Context;
use eventstore::EventStore;

/// Exit code when verification finds a mismatch.
const EXIT_MISMATCH: u8 = 1;

pub async fn run<S: EventStore>(store: &S) -> anyhow::Result<ExitCode> {
    let report = store.verify().await.context("verification could not run")?;
    println!(
        "checked {} events in {} streams and {} seals",
        report.events, report.streams, report.seals
    );
    let Some(first) = report.first_mismatch() else {
        println!("ok: every hash chain and seal matches");
        return Ok(ExitCode::SUCCESS);
    };
    println!("MISMATCH: {first}");
    for other in report.mismatches.iter().skip(1) {
        println!("  also: {other}");
    }
    let shown = report.mismatches.len() as u64;
    if report.mismatch_count > shown {
        println!("  … and {} more", report.mismatch_count - shown);
    }
    tracing::error!(mismatches = report.mismatch_count, "verification failed");
    Ok(ExitCode::from(EXIT_MISMATCH))
}
