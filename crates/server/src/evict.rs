//! `maxmemory`: key eviction as Redis 7.2 does it (evict.c).
//!
//! **When.** Before every command, while `maxmemory` is set, the dispatcher asks
//! [`perform`] to bring memory under the limit (Redis's performEvictions). If it cannot —
//! the policy is `noeviction`, or no key is left that the policy may evict — a command
//! flagged `denyoom` (and, inside MULTI, any command but EXEC, DISCARD, QUIT and RESET) is
//! refused with the OOM error. A pass evicts for at most the time
//! `maxmemory-eviction-tenacity` allows; if memory is still over the limit then, the
//! command runs and a background task (Redis's eviction time proc) keeps evicting. The
//! cron also runs a pass on every tick.
//!
//! **How much memory.** `used_memory` is jemalloc's `stats.allocated` less what the
//! threads' caches keep after a free (`crate::info`); eviction also leaves out values
//! queued on the lazyfree thread (`lazyfree::pending_bytes`). jemalloc's figures are only
//! refreshed by advancing its epoch, a mallctl that merges every arena's
//! statistics and costs tens of microseconds: too slow for every command. The [`Gauge`]
//! keeps the last reading and refreshes it at most once per millisecond from the command
//! path (the first command past the period pays; the others read the cached figure), and
//! adds the argument bytes of each `denyoom` command that ran since, so a burst of big
//! writes shows before the next refresh. A pass that finds the estimate over the limit
//! reads jemalloc afresh (unless it was read in the last 250 µs) before evicting, and then
//! counts what each eviction frees by the size of the deleted entry, as Redis counts the
//! bytes its allocator released across each delete; the next refresh corrects any error.
//! Nothing is excluded from the figure yet: Redis subtracts replication and AOF buffers
//! (`mem_not_counted_for_evict`), and Vireo has neither.
//!
//! **Which key.** Approximate LRU, LFU and TTL as in Redis: each round picks, in every
//! database that has candidates, one random shard (locking only that shard), samples
//! `maxmemory-samples` keys from it (all keys, or those with a TTL for `volatile-*`), and
//! offers them to a pool of the 16 best candidates kept across rounds, shards and
//! databases (`vireo_store::evict::EvictionPool`). The best pooled key that still exists
//! is evicted. Random policies pick a random key of a random shard, taking databases in
//! turn. Which shards have candidates is a hint (a bit per shard) refreshed every 100 ms,
//! so empty databases cost nothing.
//!
//! **Locks.** A pass holds the exclusive gate shared, like a command (so no eviction falls
//! inside an exclusive transaction, or between a self-locking write and its propagation),
//! then a pass mutex (one evicting thread at a time, as Redis has one), then one shard at
//! a time. No shard is held while waiting for another, and nothing holding a shard (or a
//! lock a command may wait for, such as the config lock: see `settle`) waits for the pass
//! mutex: no deadlock with commands (DESIGN §3).
//!
//! **An eviction** deletes the key under its shard's lock, flags its WATCHers, invalidates
//! it for tracking clients, publishes `evicted` (class `e`), propagates a DEL (UNLINK with
//! `lazyfree-lazy-eviction`, which also frees big values on the lazyfree thread) and counts
//! `evicted_keys`.

use crate::notify::class as notify;
use crate::propagate::Op;
use crate::settings::Settings;
use crate::Server;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vireo_store::evict::{lfu_counter, lfu_new, lfu_touch, EvictionPool};
use vireo_store::{shard_index, SmallBytes, Value, SHARDS};

/// `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllkeysLru,
    VolatileLru,
    AllkeysLfu,
    VolatileLfu,
    AllkeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    const ALL: [Policy; 8] = [
        Policy::NoEviction,
        Policy::AllkeysLru,
        Policy::VolatileLru,
        Policy::AllkeysLfu,
        Policy::VolatileLfu,
        Policy::AllkeysRandom,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllkeysLru => "allkeys-lru",
            Policy::VolatileLru => "volatile-lru",
            Policy::AllkeysLfu => "allkeys-lfu",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::AllkeysRandom => "allkeys-random",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
        }
    }

    pub fn parse(name: &str) -> Policy {
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .unwrap_or(Policy::NoEviction)
    }

    /// Whether every key is a candidate (else only keys with a TTL).
    pub fn allkeys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }

    pub fn lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }

    pub fn lru(self) -> bool {
        matches!(self, Policy::AllkeysLru | Policy::VolatileLru)
    }

    fn random(self) -> bool {
        matches!(self, Policy::AllkeysRandom | Policy::VolatileRandom)
    }
}

