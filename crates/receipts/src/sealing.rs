//! Sealing with receipts: seal, sign, record.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use eventstore::{AnyEventStore, EventStore, Seal, StoreError};

use crate::args::SealArgs;
use crate::key::{KeyError, SealKey};
use crate::receipt::{Receipt, ReceiptError};

/// Why sealing failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealing failed (封存失败): {0}")]
    Store(#[from] StoreError),
    #[error(
        "seal {seal_no} was written, but its receipt could not be recorded: {source} \
         (封存已写入，但回执未能保存)"
    )]
    Record {
        seal_no: u64,
        #[source]
        source: ReceiptError,
    },
}

/// How seals are signed and where their receipts go: the key (if any) and the receipts file (if
/// any). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Sealing {
    key: Option<SealKey>,
    receipts_file: Option<PathBuf>,
}

impl Sealing {
    pub fn new(key: Option<SealKey>, receipts_file: Option<PathBuf>) -> Sealing {
        Sealing { key, receipts_file }
    }

    /// From the flags: the key file (else `TAIZHANG_SEAL_KEY`), the receipts file.
    pub fn from_args(args: &SealArgs) -> Result<Sealing, KeyError> {
        let key = match (&args.seal_key_file, &args.seal_key) {
            (Some(path), _) => Some(SealKey::read(path)?),
            (None, Some(text)) if !text.trim().is_empty() => {
                Some(SealKey::parse(text, "TAIZHANG_SEAL_KEY")?)
            }
            _ => None,
        };
        Ok(Sealing::new(key, args.receipts_file.clone()))
    }

    pub fn key(&self) -> Option<&SealKey> {
        self.key.as_ref()
    }

    /// The public key receipts of this ledger must be signed with, when a key is configured.
    pub fn trusted(&self) -> Option<VerifyingKey> {
        self.key.as_ref().map(SealKey::public)
    }

    pub fn receipts_file(&self) -> Option<&Path> {
        self.receipts_file.as_deref()
    }

    /// The receipt of an existing seal (signed when a key is configured).
    pub fn receipt(&self, seal: &Seal) -> Receipt {
        Receipt::of(seal, self.key.as_ref())
    }

    /// Seals everything since the last seal and returns its receipt, after appending it to the
    /// receipts file; `None` when there was nothing new to seal.
    pub async fn seal<S: EventStore>(&self, store: &S) -> Result<Option<Receipt>, SealError> {
        let Some(seal) = store.seal().await? else {
            return Ok(None);
        };
        let receipt = self.receipt(&seal);
        if let Some(path) = &self.receipts_file {
            receipt
                .append_to(path)
                .map_err(|source| SealError::Record {
                    seal_no: seal.seal_no,
                    source,
                })?;
        }
        tracing::info!(
            seal_no = seal.seal_no,
            events = seal.event_count,
            to = %seal.to,
            signed = receipt.is_signed(),
            "sealed"
        );
        Ok(Some(receipt))
    }

    /// Seals until no committed event is left unsealed, waiting up to `wait` for events that
    /// $all does not show yet (on PostgreSQL an older transaction elsewhere in the cluster holds
    /// them back); after a write, so that a command never leaves the ledger unsealed. Returns the
    /// receipts of the seals written (in order).
    pub async fn seal_settled(
        &self,
        store: &AnyEventStore,
        wait: Duration,
    ) -> Result<Vec<Receipt>, SealError> {
        let started = std::time::Instant::now();
        let mut out = Vec::new();
        loop {
            out.extend(self.seal(store).await?);
            let left = store.unsealed_events().await?;
            if left == 0 {
                return Ok(out);
            }
            if started.elapsed() >= wait {
                tracing::warn!(
                    unsealed = left,
                    "events are still held back by an older transaction; the next seal covers them"
                );
                return Ok(out);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Seals every `every` until the task is aborted; failures are logged and retried at the
    /// next tick (a missed seal only makes the next one cover more).
    pub fn spawn<S: EventStore>(&self, store: S, every: Duration) -> tokio::task::JoinHandle<()> {
        let sealing = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match sealing.seal(&store).await {
                    Ok(Some(_)) => {}
                    Ok(None) => tracing::debug!("nothing new to seal"),
                    Err(error) => tracing::warn!(%error, "sealing failed; will retry"),
                }
            }
        })
    }
}
