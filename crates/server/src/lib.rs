//! The Vireo server: networking, per-client state, command dispatch and the server-wide
//! state commands run against. `run` is the whole life of a server process.

pub mod blocking;
pub mod client;
pub mod client_evict;
pub mod clock;
pub mod commands;
pub mod cron;
pub mod errors;
pub mod evict;
pub mod exec;
pub mod gate;
pub mod info;
pub mod keyspace;
pub mod lazyfree;
pub mod local;
pub mod log;
pub mod monitor;
pub mod net;
pub mod notify;
pub mod pause;
pub mod propagate;
pub mod pubsub;
pub mod settings;
pub mod stats;
pub mod tracking;

use client::Clients;
use commands::Table;
use parking_lot::RwLock;
use settings::Settings;
use stats::Stats;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use vireo_config::Config;
use vireo_store::Db;

/// Redis version reported to clients, which gate features on it.
pub const REDIS_VERSION: &str = "7.2.4";
pub const VIREO_VERSION: &str = env!("CARGO_PKG_VERSION");

/// State shared by every connection.
pub struct Server {
    /// The full configuration (CONFIG GET/SET/REWRITE work on it)...
    pub config: RwLock<Config>,
    /// ...and the values the server acts on, refreshed after every change.
    pub settings: RwLock<Settings>,
    /// Bumped by every change of `settings`, so that connections can keep the few they
    /// consult on every request and re-read them only after a change.
    pub settings_epoch: AtomicU64,
    pub dbs: Box<[Db]>,
    pub commands: Table,
    pub clients: Clients,
    pub stats: Stats,
    /// Clients blocked on keys (BLPOP and friends): counters and deferred ready keys.
    pub blocking: blocking::Blocking,
    /// Subscriptions and message delivery.
    pub pubsub: pubsub::PubSub,
    /// WATCH counters for INFO.
    pub watches: commands::multi::WatchStats,
    /// Keyspace notifications (`notify-keyspace-events`).
    pub notifications: notify::Notifications,
    /// The stream of writes for the AOF and replicas.
    pub propagation: propagate::Propagation,
    /// Exclusive mode for transactions that cannot lock their shards up front.
    pub gate: gate::Gate,
    /// Connections in MONITOR mode.
    pub monitors: monitor::Monitors,
    /// CLIENT PAUSE.
    pub pause: pause::Pause,
    /// Client-side caching: the tracking table and BCAST prefixes.
    pub tracking: tracking::Tracking,
    /// maxmemory: the memory gauge, the eviction pool and its statistics.
    pub eviction: evict::Eviction,
    /// `maxmemory-clients`: the memory of all connections, and client eviction.
    pub client_memory: client_evict::ClientMemory,
    pub started: Instant,
    pub started_unix_ms: i64,
    pub run_id: String,
    shutting_down: AtomicBool,
    shutdown: Notify,
    /// CONFIG SET port/bind asks the serve loop, which owns the listeners, to re-bind.
    rebind_tx: tokio::sync::mpsc::UnboundedSender<Rebind>,
    rebind_rx: parking_lot::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Rebind>>>,
}

/// A request to replace the TCP listeners by ones for `settings`; the outcome goes back
/// through `done`.
struct Rebind {
    settings: Settings,
    done: std::sync::mpsc::SyncSender<Result<(), String>>,
}