/// What a pass achieved (Redis's EVICT_OK, EVICT_RUNNING, EVICT_FAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Memory is under the limit (or eviction is not allowed to run now).
    Ok,
    /// Still over, but the background task keeps evicting: commands may run.
    Running,
    /// Over the limit with nothing the policy may evict: `denyoom` commands are refused.
    Fail,
}

/// How often the command path refreshes jemalloc's figure.
const REFRESH_US: i64 = 1000;
/// A pass trusts a reading this recent without asking jemalloc again.
const CONFIRM_US: i64 = 250;
/// How often a pass refreshes its map of the shards that have candidates.
const OCCUPANCY_MS: u64 = 100;
/// Rounds of sampling a pick may take when every candidate found has vanished since.
const MAX_ROUNDS: usize = 64;

/// The memory figure compared with `maxmemory` (see the module's doc).
pub struct Gauge {
    /// jemalloc's `stats.allocated` at the last refresh, less what evictions freed since.
    allocated: AtomicU64,
    /// When it was read (unix µs).
    refreshed_us: AtomicI64,
    /// Argument bytes of `denyoom` commands run since: written by every write, so on a
    /// cache line of its own, away from the two read by every command.
    pending: Padded,
    /// A figure that replaces jemalloc's in unit tests (u64::MAX: none).
    #[cfg(test)]
    fake: AtomicU64,
}

#[repr(align(64))]
struct Padded(AtomicU64);

impl Default for Gauge {
    fn default() -> Self {
        Gauge {
            allocated: AtomicU64::new(0),
            refreshed_us: AtomicI64::new(0),
            pending: Padded(AtomicU64::new(0)),
            #[cfg(test)]
            fake: AtomicU64::new(u64::MAX),
        }
    }
}

impl Gauge {
    /// The estimate, refreshed first if the last reading is older than the period and
    /// no other thread is refreshing it.
    pub fn estimate(&self, now_us: i64) -> u64 {
        let last = self.refreshed_us.load(Ordering::Relaxed);
        if now_us - last >= REFRESH_US
            && self
                .refreshed_us
                .compare_exchange(last, now_us, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return self.refresh(now_us);
        }
        self.allocated.load(Ordering::Relaxed) + self.pending.0.load(Ordering::Relaxed)
    }

    /// Reads jemalloc now.
    pub fn refresh(&self, now_us: i64) -> u64 {
        // Values being freed on the lazyfree thread are as good as gone.
        let used = self.fake_figure().unwrap_or_else(|| {
            crate::info::allocated_bytes().saturating_sub(crate::lazyfree::pending_bytes())
        });
        self.allocated.store(used, Ordering::Relaxed);
        self.pending.0.store(0, Ordering::Relaxed);
        self.refreshed_us.store(now_us, Ordering::Relaxed);
        used
    }

    /// A figure fresh enough to decide to evict on.
    fn confirm(&self, now_us: i64) -> u64 {
        let recent = now_us - self.refreshed_us.load(Ordering::Relaxed) < CONFIRM_US;
        if recent && self.pending.0.load(Ordering::Relaxed) == 0 {
            return self.allocated.load(Ordering::Relaxed);
        }
        self.refresh(now_us)
    }

    /// A write of `bytes` of arguments ran: count them until the next refresh.
    pub fn note_write(&self, bytes: u64) {
        self.pending.0.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Evictions freed about `bytes`.
    fn note_freed(&self, bytes: u64) {
        let _ = self
            .allocated
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |a| {
                Some(a.saturating_sub(bytes))
            });
    }

    #[cfg(not(test))]
    fn fake_figure(&self) -> Option<u64> {
        None
    }

    #[cfg(test)]
    fn fake_figure(&self) -> Option<u64> {
        Some(self.fake.load(Ordering::Relaxed)).filter(|&f| f != u64::MAX)
    }

