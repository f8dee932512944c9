//! INFO: the server's state as `field:value` lines grouped in `# Section`s, with Redis's
//! section names, field names and number formats, because monitoring tools, exporters and
//! client libraries parse it (and gate features on `redis_version`).
//!
//! A field is printed only when Vireo can give its true value. Fields of features Vireo
//! does not have yet (persistence, replication, client eviction, defragmentation) are
//! printed with the value Redis shows when that feature is idle — which is the truth
//! about this server — and must start reporting real counters when the feature lands. Compared with Redis 7.0's `INFO everything`, these are left out on
//! purpose:
//!
//! - server: `redis_build_id`, `atomicvar_api`, `gcc_version` (Vireo is not built from C
//!   sources; `vireo_version` identifies the build);
//! - memory: `used_memory_overhead`, `used_memory_startup`, `used_memory_dataset`,
//!   `used_memory_dataset_perc` (no per-structure accounting yet),
//!   every `*lua*`, `*scripts*`, `*functions*`, `*vm*` and `number_of_*` field (no scripting
//!   yet);
//! - persistence: the `aof_*` size fields Redis adds while AOF is on (no AOF is written);
//! - stats: `io_threaded_reads_processed`, `io_threaded_writes_processed` (Vireo has no
//!   I/O threads in Redis's sense: every worker reads, runs and writes), `reply_buffer_shrinks`,
//!   `reply_buffer_expands`, the 7.2 `eventloop_*` and `acl_access_denied_*` fields (not
//!   counted yet);
//! - the `latencystats` section (no per-command latency histograms yet).
//!
//! The instantaneous rates (`instantaneous_ops_per_sec`, `..._kbps`) and the memory peak
//! come from [`sample_ops`], which the cron calls on every tick.

use crate::pubsub::Kind;
use crate::stats::{CommandStats, Stats};
use crate::{Server, REDIS_VERSION, VIREO_VERSION};
use parking_lot::Mutex;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use vireo_store::SHARDS;

/// Sections in output order: (name, in `default`, in `all`).
const SECTIONS: &[(&str, bool, bool)] = &[
    ("server", true, true),
    ("clients", true, true),
    ("memory", true, true),
    ("persistence", true, true),
    ("stats", true, true),
    ("replication", true, true),
    ("cpu", true, true),
    ("modules", true, true),
    ("commandstats", false, true),
    ("errorstats", true, true),
    ("cluster", true, true),
    ("keyspace", true, true),
];

