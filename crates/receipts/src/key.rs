//! The signing key: Ed25519, kept in a file (mode 0600) or an environment variable, never in the
//! database.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The first word of a key file, so that a key is not mistaken for anything else.
const KEY_TAG: &str = "taizhang-seal-key";
const KEY_ALGORITHM: &str = "ed25519";

/// Why a key cannot be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "{} already exists: a seal key is never overwritten (receipts signed with it would no \
         longer verify); choose another path (密钥文件已存在，不会覆盖)",
        path.display()
    )]
    Exists { path: PathBuf },
    #[error("cannot write the key file {} (无法写入密钥文件): {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the key file {} (无法读取密钥文件): {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{origin} is not a taizhang seal key: expected `{KEY_TAG} {KEY_ALGORITHM} <64 hex digits>` \
         ({origin} 不是有效的封存密钥)"
    )]
    Malformed { origin: String },
    #[error(
        "the key file {} can be read by other users (mode {mode:o}): run chmod 600 on it \
         (密钥文件权限过宽，请执行 chmod 600)",
        path.display()
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("the system's random number generator failed (系统随机数生成失败): {0}")]
    Random(String),
}

/// An Ed25519 signing key for seal receipts. Its `Debug` shows the key id only.
#[derive(Clone)]
pub struct SealKey {
    signing: SigningKey,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

/// The id of a public key: the first 8 bytes of SHA-256 over its 32 bytes, in lower-case hex.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

impl SealKey {
    /// A new random key.
    pub fn generate() -> Result<SealKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(SealKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// The key in the text form of a key file (`taizhang-seal-key ed25519 <hex seed>`), which
    /// is also what `TAIZHANG_SEAL_KEY` holds. `origin` names where it came from, for errors.
    pub fn parse(text: &str, origin: &str) -> Result<SealKey, KeyError> {
        let malformed = || KeyError::Malformed {
            origin: origin.to_owned(),
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let [tag, algorithm, seed] = words[..] else {
            return Err(malformed());
        };
        if tag != KEY_TAG || algorithm != KEY_ALGORITHM {
            return Err(malformed());
        }
        let seed: [u8; 32] = hex::decode(seed)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(malformed)?;
        Ok(SealKey {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a key file, refusing one that others can read.
    pub fn read(path: &Path) -> Result<SealKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|source| KeyError::Read {
                    path: path.to_owned(),
                    source,
                })?
                .permissions()
                .mode()
                & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        SealKey::parse(&text, &path.display().to_string())
    }

    /// Makes a new key and writes it to `path` (a new file, mode 0600; an existing file is
    /// never overwritten).
    pub fn init(path: &Path) -> Result<SealKey, KeyError> {
        let key = SealKey::generate()?;
        let write_err = |source| KeyError::Write {
            path: path.to_owned(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists {
                    path: path.to_owned(),
                }
            } else {
                write_err(source)
            }
        })?;
        file.write_all(key.text().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(write_err)?;
        Ok(key)
    }

    /// The key file's text.
    fn text(&self) -> String {
        format!(
            "{KEY_TAG} {KEY_ALGORITHM} {}\n",
            hex::encode(self.signing.to_bytes())
        )
    }

    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn key_id(&self) -> String {
        key_id(&self.public())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_its_text_and_keeps_its_id() {
        let key = SealKey::generate().expect("key");
        let again = SealKey::parse(&key.text(), "test").expect("parse");
        assert_eq!(key.key_id(), again.key_id());
        assert_eq!(key.key_id().len(), 16);
        assert!(!format!("{key:?}").contains(&hex::encode(key.signing.to_bytes())));
        for bad in [
            "",
            "taizhang-seal-key ed25519",
            "taizhang-seal-key rsa 00",
            "x y z",
        ] {
            assert!(SealKey::parse(bad, "test").is_err(), "{bad:?}");
        }
    }
}