    /// Replaces jemalloc's figure by `bytes` (`None` goes back to jemalloc).
    #[cfg(test)]
    pub fn set_fake(&self, bytes: Option<u64>) {
        self.fake
            .store(bytes.unwrap_or(u64::MAX), Ordering::Relaxed);
        self.refresh(crate::unix_us());
    }
}

/// The state of eviction: settings mirrored in atomics (read on every command), the
/// memory gauge, the candidate pool and the statistics.
pub struct Eviction {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    lfu_log_factor: AtomicU32,
    lfu_decay_time: AtomicU32,
    lazy: AtomicBool,
    pub gauge: Gauge,
    /// One pass at a time: the pool and the shard map.
    pass: Mutex<PassState>,
    /// Set by the first `configure` (startup), after which a lowered limit is logged.
    configured: AtomicBool,
    wake: tokio::sync::Notify,
    evicted_keys: AtomicU64,
    /// Since when (unix µs) memory has been over the limit with eviction not done; 0 if not.
    exceeded_since_us: AtomicI64,
    /// Completed periods of that, in µs.
    exceeded_total_us: AtomicU64,
}

impl Default for Eviction {
    fn default() -> Self {
        Eviction {
            maxmemory: AtomicU64::new(0),
            policy: AtomicU8::new(0),
            samples: AtomicU32::new(5),
            tenacity: AtomicU32::new(10),
            lfu_log_factor: AtomicU32::new(10),
            lfu_decay_time: AtomicU32::new(1),
            lazy: AtomicBool::new(false),
            gauge: Gauge::default(),
            pass: Mutex::new(PassState::default()),
            configured: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            evicted_keys: AtomicU64::new(0),
            exceeded_since_us: AtomicI64::new(0),
            exceeded_total_us: AtomicU64::new(0),
        }
    }
}

/// What a pass keeps between calls.
#[derive(Default)]
struct PassState {
    pool: EvictionPool,
    /// The policy the pool's scores were computed for.
    pool_policy: Option<Policy>,
    /// Per database, a bit per shard that had candidates at the last look.
    occupied: Vec<u64>,
    occupied_at: Option<Instant>,
    /// The next database a random policy tries first.
    next_db: usize,
}

const _: () = assert!(
    SHARDS <= 64,
    "the shard map holds a database's shards in a u64"
);

impl Eviction {
    /// Mirrors the settings (after startup and every CONFIG SET).
    pub fn configure(&self, settings: &Settings) {
        let old = self.maxmemory.swap(settings.maxmemory, Ordering::Relaxed);
        let policy = Policy::ALL
            .iter()
            .position(|&p| p == settings.maxmemory_policy)
            .unwrap_or(0);
        self.policy.store(policy as u8, Ordering::Relaxed);
        self.samples
            .store(settings.maxmemory_samples.max(1), Ordering::Relaxed);
        self.tenacity
            .store(settings.maxmemory_eviction_tenacity, Ordering::Relaxed);
        self.lfu_log_factor
            .store(settings.lfu_log_factor, Ordering::Relaxed);
        self.lfu_decay_time
            .store(settings.lfu_decay_time, Ordering::Relaxed);
        self.lazy
            .store(settings.lazyfree_lazy_eviction, Ordering::Relaxed);
        if settings.maxmemory == 0 {
            self.update_metrics(Outcome::Ok, crate::unix_us());
        } else if settings.maxmemory != old {
            let used = self.gauge.refresh(crate::unix_us());
            let at_startup = !self.configured.load(Ordering::Relaxed);
            if settings.maxmemory < used && !at_startup {
                crate::log_warning!(
                    "WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.",
                    settings.maxmemory
                );
            }
            self.wake.notify_one();
        }
        self.configured.store(true, Ordering::Relaxed);
    }

    /// Waits for a pass in progress to end (CONFIG SET maxmemory answers once no pass
    /// under the old limit runs). The caller must hold no lock a command may wait for:
    /// the pass may be waiting for a command's shard.
    pub fn settle(&self) {
        drop(self.pass.lock());
    }

    /// Whether `maxmemory` is set (one relaxed load: the dispatcher's test).
    #[inline]
    pub fn limited(&self) -> bool {
        self.maxmemory.load(Ordering::Relaxed) != 0
    }

    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> Policy {
        Policy::ALL[self.policy.load(Ordering::Relaxed) as usize]
    }

