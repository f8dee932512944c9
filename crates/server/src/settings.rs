//! The configuration values the server itself acts on, as typed fields. Filled from the
//! `vireo_config::Config` at startup and again after every CONFIG SET, so the hot paths
//! read a plain struct instead of the directive table.

use vireo_config::{BufferLimit, Config, LogLevel, Permission, Value};

#[derive(Clone, Debug)]
pub struct Settings {
    pub port: u16,
    pub bind: Vec<String>,
    pub unixsocket: Option<String>,
    pub unixsocketperm: u32,
    pub tcp_backlog: i32,
    pub tcp_keepalive: u64,
    /// Close clients idle for this many seconds; 0 = never.
    pub timeout: u64,
    pub maxclients: usize,
    pub protected_mode: bool,
    pub requirepass: Option<Vec<u8>>,
    pub databases: usize,
    pub hz: u32,
    /// `dynamic-hz`: raise the cron frequency with the number of clients (see cron.rs).
    pub dynamic_hz: bool,
    pub active_expire_effort: u32,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: usize,
    pub enable_debug_command: Permission,
    pub enable_module_command: Permission,
    pub io_threads: usize,
    pub pidfile: Option<String>,
    pub logfile: String,
    pub loglevel: LogLevel,
    pub daemonize: bool,
    pub dir: String,
    pub appendonly: bool,
    /// `notify-keyspace-events` as flag bits (`crate::notify::class`).
    pub notify_keyspace_events: u32,
    /// `lazyfree-lazy-expire`: expired keys are freed in the background and propagated
    /// as UNLINK.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del`: keys a command deletes as a side effect are freed in
    /// the background, and such a deletion is propagated as UNLINK (SPOP of a whole set).
    pub lazyfree_lazy_server_del: bool,
    pub encodings: Encodings,
    /// `client-output-buffer-limit` for the classes Vireo has (no replicas yet).
    pub output_limits: OutputLimits,
    /// `tracking-table-max-keys`: client-side caching's table limit, 0 for none.
    pub tracking_table_max_keys: u64,
    /// `activerehashing`: the cron helps rehashes along (`cron::rehash_tick`).
    pub activerehashing: bool,
    /// `maxmemory` in bytes, 0 for no limit.
    pub maxmemory: u64,
    /// `maxmemory-clients`: bytes, or a percentage of `maxmemory` stored negated; 0 for no
    /// limit (`client_evict`).
    pub maxmemory_clients: i64,
    pub maxmemory_policy: crate::evict::Policy,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// `lazyfree-lazy-eviction`: evicted values are freed in the background, and an
    /// eviction propagates as UNLINK.
    pub lazyfree_lazy_eviction: bool,
}

/// `client-output-buffer-limit` of the normal and pubsub classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimits {
    pub normal: BufferLimit,
    pub pubsub: BufferLimit,
}

impl OutputLimits {
    pub fn from_config(c: &Config) -> OutputLimits {
        let Some(Value::ClientOutputBufferLimit([normal, _replica, pubsub])) =
            c.value("client-output-buffer-limit")
        else {
            unreachable!("client-output-buffer-limit holds buffer limits")
        };
        OutputLimits {
            normal: *normal,
            pubsub: *pubsub,
        }
    }
}

/// The thresholds at which collections leave their compact encodings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encodings {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    /// Positive: entries per quicklist node; -1..-5: node size 4 KB..64 KB.
    pub list_max_listpack_size: i32,
    pub list_compress_depth: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
}

impl Default for Encodings {
    fn default() -> Self {
        Encodings::from_config(&Config::default())
    }
}

