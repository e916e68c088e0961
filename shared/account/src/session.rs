//! When a session ends by itself (OWASP's session management cheat sheet: an idle timeout
//! and an absolute one, both enforced on the server). Ending it otherwise (sign-out here,
//! back-channel logout, a revocation mark) is the store's: a row removed.

/// The two timeouts, in seconds (variables `account_idle_timeout_seconds`, default 30 min,
/// and `account_absolute_timeout_seconds`, default 8 h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub idle_s: i64,
    pub absolute_s: i64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { idle_s: 30 * 60, absolute_s: 8 * 60 * 60 }
    }
}

/// A session's times, in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub created_at: i64,
    pub last_active_at: i64,
}

/// A session now, with the reason when it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active,
    /// No request for longer than the idle timeout.
    Idle,
    /// Older than the absolute timeout, however active.
    Expired,
}

impl Timeouts {
    pub fn state(&self, times: SessionTimes, now: i64) -> SessionState {
        if now >= times.created_at + self.absolute_s {
            SessionState::Expired
        } else if now >= times.last_active_at + self.idle_s {
            SessionState::Idle
        } else {
            SessionState::Active
        }
    }

    /// How long the browser should keep the cookie: no longer than the session can live.
    pub fn cookie_max_age(&self, times: SessionTimes, now: i64) -> i64 {
        (times.created_at + self.absolute_s - now).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_absolute_timeouts_each_end_a_session() {
        let t = Timeouts::default();
        let s = SessionTimes { created_at: 1_000, last_active_at: 1_000 };
        assert_eq!(t.state(s, 1_000 + 29 * 60), SessionState::Active);
        assert_eq!(t.state(s, 1_000 + 30 * 60), SessionState::Idle);
        // Active all day, still over at 8 h.
        let busy = SessionTimes { created_at: 1_000, last_active_at: 1_000 + 8 * 3600 - 1 };
        assert_eq!(t.state(busy, 1_000 + 8 * 3600 - 1), SessionState::Active);
        assert_eq!(t.state(busy, 1_000 + 8 * 3600), SessionState::Expired);
        assert_eq!(t.cookie_max_age(s, 1_000 + 3600), 7 * 3600);
        assert_eq!(t.cookie_max_age(s, 1_000 + 9 * 3600), 0);
    }
}