/// The INFO text for the sections named in `args` (INFO's arguments, any case): `default`
/// when there are none; `all` and `everything` add commandstats; unknown names add nothing.
pub fn generate(server: &Server, args: &[&[u8]]) -> String {
    let mut wanted = [false; SECTIONS.len()];
    if args.is_empty() {
        select(&mut wanted, b"default");
    }
    for arg in args {
        select(&mut wanted, arg);
    }
    let mut out = String::new();
    for (i, (name, _, _)) in SECTIONS.iter().enumerate() {
        if !wanted[i] {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(server, name, &mut out);
    }
    out
}

fn select(wanted: &mut [bool], arg: &[u8]) {
    let arg = arg.to_ascii_lowercase();
    for (i, (name, default, all)) in SECTIONS.iter().enumerate() {
        wanted[i] |= match &arg[..] {
            b"default" => *default,
            b"all" | b"everything" => *all,
            other => other == name.as_bytes(),
        };
    }
}

/// Appends `field:value\r\n`.
macro_rules! field {
    ($out:expr, $name:expr, $($value:tt)*) => {{
        let _ = write!($out, "{}:", $name);
        let _ = write!($out, $($value)*);
        $out.push_str("\r\n");
    }};
}

/// A `name:count` line for a counter of `Stats`.
fn counter(out: &mut String, name: &str, value: &std::sync::atomic::AtomicU64) {
    field!(out, name, "{}", Stats::get(value));
}

fn section(server: &Server, name: &str, out: &mut String) {
    match name {
        "server" => server_section(server, out),
        "clients" => clients_section(server, out),
        "memory" => memory_section(server, out),
        "persistence" => persistence_section(server, out),
        "stats" => stats_section(server, out),
        "replication" => replication_section(server, out),
        "cpu" => cpu_section(out),
        "modules" => out.push_str("# Modules\r\n"),
        "commandstats" => commandstats_section(server, out),
        "errorstats" => errorstats_section(server, out),
        "cluster" => {
            out.push_str("# Cluster\r\n");
            field!(out, "cluster_enabled", "0");
        }
        "keyspace" => keyspace_section(server, out),
        _ => unreachable!("section {name} is listed in SECTIONS"),
    }
}

fn server_section(server: &Server, out: &mut String) {
    let settings = server.settings.read().clone();
    let config_file = server
        .config
        .read()
        .config_file()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let uptime = server.uptime_secs();
    out.push_str("# Server\r\n");
    field!(out, "redis_version", "{REDIS_VERSION}");
    field!(out, "vireo_version", "{VIREO_VERSION}");
    field!(out, "redis_git_sha1", "00000000");
    field!(out, "redis_git_dirty", "0");
    field!(out, "redis_mode", "standalone");
    field!(out, "os", "{}", os_name());
    field!(out, "arch_bits", "{}", usize::BITS);
    field!(out, "monotonic_clock", "POSIX clock_gettime");
    field!(out, "multiplexing_api", "epoll");
    field!(out, "process_id", "{}", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", "{}", server.run_id);
    field!(out, "tcp_port", "{}", settings.port);
    field!(out, "server_time_usec", "{}", crate::unix_us());
    field!(out, "uptime_in_seconds", "{uptime}");
    field!(out, "uptime_in_days", "{}", uptime / 86400);
    field!(out, "hz", "{}", crate::cron::effective_hz(server));
    field!(out, "configured_hz", "{}", settings.hz);
    field!(out, "lru_clock", "{}", crate::lru_clock());
    field!(out, "executable", "{}", executable());
    field!(out, "config_file", "{config_file}");
    field!(
        out,
        "io_threads_active",
        "{}",
        u8::from(crate::worker_threads(&settings) > 1)
    );
    let mut n = 0;
    if settings.port != 0 {
        let binds: Vec<String> = settings.bind.iter().map(|b| format!("bind={b}")).collect();
        field!(
            out,
            "listener0",
            "name=tcp,{},port={}",
            binds.join(","),
            settings.port
        );
        n += 1;
    }
    if let Some(path) = &settings.unixsocket {
        field!(out, format!("listener{n}"), "name=unix,bind={path}");
    }
}

fn clients_section(server: &Server, out: &mut String) {
    out.push_str("# Clients\r\n");
    field!(out, "connected_clients", "{}", server.clients.count());
    field!(out, "cluster_connections", "0");
    field!(out, "maxclients", "{}", server.settings.read().maxclients);
    let memory = &server.client_memory;
    let input = memory.recent_max_input();
    field!(out, "client_recent_max_input_buffer", "{input}");
    let output = memory.recent_max_output();
    field!(out, "client_recent_max_output_buffer", "{output}");
    let blocking = &server.blocking;
    // Clients waiting for a CLIENT PAUSE to end count as blocked, as in Redis.
    let blocked = blocking.blocked_clients() + server.pause.waiting();
    field!(out, "blocked_clients", "{blocked}");
    field!(out, "tracking_clients", "{}", server.tracking.clients());
    field!(out, "pubsub_clients", "{}", server.pubsub.clients());
    let watches = &server.watches;
    let watching = watches.watching_clients.load(Ordering::Relaxed);
    field!(out, "watching_clients", "{watching}");
    let in_timeout_table = blocking.clients_in_timeout_table();
    field!(out, "clients_in_timeout_table", "{in_timeout_table}");
    let watched_keys = watches.watched_keys.load(Ordering::Relaxed);
    field!(out, "total_watched_keys", "{watched_keys}");
    let (blocking_keys, on_nokey) = crate::blocking::blocking_keys(server);
    field!(out, "total_blocking_keys", "{blocking_keys}");
    field!(out, "total_blocking_keys_on_nokey", "{on_nokey}");
}

/// jemalloc's view of the heap, in bytes.
struct Allocator {
    allocated: u64,
    active: u64,
    resident: u64,
    /// Freed blocks the threads' caches keep for reuse, which jemalloc still counts as
    /// allocated.
    tcache: u64,
}

impl Allocator {
    /// What the application holds: allocated less the thread caches, as Redis's own
    /// count of allocations excludes what its allocator caches after a free.
    fn used(&self) -> u64 {
        self.allocated.saturating_sub(self.tcache)
    }
}

fn allocator_stats() -> Allocator {
    use tikv_jemalloc_ctl::{epoch, stats};
    // The statistics are a snapshot refreshed when the epoch advances.
    let _ = epoch::advance();
    Allocator {
        allocated: stats::allocated::read().unwrap_or(0) as u64,
        active: stats::active::read().unwrap_or(0) as u64,
        resident: stats::resident::read().unwrap_or(0) as u64,
        // SAFETY: a NUL-terminated name of a size_t statistic (4096 is
        // MALLCTL_ARENAS_ALL: every arena merged).
        tcache: unsafe {
            tikv_jemalloc_ctl::raw::read::<usize>(b"stats.arenas.4096.tcache_bytes\0")
        }
        .unwrap_or(0) as u64,
    }
}

/// `used_memory` now: an epoch advance, tens of microseconds (see `crate::evict::Gauge`
/// for the cheap figure).
pub(crate) fn allocated_bytes() -> u64 {
    allocator_stats().used()
}

/// `used_memory`: bytes allocated through jemalloc, and the peak seen so far.
pub fn used_memory() -> u64 {
    let used = allocator_stats().used();
    PEAK_MEMORY.fetch_max(used, Ordering::Relaxed);
    used
}

static PEAK_MEMORY: AtomicU64 = AtomicU64::new(0);

fn memory_section(server: &Server, out: &mut String) {
    let alloc = allocator_stats();
    let used = alloc.used();
    let peak = PEAK_MEMORY.fetch_max(used, Ordering::Relaxed).max(used);
    let rss = rss_bytes();
    let system = system_memory();
    let maxmemory = server.eviction.maxmemory();
    let policy = server.eviction.policy().name();
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", "{used}");
    field!(out, "used_memory_human", "{}", human(used));
    field!(out, "used_memory_rss", "{rss}");
    field!(out, "used_memory_rss_human", "{}", human(rss));
    field!(out, "used_memory_peak", "{peak}");
    field!(out, "used_memory_peak_human", "{}", human(peak));
    field!(
        out,
        "used_memory_peak_perc",
        "{:.2}%",
        ratio(used, peak) * 100.0
    );
    field!(out, "allocator_allocated", "{}", alloc.allocated);
    field!(out, "allocator_active", "{}", alloc.active);
    field!(out, "allocator_resident", "{}", alloc.resident);
    field!(out, "total_system_memory", "{system}");
    field!(out, "total_system_memory_human", "{}", human(system));
    field!(out, "maxmemory", "{maxmemory}");
    field!(out, "maxmemory_human", "{}", human(maxmemory));
    field!(out, "maxmemory_policy", "{policy}");
    field!(
        out,
        "allocator_frag_ratio",
        "{:.2}",
        ratio(alloc.active, alloc.allocated)
    );
    field!(
        out,
        "allocator_frag_bytes",
        "{}",
        alloc.active as i64 - alloc.allocated as i64
    );
    field!(
        out,
        "allocator_rss_ratio",
        "{:.2}",
        ratio(alloc.resident, alloc.active)
    );
    field!(
        out,
        "allocator_rss_bytes",
        "{}",
        alloc.resident as i64 - alloc.active as i64
    );
    field!(
        out,
        "rss_overhead_ratio",
        "{:.2}",
        ratio(rss, alloc.resident)
    );
    field!(
        out,
        "rss_overhead_bytes",
        "{}",
        rss as i64 - alloc.resident as i64
    );
    field!(out, "mem_fragmentation_ratio", "{:.2}", ratio(rss, used));
    field!(
        out,
        "mem_fragmentation_bytes",
        "{}",
        rss as i64 - used as i64
    );
    // No replication, AOF or cluster bus yet: nothing is held for them, so nothing is
    // left out of the figure eviction compares with maxmemory either.
    for name in [
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
    ] {
        field!(out, name, "0");
    }
    // Every connection is a normal or pub/sub client (CLIENT LIST's `tot-mem`, summed).
    let clients_mem: usize = server
        .clients
        .all()
        .iter()
        .map(|c| crate::commands::client::memory_of(c))
        .sum();
    field!(out, "mem_clients_normal", "{clients_mem}");
    for name in ["mem_cluster_links", "mem_aof_buffer"] {
        field!(out, name, "0");
    }
    field!(out, "mem_allocator", "jemalloc-{}", jemalloc_version());
    // No defragmenter yet.
    field!(out, "active_defrag_running", "0");
    field!(
        out,
        "lazyfree_pending_objects",
        "{}",
        crate::lazyfree::pending_objects()
    );
    field!(
        out,
        "lazyfreed_objects",
        "{}",
        crate::lazyfree::freed_objects()
    );
}

fn persistence_section(server: &Server, out: &mut String) {
    let aof = server.settings.read().appendonly;
    out.push_str("# Persistence\r\n");
    // Nothing is loaded, saved or forked yet: the idle values, except that an
    // `appendonly yes` that writes nothing shows as a failed AOF write.
    for name in [
        "loading",
        "async_loading",
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ] {
        field!(out, name, "0");
    }
    field!(out, "current_fork_perc", "0.00");
    field!(out, "current_save_keys_processed", "0");
    field!(out, "current_save_keys_total", "0");
    field!(
        out,
        "rdb_changes_since_last_save",
        "{}",
        Stats::get(&server.stats.dirty)
    );
    field!(out, "rdb_bgsave_in_progress", "0");
    field!(out, "rdb_last_save_time", "{}", last_save_time(server));
    field!(out, "rdb_last_bgsave_status", "ok");
    field!(out, "rdb_last_bgsave_time_sec", "-1");
    field!(out, "rdb_current_bgsave_time_sec", "-1");
    field!(out, "rdb_saves", "0");
    field!(out, "rdb_last_cow_size", "0");
    field!(out, "rdb_last_load_keys_expired", "0");
    field!(out, "rdb_last_load_keys_loaded", "0");
    field!(out, "aof_enabled", "{}", u8::from(aof));
    field!(out, "aof_rewrite_in_progress", "0");
    field!(out, "aof_rewrite_scheduled", "0");
    field!(out, "aof_last_rewrite_time_sec", "-1");
    field!(out, "aof_current_rewrite_time_sec", "-1");
    field!(out, "aof_last_bgrewrite_status", "ok");
    field!(out, "aof_rewrites", "0");
    field!(out, "aof_rewrites_consecutive_failures", "0");
    field!(
        out,
        "aof_last_write_status",
        "{}",
        if aof { "err" } else { "ok" }
    );
    field!(out, "aof_last_cow_size", "0");
    field!(out, "module_fork_in_progress", "0");
    field!(out, "module_fork_last_cow_size", "0");
}

/// LASTSAVE and `rdb_last_save_time`: nothing has been saved, so the server's start time,
/// as Redis reports before its first save.
pub fn last_save_time(server: &Server) -> i64 {
    server.started_unix_ms / 1000
}

fn stats_section(server: &Server, out: &mut String) {
    let s = &server.stats;
    let rates = METRICS.lock().rates();
    out.push_str("# Stats\r\n");
    counter(
        out,
        "total_connections_received",
        &s.total_connections_received,
    );
    counter(out, "total_commands_processed", &s.total_commands_processed);
    field!(out, "instantaneous_ops_per_sec", "{}", rates.ops_per_sec);
    counter(out, "total_net_input_bytes", &s.net_input_bytes);
    counter(out, "total_net_output_bytes", &s.net_output_bytes);
    field!(out, "total_net_repl_input_bytes", "0");
    field!(out, "total_net_repl_output_bytes", "0");
    field!(out, "instantaneous_input_kbps", "{:.2}", rates.input_kbps);
    field!(out, "instantaneous_output_kbps", "{:.2}", rates.output_kbps);
    field!(out, "instantaneous_input_repl_kbps", "0.00");
    field!(out, "instantaneous_output_repl_kbps", "0.00");
    counter(out, "rejected_connections", &s.rejected_connections);
    for name in ["sync_full", "sync_partial_ok", "sync_partial_err"] {
        field!(out, name, "0");
    }
    counter(out, "expired_keys", &s.expired_keys);
    field!(
        out,
        "expired_stale_perc",
        "{:.2}",
        s.expired_stale_ratio() * 100.0
    );
    counter(
        out,
        "expired_time_cap_reached_count",
        &s.expired_time_cap_reached_count,
    );
    field!(
        out,
        "expire_cycle_cpu_milliseconds",
        "{}",
        Stats::get(&s.expire_cycle_time_used_us) / 1000
    );
    let eviction = &server.eviction;
    let (exceeded_total, exceeded_now) = eviction.exceeded_ms(crate::unix_us());
    field!(out, "evicted_keys", "{}", eviction.evicted_keys());
    field!(
        out,
        "evicted_clients",
        "{}",
        server.client_memory.evicted_clients()
    );
    field!(out, "total_eviction_exceeded_time", "{exceeded_total}");
    field!(out, "current_eviction_exceeded_time", "{exceeded_now}");
    // No fork, MIGRATE, replicas or defragmentation yet.
    counter(out, "keyspace_hits", &s.keyspace_hits);
    counter(out, "keyspace_misses", &s.keyspace_misses);
    let pubsub = &server.pubsub;
    field!(out, "pubsub_channels", "{}", pubsub.len(Kind::Channel));
    field!(out, "pubsub_patterns", "{}", pubsub.len(Kind::Pattern));
    field!(out, "pubsubshard_channels", "{}", pubsub.len(Kind::Shard));
    for name in [
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ] {
        field!(out, name, "0");
    }
    let (keys, items, prefixes) = server.tracking.totals();
    field!(out, "tracking_total_keys", "{keys}");
    field!(out, "tracking_total_items", "{items}");
    field!(out, "tracking_total_prefixes", "{prefixes}");
    counter(out, "unexpected_error_replies", &s.unexpected_error_replies);
    counter(out, "total_error_replies", &s.total_error_replies);
    field!(out, "dump_payload_sanitizations", "0");
    counter(out, "total_reads_processed", &s.total_reads_processed);
    counter(out, "total_writes_processed", &s.total_writes_processed);
    counter(
        out,
        "client_query_buffer_limit_disconnections",
        &s.client_qbuf_limit_disconnections,
    );
    counter(
        out,
        "client_output_buffer_limit_disconnections",
        &s.client_output_buffer_limit_disconnections,
    );
}

fn replication_section(server: &Server, out: &mut String) {
    let backlog = server
        .config
        .read()
        .get_one("repl-backlog-size")
        .unwrap_or_default();
    out.push_str("# Replication\r\n");
    field!(out, "role", "master");
    field!(out, "connected_slaves", "0");
    field!(out, "master_failover_state", "no-failover");
    field!(out, "master_replid", "{}", REPLICATION_ID.lock().current());
    field!(out, "master_replid2", "{}", "0".repeat(40));
    field!(out, "master_repl_offset", "0");
    field!(out, "second_repl_offset", "-1");
    field!(out, "repl_backlog_active", "0");
    field!(out, "repl_backlog_size", "{backlog}");
    field!(out, "repl_backlog_first_byte_offset", "0");
    field!(out, "repl_backlog_histlen", "0");
}

fn cpu_section(out: &mut String) {
    let own = rusage(libc::RUSAGE_SELF);
    let children = rusage(libc::RUSAGE_CHILDREN);
    let (main_sys, main_user) = main_thread_cpu();
    out.push_str("# CPU\r\n");
    field!(out, "used_cpu_sys", "{:.6}", own.0);
    field!(out, "used_cpu_user", "{:.6}", own.1);
    field!(out, "used_cpu_sys_children", "{:.6}", children.0);
    field!(out, "used_cpu_user_children", "{:.6}", children.1);
    field!(out, "used_cpu_sys_main_thread", "{main_sys:.6}");
    field!(out, "used_cpu_user_main_thread", "{main_user:.6}");
}

fn commandstats_section(server: &Server, out: &mut String) {
    let mut lines = Vec::new();
    for cmd in server.commands.iter() {
        stat_line(cmd.spec.name, &cmd.stats, &mut lines);
        for sub in cmd.subcommands.values() {
            stat_line(sub.spec.name, &sub.stats, &mut lines);
        }
    }
    lines.sort();
    out.push_str("# Commandstats\r\n");
    for line in lines {
        out.push_str(&line);
    }
}

/// `cmdstat_get:calls=2,usec=6,usec_per_call=3.00,rejected_calls=0,failed_calls=0`, for
/// commands that were called or refused at least once.
fn stat_line(name: &str, stats: &CommandStats, lines: &mut Vec<String>) {
    let calls = Stats::get(&stats.calls);
    let rejected = Stats::get(&stats.rejected_calls);
    let failed = Stats::get(&stats.failed_calls);
    if calls == 0 && rejected == 0 && failed == 0 {
        return;
    }
    let usec = Stats::get(&stats.usec);
    let per_call = if calls == 0 {
        0.0
    } else {
        usec as f64 / calls as f64
    };
    lines.push(format!(
        "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n"
    ));
}

fn errorstats_section(server: &Server, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    for (code, count) in server.stats.errors.lock().iter() {
        field!(out, format!("errorstat_{code}"), "count={count}");
    }
}

fn keyspace_section(server: &Server, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    let now = crate::unix_ms();
    for (i, db) in server.dbs.iter().enumerate() {
        let (keys, expires) = db.counts();
        if keys == 0 {
            continue;
        }
        let avg_ttl = average_ttl(db, now);
        field!(
            out,
            format!("db{i}"),
            "keys={keys},expires={expires},avg_ttl={avg_ttl}"
        );
    }
}

/// Keys sampled per shard to estimate `avg_ttl` (Redis estimates it from the keys its
/// active expiry cycle samples).
const TTL_SAMPLES_PER_SHARD: usize = 16;

/// The average remaining TTL in milliseconds of a sample of the keys that have one.
fn average_ttl(db: &vireo_store::Db, now_ms: i64) -> u64 {
    let (mut sum, mut n) = (0u128, 0u128);
    for shard in 0..SHARDS {
        let shard = db.lock(shard);
        shard.expires.sample(TTL_SAMPLES_PER_SHARD, |_, &at| {
            if at > now_ms {
                sum += (at - now_ms) as u128;
                n += 1;
            }
        });
    }
    sum.checked_div(n).map_or(0, |avg| avg as u64)
}

/// Redis's bytesToHuman: `967.58K`, `11.66M`, plain bytes as `512B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2}{}", UNITS[unit])
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// `Linux 6.1.0-18-amd64 x86_64`, from uname, as Redis prints it.
fn os_name() -> String {
    // SAFETY: uname only writes into the struct we pass; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return String::new();
        }
        let text = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!(
            "{} {} {}",
            text(&u.sysname),
            text(&u.release),
            text(&u.machine)
        )
    }
}

