//! Per-connection state, and the registry through which other connections see it
//! (CLIENT LIST, CLIENT KILL, INFO clients, maxclients).

use crate::blocking::Waiter;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use std::sync::Arc;
use tokio::sync::Notify;
use vireo_cmdspec::CommandSpec;

/// How replies are being suppressed (CLIENT REPLY).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Set by CLIENT REPLY SKIP; turns into `Skip` once the SKIP command itself is done.
    SkipNext,
}

/// What other connections may read or change about a client. Hot fields are atomics the
/// owning connection updates without locking; rarely changed ones sit behind a mutex.
pub struct ClientHandle {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    /// Connected over loopback or the unix socket (for `enable-debug-command local`).
    pub local: bool,
    pub created_ms: i64,
    pub last_interaction_ms: AtomicI64,
    pub db: AtomicUsize,
    pub resp: AtomicU32,
    pub flags: AtomicU64,
    pub meta: Mutex<ClientMeta>,
    /// Set by CLIENT KILL / SHUTDOWN; the connection notices and closes.
    pub killed: AtomicBool,
    pub kill_notify: Notify,
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    /// The last command run (CLIENT LIST `cmd=`): a pointer to its `'static` declaration,
    /// so dispatch publishes it with one relaxed store.
    last_command: AtomicPtr<CommandSpec>,
    /// Buffer sizes as the connection last recorded them (CLIENT LIST `qbuf`, `qbuf-free`,
    /// `rbs`, `rbp`).
    pub buffers: BufferStats,
    /// The wait of a client blocked by BLPOP and friends (CLIENT LIST `b`, CLIENT UNBLOCK).
    pub blocked: Mutex<Option<Arc<Waiter>>>,
    /// Pub/sub messages on their way to this client, and its subscription counts.
    pub outbox: crate::pubsub::Outbox,
    /// Commands queued since MULTI, -1 outside a transaction (CLIENT LIST `multi=`, `x`).
    pub multi: AtomicI64,
    /// Keys this client WATCHes (CLIENT LIST `watch=`).
    pub watched_keys: AtomicUsize,
    /// Set when a watched key changes (Redis's CLIENT_DIRTY_CAS; CLIENT LIST `d`): the
    /// flag the shards' watch tables hold for this client.
    pub watch_dirty: Arc<AtomicBool>,
    /// Bytes of the arguments of a command the client is waiting in (blocked or paused),
    /// 0 between commands (CLIENT LIST `argv-mem`).
    pub argv_mem: AtomicUsize,
    /// Memory held by the commands queued since MULTI (CLIENT LIST `multi-mem`).
    pub multi_mem: AtomicUsize,
    /// Client-side caching state (CLIENT TRACKING; CLIENT LIST `t` `R` `B`, `redir=`).
    pub tracking: crate::tracking::ClientTracking,
    /// This client's share of `ClientMemory`'s total, as last counted (`client_evict`).
    pub counted_mem: AtomicUsize,
}

/// A connection's buffer sizes, published with relaxed stores once per batch of commands.
#[derive(Default)]
pub struct BufferStats {
    /// Bytes received and not parsed yet.
    pub query_len: AtomicUsize,
    /// Room left in the query buffer before it must grow.
    pub query_free: AtomicUsize,
    /// Capacity of the reply buffer.
    pub reply_size: AtomicUsize,
    /// Most reply bytes held at once, since the connection opened.
    pub reply_peak: AtomicUsize,
    /// Reply bytes being written to a socket that has not taken them all yet
    /// (CLIENT LIST `obl`, `oll`, `omem`, and `w` in `events`).
    pub unwritten: AtomicUsize,
}

impl BufferStats {
    /// Records the query buffer alone, after a read.
    pub fn record_query(&self, query_len: usize, query_cap: usize) {
        self.query_len.store(query_len, Ordering::Relaxed);
        self.query_free
            .store(query_cap.saturating_sub(query_len), Ordering::Relaxed);
    }

    /// Records the buffers after a batch: `reply_len` is what the batch wrote.
    pub fn record(&self, query_len: usize, query_cap: usize, reply_len: usize, reply_cap: usize) {
        self.record_query(query_len, query_cap);
        self.reply_size.store(reply_cap, Ordering::Relaxed);
        self.reply_peak.fetch_max(reply_len, Ordering::Relaxed);
    }
}

