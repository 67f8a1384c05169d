//! `taizhang export`: every event of $all as JSON lines (docs/export-format.md).
//!
//! Generic over the store: it only reads $all (in batches, so memory stays flat whatever the
//! size) and fixes the end first ([`EventStore::all_head`]), so events appended while it runs are
//! left out and the header's count is exact. Each event is checked against its stream's chain as
//! it is written, through its JSON form, so a file that exports is a file that imports: an event
//! whose JSON would not reproduce its hash stops the export with its stream and version.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use eventstore::{ChainCheck, EventStore, Filter, ImportEvent, Position};
use time::OffsetDateTime;

use super::export_format::{self, FORMAT, FORMAT_VERSION, Header};
use super::progress::Progress;

/// Events read from the store per query.
const BATCH: usize = 1000;

/// What an export wrote.
pub struct ExportSummary {
    pub events: u64,
    pub streams: u64,
    pub digest: [u8; 32],
    pub head: Option<Position>,
}

/// `taizhang export [--output FILE|-]`. A file is written as `FILE.part` and renamed when
/// complete, so an interrupted export never leaves a file named FILE.
pub async fn run<S: EventStore>(
    store: &S,
    backend: &str,
    output: Option<&Path>,
    unverified: bool,
) -> anyhow::Result<ExitCode> {
    // A broken store is not passed on as if it were sound: the importer would find every chain in
    // the file intact and report a clean history.
    let report = store
        .verify()
        .await
        .context("cannot verify the store before exporting (导出前无法校验)")?;
    let verified = report.is_ok();
    if let Some(first) = report.first_mismatch() {
        if !unverified {
            bail!(
                "the store fails verify ({} mismatches; first: {first}); nothing was exported. \
                 Run `taizhang verify` for the details, or `export --unverified` to export it \
                 anyway, marked unverified (库未通过校验，未导出；可用 --unverified 强制导出并标记为未校验)",
                report.mismatch_count
            );
        }
        eprintln!(
            "warning: the store fails verify ({} mismatches; first: {first}); exporting it marked \
             \"verified\": false (警告：库未通过校验，导出文件标记为未校验)",
            report.mismatch_count
        );
    }
    let summary = match output {
        None => {
            export_to(
                store,
                backend,
                &mut std::io::stdout().lock(),
                "stdout",
                verified,
            )
            .await?
        }
        Some(path) if path == Path::new("-") => {
            export_to(
                store,
                backend,
                &mut std::io::stdout().lock(),
                "stdout",
                verified,
            )
            .await?
        }
        Some(path) => {
            let partial = PathBuf::from(format!("{}.part", path.display()));
            let file = File::create(&partial)
                .with_context(|| format!("cannot create {} (无法创建文件)", partial.display()))?;
            let mut out = BufWriter::new(file);
            let written = match export_to(
                store,
                backend,
                &mut out,
                &path.display().to_string(),
                verified,
            )
            .await
            {
                Ok(summary) => out
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .map(|()| summary)
                    .with_context(|| format!("cannot write {} (写入失败)", partial.display())),
                Err(e) => Err(e),
            };
            match written {
                Ok(summary) => {
                    std::fs::rename(&partial, path).with_context(|| {
                        format!("cannot rename {} to {}", partial.display(), path.display())
                    })?;
                    summary
                }
                Err(e) => {
                    // Best effort: the error that matters is `e`.
                    let _ = std::fs::remove_file(&partial);
                    return Err(e);
                }
            }
        }
    };
    // The summary goes to stderr: stdout may be the file itself.
    eprintln!(
        "exported {} events of {} streams (head {}), digest {} (已导出 {} 个事件)",
        summary.events,
        summary.streams,
        summary
            .head
            .map_or_else(|| "none".to_owned(), |p| p.to_string()),
        hex::encode(summary.digest),
        summary.events
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the whole export of `store` to `out`.
pub async fn export_to<S: EventStore>(
    store: &S,
    backend: &str,
    out: &mut dyn Write,
    target: &str,
    verified: bool,
) -> anyhow::Result<ExportSummary> {
    let head = store
        .all_head()
        .await
        .context("cannot read the event store (无法读取事件库)")?;
    let write_err = || format!("cannot write to {target} (写入失败)");
    let header = Header {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        source_backend: backend.to_owned(),
        exported_at: export_format::format_time(OffsetDateTime::now_utc())?,
        event_count: head.events,
        head_position: head.last.map(Into::into),
        verified: Some(verified),
    };
    writeln!(out, "{}", export_format::header_line(&header)?).with_context(write_err)?;

    let mut progress = Progress::new("export", head.events);
    let mut chain = ChainCheck::new();
    if let Some(last) = head.last {
        let mut from = Position::START;
        'read: loop {
            let batch = store
                .read_all(from, &Filter::all(), BATCH)
                .await
                .context("reading $all failed (读取事件失败)")?;
            let Some(tail) = batch.last() else {
                bail!(
                    "$all ended at {from} before the head {last} it reported: {} of {} events \
                     exported (事件流提前结束)",
                    chain.events(),
                    head.events
                );
            };
            from = tail.position;
            for e in batch {
                if e.position > last {
                    break 'read;
                }
                let prev = chain.last_hash(&e.stream);
                let line = export_format::event_line(&e, &prev);
                let (id, stream, version) = (e.id, e.stream.clone(), e.version);
                let cannot = |why: String| {
                    anyhow::anyhow!(
                        "event {id} (stream {stream}, version {version}) cannot be exported so \
                         that an import reproduces it: {why} (该事件无法无损导出)"
                    )
                };
                let line = line.map_err(cannot)?;
                chain
                    .check(&ImportEvent::from(e))
                    .map_err(|err| cannot(err.to_string()))?;
                writeln!(out, "{line}").with_context(write_err)?;
                progress.advance(1);
            }
            if from >= last {
                break;
            }
        }
    }
    progress.finish();
    if chain.events() != head.events {
        bail!(
            "exported {} events but $all held {} up to its head (导出事件数不符)",
            chain.events(),
            head.events
        );
    }
    let summary = chain.finish();
    writeln!(
        out,
        "{}",
        export_format::trailer_line(summary.events, &summary.digest)?
    )
    .with_context(write_err)?;
    out.flush().with_context(write_err)?;
    Ok(ExportSummary {
        events: summary.events,
        streams: summary.streams,
        digest: summary.digest,
        head: head.last,
    })
}
