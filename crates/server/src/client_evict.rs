//! Client eviction (`maxmemory-clients`, Redis 7): once the memory held by all the client
//! connections together reaches the limit, the connections holding the most are closed,
//! largest first, until the total is below the limit again. Counted per client: query
//! buffer, reply buffer, output waiting for the socket, pub/sub messages on their way, the
//! arguments of a command it waits in, a transaction being queued and its watches (CLIENT
//! LIST's `tot-mem`). Clients with CLIENT NO-EVICT on are counted but never closed.
//!
//! The limit is `maxmemory-clients` bytes, or a percentage of `maxmemory` (none while
//! `maxmemory` is 0), as in Redis. With no limit (the default) nothing is counted: a
//! connection pays one relaxed load per read and per write.
//!
//! **Accounting.** Each client's last counted figure sits in its handle
//! (`ClientHandle::counted_mem`), and `total` is the sum of those figures: every re-count
//! swaps a client's figure and adds the difference, so the sum stays exact without a lock.
//! A connection re-counts itself after each read (a query buffer filling with a large
//! argument) and before each write (a large reply, or messages for a subscriber); the cron
//! re-counts every client each tick (idle clients, and output piling up in front of a
//! subscriber that does not read), and so does a CONFIG SET of either directive. A closing
//! connection takes its figure out (`forget`).
//!
//! **Recent peaks.** The cron also records, in one of eight one-second slots, the largest
//! input (query buffer and held arguments) and output (what waits for the socket, and
//! messages on their way) of any client; INFO's `client_recent_max_input_buffer` and
//! `client_recent_max_output_buffer` are the largest over the slots. The slot after the
//! current one is cleared each tick, so a peak stays visible for seven seconds, as in Redis.
//!
//! **Evicting** happens right after a re-count that brought the total to the limit. The
//! victims are chosen from a snapshot of the clients sorted by their counted memory; each
//! is logged as Redis logs it (`Evicting client: ` and its CLIENT LIST line), its figure is
//! taken out of the total at once (so one pass closes no more clients than needed), and it
//! is killed: its connection closes without writing what it had not written yet.

use crate::client::ClientHandle;
use crate::settings::Settings;
use crate::{log_notice, Server};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[derive(Default)]
pub struct ClientMemory {
    /// Bytes at which clients are evicted; 0: no limit.
    limit: AtomicUsize,
    /// Sum of every client's `counted_mem`.
    total: AtomicUsize,
    /// Clients closed for memory since start or CONFIG RESETSTAT (INFO `evicted_clients`).
    evicted: AtomicU64,
    /// One eviction pass at a time; a re-count that finds one running leaves it the work.
    pass: Mutex<()>,
    /// Largest input and output buffer of any client, per second slot (`track_peaks`).
    peak_input: [AtomicUsize; PEAK_SLOTS],
    peak_output: [AtomicUsize; PEAK_SLOTS],
}

/// Seconds a buffer peak counts as recent (Redis's CLIENTS_PEAK_MEM_USAGE_SLOTS).
const PEAK_SLOTS: usize = 8;

/// The eviction limit in bytes that `settings` ask for, 0 for none (Redis's
/// getClientEvictionLimit).
pub fn limit_of(settings: &Settings) -> usize {
    match settings.maxmemory_clients {
        n if n > 0 => n as usize,
        // A percentage of maxmemory, stored negated.
        n if n < 0 => (settings.maxmemory as f64 * (-n) as f64 / 100.0) as usize,
        _ => 0,
    }
}

impl ClientMemory {
    pub fn configure(&self, settings: &Settings) {
        self.limit.store(limit_of(settings), Ordering::Relaxed);
    }

    /// Whether a limit is set: connections count their memory only then.
    #[inline]
    pub fn limited(&self) -> bool {
        self.limit.load(Ordering::Relaxed) != 0
    }

    pub fn evicted_clients(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    pub fn reset_stats(&self) {
        self.evicted.store(0, Ordering::Relaxed);
    }

    /// Re-counts `client` and evicts if the total reached the limit. True if `client`
    /// itself must close (evicted now, or killed before).
    pub fn update(&self, server: &Server, client: &ClientHandle) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        if limit == 0 {
            return false;
        }
        self.recount(client);
        if self.total.load(Ordering::Relaxed) >= limit {
            self.evict(server, limit);
        }
        client.is_killed()
    }

    /// Re-counts every client, then evicts if the total reached the limit (the cron, and
    /// a CONFIG SET that may have lowered the limit or turned it on).
    pub fn update_all(&self, server: &Server) {
        let limit = self.limit.load(Ordering::Relaxed);
        if limit == 0 {
            return;
        }
        for client in server.clients.all() {
            self.recount(&client);
        }
        if self.total.load(Ordering::Relaxed) >= limit {
            self.evict(server, limit);
        }
    }

    /// Records the clients' largest input and output buffers in the current second's slot,
    /// clearing the slot that comes next (the cron, every tick).
    pub fn track_peaks(&self, server: &Server, unix_secs: u64) {
        let slot = unix_secs as usize % PEAK_SLOTS;
        let next = (slot + 1) % PEAK_SLOTS;
        self.peak_input[next].store(0, Ordering::Relaxed);
        self.peak_output[next].store(0, Ordering::Relaxed);
        for client in server.clients.all() {
            let (input, output) = crate::commands::client::buffer_usage(&client);
            self.peak_input[slot].fetch_max(input, Ordering::Relaxed);
            self.peak_output[slot].fetch_max(output, Ordering::Relaxed);
        }
    }

