//! Where the seal key and the receipts file are (flags and environment, for every command that
//! seals or verifies).

use std::path::PathBuf;

/// Seal-key and receipts flags (flatten into a command line).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SealArgs {
    /// Sign seals with the Ed25519 key in this file (made by `taizhang keys init`; mode 0600).
    /// The key never enters the database. Unset: seals are not signed, unless TAIZHANG_SEAL_KEY
    /// holds the key itself.
    #[arg(long, env = "TAIZHANG_SEAL_KEY_FILE", global = true)]
    pub seal_key_file: Option<PathBuf>,

    /// The key itself (the text of a key file), for deployments that pass secrets in the
    /// environment. Used when --seal-key-file is not set.
    #[arg(
        long,
        env = "TAIZHANG_SEAL_KEY",
        hide_env_values = true,
        hide = true,
        global = true
    )]
    pub seal_key: Option<String>,

    /// Append every new seal's receipt (one JSON line) to this file; `verify` checks the
    /// receipts in it when given none on its command line. Keep it (or a copy) outside the
    /// database's host.
    #[arg(long, env = "TAIZHANG_RECEIPTS_FILE", global = true)]
    pub receipts_file: Option<PathBuf>,
}