impl Server {
    pub fn new(config: Config) -> Server {
        clock::init();
        let settings = Settings::from_config(&config);
        let (rebind_tx, rebind_rx) = tokio::sync::mpsc::unbounded_channel();
        let server = Server {
            dbs: (0..settings.databases).map(|_| Db::new()).collect(),
            config: RwLock::new(config),
            settings: RwLock::new(settings),
            settings_epoch: AtomicU64::new(0),
            commands: Table::build(),
            clients: Clients::default(),
            stats: Stats::default(),
            blocking: blocking::Blocking::default(),
            pubsub: pubsub::PubSub::default(),
            watches: commands::multi::WatchStats::default(),
            notifications: notify::Notifications::default(),
            propagation: propagate::Propagation::default(),
            gate: gate::Gate::default(),
            monitors: monitor::Monitors::default(),
            pause: pause::Pause::default(),
            tracking: tracking::Tracking::default(),
            eviction: evict::Eviction::default(),
            client_memory: client_evict::ClientMemory::default(),
            started: Instant::now(),
            started_unix_ms: unix_ms(),
            run_id: random_hex(40),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
            rebind_tx,
            rebind_rx: parking_lot::Mutex::new(Some(rebind_rx)),
        };
        server.settings_changed();
        server
    }

    /// Refreshes what the server mirrors from `settings` outside its lock.
    pub fn settings_changed(&self) {
        self.settings_epoch.fetch_add(1, Ordering::Release);
        let settings = self.settings.read();
        self.notifications.set(settings.notify_keyspace_events);
        self.tracking.set_max_keys(settings.tracking_table_max_keys);
        self.eviction.configure(&settings);
        self.client_memory.configure(&settings);
    }

    /// CONFIG SET port/bind: closes the TCP listeners and opens the ones `settings` asks
    /// for, or, if that fails, reopens the current ones and returns Redis's error. Blocks
    /// the calling command until the serve loop has done it.
    pub fn rebind(&self, settings: Settings) -> Result<(), String> {
        const FAILED: &str = "Failed to bind to specified addresses.";
        if settings.port == 0 && settings.unixsocket.is_none() {
            return Err(FAILED.into());
        }
        if self.rebind_rx.lock().is_some() {
            return Err("the server is not serving connections".into());
        }
        let (done, outcome) = std::sync::mpsc::sync_channel(1);
        self.rebind_tx
            .send(Rebind { settings, done })
            .map_err(|_| FAILED.to_string())?;
        // The serve loop runs on the runtime's main thread; block_in_place hands this
        // worker's other tasks to another thread while we wait.
        tokio::task::block_in_place(|| outcome.recv()).unwrap_or_else(|_| Err(FAILED.into()))
    }

    /// A key was found expired and deleted (lazily or by the active cycle), its shard
    /// still locked: counted, notified (`expired`), and propagated as a DEL of its own
    /// (UNLINK with `lazyfree-lazy-expire`), as Redis does. Its value, if given, is freed
    /// on the lazyfree thread when big and `lazyfree-lazy-expire` is on.
    pub fn key_expired(&self, db: usize, key: &[u8], value: Option<vireo_store::Value>) {
        if let Some(value) = value {
            lazyfree::free_deleted(value, || self.settings.read().lazyfree_lazy_expire);
        }
        Stats::add(&self.stats.expired_keys, 1);
        self.notify(notify::class::EXPIRED, "expired", key, db);
        if self.propagation.active() {
            let name: &'static [u8] = if self.settings.read().lazyfree_lazy_expire {
                b"UNLINK"
            } else {
                b"DEL"
            };
            let argv = vec![
                bytes::Bytes::from_static(name),
                bytes::Bytes::copy_from_slice(key),
            ];
            self.propagation.feed_one(propagate::Op::new(db, argv));
        }
    }

    /// Asks the server to stop: listeners close, clients are dropped, `run` returns.
    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        self.shutdown.notify_waiters();
        for client in self.clients.all() {
            client.kill();
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// The unix time in milliseconds (from `clock`: cheap enough for every command).
pub fn unix_ms() -> i64 {
    clock::unix_ms()
}

/// Redis's LRU clock: unix seconds in 24 bits (it wraps every ~194 days; idle-time
/// arithmetic accounts for one wrap, as Redis's estimateObjectIdleTime does).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

pub fn lru_clock() -> u32 {
    lru_clock_at(unix_ms())
}

/// The LRU clock at `now_ms`.
pub fn lru_clock_at(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32 & LRU_CLOCK_MAX
}

/// Seconds since `lru` by the LRU clock.
pub fn lru_idle_secs(lru: u32) -> u64 {
    lru_idle_secs_at(lru, lru_clock())
}

/// Seconds from `lru` to `now`, both LRU clock readings.
pub fn lru_idle_secs_at(lru: u32, now: u32) -> u64 {
    let idle = if now >= lru {
        now - lru
    } else {
        (LRU_CLOCK_MAX - lru) + now
    };
    idle as u64
}

/// The unix time in microseconds (from `clock`: cheap enough for every command).
pub fn unix_us() -> i64 {
    clock::unix_us()
}

/// The unix time in microseconds, read from the system.
pub(crate) fn system_unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Threads of the runtime. Redis's default `io-threads 1` means "one per core" here: every
/// worker thread runs commands, not just I/O. An explicit value of 2 or more sets the count.
pub(crate) fn worker_threads(settings: &Settings) -> usize {
    match settings.io_threads {
        0 | 1 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::random_range(0..16u32), 16).unwrap())
        .collect()
}

