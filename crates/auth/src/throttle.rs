//! Failed authentications, counted per client address in fixed windows.
//!
//! An address that fails [`FailureLimit::failures`] times within one window is refused for the
//! rest of that window before its token is even looked up (`RATE_LIMITED`, with the time to
//! the window's end as the retry hint), so a script trying random tokens costs neither lookups
//! nor log lines. The log gets at most two WARN lines per address and window, each with a
//! count: the first failure (with its reason) and the moment the address is throttled; the
//! next window's first line carries the previous window's total. Each failure's reason is
//! still logged at DEBUG by the token store.
//!
//! Counts live in each server process, like the per-token buckets. Addresses are the TCP
//! peer's (a reverse proxy in front makes them the proxy's: see docs/security.md). The map
//! forgets an address whose window has ended, and is bounded ([`MAX_ADDRESSES`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures an address may have in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit {
    pub failures: u32,
    pub window: Duration,
}

impl Default for FailureLimit {
    /// Ample for a person mistyping a token or a client with a stale one; a script trying
    /// tokens gets 20 tries a minute.
    fn default() -> Self {
        FailureLimit {
            failures: 20,
            window: Duration::from_secs(60),
        }
    }
}

/// Addresses remembered at once; beyond it, ended windows are dropped, then the oldest.
pub const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

#[derive(Debug)]
pub struct FailureThrottle {
    limit: FailureLimit,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl FailureThrottle {
    pub fn new(limit: FailureLimit) -> Self {
        FailureThrottle {
            limit: FailureLimit {
                failures: limit.failures.max(1),
                window: limit.window.max(Duration::from_millis(1)),
            },
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> FailureLimit {
        self.limit
    }

    /// `Err(wait)` when `source` has used up its failures in the current window.
    pub fn check_at(&self, source: IpAddr, now: Instant) -> Result<(), Duration> {
        let windows = self.lock();
        match windows.get(&source) {
            Some(w) if w.failures >= self.limit.failures => {
                let end = w.start + self.limit.window;
                if end > now {
                    // Round up so that retrying after the hint is allowed.
                    Err((end - now).max(Duration::from_millis(1)))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed authentication from `source` (with its reason, for the log).
    pub fn failed_at(&self, source: IpAddr, reason: &str, now: Instant) {
        let mut windows = self.lock();
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&source) {
            let window = self.limit.window;
            windows.retain(|_, w| w.start + window > now);
            if windows.len() >= MAX_ADDRESSES
                && let Some(oldest) = windows.iter().min_by_key(|(_, w)| w.start).map(|(a, _)| *a)
            {
                windows.remove(&oldest);
            }
        }
        let mut previous = 0;
        let w = windows.entry(source).or_insert(Window {
            start: now,
            failures: 0,
        });
        if w.start + self.limit.window <= now {
            previous = w.failures;
            *w = Window {
                start: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
        let window_s = self.limit.window.as_secs();
        if w.failures == 1 {
            tracing::warn!(
                source = %source,
                reason,
                failures = 1,
                previous_window_failures = previous,
                window_s,
                "authentication failed (further failures from this address in this window are counted, not logged one by one)"
            );
        } else if w.failures == self.limit.failures {
            tracing::warn!(
                source = %source,
                failures = w.failures,
                window_s,
                "authentication failed too often: refusing this address until its window ends (RATE_LIMITED)"
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        // Plain counters: a poisoned lock leaves them usable.
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let t = FailureThrottle::new(FailureLimit {
            failures: 3,
            window: Duration::from_secs(60),
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(t.check_at(a, start), Ok(()), "failure {i}");
            t.failed_at(a, "unknown token", start);
        }
        let wait = t.check_at(a, start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        // Another address is not affected.
        assert_eq!(t.check_at(b, start), Ok(()));
        // At the window's end the address starts afresh.
        let later = start + Duration::from_secs(60);
        assert_eq!(t.check_at(a, later), Ok(()));
        t.failed_at(a, "unknown token", later);
        assert_eq!(t.check_at(a, later), Ok(()));
    }
}
