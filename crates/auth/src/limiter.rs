//! Per-token rate limits: a token bucket per token id, in memory.
//!
//! Each token has a bucket holding up to `burst` requests that refills at `per_second`; a request
//! takes one, and an empty bucket answers with how long until the next one. Limits are per
//! process: behind several API processes a token gets the limit in each, which is enough to stop
//! a runaway script (the purpose) without a shared store. Buckets are keyed by token id and made
//! only after authentication, so their number is bounded by the number of valid tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::AuthError;

/// How many requests a token may make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

impl Default for RateLimit {
    /// Generous for people and for the month-end batch reports (which are one request each);
    /// tight enough to stop a loop.
    fn default() -> Self {
        RateLimit {
            per_second: 10.0,
            burst: 50,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

impl RateLimiter {
    /// A limiter; a rate or burst of zero (or a rate that is not a finite positive number) is
    /// raised to the smallest useful value rather than locking every token out.
    pub fn new(limit: RateLimit) -> Self {
        let per_second = if limit.per_second.is_finite() && limit.per_second > 0.0 {
            limit.per_second
        } else {
            tracing::warn!(
                per_second = limit.per_second,
                "rate limit must be positive; using 1 per second"
            );
            1.0
        };
        RateLimiter {
            limit: RateLimit {
                per_second,
                burst: limit.burst.max(1),
            },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes one request from `token`'s bucket now, or says when to retry.
    pub fn check(&self, token: Uuid) -> Result<(), AuthError> {
        self.check_at(token, Instant::now())
            .map_err(|retry_after| AuthError::RateLimited { retry_after })
    }

    /// [`RateLimiter::check`] at a given moment (for tests): `Err` carries the wait until a
    /// request would be allowed.
    pub fn check_at(&self, token: Uuid, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.limit.burst);
        // A poisoned lock only means another thread panicked mid-update of plain numbers; the
        // map is still usable, and refusing every request would be worse.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(token).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(burst);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.limit.per_second;
            // Round up to whole milliseconds so that retrying after the hint always succeeds.
            Err(Duration::from_millis((wait * 1000.0).ceil() as u64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimit { per_second, burst })
    }

    #[test]
    fn burst_then_refusal_with_retry_hint() {
        let l = limiter(2.0, 3);
        let t = Uuid::new_v4();
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check_at(t, now), Ok(()));
        }
        let wait = l.check_at(t, now).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Just before the hint: still refused; at the hint: allowed.
        assert!(l.check_at(t, now + Duration::from_millis(499)).is_err());
        assert_eq!(l.check_at(t, now + Duration::from_millis(500)), Ok(()));
        assert!(l.check_at(t, now + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn sustained_rate_and_refill_cap() {
        let l = limiter(10.0, 5);
        let t = Uuid::new_v4();
        let start = Instant::now();
        // One request every 100 ms is sustainable forever.
        for i in 0..100 {
            assert_eq!(
                l.check_at(t, start + Duration::from_millis(100 * i)),
                Ok(())
            );
        }
        // After a long pause the bucket holds `burst`, not more.
        let later = start + Duration::from_secs(3600);
        for _ in 0..5 {
            assert_eq!(l.check_at(t, later), Ok(()));
        }
        assert!(l.check_at(t, later).is_err());
    }

    #[test]
    fn tokens_have_their_own_buckets() {
        let l = limiter(1.0, 1);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Instant::now();
        assert_eq!(l.check_at(a, now), Ok(()));
        assert!(l.check_at(a, now).is_err());
        assert_eq!(l.check_at(b, now), Ok(()));
    }

    #[test]
    fn the_error_says_rate_limited() {
        let l = limiter(1.0, 1);
        let t = Uuid::new_v4();
        l.check(t).unwrap();
        let err = l.check(t).unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED");
        assert!(
            matches!(err, AuthError::RateLimited { retry_after } if retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1))
        );
    }

    #[test]
    fn nonsense_limits_are_raised_not_fatal() {
        let l = limiter(0.0, 0);
        assert_eq!(l.limit().burst, 1);
        assert_eq!(l.limit().per_second, 1.0);
        let l = limiter(f64::NAN, 3);
        assert_eq!(l.limit().per_second, 1.0);
    }

    #[test]
    fn time_going_backwards_does_not_mint_requests() {
        let l = limiter(1.0, 1);
        let t = Uuid::new_v4();
        let now = Instant::now() + Duration::from_secs(10);
        l.check_at(t, now).unwrap();
        assert!(l.check_at(t, now - Duration::from_secs(5)).is_err());
    }
}
