//! Token secrets: how they are made, what they look like, how they are stored.
//!
//! A token is `tz_` followed by 43 characters of unpadded base64url: 32 bytes (256 bits) from the
//! operating system's random source. The prefix makes a leaked token recognisable to people and
//! secret scanners; the length is fixed so malformed input is refused before any database lookup.
//!
//! **Stored as SHA-256, not with a password hash.** Password hashes (argon2, bcrypt) are slow on
//! purpose because passwords are guessable: slowness rations an attacker's guesses. A 256-bit
//! random secret is not guessable at all — a stolen hash table cannot be reversed by trying
//! inputs — so slowness buys nothing, while every API request must hash the presented token.
//! Hence one SHA-256, which also makes the hash usable as an indexed lookup key. That lookup is
//! by hash, so its timing reveals nothing an attacker can steer towards a valid secret.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The visible prefix of every token.
pub const TOKEN_PREFIX: &str = "tz_";
/// Random bytes in a token (256 bits).
const SECRET_BYTES: usize = 32;
/// Characters after the prefix: base64 of 32 bytes without padding.
const ENCODED_LEN: usize = 43;

/// A token's text, or any other credential. `Debug` and `Display` print `[redacted]`, so a
/// secret can sit inside structs that are logged without ever reaching the log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential received from a client or read from a file.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// A fresh token from the OS's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Secret(format!(
            "{TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(bytes)
        )))
    }

    /// The text itself: only to show it once at creation or to send it to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this has the shape of a token we issue (prefix, length, alphabet).
    pub fn is_well_formed(&self) -> bool {
        self.0.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
            rest.len() == ENCODED_LEN
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    }

    /// What the database stores: SHA-256 of the whole token text.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The credential in an HTTP `Authorization` header value: `Bearer <token>` (scheme
/// case-insensitive, as RFC 9110 says). `None` for another scheme or an empty token.
pub fn bearer(header_value: &str) -> Option<Secret> {
    let (scheme, token) = header_value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| Secret::new(token))
}

/// The credential in a graphql-transport-ws `connection_init` payload. Browsers cannot set
/// headers on a WebSocket, so clients send `{"Authorization": "Bearer <token>"}` (any case of the
/// key) or `{"token": "<token>"}`.
pub fn from_connection_init(payload: &serde_json::Value) -> Option<Secret> {
    let object = payload.as_object()?;
    for (key, value) in object {
        let Some(text) = value.as_str() else { continue };
        if key.eq_ignore_ascii_case("authorization") {
            return bearer(text);
        }
        if key == "token" && !text.trim().is_empty() {
            return Some(Secret::new(text.trim()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert!(a.is_well_formed(), "{}", a.expose());
        assert_eq!(a.expose().len(), 3 + 43);
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn never_printed() {
        let s = Secret::generate().unwrap();
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            token: Secret,
        }
        let text = format!("{:?}", Holder { token: s.clone() });
        assert!(!text.contains(s.expose()), "{text}");
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        for bad in [
            "",
            "tz_",
            "tz_short",
            "xx_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "tz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=",
            "tz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "tz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
        ] {
            assert!(!Secret::new(bad).is_well_formed(), "{bad}");
        }
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(
            bearer("Bearer tz_abc").map(|s| s.expose().to_owned()),
            Some("tz_abc".to_owned())
        );
        assert_eq!(
            bearer("bearer   tz_abc ").map(|s| s.expose().to_owned()),
            Some("tz_abc".to_owned())
        );
        assert!(bearer("Basic dXNlcjpwdw==").is_none());
        assert!(bearer("Bearer ").is_none());
        assert!(bearer("tz_abc").is_none());
    }

    #[test]
    fn connection_init_payloads() {
        let get = |v: serde_json::Value| from_connection_init(&v).map(|s| s.expose().to_owned());
        assert_eq!(
            get(serde_json::json!({"Authorization": "Bearer tz_x"})),
            Some("tz_x".into())
        );
        assert_eq!(
            get(serde_json::json!({"authorization": "Bearer tz_x"})),
            Some("tz_x".into())
        );
        assert_eq!(
            get(serde_json::json!({"token": "tz_y"})),
            Some("tz_y".into())
        );
        assert_eq!(get(serde_json::json!({"token": 5})), None);
        assert_eq!(get(serde_json::json!(null)), None);
        assert_eq!(get(serde_json::json!({})), None);
    }
}