/// Runs a server until it is shut down; returns the process exit code.
pub fn run(config: Config) -> i32 {
    let server = Arc::new(Server::new(config));
    if server.config.read().get_one("disable-thp").as_deref() == Some("yes") {
        disable_thp();
    }
    let threads = worker_threads(&server.settings.read());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("vireo-io")
        .enable_all()
        .build()
        .expect("cannot start the I/O runtime");
    runtime.block_on(serve(server))
}

/// `disable-thp yes` (the default): no transparent huge pages for this process, so a huge
/// page is never faulted in (and compacted for) a few bytes of a small allocation. Redis
/// does this only when the kernel's mode is `always`; under `madvise` it changes nothing
/// for an allocator that does not ask for huge pages, which jemalloc does not by default.
fn disable_thp() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and sets a flag of this process.
    let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if rc != 0 {
        log_verbose!(
            "Could not disable transparent huge pages: {}",
            std::io::Error::last_os_error()
        );
    }
}

async fn serve(server: Arc<Server>) -> i32 {
    let settings = server.settings.read().clone();
    let listeners = bind_tcp(&settings).and_then(|tcp| {
        let unix = bind_unix(&settings)?;
        if tcp.is_none() && unix.is_none() {
            return Err("Configured to not listen anywhere, exiting.".to_string());
        }
        Ok((tcp, unix))
    });
    let (tcp, unix) = match listeners {
        Ok(l) => l,
        Err(e) => {
            log_warning!("{e}");
            return 1;
        }
    };
    write_pidfile(&server);
    log_notice!("Server initialized");
    for listeners in tcp.iter().chain(&unix) {
        log_notice!("Ready to accept connections {}", listeners.describe());
    }
    let mut accepting_tcp = tcp.map(|l| tokio::spawn(l.accept_loop(server.clone())));
    let accepting_unix = unix.map(|l| tokio::spawn(l.accept_loop(server.clone())));
    let cron = tokio::spawn(cron::run(server.clone()));
    let eviction = tokio::spawn(evict::run(server.clone()));
    let signals = tokio::spawn(wait_for_signals(server.clone()));
    let mut rebinds = server
        .rebind_rx
        .lock()
        .take()
        .expect("a server is served once");

    loop {
        // A `Notified` receives `notify_waiters` from its creation on, so no wakeup is lost
        // between the check and the wait.
        let notified = server.shutdown.notified();
        if server.is_shutting_down() {
            break;
        }
        tokio::select! {
            _ = notified => {}
            Some(request) = rebinds.recv() => {
                let outcome = rebind(&server, &mut accepting_tcp, &request.settings).await;
                let _ = request.done.send(outcome);
            }
        }
    }
    for task in accepting_tcp.iter().chain(&accepting_unix) {
        task.abort();
    }
    cron.abort();
    eviction.abort();
    signals.abort();
    log_notice!("User requested shutdown...");
    remove_pidfile(&server);
    remove_unix_socket(&server);
    log_notice!("Vireo is now ready to exit, bye bye...");
    0
}

