//! The Vireo server: networking, per-client state, command dispatch and the server-wide
//! state commands run against. `run` is the whole life of a server process.

pub mod client;
pub mod commands;
pub mod cron;
pub mod errors;
pub mod exec;
pub mod keyspace;
pub mod lazyfree;
pub mod log;
pub mod net;
pub mod settings;
pub mod stats;

use client::Clients;
use commands::Table;
use parking_lot::RwLock;
use settings::Settings;
use stats::Stats;
use std::sync::atomic::{AtomicBool, Ordering};
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
    pub dbs: Box<[Db]>,
    pub commands: Table,
    pub clients: Clients,
    pub stats: Stats,
    pub started: Instant,
    pub started_unix_ms: i64,
    pub run_id: String,
    shutting_down: AtomicBool,
    shutdown: Notify,
}

impl Server {
    pub fn new(config: Config) -> Server {
        let settings = Settings::from_config(&config);
        Server {
            dbs: (0..settings.databases).map(|_| Db::new()).collect(),
            config: RwLock::new(config),
            settings: RwLock::new(settings),
            commands: Table::build(),
            clients: Clients::default(),
            stats: Stats::default(),
            started: Instant::now(),
            started_unix_ms: unix_ms(),
            run_id: random_hex(40),
            shutting_down: AtomicBool::new(false),
            shutdown: Notify::new(),
        }
    }

    /// A key was found expired and deleted (lazily or by the active cycle).
    pub fn key_expired(&self, _db: usize, _key: &[u8]) {
        Stats::add(&self.stats.expired_keys, 1);
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

pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Redis's LRU clock: unix seconds in 24 bits (it wraps every ~194 days; idle-time
/// arithmetic accounts for one wrap, as Redis's estimateObjectIdleTime does).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

pub fn lru_clock() -> u32 {
    (unix_ms() / 1000) as u32 & LRU_CLOCK_MAX
}

/// Seconds since `lru` by the LRU clock.
pub fn lru_idle_secs(lru: u32) -> u64 {
    let now = lru_clock();
    let idle = if now >= lru {
        now - lru
    } else {
        (LRU_CLOCK_MAX - lru) + now
    };
    idle as u64
}

pub fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::random_range(0..16u32), 16).unwrap())
        .collect()
}

/// Runs a server until it is shut down; returns the process exit code.
pub fn run(config: Config) -> i32 {
    let server = Arc::new(Server::new(config));
    // Redis's default `io-threads 1` means "one per core" here: every worker thread runs
    // commands, not just I/O. An explicit value of 2 or more sets the count.
    let threads = match server.settings.read().io_threads {
        0 | 1 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("vireo-io")
        .enable_all()
        .build()
        .expect("cannot start the I/O runtime");
    runtime.block_on(serve(server))
}

async fn serve(server: Arc<Server>) -> i32 {
    let listeners = match net::Listeners::bind(&server.settings.read()) {
        Ok(l) => l,
        Err(e) => {
            log_warning!("{e}");
            return 1;
        }
    };
    write_pidfile(&server);
    log_notice!("Server initialized");
    log_notice!("Ready to accept connections {}", listeners.describe());
    let accepting = tokio::spawn(listeners.accept_loop(server.clone()));
    let cron = tokio::spawn(cron::run(server.clone()));
    let signals = tokio::spawn(wait_for_signals(server.clone()));

    loop {
        // A `Notified` receives `notify_waiters` from its creation on, so no wakeup is lost
        // between the check and the wait.
        let notified = server.shutdown.notified();
        if server.is_shutting_down() {
            break;
        }
        notified.await;
    }
    accepting.abort();
    cron.abort();
    signals.abort();
    log_notice!("User requested shutdown...");
    remove_pidfile(&server);
    log_notice!("Vireo is now ready to exit, bye bye...");
    0
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
    server.request_shutdown();
}

fn write_pidfile(server: &Server) {
    if let Some(path) = &server.settings.read().pidfile {
        if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
            log_warning!("Failed to write PID file: {e}");
        }
    }
}

fn remove_pidfile(server: &Server) {
    if let Some(path) = &server.settings.read().pidfile {
        let _ = std::fs::remove_file(path);
    }
}
