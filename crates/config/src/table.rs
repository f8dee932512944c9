//! The directive table: every configuration directive Redis 7.2 knows, as data.
//!
//! One row says everything about a directive: its name and old aliases, how its value is
//! parsed ([`Kind`]), its default exactly as `CONFIG GET` prints it, its [`Flags`], and whether
//! Vireo acts on it yet ([`Status`]). Loading, CONFIG GET/SET and CONFIG REWRITE all read
//! this one table; there is no per-directive code anywhere else except for typed accessors.

use Kind::*;
use Status::*;

/// How a directive's arguments are parsed and printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// A decimal integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// An integer accepted in `min..=max`, then clamped into `lo..=hi` (as `hz` is).
    IntClamped {
        min: i64,
        max: i64,
        lo: i64,
        hi: i64,
    },
    /// A byte count with an optional unit (`b`, `k`, `kb`, `m`, `mb`, `g`, `gb`) in `min..=max`.
    Memory { min: i64, max: i64 },
    /// A byte count that may use the whole unsigned 64-bit range (`maxmemory`).
    MemoryU64,
    /// A byte count, or a percentage such as `10%` (`maxmemory-clients`).
    MemoryOrPercent,
    /// One of a fixed set of words, compared case-insensitively.
    Enum(&'static [&'static str]),
    /// Any string.
    Str,
    /// A cluster hostname: letters, digits, `-` and `.` only.
    Hostname,
    /// An octal permission mask (`unixsocketperm`).
    Octal,
    /// A directory that must exist; stored as an absolute path.
    Dir,
    /// `save <seconds> <changes> [...]`, or `save ""` for none.
    Save,
    /// A list of addresses (`bind`).
    Bind,
    /// `<class> <hard> <soft> <soft seconds>` per client class.
    ClientOutputBufferLimit,
    /// Three OOM score adjustments in -2000..=2000.
    OomScoreAdjValues,
    /// Keyspace notification classes (`KEA`, `Ex`, ...).
    NotifyKeyspaceEvents,
    /// Percentiles in 0..=100 (`latency-tracking-info-percentiles`).
    Percentiles,
    /// `<host> <port>` or `no one`.
    ReplicaOf,
}

impl Kind {
    /// Directives whose value is several words: on the command line or in CONFIG SET a
    /// single argument holding blanks is split into words.
    pub fn is_multi_arg(self) -> bool {
        matches!(
            self,
            Save | Bind | ClientOutputBufferLimit | OomScoreAdjValues | Percentiles | ReplicaOf
        )
    }
}

/// Flags of a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// Can only be set at startup, never by CONFIG SET.
    pub const IMMUTABLE: Flags = Flags(1);
    /// The value is a secret: never log it.
    pub const SENSITIVE: Flags = Flags(2);
    /// CONFIG SET needs `enable-protected-configs`.
    pub const PROTECTED: Flags = Flags(4);
    /// A debugging knob: CONFIG GET shows it only when asked for by its exact name.
    pub const HIDDEN: Flags = Flags(8);

    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

const IMM: Flags = Flags::IMMUTABLE;
const SENS: Flags = Flags::SENSITIVE;
const PROT: Flags = Flags::PROTECTED;
const HID: Flags = Flags::HIDDEN;
const NO: Flags = Flags::NONE;

/// Whether Vireo acts on a directive yet. A `NotYet` directive is accepted and kept (so
/// existing redis.conf files load and CONFIG GET/SET/REWRITE round-trip it), and the server
/// warns at startup when one is set to something other than its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Implemented,
    NotYet,
}

/// One configuration directive.
#[derive(Debug)]
pub struct Directive {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// The default, formatted as CONFIG GET prints it. `dir`'s default is the working
    /// directory, filled in at load time.
    pub default: &'static str,
    pub flags: Flags,
    pub status: Status,
}

impl Directive {
    pub fn is(&self, flag: Flags) -> bool {
        self.flags.contains(flag)
    }
}

