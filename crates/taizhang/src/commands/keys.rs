//! `taizhang keys init|show`: the Ed25519 key that signs seal receipts, kept outside the database.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use receipts::{SealArgs, SealKey};

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Make a new seal key and write it to a new file, readable by its owner only (0600).
    ///
    /// The file goes to --out, else to --seal-key-file (TAIZHANG_SEAL_KEY_FILE); an existing
    /// file is never overwritten. Keep the key off the database's host if you can, back it up,
    /// and publish its key id and public key (printed here) to whoever keeps receipts.
    Init {
        /// Where to write the key file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the configured key's id and public key (never the key itself).
    Show,
}

fn describe(key: &SealKey) -> String {
    format!(
        "key id / 密钥编号: {}\npublic key / 公钥: {}",
        key.key_id(),
        hex::encode(key.public().as_bytes())
    )
}

pub fn run(command: &KeysCommand, args: &SealArgs) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Init { out } => {
            let Some(path) = out.as_ref().or(args.seal_key_file.as_ref()) else {
                bail!(
                    "say where to write the key: --out FILE or --seal-key-file FILE \
                     (TAIZHANG_SEAL_KEY_FILE) / 请用 --out 或 --seal-key-file 指定密钥文件路径"
                );
            };
            let key = SealKey::init(path)?;
            println!(
                "wrote a new seal key to {} (mode 0600) / 新封存密钥已写入 {}\n{}",
                path.display(),
                path.display(),
                describe(&key)
            );
        }
        KeysCommand::Show => {
            let sealing = receipts::Sealing::from_args(args)?;
            let key = sealing.key().context(
                "no seal key configured: set --seal-key-file or TAIZHANG_SEAL_KEY / 未配置封存密钥",
            )?;
            println!("{}", describe(key));
        }
    }
    Ok(ExitCode::SUCCESS)
}
