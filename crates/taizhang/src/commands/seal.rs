//! `taizhang seal`: seal now and print the receipt to keep outside the database.

use std::process::ExitCode;

use std::time::Duration;

use eventstore::{AnyEventStore, EventStore};
use receipts::Sealing;

pub async fn run<S: EventStore>(store: &S, sealing: &Sealing) -> anyhow::Result<ExitCode> {
    match sealing.seal(store).await? {
        Some(receipt) => {
            println!(
                "seal {} covers {} events from {} to {}; hash {} ({})",
                receipt.seal_no,
                receipt.event_count,
                eventstore::Position::from(receipt.from),
                eventstore::Position::from(receipt.to),
                receipt.hash,
                match &receipt.key_id {
                    Some(id) => format!("signed by key {id} / 已用密钥 {id} 签名"),
                    None => "unsigned: no seal key configured / 未签名：未配置封存密钥".to_owned(),
                }
            );
            eprintln!(
                "keep this receipt outside the database (taizhang verify --receipt FILE) / \
                 请将以下回执保存在数据库之外:"
            );
            println!("{}", receipt.to_line());
        }
        None => println!("nothing new to seal / 没有新的事件需要封存"),
    }
    Ok(ExitCode::SUCCESS)
}

/// How long a command waits for its own events to become sealable (see `Sealing::seal_settled`).
const SETTLE: Duration = Duration::from_secs(10);

/// Seals after a command that wrote events, so that the CLI never leaves the ledger unsealed;
/// prints the receipt on stderr (stdout may be a token or other output).
pub async fn after_write(store: &AnyEventStore, sealing: &Sealing) -> anyhow::Result<()> {
    for receipt in sealing.seal_settled(store, SETTLE).await? {
        eprintln!(
            "sealed: seal {} covers {} events up to {} / 已封存；receipt / 回执: {}",
            receipt.seal_no,
            receipt.event_count,
            eventstore::Position::from(receipt.to),
            receipt.to_line()
        );
    }
    Ok(())
}