    /// Whether values keep an LFU counter rather than an LRU clock.
    #[inline]
    pub fn lfu(&self) -> bool {
        self.policy().lfu()
    }

    /// A value's access clock after an access under an LFU policy.
    pub fn lfu_touch(&self, lru: u32, now_ms: i64) -> u32 {
        lfu_touch(
            lru,
            now_ms,
            self.lfu_log_factor.load(Ordering::Relaxed),
            self.lfu_decay_time.load(Ordering::Relaxed),
            rand::random::<f64>(),
        )
    }

    /// The access clock of a value stored at `now_ms` with no predecessor.
    pub fn new_clock(&self, now_ms: i64) -> u32 {
        if self.lfu() {
            lfu_new(now_ms)
        } else {
            crate::lru_clock_at(now_ms)
        }
    }

    /// OBJECT FREQ: the decayed LFU counter.
    pub fn frequency(&self, lru: u32, now_ms: i64) -> u8 {
        lfu_counter(lru, now_ms, self.lfu_decay_time.load(Ordering::Relaxed))
    }

    pub fn evicted_keys(&self) -> u64 {
        self.evicted_keys.load(Ordering::Relaxed)
    }

    /// (`total_eviction_exceeded_time`, `current_eviction_exceeded_time`) in ms.
    pub fn exceeded_ms(&self, now_us: i64) -> (u64, u64) {
        let since = self.exceeded_since_us.load(Ordering::Relaxed);
        let current = if since == 0 {
            0
        } else {
            (now_us - since).max(0) as u64
        };
        let total = self.exceeded_total_us.load(Ordering::Relaxed) + current;
        (total / 1000, current / 1000)
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&self) {
        self.evicted_keys.store(0, Ordering::Relaxed);
        self.exceeded_total_us.store(0, Ordering::Relaxed);
        self.exceeded_since_us.store(0, Ordering::Relaxed);
    }

    /// Starts or stops the clock of time spent over the limit.
    fn update_metrics(&self, outcome: Outcome, now_us: i64) {
        let since = &self.exceeded_since_us;
        match outcome {
            Outcome::Running | Outcome::Fail => {
                let _ = since.compare_exchange(0, now_us, Ordering::Relaxed, Ordering::Relaxed);
            }
            Outcome::Ok => {
                let start = since.swap(0, Ordering::Relaxed);
                if start != 0 {
                    self.exceeded_total_us
                        .fetch_add((now_us - start).max(0) as u64, Ordering::Relaxed);
                }
            }
        }
    }

