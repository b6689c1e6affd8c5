//! When to try a URL again, and how long to wait first.

use std::time::Duration;

use crate::model::Outcome;

/// How long to wait before the next attempt, or `None` to stop.
///
/// `done` is the number of attempts made so far. Transient outcomes (network failures,
/// 429, 502, 503, 504) are retried up to `retries` times; the wait doubles from
/// `backoff`, and a `Retry-After` from the server replaces it. A server asking for
/// longer than `max_wait` is not retried: its answer stands.
pub fn retry_delay(
    outcome: &Outcome,
    done: u32,
    retries: u32,
    backoff: Duration,
    max_wait: Duration,
) -> Option<Duration> {
    if done > retries || !outcome.is_transient() {
        return None;
    }
    let asked = outcome
        .response
        .as_ref()
        .and_then(|r| r.retry_after_s)
        .map(Duration::from_secs);
    let wait = asked.unwrap_or_else(|| backoff.saturating_mul(1 << (done - 1).min(16)));
    (wait <= max_wait).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FailureKind, ResponseMeta};

    fn status(code: u16, retry_after_s: Option<u64>) -> Outcome {
        Outcome {
            response: Some(ResponseMeta {
                status: code,
                retry_after_s,
                ..ResponseMeta::default()
            }),
            ..Outcome::default()
        }
    }

    #[test]
    fn backoff_doubles_and_stops() {
        let b = Duration::from_millis(100);
        let max = Duration::from_secs(60);
        let o = status(502, None);
        assert_eq!(retry_delay(&o, 1, 2, b, max), Some(b));
        assert_eq!(retry_delay(&o, 2, 2, b, max), Some(b * 2));
        assert_eq!(retry_delay(&o, 3, 2, b, max), None);
        assert_eq!(retry_delay(&status(404, None), 1, 2, b, max), None);
        assert_eq!(retry_delay(&status(200, None), 1, 2, b, max), None);
        let f = Outcome::failed(FailureKind::ConnectRefused);
        assert_eq!(retry_delay(&f, 1, 1, b, max), Some(b));
    }

    #[test]
    fn retry_after_wins_unless_too_long() {
        let b = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        assert_eq!(
            retry_delay(&status(503, Some(2)), 1, 3, b, max),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_delay(&status(429, Some(3600)), 1, 3, b, max), None);
    }
}