impl Encodings {
    pub fn from_config(c: &Config) -> Encodings {
        let size = |name: &str| c.integer(name).clamp(0, isize::MAX as i64) as usize;
        Encodings {
            hash_max_listpack_entries: size("hash-max-listpack-entries"),
            hash_max_listpack_value: size("hash-max-listpack-value"),
            list_max_listpack_size: c.integer("list-max-listpack-size") as i32,
            list_compress_depth: size("list-compress-depth"),
            set_max_intset_entries: size("set-max-intset-entries"),
            set_max_listpack_entries: size("set-max-listpack-entries"),
            set_max_listpack_value: size("set-max-listpack-value"),
            zset_max_listpack_entries: size("zset-max-listpack-entries"),
            zset_max_listpack_value: size("zset-max-listpack-value"),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            unixsocket: None,
            unixsocketperm: 0,
            tcp_backlog: 511,
            tcp_keepalive: 300,
            timeout: 0,
            maxclients: 10000,
            protected_mode: true,
            requirepass: None,
            databases: 16,
            hz: 10,
            dynamic_hz: true,
            active_expire_effort: 1,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            enable_debug_command: Permission::No,
            enable_module_command: Permission::No,
            io_threads: 0,
            pidfile: None,
            logfile: String::new(),
            loglevel: LogLevel::Notice,
            daemonize: false,
            dir: ".".into(),
            appendonly: false,
            notify_keyspace_events: 0,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            encodings: Encodings::default(),
            output_limits: OutputLimits::from_config(&Config::default()),
            tracking_table_max_keys: 1_000_000,
            activerehashing: true,
            maxmemory: 0,
            maxmemory_clients: 0,
            maxmemory_policy: crate::evict::Policy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            lazyfree_lazy_eviction: false,
        }
    }
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            port: c.port(),
            bind: c.bind().to_vec(),
            unixsocket: c.unixsocket().map(str::to_string),
            unixsocketperm: c.unixsocketperm(),
            tcp_backlog: c.tcp_backlog() as i32,
            tcp_keepalive: c.tcp_keepalive(),
            timeout: c.timeout(),
            maxclients: c.maxclients() as usize,
            protected_mode: c.protected_mode(),
            requirepass: c.requirepass().map(<[u8]>::to_vec),
            databases: c.databases(),
            hz: c.hz(),
            dynamic_hz: c.dynamic_hz(),
            active_expire_effort: c.active_expire_effort(),
            proto_max_bulk_len: c.proto_max_bulk_len() as i64,
            client_query_buffer_limit: c.client_query_buffer_limit() as usize,
            enable_debug_command: c.enable_debug_command(),
            enable_module_command: match c.get_one("enable-module-command").as_deref() {
                Some("yes") => Permission::Yes,
                Some("local") => Permission::Local,
                _ => Permission::No,
            },
            io_threads: c.io_threads(),
            pidfile: c.pidfile().map(str::to_string),
            logfile: c.logfile().to_string(),
            loglevel: c.loglevel(),
            daemonize: c.daemonize(),
            dir: c.dir().to_string_lossy().into_owned(),
            appendonly: c.appendonly(),
            notify_keyspace_events: match c.value("notify-keyspace-events") {
                Some(Value::NotifyKeyspaceEvents(flags)) => *flags,
                _ => unreachable!("notify-keyspace-events holds flags"),
            },
            lazyfree_lazy_expire: c.get_one("lazyfree-lazy-expire").as_deref() == Some("yes"),
            lazyfree_lazy_server_del: c.get_one("lazyfree-lazy-server-del").as_deref()
                == Some("yes"),
            encodings: Encodings::from_config(c),
            output_limits: OutputLimits::from_config(c),
            tracking_table_max_keys: c.integer("tracking-table-max-keys").max(0) as u64,
            maxmemory: match c.value("maxmemory") {
                Some(Value::U64(bytes)) => *bytes,
                _ => unreachable!("maxmemory holds a byte count"),
            },
            maxmemory_clients: c.integer("maxmemory-clients"),
            activerehashing: c.get_one("activerehashing").as_deref() == Some("yes"),
            maxmemory_policy: crate::evict::Policy::parse(
                &c.get_one("maxmemory-policy").unwrap_or_default(),
            ),
            maxmemory_samples: small(c.integer("maxmemory-samples")),
            maxmemory_eviction_tenacity: small(c.integer("maxmemory-eviction-tenacity")),
            lfu_log_factor: small(c.integer("lfu-log-factor")),
            lfu_decay_time: small(c.integer("lfu-decay-time")),
            lazyfree_lazy_eviction: c.get_one("lazyfree-lazy-eviction").as_deref() == Some("yes"),
        }
    }

    pub fn protected_command(&self, directive: &str) -> Permission {
        match directive {
            "enable-module-command" => self.enable_module_command,
            _ => self.enable_debug_command,
        }
    }
}

/// A non-negative directive that fits in 32 bits (their ranges say so).
fn small(n: i64) -> u32 {
    n.clamp(0, u32::MAX as i64) as u32
}