/// The TCP listeners for `settings`; none when `port` is 0.
fn bind_tcp(settings: &Settings) -> Result<Option<net::Listeners>, String> {
    if settings.port == 0 {
        return Ok(None);
    }
    let tcp_only = Settings {
        unixsocket: None,
        ..settings.clone()
    };
    net::Listeners::bind(&tcp_only).map(Some)
}

/// The unix socket listener, when `unixsocket` is set.
fn bind_unix(settings: &Settings) -> Result<Option<net::Listeners>, String> {
    if settings.unixsocket.is_none() {
        return Ok(None);
    }
    let unix_only = Settings {
        port: 0,
        ..settings.clone()
    };
    net::Listeners::bind(&unix_only).map(Some)
}

/// Replaces the TCP listeners (CONFIG SET port/bind). The old ones are closed first, as
/// Redis does, so a new address may reuse an old port; if the new ones cannot all be
/// bound, the old ones are bound again.
async fn rebind(
    server: &Arc<Server>,
    accepting: &mut Option<tokio::task::JoinHandle<()>>,
    new: &Settings,
) -> Result<(), String> {
    let old = server.settings.read().clone();
    if let Some(task) = accepting.take() {
        task.abort();
        let _ = task.await;
    }
    let outcome = match bind_tcp_retrying(new).await {
        Ok(listeners) => {
            *accepting = listeners.map(|l| tokio::spawn(l.accept_loop(server.clone())));
            return Ok(());
        }
        Err(e) => e,
    };
    log_warning!("{outcome}");
    log_warning!("Failed to bind, restoring the previous listeners");
    match bind_tcp_retrying(&old).await {
        Ok(listeners) => {
            *accepting = listeners.map(|l| tokio::spawn(l.accept_loop(server.clone())));
        }
        Err(e) => log_warning!("Failed to restore the previous listeners: {e}"),
    }
    Err("Failed to bind to specified addresses.".into())
}

/// Aborted accept tasks close their sockets when the runtime drops them, a moment after
/// the abort: binding the same address meanwhile fails, so try for a short while.
async fn bind_tcp_retrying(settings: &Settings) -> Result<Option<net::Listeners>, String> {
    let mut attempts = 0;
    loop {
        match bind_tcp(settings) {
            Ok(l) => return Ok(l),
            Err(e) if attempts >= 20 => return Err(e),
            Err(_) => attempts += 1,
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn wait_for_signals(server: Arc<Server>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    log_warning!("Received {name} scheduling shutdown...");
    // Redis would save first (and keep running if that failed); Vireo cannot save yet and
    // exits anyway, so a supervisor's stop never hangs — and says so.
    if !server.config.read().save_points().is_empty() {
        log_warning!(
            "Not saving the final RDB snapshot: this version of Vireo cannot write RDB files yet; the dataset is lost."
        );
    }
    server.request_shutdown();
}

/// The pid file: `pidfile`, or Redis's default path when daemonized without one.
fn pidfile(server: &Server) -> Option<String> {
    let settings = server.settings.read();
    match &settings.pidfile {
        Some(path) => Some(path.clone()),
        None if settings.daemonize => Some("/var/run/redis.pid".into()),
        None => None,
    }
}

fn write_pidfile(server: &Server) {
    if let Some(path) = pidfile(server) {
        if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
            log_warning!("Failed to write PID file: {e}");
        }
    }
}

fn remove_pidfile(server: &Server) {
    if let Some(path) = pidfile(server) {
        log_notice!("Removing the pid file.");
        let _ = std::fs::remove_file(path);
    }
}

fn remove_unix_socket(server: &Server) {
    if let Some(path) = &server.settings.read().unixsocket {
        log_notice!("Removing the unix socket file.");
        let _ = std::fs::remove_file(path);
    }
}