pub mod flag {
    /// The connection arrived on the unix socket.
    pub const UNIX_SOCKET: u64 = 1 << 0;
    /// Close after the pending replies are written (QUIT, protocol error).
    pub const CLOSE_AFTER_REPLY: u64 = 1 << 1;
    /// In MONITOR mode (CLIENT LIST `O`).
    pub const MONITOR: u64 = 1 << 2;
    /// Its command waits for a CLIENT PAUSE to end (CLIENT LIST `b`).
    pub const PAUSED: u64 = 1 << 3;
}

#[derive(Default, Clone)]
pub struct ClientMeta {
    pub name: Option<String>,
    pub lib_name: Option<String>,
    pub lib_ver: Option<String>,
    pub user: String,
    pub qbuf: usize,
    pub qbuf_free: usize,
    pub omem: usize,
}

impl ClientHandle {
    /// Every wait of the connection (its read loop, a blocked or paused command, a
    /// write) holds a `kill_notify.notified()` created before it checks `is_killed`, so
    /// waking all of them, plus a permit for one not created yet, reaches whichever waits.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill_notify.notify_waiters();
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    pub fn set_last_command(&self, spec: &'static CommandSpec) {
        let ptr = spec as *const CommandSpec as *mut CommandSpec;
        self.last_command.store(ptr, Ordering::Relaxed);
    }

    /// The last command's name (`client|list` style), or None before the first.
    pub fn last_command(&self) -> Option<&'static str> {
        let ptr = self.last_command.load(Ordering::Relaxed);
        // SAFETY: only `set_last_command` stores here, always a pointer derived from a
        // `&'static CommandSpec`, so it is either null or valid for the whole program.
        unsafe { ptr.as_ref() }.map(|spec| spec.name)
    }

    pub fn set_db(&self, db: usize) {
        self.db.store(db, Ordering::Relaxed);
    }

    pub fn touch(&self, now_ms: i64) {
        self.last_interaction_ms.store(now_ms, Ordering::Relaxed);
    }

    pub fn has_flag(&self, bit: u64) -> bool {
        self.flags.load(Ordering::Relaxed) & bit != 0
    }

    /// Records that the client now waits in a command with `args` (blocked or paused), or
    /// with `None` that it no longer does: CLIENT LIST's `argv-mem`. Store it before the
    /// flag that shows the wait, so that a line with `b` carries it.
    pub fn hold_args(&self, args: Option<&[bytes::Bytes]>) {
        let bytes = args.map_or(0, |args| args.iter().map(|a| a.len()).sum());
        self.argv_mem.store(bytes, Ordering::Relaxed);
    }

    /// Sets or clears `bit`. Release: what the connection stored before is seen by whoever
    /// sees the change (CLIENT LIST reads `argv-mem` after the flags).
    pub fn set_flag(&self, bit: u64, on: bool) {
        if on {
            self.flags.fetch_or(bit, Ordering::Release);
        } else {
            self.flags.fetch_and(!bit, Ordering::Release);
        }
    }

    /// The client's address as MONITOR shows it: `ip:port`, or `unix:<path>`.
    pub fn monitor_addr(&self) -> String {
        if self.has_flag(flag::UNIX_SOCKET) {
            let path = self.addr.strip_suffix(":0").unwrap_or(&self.addr);
            format!("unix:{path}")
        } else {
            self.addr.clone()
        }
    }
}

/// What CLIENT LIST's `multi-mem` counts for each watched key (its entry in the client's
/// list; the keys themselves are shared).
pub const WATCHED_KEY_MEM: usize = std::mem::size_of::<(usize, vireo_store::SmallBytes)>();

/// What CLIENT LIST's `multi-mem` counts for a command queued by MULTI.
pub fn queued_command_mem(args: &[bytes::Bytes]) -> usize {
    std::mem::size_of::<Vec<bytes::Bytes>>()
        + args
            .iter()
            .map(|a| a.len() + std::mem::size_of::<bytes::Bytes>())
            .sum::<usize>()
}

