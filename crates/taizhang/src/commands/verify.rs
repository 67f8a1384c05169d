//! `taizhang verify [--receipt FILE…]`: the ledger's self-consistency, and with receipts kept
//! outside the database, that it still holds what they cover. Operator messages in English and
//! Chinese.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use eventstore::{EventStore, VerifyReport};
use receipts::{Receipt, Sealing};

/// Exit code when verification finds a mismatch.
pub const EXIT_MISMATCH: u8 = 1;

/// `taizhang verify`'s flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct VerifyArgs {
    /// Seal receipts kept outside the database (printed by `taizhang seal`, a receipts file, an
    /// export's trailer): each must still match the ledger. When none is given, the receipts in
    /// --receipts-file (TAIZHANG_RECEIPTS_FILE) are checked, if that file exists.
    #[arg(long = "receipt", value_name = "FILE", num_args = 1..)]
    pub receipts: Vec<PathBuf>,
}

/// The receipts to check: the files given, else the configured receipts file if it exists.
fn receipts_to_check(args: &VerifyArgs, sealing: &Sealing) -> anyhow::Result<Vec<Receipt>> {
    let mut files = args.receipts.clone();
    if files.is_empty()
        && let Some(path) = sealing.receipts_file().filter(|p| p.exists())
    {
        println!(
            "using the receipts in {} (--receipts-file) / 使用回执文件 {}",
            path.display(),
            path.display()
        );
        files.push(path.to_owned());
    }
    let mut out = Vec::new();
    for file in files {
        out.extend(receipts::read_receipts(&file)?);
    }
    Ok(out)
}

pub async fn run<S: EventStore>(
    store: &S,
    args: &VerifyArgs,
    sealing: &Sealing,
) -> anyhow::Result<ExitCode> {
    let receipts = receipts_to_check(args, sealing)?;
    let report = store.verify().await.context("verification could not run")?;
    let ledger_ok = print_report(&report);
    if receipts.is_empty() {
        println!(
            "note: no receipts given, so this checks self-consistency only: whoever can write the \
             database can rewrite events and recompute every hash and seal, remove the newest \
             events with their seals, or empty the store, and the rest would still agree with \
             itself. Keep the receipts `taizhang seal` prints (or --receipts-file) outside the \
             database and pass them with --receipt FILE."
        );
        println!(
            "注意：未提供封存回执，本次只校验数据库自身是否一致：能写数据库的人可以改写事件并重算全部哈希和封存、\
             删除最新的事件及其封存或清空数据库，而其余部分仍然自洽。请将 `taizhang seal` 打印的回执\
             （或 --receipts-file）保存在数据库之外，并用 --receipt 文件 传入。"
        );
        return Ok(exit(ledger_ok));
    }
    let found = receipts::check(&report, &receipts, sealing.trusted().as_ref());
    for outcome in &found.outcomes {
        let tag = if outcome.ok {
            "receipt ok"
        } else {
            "RECEIPT MISMATCH"
        };
        println!("{tag}: {} / {}", outcome.message_en, outcome.message_zh);
    }
    let all_ok = ledger_ok && found.is_ok();
    if all_ok {
        println!(
            "ok: the ledger agrees with itself and with all {} receipts / 台账自洽，且与全部 {} 份回执相符",
            found.outcomes.len(),
            found.outcomes.len()
        );
    } else {
        tracing::error!(
            receipts_failed = found.failures().count(),
            "receipt verification failed"
        );
    }
    Ok(exit(all_ok))
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISMATCH)
    }
}

/// Prints what verify found; true when nothing is wrong.
fn print_report(report: &VerifyReport) -> bool {
    println!(
        "checked {} events in {} streams and {} seals / 已校验 {} 个事件流中的 {} 个事件和 {} 个封存",
        report.events, report.streams, report.seals, report.streams, report.events, report.seals
    );
    if report.events == 0 && report.is_ok() {
        println!("the store holds no events / 库中没有事件");
    }
    let Some(first) = report.first_mismatch() else {
        println!("ok: every hash chain and seal matches / 所有哈希链与封存均一致");
        return true;
    };
    println!("MISMATCH: {first} / 不一致");
    for other in report.mismatches.iter().skip(1) {
        println!("  also: {other}");
    }
    let shown = report.mismatches.len() as u64;
    if report.mismatch_count > shown {
        println!(
            "  … and {} more / 另有 {} 处",
            report.mismatch_count - shown,
            report.mismatch_count - shown
        );
    }
    tracing::error!(mismatches = report.mismatch_count, "verification failed");
    false
}