    /// `client_recent_max_input_buffer`.
    pub fn recent_max_input(&self) -> usize {
        self.peak_input
            .iter()
            .map(|p| p.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0)
    }

    /// `client_recent_max_output_buffer`.
    pub fn recent_max_output(&self) -> usize {
        self.peak_output
            .iter()
            .map(|p| p.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0)
    }

    /// Takes a closing connection's figure out of the total.
    pub fn forget(&self, client: &ClientHandle) {
        let counted = client.counted_mem.swap(0, Ordering::Relaxed);
        self.total.fetch_sub(counted, Ordering::Relaxed);
    }

    fn recount(&self, client: &ClientHandle) {
        // A killed client is on its way out; an evicted one's figure is already taken out.
        if client.is_killed() {
            return;
        }
        let now = crate::commands::client::memory_of(client);
        let before = client.counted_mem.swap(now, Ordering::Relaxed);
        if now >= before {
            self.total.fetch_add(now - before, Ordering::Relaxed);
        } else {
            self.total.fetch_sub(before - now, Ordering::Relaxed);
        }
    }

    fn evict(&self, server: &Server, limit: usize) {
        let Some(_pass) = self.pass.try_lock() else {
            return;
        };
        let mut candidates: Vec<_> = server
            .clients
            .all()
            .into_iter()
            .filter(|c| !c.no_evict.load(Ordering::Relaxed) && !c.is_killed())
            .map(|c| (c.counted_mem.load(Ordering::Relaxed), c))
            .collect();
        candidates.sort_unstable_by_key(|c| std::cmp::Reverse(c.0));
        let now_ms = crate::unix_ms();
        for (_, victim) in candidates {
            if self.total.load(Ordering::Relaxed) < limit {
                break;
            }
            log_notice!(
                "Evicting client: {}",
                crate::commands::client::client_line(&victim, now_ms)
            );
            self.forget(&victim);
            self.evicted.fetch_add(1, Ordering::Relaxed);
            victim.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::NewClient;
    use std::sync::atomic::Ordering;

    fn server(limit: &str) -> Server {
        let mut config = vireo_config::Config::default();
        config
            .set(&[
                (&b"maxmemory"[..], &b"100000000"[..]),
                (b"maxmemory-clients", limit.as_bytes()),
            ])
            .unwrap();
        Server::new(config)
    }

    fn connect(server: &Server, query_bytes: usize) -> std::sync::Arc<ClientHandle> {
        let conn = NewClient::without_socket("127.0.0.1:1");
        let handle = server.clients.register(conn, 0);
        handle.buffers.record(query_bytes, query_bytes, 0, 0);
        handle
    }

    #[test]
    fn the_limit_is_bytes_or_a_share_of_maxmemory() {
        assert_eq!(server("0").client_memory.limit.load(Ordering::Relaxed), 0);
        assert_eq!(
            server("3mb").client_memory.limit.load(Ordering::Relaxed),
            3 << 20
        );
        assert_eq!(
            server("5%").client_memory.limit.load(Ordering::Relaxed),
            5_000_000
        );
    }

    #[test]
    fn evicts_the_largest_clients_until_below_the_limit() {
        let server = server("4mb");
        let small = connect(&server, 500_000);
        let large = connect(&server, 3_000_000);
        let spared = connect(&server, 5_000_000);
        spared.no_evict.store(true, Ordering::Relaxed);
        let medium = connect(&server, 1_000_000);
        server.client_memory.update_all(&server);
        // 9.5 MB in all: the 3 MB client goes, then the 1 MB one; the 5 MB one is
        // spared, and 5.5 MB is still over the limit, so the small one goes too.
        assert!(large.is_killed() && medium.is_killed() && small.is_killed());
        assert!(!spared.is_killed());
        assert_eq!(server.client_memory.evicted_clients(), 3);
        assert_eq!(
            server.client_memory.total.load(Ordering::Relaxed),
            spared.counted_mem.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn closes_no_more_clients_than_needed() {
        let server = server("4mb");
        let a = connect(&server, 1_000_000);
        let b = connect(&server, 3_500_000);
        let c = connect(&server, 1_000_000);
        server.client_memory.update_all(&server);
        assert!(b.is_killed());
        assert!(!a.is_killed() && !c.is_killed());
        assert_eq!(server.client_memory.evicted_clients(), 1);
        // A departing client's figure leaves the total.
        server.client_memory.forget(&a);
        server.client_memory.forget(&c);
        assert_eq!(server.client_memory.total.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn buffer_peaks_stay_recent_for_seven_seconds() {
        let server = server("0");
        let big = connect(&server, 1_000_000);
        let memory = &server.client_memory;
        memory.track_peaks(&server, 100);
        assert_eq!(memory.recent_max_input(), 1_000_000);
        assert_eq!(memory.recent_max_output(), 0);
        server.clients.unregister(big.id);
        // Six seconds on, the peak of second 100 is still there; at the seventh, its slot
        // is cleared, being the next to reuse.
        for second in 101..107 {
            memory.track_peaks(&server, second);
        }
        assert_eq!(memory.recent_max_input(), 1_000_000);
        memory.track_peaks(&server, 107);
        assert_eq!(memory.recent_max_input(), 0);
    }

    #[test]
    fn nothing_is_counted_without_a_limit() {
        let server = server("0");
        let big = connect(&server, 50_000_000);
        assert!(!server.client_memory.update(&server, &big));
        assert_eq!(server.client_memory.total.load(Ordering::Relaxed), 0);
    }
}
