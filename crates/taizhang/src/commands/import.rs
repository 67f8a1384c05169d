//! `taizhang import FILE`: load an export file into an empty store (docs/export-format.md).
//!
//! Generic over the store. The file is read twice: first to check all of it (JSON, fields, every
//! stream's hash chain, count and digest against header and trailer) without touching the store,
//! then to write it through the store's import primitive ([`EventStore::begin_import`]): one
//! transaction that refuses a non-empty store, checks each event's chain again and keeps ids,
//! versions, recorded_at, metadata and hashes. Whatever fails, nothing is written. Then `verify`
//! runs on the result.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use eventstore::{EventStore, Filter, ImportSummary, Importer, Position};

use super::export_format::{FileError, FileReader};
use super::progress::Progress;

/// Events per write (one call of the store's import function).
const BATCH: usize = 1000;

pub async fn run(
    store: &eventstore::AnyEventStore,
    path: &Path,
    sealing: &receipts::Sealing,
) -> anyhow::Result<ExitCode> {
    let refused = || {
        format!(
            "{} was refused; nothing was written (文件被拒绝，未写入任何数据)",
            path.display()
        )
    };
    // A quick answer for the common mistake; begin_import checks again under its lock.
    let visible = store
        .read_all(Position::START, &Filter::all(), 1)
        .await
        .context("cannot read the target store (无法读取目标库)")?;
    if !visible.is_empty() {
        bail!(
            "the target store already holds events: import only into an empty store, e.g. a \
             freshly migrated database; nothing was written (目标库非空：只能导入到空库，未写入任何数据)"
        );
    }

    let checked = check_file(path).with_context(refused)?;
    let started = std::time::Instant::now();

    let mut importer = store.begin_import().await.context(
        "the import could not start; nothing was written (导入未能开始，未写入任何数据)",
    )?;
    let mut reader = FileReader::open(path).with_context(refused)?;
    if reader.header().verified == Some(false) {
        eprintln!(
            "warning: {} was exported with --unverified: its source failed verify when exported \
             (警告：该文件导出时源库未通过校验)",
            path.display()
        );
    }
    let mut progress = Progress::new("import", checked.events);
    while let Some(batch) = reader.next_batch(BATCH).with_context(refused)? {
        let n = batch.len() as u64;
        importer.write(batch).await.context(
            "the import failed and was rolled back; nothing was written (导入失败已回滚，未写入任何数据)",
        )?;
        progress.advance(n);
    }
    progress.finish();
    if reader.summary() != Some(&checked) {
        // `importer` is dropped here: rolled back.
        bail!(
            "{} changed while it was being imported; nothing was written (导入期间文件被修改，未写入任何数据)",
            path.display()
        );
    }
    let summary = importer.commit().await.context(
        "committing the import failed; nothing was written (提交导入失败，未写入任何数据)",
    )?;
    println!(
        "imported {} events of {} streams from {} in {:.1} s, digest {} (已导入 {} 个事件)",
        summary.events,
        summary.streams,
        path.display(),
        started.elapsed().as_secs_f64(),
        hex::encode(summary.digest),
        summary.events
    );
    // The target's own first seal over everything imported (its positions are its own, so the
    // source's seals cannot be stored as they were; they were checked against the file above).
    super::seal::after_write(store, sealing).await?;
    super::verify::run(
        store,
        &super::verify::VerifyArgs::default(),
        &receipts::Sealing::default(),
    )
    .await
}

/// Reads all of `path` and checks it; nothing touches the store.
fn check_file(path: &Path) -> Result<ImportSummary, FileError> {
    let mut reader = FileReader::open(path)?;
    let mut progress = Progress::new("check", reader.header().event_count);
    while let Some(batch) = reader.next_batch(BATCH)? {
        progress.advance(batch.len() as u64);
    }
    progress.finish();
    // next_batch returns None only once the trailer has been checked.
    reader.summary().cloned().ok_or(FileError::Truncated {
        events: reader.events(),
    })
}