/// Connection-local state: owned by the connection task, never shared.
pub struct Client {
    pub handle: Arc<ClientHandle>,
    pub db: usize,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    pub close_after_reply: bool,
    /// Set by a blocking command that found nothing: the connection waits on it next.
    pub blocked: Option<Arc<Waiter>>,
    /// Blocking commands answer at once instead of blocking (Redis's CLIENT_DENY_BLOCKING:
    /// inside MULTI/EXEC and scripts).
    pub deny_blocking: bool,
    /// Channels, patterns and shard channels this client is subscribed to.
    pub subs: crate::pubsub::Subscriptions,
    /// The transaction being queued, between MULTI and EXEC/DISCARD.
    pub multi: Option<crate::commands::multi::Multi>,
    /// The keys this client WATCHes: (database, key).
    pub watched: Vec<(usize, vireo_store::SmallBytes)>,
    /// What the running command will propagate (`crate::propagate`).
    pub effects: crate::propagate::Effects,
    /// In MONITOR mode: it receives every command run, and may not touch keys.
    pub monitor: bool,
    /// Set by the dispatcher when a CLIENT PAUSE holds the command back: the connection
    /// waits for the pause to end and runs it again.
    pub postponed: bool,
}

impl Client {
    /// The state of a new connection (or of an in-process client) registered as `handle`.
    pub fn new(handle: Arc<ClientHandle>, authenticated: bool) -> Client {
        Client {
            handle,
            db: 0,
            authenticated,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            blocked: None,
            deny_blocking: false,
            subs: Default::default(),
            multi: None,
            watched: Vec::new(),
            effects: Default::default(),
            monitor: false,
            postponed: false,
        }
    }

    pub fn id(&self) -> u64 {
        self.handle.id
    }

    pub fn is_local(&self) -> bool {
        self.handle.local
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.handle.set_db(db);
    }
}

/// All connected clients, by id (ordered, as CLIENT LIST prints them).
#[derive(Default)]
pub struct Clients {
    map: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_id: AtomicU64,
    pub connected: AtomicUsize,
}

pub struct NewClient {
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub fd: i64,
    pub unix_path: Option<String>,
}

impl NewClient {
    /// A client with no socket (`LocalClient`, tests), shown at `addr`.
    pub fn without_socket(addr: &str) -> NewClient {
        let addr = addr.parse().expect("a valid address");
        NewClient {
            addr,
            laddr: addr,
            fd: -1,
            unix_path: None,
        }
    }
}

impl Clients {
    /// Adds an accepted connection, which must hold a slot from `try_reserve`.
    pub fn register(&self, conn: NewClient, now_ms: i64) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (addr, laddr, flags) = match &conn.unix_path {
            Some(path) => (format!("{path}:0"), format!("{path}:0"), flag::UNIX_SOCKET),
            None => (conn.addr.to_string(), conn.laddr.to_string(), 0),
        };
        let local = conn.unix_path.is_some() || conn.addr.ip().is_loopback();
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            fd: conn.fd,
            local,
            created_ms: now_ms,
            last_interaction_ms: AtomicI64::new(now_ms),
            db: AtomicUsize::new(0),
            resp: AtomicU32::new(2),
            flags: AtomicU64::new(flags),
            meta: Mutex::new(ClientMeta {
                user: "default".into(),
                ..ClientMeta::default()
            }),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            last_command: AtomicPtr::new(std::ptr::null_mut()),
            buffers: BufferStats::default(),
            blocked: Mutex::new(None),
            outbox: Default::default(),
            multi: AtomicI64::new(-1),
            watched_keys: AtomicUsize::new(0),
            watch_dirty: Arc::new(AtomicBool::new(false)),
            argv_mem: AtomicUsize::new(0),
            multi_mem: AtomicUsize::new(0),
            tracking: Default::default(),
            counted_mem: AtomicUsize::new(0),
        });
        self.map.lock().insert(id, handle.clone());
        handle
    }

    /// Takes one of `max` client slots, atomically, so simultaneous connections cannot slip
    /// past `maxclients`. The slot is given back by `unregister`, or by `release` for a
    /// connection turned away before it registered.
    pub fn try_reserve(&self, max: usize) -> bool {
        self.connected
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    pub fn release(&self) {
        self.connected.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn unregister(&self, id: u64) {
        if self.map.lock().remove(&id).is_some() {
            self.release();
        }
    }

    /// A snapshot of all clients, ordered by id.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.map.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.map.lock().get(&id).cloned()
    }

    pub fn count(&self) -> usize {
        self.connected.load(Ordering::Relaxed)
    }
}
