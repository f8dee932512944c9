//! The wall clock of the command path, read from the CPU's time-stamp counter.
//!
//! Every command reads the time twice: when it starts (its "now" for expiry) and when it
//! ends (its duration for commandstats). A `clock_gettime` costs about 50 ns on a virtual
//! machine, a measurable share of a pipelined GET; the counter costs a fraction of that.
//!
//! Each thread anchors the counter to the system's wall clock and derives the time from the
//! counter's progress since its anchor. It re-anchors once the anchor is `REANCHOR_NS` old,
//! so a step of the system clock (NTP, an operator) is followed within that time, as a
//! server reading the clock on every command would; between anchors the counter's drift
//! against the wall clock is a few microseconds at most. Where the counter is missing or
//! unreliable, `quanta` falls back to the monotonic clock, which is still correct.

use std::cell::Cell;
use std::sync::OnceLock;

/// How long a thread trusts its anchor before reading the system clock again.
const REANCHOR_NS: u64 = 50_000_000;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

thread_local! {
    /// This thread's anchor: a counter reading and the unix time in µs it stood for.
    static ANCHOR: Cell<Option<(u64, i64)>> = const { Cell::new(None) };
}

fn counter() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Calibrates the counter now (it takes up to a few milliseconds) rather than in the first
/// command.
pub fn init() {
    counter();
}

/// The unix time in microseconds.
pub fn unix_us() -> i64 {
    let clock = counter();
    let raw = clock.raw();
    ANCHOR.with(|anchor| {
        if let Some((at, unix_us)) = anchor.get() {
            // Zero if the thread moved to a core whose counter is behind: the anchor time.
            let elapsed = clock.delta_as_nanos(at, raw);
            if elapsed < REANCHOR_NS && raw >= at {
                return unix_us + (elapsed / 1000) as i64;
            }
        }
        let now = crate::system_unix_us();
        anchor.set(Some((clock.raw(), now)));
        now
    })
}

/// The unix time in milliseconds.
pub fn unix_ms() -> i64 {
    unix_us() / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_system_clock() {
        for _ in 0..1000 {
            let before = crate::system_unix_us();
            let ours = unix_us();
            let after = crate::system_unix_us();
            // The anchor's truncation to whole µs and the counter's calibration error are
            // far below a millisecond.
            assert!(
                ours >= before - 1_000 && ours <= after + 1_000,
                "{before} {ours} {after}"
            );
        }
    }

    #[test]
    fn re_anchors_after_its_period() {
        let first = unix_us();
        std::thread::sleep(std::time::Duration::from_nanos(REANCHOR_NS + 1_000_000));
        let anchored = ANCHOR.with(|a| a.get()).expect("anchored").1;
        let now = unix_us();
        let new_anchor = ANCHOR.with(|a| a.get()).expect("anchored").1;
        assert!(new_anchor > anchored, "the old anchor was replaced");
        assert!(now - first >= (REANCHOR_NS / 1000) as i64);
    }
}
