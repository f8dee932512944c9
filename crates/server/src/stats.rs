//! Server-wide counters behind INFO stats, commandstats and errorstats. Plain relaxed
//! atomics: they are statistics, not synchronisation.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters a request changes come first, in one cache line (`repr(C)` keeps the
/// order, the alignment puts them at a line's start): a request dirties that line only.
#[derive(Default)]
#[repr(C, align(64))]
pub struct Stats {
    pub total_commands_processed: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Reads from client sockets, and writes to them (`total_reads_processed`,
    /// `total_writes_processed`).
    pub total_reads_processed: AtomicU64,
    pub total_writes_processed: AtomicU64,
    /// Writes since the last save (`rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
    pub total_connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub expired_keys: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    pub client_qbuf_limit_disconnections: AtomicU64,
    /// Active expiry: cycles that stopped at their time limit, µs spent in cycles, and
    /// the running estimate of the share of TTL keys already expired (an f64's bits).
    pub expired_time_cap_reached_count: AtomicU64,
    pub expire_cycle_time_used_us: AtomicU64,
    pub expired_stale_perc_bits: AtomicU64,
    pub client_output_buffer_limit_disconnections: AtomicU64,
    /// Error replies by their first word (`errorstat_ERR:count=3`).
    pub errors: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Ends an active expiry cycle that sampled `sampled` keys with a TTL and found
    /// `expired` of them expired: adds its time, counts it if it hit its time limit, and
    /// moves the stale-keys estimate 5% of the way to this cycle's ratio (Redis's running
    /// average).
    pub fn record_expire_cycle(&self, sampled: u64, expired: u64, micros: u64, capped: bool) {
        Self::add(&self.expire_cycle_time_used_us, micros);
        if capped {
            Self::add(&self.expired_time_cap_reached_count, 1);
        }
        let current = if sampled == 0 {
            0.0
        } else {
            expired as f64 / sampled as f64
        };
        let before = self.expired_stale_ratio();
        let after = current * 0.05 + before * 0.95;
        self.expired_stale_perc_bits
            .store(after.to_bits(), Ordering::Relaxed);
    }

    /// The estimated share of keys with a TTL that have expired and still wait to be
    /// deleted, 0 to 1 (INFO shows it as a percentage, `expired_stale_perc`).
    pub fn expired_stale_ratio(&self) -> f64 {
        f64::from_bits(self.expired_stale_perc_bits.load(Ordering::Relaxed))
    }

    /// Counts an error reply under its code (the text up to the first space).
    pub fn record_error(&self, msg: &str) {
        let code = msg.split(' ').next().unwrap_or("ERR");
        Self::add(&self.total_error_replies, 1);
        let mut errors = self.errors.lock();
        if let Some(count) = errors.get_mut(code) {
            *count += 1;
        } else if errors.len() < 128 {
            // Redis stops tracking new error codes after 128 distinct ones.
            errors.insert(code.to_string(), 1);
        }
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.expired_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.total_error_replies,
            &self.unexpected_error_replies,
            &self.client_qbuf_limit_disconnections,
            &self.client_output_buffer_limit_disconnections,
            &self.total_reads_processed,
            &self.total_writes_processed,
            &self.expired_time_cap_reached_count,
            &self.expire_cycle_time_used_us,
            &self.expired_stale_perc_bits,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
    }
}

/// Per-command counters (INFO commandstats).
#[derive(Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
}

impl CommandStats {
    pub fn reset(&self) {
        for c in [
            &self.calls,
            &self.usec,
            &self.rejected_calls,
            &self.failed_calls,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counters_of_a_request_share_one_cache_line() {
        use std::mem::{align_of, offset_of};
        assert_eq!(align_of::<Stats>(), 64);
        assert_eq!(offset_of!(Stats, total_commands_processed), 0);
        assert!(offset_of!(Stats, dirty) < 64);
    }

    #[test]
    fn the_stale_estimate_is_a_running_average() {
        let stats = Stats::default();
        // Half of a cycle's sample expired: the estimate moves 5% of the way to 0.5.
        stats.record_expire_cycle(20, 10, 1500, false);
        assert!((stats.expired_stale_ratio() - 0.025).abs() < 1e-12);
        stats.record_expire_cycle(0, 0, 2500, true);
        assert!((stats.expired_stale_ratio() - 0.02375).abs() < 1e-12);
        assert_eq!(Stats::get(&stats.expire_cycle_time_used_us), 4000);
        assert_eq!(Stats::get(&stats.expired_time_cap_reached_count), 1);
        stats.reset();
        assert_eq!(stats.expired_stale_ratio(), 0.0);
    }
}