    /// The time a pass may spend (Redis's evictionTimeLimitUs): 50 µs per step of
    /// tenacity up to 10, then 15% more per step, unlimited at 100.
    fn time_limit(&self) -> Duration {
        let tenacity = self.tenacity.load(Ordering::Relaxed).min(100);
        let us = match tenacity {
            0..=10 => 50 * tenacity as u64,
            100 => return Duration::MAX,
            t => (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
        };
        Duration::from_micros(us)
    }
}

/// Brings memory under `maxmemory` if it is over, within the tenacity's time limit
/// (Redis's performEvictions). `id` picks the gate slot (the client's id).
pub fn perform(server: &Server, id: u64) -> Outcome {
    let ev = &server.eviction;
    let max = ev.maxmemory();
    let now_us = crate::unix_us();
    // While clients are paused the dataset must not change: no eviction, no refusal.
    if max == 0 || server.pause.is_paused(now_us / 1000) {
        return Outcome::Ok;
    }
    if ev.gauge.estimate(now_us) <= max {
        ev.update_metrics(Outcome::Ok, now_us);
        return Outcome::Ok;
    }
    let _gate = server.gate.shared(id);
    let mut state = ev.pass.lock();
    let used = ev.gauge.confirm(crate::unix_us());
    if used <= max {
        ev.update_metrics(Outcome::Ok, now_us);
        return Outcome::Ok;
    }
    let policy = ev.policy();
    if policy == Policy::NoEviction {
        ev.update_metrics(Outcome::Fail, now_us);
        return Outcome::Fail;
    }
    if state.pool_policy != Some(policy) {
        state.pool.clear();
        state.pool_policy = Some(policy);
    }
    let outcome = evict_until(server, &mut state, policy, used - max);
    drop(state);
    ev.update_metrics(outcome, crate::unix_us());
    outcome
}

/// Evicts until about `to_free` bytes are freed, the time limit passes, or nothing is
/// left to evict.
fn evict_until(server: &Server, state: &mut PassState, policy: Policy, to_free: u64) -> Outcome {
    let ev = &server.eviction;
    let limit = ev.time_limit();
    let lazy = ev.lazy.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut freed = 0u64;
    let mut keys = 0u64;
    while freed < to_free {
        let Some(bytes) = evict_one(server, state, policy, lazy) else {
            return out_of_candidates(server, limit);
        };
        ev.gauge.note_freed(bytes);
        freed += bytes;
        keys += 1;
        if keys.is_multiple_of(16) {
            // Values freed on the lazyfree thread leave memory a little later: look at
            // the real figure now and then.
            if lazy && ev.gauge.refresh(crate::unix_us()) <= ev.maxmemory() {
                break;
            }
            if start.elapsed() > limit {
                ev.wake.notify_one();
                return Outcome::Running;
            }
        }
    }
    Outcome::Ok
}

/// Nothing is left to evict: values still being freed on the lazyfree thread may bring
/// memory under the limit shortly, so wait that long once, as Redis does.
fn out_of_candidates(server: &Server, limit: Duration) -> Outcome {
    let ev = &server.eviction;
    if crate::lazyfree::pending_objects() > 0 {
        std::thread::sleep(limit.min(Duration::from_millis(1)));
        if ev.gauge.refresh(crate::unix_us()) <= ev.maxmemory() {
            return Outcome::Ok;
        }
    }
    Outcome::Fail
}

/// Picks a victim by `policy` and evicts it; the bytes it freed, or None if the policy
/// finds nothing to evict.
fn evict_one(server: &Server, state: &mut PassState, policy: Policy, lazy: bool) -> Option<u64> {
    refresh_occupancy(server, state, policy, false);
    for round in 0..MAX_ROUNDS {
        let found = if policy.random() {
            random_candidate(server, state, policy)
        } else {
            pool_candidate(server, state, policy)
        };
        let Some((db, key)) = found else {
            if round == 0 && refresh_occupancy(server, state, policy, true) {
                continue;
            }
            return None;
        };
        if let Some(bytes) = evict_key(server, db, &key, policy, lazy) {
            return Some(bytes);
        }
    }
    None
}

/// Rebuilds the map of shards that have candidates when it is old (or `now`); true if
/// any shard has.
fn refresh_occupancy(server: &Server, state: &mut PassState, policy: Policy, now: bool) -> bool {
    let fresh = state
        .occupied_at
        .is_some_and(|at| at.elapsed() < Duration::from_millis(OCCUPANCY_MS));
    if fresh && !now && state.occupied.len() == server.dbs.len() {
        return state.occupied.iter().any(|&m| m != 0);
    }
    state.occupied = server
        .dbs
        .iter()
        .map(|db| {
            (0..SHARDS).fold(0u64, |mask, i| {
                let shard = db.lock(i);
                let has = if policy.allkeys() {
                    !shard.keys.is_empty()
                } else {
                    !shard.expires.is_empty()
                };
                mask | (u64::from(has) << i)
            })
        })
        .collect();
    state.occupied_at = Some(Instant::now());
    state.occupied.iter().any(|&m| m != 0)
}

/// A random shard among those marked in `mask`.
fn random_shard(mask: u64) -> usize {
    let mut pick = rand::random_range(0..mask.count_ones());
    let mut bits = mask;
    loop {
        let shard = bits.trailing_zeros();
        if pick == 0 {
            return shard as usize;
        }
        pick -= 1;
        bits &= bits - 1;
    }
}

/// One round of sampling, then the best pooled candidate. A shard found empty is
/// unmarked.
fn pool_candidate(
    server: &Server,
    state: &mut PassState,
    policy: Policy,
) -> Option<(usize, SmallBytes)> {
    if !populate(server, state, policy) && state.pool.is_empty() {
        return None;
    }
    state.pool.pop_best().map(|c| (c.db, c.key))
}

/// Samples one random marked shard of every database into the pool; true if any shard
/// had candidates.
fn populate(server: &Server, state: &mut PassState, policy: Policy) -> bool {
    let ev = &server.eviction;
    let samples = ev.samples.load(Ordering::Relaxed) as usize;
    let now_ms = crate::unix_ms();
    let clock = crate::lru_clock_at(now_ms);
    let decay = ev.lfu_decay_time.load(Ordering::Relaxed);
    let mut found = false;
    for (db_index, db) in server.dbs.iter().enumerate() {
        let mask = state.occupied[db_index];
        if mask == 0 {
            continue;
        }
        let shard_i = random_shard(mask);
        let shard = db.lock(shard_i);
        let shard: &vireo_store::Shard = &shard;
        let pool = &mut state.pool;
        let score = |value: &Value| match policy {
            p if p.lfu() => 255 - lfu_counter(value.lru(), now_ms, decay) as u64,
            _ => crate::lru_idle_secs_at(value.lru(), clock),
        };
        let mut seen = 0;
        match policy {
            Policy::AllkeysLru | Policy::AllkeysLfu => {
                shard.keys.sample(samples, |key, value| {
                    seen += 1;
                    pool.offer(score(value), db_index, key);
                });
            }
            Policy::VolatileTtl => {
                shard.expires.sample(samples, |key, &at| {
                    seen += 1;
                    pool.offer(u64::MAX - at.max(0) as u64, db_index, key);
                });
            }
            _ => {
                shard.expires.sample(samples, |key, _| {
                    seen += 1;
                    if let Some(value) = shard.keys.get(key.as_slice()) {
                        pool.offer(score(value), db_index, key);
                    }
                });
            }
        }
        if seen == 0 {
            state.occupied[db_index] &= !(1u64 << shard_i);
        } else {
            found = true;
        }
    }
    found
}

/// A random key of a random marked shard, taking databases in turn.
fn random_candidate(
    server: &Server,
    state: &mut PassState,
    policy: Policy,
) -> Option<(usize, SmallBytes)> {
    let dbs = server.dbs.len();
    for _ in 0..dbs * 2 {
        let db_index = state.next_db % dbs;
        state.next_db = state.next_db.wrapping_add(1);
        let mask = state.occupied[db_index];
        if mask == 0 {
            continue;
        }
        let shard_i = random_shard(mask);
        let shard = server.dbs[db_index].lock(shard_i);
        let key = if policy.allkeys() {
            shard.keys.random_entry().map(|(k, _)| k.clone())
        } else {
            shard.expires.random_entry().map(|(k, _)| k.clone())
        };
        match key {
            Some(key) => return Some((db_index, key)),
            None => state.occupied[db_index] &= !(1u64 << shard_i),
        }
    }
    None
}

/// Evicts `key` of database `db` if it is still a candidate; the bytes freed.
fn evict_key(server: &Server, db: usize, key: &[u8], policy: Policy, lazy: bool) -> Option<u64> {
    let mut shard = server.dbs[db].lock(shard_index(key));
    let ttl = shard.expire_at(key).is_some();
    if !policy.allkeys() && !ttl {
        return None;
    }
    let (stored, value) = shard.keys.get_key_value(key)?;
    let bytes = entry_size(stored, value, ttl);
    // Flags WATCHers and drops the TTL with the key.
    let value = shard.remove(key)?;
    server.eviction.evicted_keys.fetch_add(1, Ordering::Relaxed);
    if !server.tracking.idle() {
        server.tracking.key_changed(server, key, 0);
    }
    server.notify(notify::EVICTED, "evicted", key, db);
    if server.propagation.active() {
        let name: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
        let argv = vec![
            bytes::Bytes::from_static(name),
            bytes::Bytes::copy_from_slice(key),
        ];
        server.propagation.feed_one(Op::new(db, argv));
    }
    drop(shard);
    if lazy {
        crate::lazyfree::free_value_sized(value, bytes);
    } else {
        drop(value);
    }
    Some(bytes)
}

/// About what deleting an entry frees: its keyspace node (64 bytes, one jemalloc size
/// class) and bucket slot, the key's and the value's heap blocks, and its `expires` entry.
fn entry_size(key: &SmallBytes, value: &Value, ttl: bool) -> u64 {
    const NODE: usize = 64 + 8;
    const EXPIRES_NODE: usize = 48 + 8;
    let mut bytes = NODE + key.heap_size() + value.heap_size();
    if ttl {
        bytes += EXPIRES_NODE + key.heap_size();
    }
    bytes as u64
}

/// The background task (Redis's eviction time proc): when a pass ran out of time with
/// memory still over the limit, keeps evicting, yielding between passes so commands
/// keep running.
pub async fn run(server: Arc<Server>) {
    loop {
        server.eviction.wake.notified().await;
        while perform(&server, 0) == Outcome::Running {
            tokio::task::yield_now().await;
        }
    }
}

/// The dispatcher's check before a command (Redis's processCommand): runs a pass while
/// `maxmemory` is set and returns whether the command must be refused with the OOM
/// error. `denyoom` tells whether the command may grow memory (for EXEC: whether a
/// queued command may); `queue_only` whether it would only be queued in MULTI, which
/// Redis refuses too when out of memory.
pub fn refuses(server: &Server, id: u64, denyoom: bool, queue_only: bool, arg_bytes: u64) -> bool {
    let out_of_memory = perform(server, id) == Outcome::Fail;
    if out_of_memory && (denyoom || queue_only) {
        return true;
    }
    if denyoom {
        server.eviction.gauge.note_write(arg_bytes);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use vireo_store::Db;

    fn server(policy: &str) -> Server {
        let mut config = vireo_config::Config::default();
        config
            .set(&[
                (b"maxmemory", b"1000000"),
                (b"maxmemory-policy", policy.as_bytes()),
                (b"maxmemory-eviction-tenacity", b"100"),
            ])
            .unwrap();
        Server::new(config)
    }

    fn fill(db: &Db, keys: usize, ttl: impl Fn(usize) -> Option<i64>) {
        for i in 0..keys {
            let key = format!("key:{i}");
            let mut shard = db.lock(shard_index(key.as_bytes()));
            shard.insert(key.as_bytes(), Value::string(&[b'x'; 100]));
            if let Some(at) = ttl(i) {
                shard.set_expire(key.as_bytes(), at);
            }
        }
    }

    fn exists(db: &Db, key: &str) -> bool {
        db.lock(shard_index(key.as_bytes()))
            .keys
            .contains_key(key.as_bytes())
    }

    #[test]
    fn time_limit_follows_tenacity() {
        let ev = Eviction::default();
        let limit = |t| {
            ev.tenacity.store(t, Ordering::Relaxed);
            ev.time_limit()
        };
        assert_eq!(limit(0), Duration::ZERO);
        assert_eq!(limit(10), Duration::from_micros(500));
        assert_eq!(limit(11), Duration::from_micros(575));
        assert_eq!(limit(100), Duration::MAX);
    }

    #[test]
    fn random_shard_picks_a_marked_one() {
        for _ in 0..100 {
            let s = random_shard(0b1010_0000);
            assert!(s == 5 || s == 7);
        }
        assert_eq!(random_shard(1 << 63), 63);
    }

    #[test]
    fn allkeys_evicts_until_under_the_limit() {
        let server = server("allkeys-random");
        fill(&server.dbs[0], 1000, |_| None);
        let per_key = entry_size(
            &SmallBytes::new(b"key:1"),
            &Value::string(&[b'x'; 100]),
            false,
        );
        // 100 keys' worth over the limit.
        server
            .eviction
            .gauge
            .set_fake(Some(1_000_000 + 100 * per_key));
        assert_eq!(perform(&server, 1), Outcome::Ok);
        assert_eq!(server.eviction.evicted_keys(), 100);
        assert_eq!(server.dbs[0].len(), 900);
    }

    #[test]
    fn volatile_evicts_only_keys_with_a_ttl_then_fails() {
        let server = server("volatile-lru");
        let far = crate::unix_ms() + 3_600_000;
        fill(&server.dbs[0], 200, |i| (i % 2 == 0).then_some(far));
        server.eviction.gauge.set_fake(Some(10_000_000));
        assert_eq!(perform(&server, 1), Outcome::Fail);
        assert_eq!(server.eviction.evicted_keys(), 100);
        assert!((0..200).all(|i| exists(&server.dbs[0], &format!("key:{i}")) == (i % 2 == 1)));
        assert!(server.eviction.exceeded_since_us.load(Ordering::Relaxed) != 0);
        server.eviction.gauge.set_fake(Some(10));
        assert_eq!(perform(&server, 1), Outcome::Ok);
        assert_eq!(server.eviction.exceeded_since_us.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn noeviction_fails_without_deleting() {
        let server = server("noeviction");
        fill(&server.dbs[0], 10, |_| None);
        server.eviction.gauge.set_fake(Some(2_000_000));
        assert_eq!(perform(&server, 1), Outcome::Fail);
        assert!(refuses(&server, 1, true, false, 0));
        assert!(!refuses(&server, 1, false, false, 0));
        assert_eq!(server.dbs[0].len(), 10);
    }

    #[test]
    fn volatile_ttl_prefers_the_nearest_expiry() {
        let server = server("volatile-ttl");
        let now = crate::unix_ms();
        fill(&server.dbs[0], 1000, |i| {
            Some(now + 1_000_000 + i as i64 * 1000)
        });
        let per_key = entry_size(
            &SmallBytes::new(b"key:1"),
            &Value::string(&[b'x'; 100]),
            true,
        );
        server
            .eviction
            .gauge
            .set_fake(Some(1_000_000 + 200 * per_key));
        perform(&server, 1);
        assert_eq!(server.eviction.evicted_keys(), 200);
        let evicted_early = (0..500)
            .filter(|i| !exists(&server.dbs[0], &format!("key:{i}")))
            .count();
        // Sampling is approximate; most victims still come from the nearer half.
        assert!(evicted_early >= 170, "{evicted_early}");
    }

    #[test]
    fn allkeys_lru_prefers_idle_keys() {
        let server = server("allkeys-lru");
        fill(&server.dbs[0], 1000, |_| None);
        let now_clock = crate::lru_clock();
        for i in 0..1000 {
            let key = format!("key:{i}");
            let mut shard = server.dbs[0].lock(shard_index(key.as_bytes()));
            let value = shard.keys.get_mut(key.as_bytes()).unwrap();
            // The first 800 keys were used an hour ago, the last 200 just now.
            value.set_lru(if i < 800 { now_clock - 3600 } else { now_clock });
        }
        server.eviction.gauge.set_fake(Some(1_000_000 + 400 * 200));
        perform(&server, 1);
        let evicted = server.eviction.evicted_keys() as usize;
        assert!(evicted > 100);
        let hot_lost = (800..1000)
            .filter(|i| !exists(&server.dbs[0], &format!("key:{i}")))
            .count();
        assert!(hot_lost * 20 < evicted, "{hot_lost} of {evicted}");
    }

    #[test]
    fn a_pass_out_of_time_hands_over_to_the_background_task() {
        let server = server("allkeys-random");
        server.eviction.tenacity.store(0, Ordering::Relaxed);
        fill(&server.dbs[0], 1000, |_| None);
        server.eviction.gauge.set_fake(Some(100_000_000));
        // Tenacity 0: the pass stops after its first 16 keys, and commands may run.
        assert_eq!(perform(&server, 1), Outcome::Running);
        assert_eq!(server.eviction.evicted_keys(), 16);
        assert!(server.eviction.exceeded_since_us.load(Ordering::Relaxed) != 0);
    }

    #[test]
    fn eviction_notifies_and_propagates() {
        let server = server("allkeys-random");
        let stream = server.propagation.attach();
        fill(&server.dbs[0], 1, |_| None);
        server.eviction.gauge.set_fake(Some(1_000_001));
        perform(&server, 1);
        let unit = stream.try_recv().expect("an eviction is propagated");
        assert_eq!(unit[0].argv, [&b"DEL"[..], b"key:0"]);
        assert!(server.dbs[0].is_empty());
        // Nothing left: out of memory (once jemalloc is read again).
        server.eviction.gauge.set_fake(Some(1_000_001));
        assert_eq!(perform(&server, 1), Outcome::Fail);
    }
}
