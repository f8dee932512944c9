//! CLIENT PAUSE: holding clients' commands back for a while.
//!
//! A pause has a mode — WRITE (commands that may change the dataset or replicate: the
//! `write` and `may-replicate` flags, and EXEC of a transaction holding one) or ALL — and
//! an end time. A new pause keeps the later end and the stronger mode; CLIENT UNPAUSE, or
//! reaching the end, lifts it. While any pause lasts, keys are not expired: lazy expiry
//! treats a key past its time as missing without deleting it and the active cycle skips,
//! so the dataset does not change (as Redis pauses its expire action with the clients).
//!
//! A held command is not rejected: the dispatcher marks the client `postponed` and the
//! connection task waits (`wait`) — on the pause's end time, on a change of the pause
//! (UNPAUSE, an extension) and on its own socket and kill switch — holding no lock, then
//! runs the command again. Monitors are never paused, as Redis never pauses replicas.
//!
//! The dispatcher's check is one relaxed load while no pause was ever set.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicUsize, Ordering};
use tokio::sync::Notify;

/// No pause.
const NONE: u8 = 0;
/// Commands that may write wait.
const WRITE: u8 = 1;
/// Every command waits.
const ALL: u8 = 2;

#[derive(Default)]
pub struct Pause {
    /// NONE, WRITE or ALL: the mode of the last pause set, until UNPAUSE or until a check
    /// finds its end passed.
    mode: AtomicU8,
    /// When the pause ends, in unix ms.
    end_ms: AtomicI64,
    /// Serialises PAUSE and UNPAUSE (they read and write both fields).
    update: Mutex<()>,
    /// Signalled when the pause is lifted or changed, to wake the waiting connections.
    changed: Notify,
    /// Connections waiting for the pause to end (CLIENT LIST `b`, INFO `blocked_clients`).
    waiting: AtomicUsize,
}

impl Pause {
    /// CLIENT PAUSE: pauses until `end_ms` (or later, if a pause already lasts longer),
    /// every command if `all`, else those that may write (or more, if already pausing all).
    pub fn pause(&self, end_ms: i64, all: bool, now_ms: i64) {
        let _guard = self.update.lock();
        let (mut mode, mut end) = (
            self.mode.load(Ordering::Relaxed),
            self.end_ms.load(Ordering::Relaxed),
        );
        if mode == NONE || end <= now_ms {
            mode = NONE;
            end = end_ms;
        }
        let mode = mode.max(if all { ALL } else { WRITE });
        self.end_ms.store(end.max(end_ms), Ordering::Relaxed);
        self.mode.store(mode, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// CLIENT UNPAUSE.
    pub fn unpause(&self) {
        let _guard = self.update.lock();
        self.mode.store(NONE, Ordering::Release);
        self.end_ms.store(0, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// Was a pause set and not lifted yet (it may have ended)? One relaxed load.
    #[inline]
    pub fn any(&self) -> bool {
        self.mode.load(Ordering::Relaxed) != NONE
    }

    /// The end of the pause that holds a command back at `now_ms`: every command while all
    /// are paused, those that may write (`write`) while writes are. None if it may run.
    pub fn holds(&self, write: bool, now_ms: i64) -> Option<i64> {
        let mode = self.mode.load(Ordering::Acquire);
        if mode == NONE || (mode == WRITE && !write) {
            return None;
        }
        let end = self.end_ms.load(Ordering::Relaxed);
        (end > now_ms).then_some(end)
    }

    /// Whether a pause (of either mode) lasts at `now_ms`: keys do not expire meanwhile.
    pub fn is_paused(&self, now_ms: i64) -> bool {
        self.mode.load(Ordering::Relaxed) != NONE && self.end_ms.load(Ordering::Relaxed) > now_ms
    }

    /// Connections waiting for the pause to end.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Resolves when the pause that holds a command back (`write`: one that may write)
    /// has ended, been lifted, or changed — the caller checks again.
    pub async fn changed_or_ended(&self, write: bool) {
        // Created before the check, so a change in between is not missed.
        let changed = self.changed.notified();
        let now = crate::unix_ms();
        let Some(end) = self.holds(write, now) else {
            return;
        };
        let left = std::time::Duration::from_millis((end - now).max(0) as u64);
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep(left) => {}
        }
    }

    /// Counts a connection as waiting while the returned guard lives.
    pub fn enter(&self) -> WaitingGuard<'_> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        WaitingGuard(self)
    }
}

pub struct WaitingGuard<'a>(&'a Pause);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_end_and_stronger_mode_win() {
        let p = Pause::default();
        assert_eq!(p.holds(true, 0), None);
        p.pause(1000, false, 0);
        assert_eq!(p.holds(true, 10), Some(1000));
        assert_eq!(p.holds(false, 10), None);
        // A shorter ALL pause makes everything wait until the longer end.
        p.pause(500, true, 10);
        assert_eq!(p.holds(false, 10), Some(1000));
        // A longer WRITE pause extends it, and does not weaken it.
        p.pause(2000, false, 10);
        assert_eq!(p.holds(false, 10), Some(2000));
        assert!(p.is_paused(1999));
        assert!(!p.is_paused(2000));
        assert_eq!(p.holds(true, 2000), None);
        p.unpause();
        assert_eq!(p.holds(true, 10), None);
        assert!(!p.is_paused(10));
    }

    #[test]
    fn a_pause_after_an_ended_one_starts_afresh() {
        let p = Pause::default();
        p.pause(100, true, 0);
        // The ALL pause ended at 100: a WRITE pause set later is only a WRITE pause.
        p.pause(300, false, 200);
        assert_eq!(p.holds(false, 250), None);
        assert_eq!(p.holds(true, 250), Some(300));
    }
}