fn executable() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The jemalloc release linked in (`5.3.0`), for INFO and `--version`.
pub fn jemalloc_version() -> String {
    let full = tikv_jemalloc_ctl::version::read().unwrap_or("unknown");
    // `5.3.0-0-g54eaed1d8b56...`: Redis prints the release only.
    full.split('-').next().unwrap_or(full).to_string()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

/// Resident set size from /proc/self/statm (second field, in pages), as Redis reads it.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

fn system_memory() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    pages.max(0) as u64 * page_size()
}

/// (system, user) CPU seconds from getrusage.
fn rusage(who: libc::c_int) -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut usage) != 0 {
            return (0.0, 0.0);
        }
        usage
    };
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (secs(usage.ru_stime), secs(usage.ru_utime))
}

/// (system, user) CPU seconds of the process's main thread — the one that runs the
/// server loop — from /proc (getrusage can only measure the calling thread).
fn main_thread_cpu() -> (f64, f64) {
    let pid = std::process::id();
    let stat = std::fs::read_to_string(format!("/proc/self/task/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> f64 { fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0.0) };
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(12) / hz, ticks(11) / hz)
}

/// The replication ID this server would offer replicas (`master_replid`).
pub struct ReplicationId(Option<String>);

impl ReplicationId {
    pub fn current(&mut self) -> String {
        self.0.get_or_insert_with(|| crate::random_hex(40)).clone()
    }

    /// DEBUG CHANGE-REPL-ID.
    pub fn change(&mut self) {
        self.0 = Some(crate::random_hex(40));
    }
}

/// One server per process, so its replication ID lives here until the replication
/// module owns it.
pub static REPLICATION_ID: Mutex<ReplicationId> = Mutex::new(ReplicationId(None));

/// How many samples the instantaneous rates average over, and how often one is taken
/// (Redis: 16 samples, every 100 ms).
const METRIC_SAMPLES: usize = 16;
const METRIC_PERIOD_MS: i64 = 100;

/// The instantaneous rates, averaged over the last samples.
pub struct Rates {
    pub ops_per_sec: u64,
    pub input_kbps: f64,
    pub output_kbps: f64,
}

/// Counter readings taken by [`sample_ops`].
pub struct Metrics {
    last_ms: i64,
    last: [u64; 3],
    samples: [[f64; 3]; METRIC_SAMPLES],
    next: usize,
}

impl Metrics {
    fn rates(&self) -> Rates {
        let mean =
            |i: usize| self.samples.iter().map(|s| s[i]).sum::<f64>() / METRIC_SAMPLES as f64;
        Rates {
            ops_per_sec: mean(0).round() as u64,
            input_kbps: mean(1) / 1024.0,
            output_kbps: mean(2) / 1024.0,
        }
    }
}

/// One server per process, and only the cron writes it.
static METRICS: Mutex<Metrics> = Mutex::new(Metrics {
    last_ms: 0,
    last: [0; 3],
    samples: [[0.0; 3]; METRIC_SAMPLES],
    next: 0,
});

/// Takes a sample of the command and network counters for the instantaneous rates, at
/// most every 100 ms, and updates the memory peak. Called by the cron on every tick.
pub fn sample_ops(server: &Server) {
    let now = crate::unix_ms();
    let current = [
        Stats::get(&server.stats.total_commands_processed),
        Stats::get(&server.stats.net_input_bytes),
        Stats::get(&server.stats.net_output_bytes),
    ];
    let mut m = METRICS.lock();
    let elapsed = now - m.last_ms;
    if elapsed < METRIC_PERIOD_MS {
        return;
    }
    if m.last_ms != 0 {
        let mut sample = [0.0; 3];
        for (i, s) in sample.iter_mut().enumerate() {
            // A counter that went down was reset (CONFIG RESETSTAT): no rate this time.
            let delta = current[i].saturating_sub(m.last[i]);
            *s = delta as f64 * 1000.0 / elapsed as f64;
        }
        let next = m.next;
        m.samples[next] = sample;
        m.next = (next + 1) % METRIC_SAMPLES;
    }
    m.last_ms = now;
    m.last = current;
    drop(m);
    used_memory();
}

/// CONFIG RESETSTAT: the memory peak restarts from the current usage and the rates from
/// zero.
pub fn reset() {
    PEAK_MEMORY.store(0, Ordering::Relaxed);
    used_memory();
    let mut m = METRICS.lock();
    m.samples = [[0.0; 3]; METRIC_SAMPLES];
    m.last_ms = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_matches_redis() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1023), "1023B");
        assert_eq!(human(990800), "967.58K");
        assert_eq!(human(12226560), "11.66M");
        assert_eq!(human(25276063744), "23.54G");
    }

    #[test]
    fn sections_follow_redis_selection_rules() {
        let mut wanted = [false; SECTIONS.len()];
        select(&mut wanted, b"DEFAULT");
        let names: Vec<&str> = SECTIONS
            .iter()
            .zip(wanted)
            .filter(|(_, w)| *w)
            .map(|((n, _, _), _)| *n)
            .collect();
        assert!(!names.contains(&"commandstats"));
        assert!(names.contains(&"modules"));
        let mut wanted = [false; SECTIONS.len()];
        select(&mut wanted, b"nosuch");
        assert!(wanted.iter().all(|w| !w));
        select(&mut wanted, b"everything");
        assert!(wanted.iter().all(|w| *w));
    }
}