const I32: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);
const INT_MAX: i64 = i32::MAX as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LL_MAX: i64 = i64::MAX;

const fn int(min: i64, max: i64) -> Kind {
    Int { min, max }
}

const fn mem(min: i64, max: i64) -> Kind {
    Memory { min, max }
}

const fn d(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    default: &'static str,
    flags: Flags,
    status: Status,
) -> Directive {
    Directive {
        name,
        aliases,
        kind,
        default,
        flags,
        status,
    }
}

const YES_NO_LOCAL: &[&str] = &["no", "yes", "local"];
const SHUTDOWN_ON_SIG: &[&str] = &["default", "save", "nosave", "now", "force"];

/// Every directive, in the order CONFIG REWRITE appends new ones.
#[rustfmt::skip]
pub static DIRECTIVES: &[Directive] = &[
    // Network
    d("bind", &[], Bind, "* -::*", NO, Implemented),
    d("bind-source-addr", &[], Str, "", NO, NotYet),
    d("protected-mode", &[], Bool, "yes", NO, Implemented),
    d("port", &[], int(0, 65535), "6379", NO, Implemented),
    d("tcp-backlog", &[], int(0, INT_MAX), "511", IMM, Implemented),
    d("unixsocket", &[], Str, "", IMM, Implemented),
    d("unixsocketperm", &[], Octal, "0", IMM, Implemented),
    d("socket-mark-id", &[], int(0, UINT_MAX), "0", IMM, NotYet),
    d("timeout", &[], int(0, INT_MAX), "0", NO, Implemented),
    d("tcp-keepalive", &[], int(0, INT_MAX), "300", NO, Implemented),
    // TLS
    d("tls-port", &[], int(0, 65535), "0", NO, NotYet),
    d("tls-cert-file", &[], Str, "", NO, NotYet),
    d("tls-key-file", &[], Str, "", NO, NotYet),
    d("tls-key-file-pass", &[], Str, "", SENS, NotYet),
    d("tls-client-cert-file", &[], Str, "", NO, NotYet),
    d("tls-client-key-file", &[], Str, "", NO, NotYet),
    d("tls-client-key-file-pass", &[], Str, "", SENS, NotYet),
    d("tls-dh-params-file", &[], Str, "", NO, NotYet),
    d("tls-ca-cert-file", &[], Str, "", NO, NotYet),
    d("tls-ca-cert-dir", &[], Str, "", NO, NotYet),
    d("tls-auth-clients", &[], Enum(&["no", "yes", "optional"]), "yes", NO, NotYet),
    d("tls-replication", &[], Bool, "no", NO, NotYet),
    d("tls-cluster", &[], Bool, "no", NO, NotYet),
    d("tls-protocols", &[], Str, "", NO, NotYet),
    d("tls-ciphers", &[], Str, "", NO, NotYet),
    d("tls-ciphersuites", &[], Str, "", NO, NotYet),
    d("tls-prefer-server-ciphers", &[], Bool, "no", NO, NotYet),
    d("tls-session-caching", &[], Bool, "yes", NO, NotYet),
    d("tls-session-cache-size", &[], int(0, INT_MAX), "20480", NO, NotYet),
    d("tls-session-cache-timeout", &[], int(0, INT_MAX), "300", NO, NotYet),
    // General
    d("daemonize", &[], Bool, "no", IMM, Implemented),
    d("supervised", &[], Enum(&["upstart", "systemd", "auto", "no"]), "no", IMM, NotYet),
    d("pidfile", &[], Str, "", IMM, Implemented),
    d("loglevel", &[], Enum(&["debug", "verbose", "notice", "warning", "nothing"]), "notice", NO, Implemented),
    d("logfile", &[], Str, "", IMM, Implemented),
    d("syslog-enabled", &[], Bool, "no", IMM, NotYet),
    d("syslog-ident", &[], Str, "redis", IMM, NotYet),
    d("syslog-facility", &[], Enum(&["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]), "local0", IMM, NotYet),
    d("crash-log-enabled", &[], Bool, "yes", NO, NotYet),
    d("crash-memcheck-enabled", &[], Bool, "yes", NO, NotYet),
    d("databases", &[], int(1, INT_MAX), "16", IMM, Implemented),
    d("always-show-logo", &[], Bool, "no", IMM, NotYet),
    d("set-proc-title", &[], Bool, "yes", IMM, NotYet),
    d("proc-title-template", &[], Str, "{title} {listen-addr} {server-mode}", NO, NotYet),
    d("locale-collate", &[], Str, "", NO, NotYet),
    // Snapshotting
    d("save", &[], Save, "3600 1 300 100 60 10000", NO, Implemented),
    d("stop-writes-on-bgsave-error", &[], Bool, "yes", NO, NotYet),
    d("rdbcompression", &[], Bool, "yes", NO, NotYet),
    d("rdbchecksum", &[], Bool, "yes", IMM, NotYet),
    d("sanitize-dump-payload", &[], Enum(&["no", "yes", "clients"]), "no", NO, NotYet),
    d("dbfilename", &[], Str, "dump.rdb", PROT, NotYet),
    d("rdb-del-sync-files", &[], Bool, "no", NO, NotYet),
    d("dir", &[], Dir, "", PROT, Implemented),
    // Replication
    d("replicaof", &["slaveof"], ReplicaOf, "", IMM, NotYet),
    d("masterauth", &[], Str, "", SENS, NotYet),
    d("masteruser", &[], Str, "", SENS, NotYet),
    d("replica-serve-stale-data", &["slave-serve-stale-data"], Bool, "yes", NO, NotYet),
    d("replica-read-only", &["slave-read-only"], Bool, "yes", NO, NotYet),
    d("repl-diskless-sync", &[], Bool, "yes", NO, NotYet),
    d("repl-diskless-sync-delay", &[], int(0, INT_MAX), "5", NO, NotYet),
    d("repl-diskless-sync-max-replicas", &[], int(0, INT_MAX), "0", NO, NotYet),
    d("repl-diskless-load", &[], Enum(&["disabled", "on-empty-db", "swapdb"]), "disabled", NO, NotYet),
    d("repl-ping-replica-period", &["repl-ping-slave-period"], int(1, INT_MAX), "10", NO, NotYet),
    d("repl-timeout", &[], int(1, INT_MAX), "60", NO, NotYet),
    d("repl-disable-tcp-nodelay", &[], Bool, "no", NO, NotYet),
    d("repl-backlog-size", &[], mem(1, LL_MAX), "1048576", NO, NotYet),
    d("repl-backlog-ttl", &[], int(0, LL_MAX), "3600", NO, NotYet),
    d("replica-priority", &["slave-priority"], int(0, INT_MAX), "100", NO, NotYet),
    d("propagation-error-behavior", &[], Enum(&["ignore", "panic", "panic-on-replicas"]), "ignore", NO, NotYet),
    d("replica-ignore-disk-write-errors", &[], Bool, "no", NO, NotYet),
    d("replica-announced", &[], Bool, "yes", NO, NotYet),
    d("min-replicas-to-write", &["min-slaves-to-write"], int(0, INT_MAX), "0", NO, NotYet),
    d("min-replicas-max-lag", &["min-slaves-max-lag"], int(0, INT_MAX), "10", NO, NotYet),
    d("replica-announce-ip", &["slave-announce-ip"], Str, "", NO, NotYet),
    d("replica-announce-port", &["slave-announce-port"], int(0, 65535), "0", NO, NotYet),
    // Keys tracking
    d("tracking-table-max-keys", &[], int(0, LL_MAX), "1000000", NO, Implemented),
    // Security
    d("acllog-max-len", &[], int(0, LL_MAX), "128", NO, NotYet),
    d("aclfile", &[], Str, "", IMM, NotYet),
    d("requirepass", &[], Str, "", SENS, Implemented),
    d("acl-pubsub-default", &[], Enum(&["allchannels", "resetchannels"]), "resetchannels", NO, NotYet),
    // Clients and memory
    d("maxclients", &[], int(1, UINT_MAX), "10000", NO, Implemented),
    d("maxmemory", &[], MemoryU64, "0", NO, Implemented),
    d("maxmemory-policy", &[], Enum(&["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]), "noeviction", NO, Implemented),
    d("maxmemory-samples", &[], int(1, INT_MAX), "5", NO, Implemented),
    d("maxmemory-eviction-tenacity", &[], int(0, 100), "10", NO, Implemented),
    d("replica-ignore-maxmemory", &["slave-ignore-maxmemory"], Bool, "yes", NO, NotYet),
    d("active-expire-effort", &[], int(1, 10), "1", NO, Implemented),
    // Lazy freeing
    d("lazyfree-lazy-eviction", &[], Bool, "no", NO, Implemented),
    d("lazyfree-lazy-expire", &[], Bool, "no", NO, Implemented),
    d("lazyfree-lazy-server-del", &[], Bool, "no", NO, Implemented),
    d("replica-lazy-flush", &["slave-lazy-flush"], Bool, "no", NO, NotYet),
    d("lazyfree-lazy-user-del", &[], Bool, "no", NO, Implemented),
    d("lazyfree-lazy-user-flush", &[], Bool, "no", NO, Implemented),
    // Threads and kernel
    d("io-threads", &[], int(1, 128), "1", IMM, Implemented),
    d("io-threads-do-reads", &[], Bool, "no", IMM, NotYet),
    d("oom-score-adj", &[], Enum(&["no", "yes", "relative", "absolute"]), "no", NO, NotYet),
    d("oom-score-adj-values", &[], OomScoreAdjValues, "0 200 800", NO, NotYet),
    d("disable-thp", &[], Bool, "yes", IMM, Implemented),
    // Append only file
    d("appendonly", &[], Bool, "no", NO, Implemented),
    d("appendfilename", &[], Str, "appendonly.aof", IMM, NotYet),
    d("appenddirname", &[], Str, "appendonlydir", IMM, NotYet),
    d("appendfsync", &[], Enum(&["everysec", "always", "no"]), "everysec", NO, NotYet),
    d("no-appendfsync-on-rewrite", &[], Bool, "no", NO, NotYet),
    d("auto-aof-rewrite-percentage", &[], int(0, INT_MAX), "100", NO, NotYet),
    d("auto-aof-rewrite-min-size", &[], mem(0, LL_MAX), "67108864", NO, NotYet),
    d("aof-load-truncated", &[], Bool, "yes", NO, NotYet),
    d("aof-use-rdb-preamble", &[], Bool, "yes", NO, NotYet),
    d("aof-timestamp-enabled", &[], Bool, "no", NO, NotYet),
    d("aof-disable-auto-gc", &[], Bool, "no", NO, NotYet),
    // Shutdown
    d("shutdown-timeout", &[], int(0, INT_MAX), "10", NO, NotYet),
    d("shutdown-on-sigint", &[], Enum(SHUTDOWN_ON_SIG), "default", NO, NotYet),
    d("shutdown-on-sigterm", &[], Enum(SHUTDOWN_ON_SIG), "default", NO, NotYet),
    // Long blocking operations
    d("busy-reply-threshold", &["lua-time-limit"], int(0, LL_MAX), "5000", NO, NotYet),
    // Cluster
    d("cluster-enabled", &[], Bool, "no", IMM, NotYet),
    d("cluster-config-file", &[], Str, "nodes.conf", IMM, NotYet),
    d("cluster-node-timeout", &[], int(0, LL_MAX), "15000", NO, NotYet),
    d("cluster-port", &[], int(0, 65535), "0", IMM, NotYet),
    d("cluster-replica-validity-factor", &["cluster-slave-validity-factor"], int(0, INT_MAX), "10", NO, NotYet),
    d("cluster-migration-barrier", &[], int(0, INT_MAX), "1", NO, NotYet),
    d("cluster-allow-replica-migration", &[], Bool, "yes", NO, NotYet),
    d("cluster-require-full-coverage", &[], Bool, "yes", NO, NotYet),
    d("cluster-replica-no-failover", &["cluster-slave-no-failover"], Bool, "no", NO, NotYet),
    d("cluster-allow-reads-when-down", &[], Bool, "no", NO, NotYet),
    d("cluster-allow-pubsubshard-when-down", &[], Bool, "yes", NO, NotYet),
    d("cluster-link-sendbuf-limit", &[], MemoryU64, "0", NO, NotYet),
    d("cluster-announce-hostname", &[], Hostname, "", NO, NotYet),
    d("cluster-announce-human-nodename", &[], Hostname, "", NO, NotYet),
    d("cluster-preferred-endpoint-type", &[], Enum(&["ip", "hostname", "unknown-endpoint"]), "ip", NO, NotYet),
    d("cluster-announce-ip", &[], Str, "", NO, NotYet),
    d("cluster-announce-port", &[], int(0, 65535), "0", NO, NotYet),
    d("cluster-announce-bus-port", &[], int(0, 65535), "0", NO, NotYet),
    d("cluster-announce-tls-port", &[], int(0, 65535), "0", NO, NotYet),
    // Slow log, latency monitor, notifications
    d("slowlog-log-slower-than", &[], int(-1, LL_MAX), "10000", NO, NotYet),
    d("slowlog-max-len", &[], int(0, LL_MAX), "128", NO, NotYet),
    d("latency-monitor-threshold", &[], int(0, LL_MAX), "0", NO, NotYet),
    d("latency-tracking", &[], Bool, "yes", NO, NotYet),
    d("latency-tracking-info-percentiles", &[], Percentiles, "50 99 99.9", NO, NotYet),
    d("notify-keyspace-events", &[], NotifyKeyspaceEvents, "", NO, Implemented),
    // Advanced
    d("hash-max-listpack-entries", &["hash-max-ziplist-entries"], int(0, LL_MAX), "512", NO, Implemented),
    d("hash-max-listpack-value", &["hash-max-ziplist-value"], mem(0, LL_MAX), "64", NO, Implemented),
    d("list-max-listpack-size", &["list-max-ziplist-size"], int(I32.0, I32.1), "-2", NO, Implemented),
    d("list-compress-depth", &[], int(0, INT_MAX), "0", NO, Implemented),
    d("set-max-intset-entries", &[], int(0, LL_MAX), "512", NO, Implemented),
    d("set-max-listpack-entries", &[], int(0, LL_MAX), "128", NO, Implemented),
    d("set-max-listpack-value", &[], mem(0, LL_MAX), "64", NO, Implemented),
    d("zset-max-listpack-entries", &["zset-max-ziplist-entries"], int(0, LL_MAX), "128", NO, Implemented),
    d("zset-max-listpack-value", &["zset-max-ziplist-value"], mem(0, LL_MAX), "64", NO, Implemented),
    d("hll-sparse-max-bytes", &[], mem(0, LL_MAX), "3000", NO, NotYet),
    d("stream-node-max-bytes", &[], mem(0, LL_MAX), "4096", NO, NotYet),
    d("stream-node-max-entries", &[], int(0, LL_MAX), "100", NO, NotYet),
    d("activerehashing", &[], Bool, "yes", NO, Implemented),
    d("client-output-buffer-limit", &[], ClientOutputBufferLimit, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", NO, Implemented),
    d("client-query-buffer-limit", &[], mem(1024 * 1024, LL_MAX), "1073741824", NO, Implemented),
    d("maxmemory-clients", &[], MemoryOrPercent, "0", NO, Implemented),
    d("proto-max-bulk-len", &[], mem(1024 * 1024, LL_MAX), "536870912", NO, Implemented),
    d("hz", &[], IntClamped { min: 0, max: INT_MAX, lo: 1, hi: 500 }, "10", NO, Implemented),
    d("dynamic-hz", &[], Bool, "yes", NO, Implemented),
    d("aof-rewrite-incremental-fsync", &[], Bool, "yes", NO, NotYet),
    d("rdb-save-incremental-fsync", &[], Bool, "yes", NO, NotYet),
    d("lfu-log-factor", &[], int(0, INT_MAX), "10", NO, Implemented),
    d("lfu-decay-time", &[], int(0, INT_MAX), "1", NO, Implemented),
    d("activedefrag", &[], Bool, "no", NO, NotYet),
    d("active-defrag-ignore-bytes", &[], mem(1, LL_MAX), "104857600", NO, NotYet),
    d("active-defrag-threshold-lower", &[], int(0, 1000), "10", NO, NotYet),
    d("active-defrag-threshold-upper", &[], int(0, 1000), "100", NO, NotYet),
    d("active-defrag-cycle-min", &[], int(1, 99), "1", NO, NotYet),
    d("active-defrag-cycle-max", &[], int(1, 99), "25", NO, NotYet),
    d("active-defrag-max-scan-fields", &[], int(1, LL_MAX), "1000", NO, NotYet),
    d("jemalloc-bg-thread", &[], Bool, "yes", NO, NotYet),
    d("server_cpulist", &[], Str, "", IMM, NotYet),
    d("bio_cpulist", &[], Str, "", IMM, NotYet),
    d("aof_rewrite_cpulist", &[], Str, "", IMM, NotYet),
    d("bgsave_cpulist", &[], Str, "", IMM, NotYet),
    d("ignore-warnings", &[], Str, "", NO, NotYet),
    // Debugging and modules
    d("enable-protected-configs", &[], Enum(YES_NO_LOCAL), "no", IMM, NotYet),
    d("enable-debug-command", &[], Enum(YES_NO_LOCAL), "no", IMM, Implemented),
    d("enable-module-command", &[], Enum(YES_NO_LOCAL), "no", IMM, NotYet),
    d("key-load-delay", &[], int(I32.0, I32.1), "0", HID, NotYet),
    d("rdb-key-save-delay", &[], int(I32.0, I32.1), "0", HID, NotYet),
    d("loading-process-events-interval-bytes", &[], int(1024, INT_MAX), "2097152", HID, NotYet),
    d("watchdog-period", &[], int(0, INT_MAX), "0", HID, NotYet),
];

/// Directives Redis still accepts in a config file (with exactly one argument) and ignores.
pub const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Finds a directive by name or alias, case-insensitively; returns its index in [`DIRECTIVES`].
pub fn lookup(name: &[u8]) -> Option<usize> {
    DIRECTIVES.iter().position(|d| {
        d.name.as_bytes().eq_ignore_ascii_case(name)
            || d.aliases
                .iter()
                .any(|a| a.as_bytes().eq_ignore_ascii_case(name))
    })
}

/// The index of a directive known at compile time (used by the typed accessors).
pub const fn index_of(name: &str) -> usize {
    let mut i = 0;
    while i < DIRECTIVES.len() {
        if str_eq(DIRECTIVES[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("no such directive in the table");
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for d in DIRECTIVES {
            for n in std::iter::once(&d.name).chain(d.aliases) {
                assert!(seen.insert(*n), "duplicate {n}");
                assert_eq!(n.to_ascii_lowercase(), *n);
            }
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_aliases() {
        assert_eq!(DIRECTIVES[lookup(b"PORT").unwrap()].name, "port");
        assert_eq!(DIRECTIVES[lookup(b"slaveof").unwrap()].name, "replicaof");
        assert_eq!(
            DIRECTIVES[lookup(b"list-max-ziplist-size").unwrap()].name,
            "list-max-listpack-size"
        );
        assert_eq!(lookup(b"foo"), None);
    }
}
