//! Client-side caching (CLIENT TRACKING): which clients may hold which keys in a local
//! cache, and the invalidation messages that tell them to drop those keys.
//!
//! **Default mode.** After a read-only command of a tracking client, the keys it read are
//! remembered in the tracking table: key name → ids of the clients that may cache it. There
//! is one table for all databases, as in Redis. A change to a key (`key_changed`: Redis's
//! signalModifiedKey, expiry, eviction from the table) sends one invalidation to each
//! remembered client and forgets the key, so a client hears about a key once per read.
//! OPTIN/OPTOUT with CLIENT CACHING choose which reads are remembered. The table is split by
//! key hash into as many parts as a database has shards, each behind its own mutex. A key
//! is remembered while the command still holds the key's shard lock, so no write can slip
//! in between the read and the remembering. `tracking-table-max-keys` bounds the table:
//! past it, keys picked at random are forgotten and invalidated before the next command.
//!
//! **BCAST mode.** Clients register key prefixes and nothing is remembered per read. A
//! change to a key matching a prefix is collected under that prefix, with the id of the
//! client that made it (for NOLOOP). Each prefix's keys go out as one message, sorted,
//! when a connection finishes its batch of commands or the cron ticks; Redis sends them
//! once per event-loop iteration.
//!
//! **Delivery.** A message goes to the client or to its REDIRECT target, through the
//! target's `Outbox` (the queue its own connection writes from, shared with Pub/Sub): a
//! RESP3 push `>2 invalidate [keys]`, or, to a RESP2 target with a subscription, a
//! `message` on `__redis__:invalidate`. A RESP2 client without a redirect gets nothing,
//! though its keys are still forgotten. If the redirect target has gone, the client is
//! flagged (CLIENT LIST `R`) and, in RESP3, told by a `tracking-redir-broken` push.
//! Messages for the client running the command wait for the end of the command (of EXEC,
//! for a transaction), go to its redirect as it is then, and are written after its reply
//! (`after_command`), as Redis's pending keys.
//!
//! **Cost when unused.** With nobody tracking and an empty table, a write pays one
//! relaxed load (`Tracking::idle`), a read-only command one load of its own client's
//! tracking flags.

use crate::client::{Client, ClientHandle};
use crate::Server;
use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use vireo_store::{shard_index, SHARDS};

/// A client's tracking flags (`ClientTracking::flags`).
pub mod flag {
    /// CLIENT TRACKING ON.
    pub const ON: u32 = 1 << 0;
    pub const BCAST: u32 = 1 << 1;
    pub const OPTIN: u32 = 1 << 2;
    pub const OPTOUT: u32 = 1 << 3;
    pub const NOLOOP: u32 = 1 << 4;
    /// The redirect target was gone when a message was due (CLIENT LIST `R`).
    pub const BROKEN_REDIR: u32 = 1 << 5;
    /// CLIENT CACHING YES/NO was given for the next command or transaction.
    pub const CACHING: u32 = 1 << 6;
}

/// The channel RESP2 redirect targets receive invalidations on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// A client's tracking state, part of its `ClientHandle`: its own connection changes it,
/// the connections that invalidate keys read it.
#[derive(Default)]
pub struct ClientTracking {
    flags: AtomicU32,
    /// The id of the client receiving the invalidations, 0 for the client itself.
    redirect: AtomicU64,
    /// BCAST prefixes, sorted.
    prefixes: Mutex<Vec<Bytes>>,
    /// Messages this client's own command caused for it, sent after the command (after
    /// EXEC for a transaction) to its redirect as it is then, as Redis's pending keys.
    deferred: Mutex<Vec<Deferred>>,
    has_deferred: AtomicBool,
}

/// A message held back until the end of the client's command.
enum Deferred {
    /// The body of a key invalidation.
    Keys(Bytes),
    /// A flush: a null in the client's protocol at the time it is sent.
    Flush,
}

impl ClientTracking {
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn is_on(&self) -> bool {
        self.flags() & flag::ON != 0
    }

    /// CLIENT GETREDIR and CLIENT LIST `redir=`: the redirect id while tracking
    /// (0 without a redirect), -1 when tracking is off.
    pub fn redirect(&self) -> i64 {
        if self.is_on() {
            self.redirect.load(Ordering::Relaxed) as i64
        } else {
            -1
        }
    }

    /// The BCAST prefixes, sorted (CLIENT TRACKINGINFO).
    pub fn prefixes(&self) -> Vec<Bytes> {
        self.prefixes.lock().clone()
    }

    /// CLIENT CACHING YES/NO: the next command (or transaction) is the exception to the
    /// OPTIN/OPTOUT default.
    pub fn set_caching(&self) {
        self.flags.fetch_or(flag::CACHING, Ordering::Relaxed);
    }

    /// Messages wait for the end of the command (sent by `after_command`).
    pub fn has_deferred(&self) -> bool {
        self.has_deferred.load(Ordering::Relaxed)
    }

    fn defer(&self, message: Deferred) {
        self.deferred.lock().push(message);
        self.has_deferred.store(true, Ordering::Relaxed);
    }
}

/// Whether a read-only command run by a client with tracking `flags` has its keys
/// remembered: tracking on, not BCAST, and OPTIN with CACHING YES, OPTOUT without
/// CACHING NO, or neither.
pub fn remembers(flags: u32) -> bool {
    if flags & flag::ON == 0 || flags & flag::BCAST != 0 {
        return false;
    }
    let caching = flags & flag::CACHING != 0;
    if flags & flag::OPTIN != 0 {
        caching
    } else if flags & flag::OPTOUT != 0 {
        !caching
    } else {
        true
    }
}

/// Key name → ids of the clients that may cache it, sorted.
type KeyTable = HashMap<Box<[u8]>, Vec<u64>, foldhash::fast::RandomState>;

/// The clients of one BCAST prefix, and the keys changed under it since the last message
/// (sorted, as they are sent) with the id of the client that last changed each, 0 for
/// the server itself (expiry).
#[derive(Default)]
struct Prefix {
    clients: Vec<Arc<ClientHandle>>,
    keys: BTreeMap<Box<[u8]>, u64>,
}

/// The server's tracking state.
pub struct Tracking {
    /// Clients with tracking on (INFO `tracking_clients`).
    clients: AtomicUsize,
    /// Keys in the table (INFO `tracking_total_keys`).
    keys: AtomicUsize,
    /// (key, client) pairs in the table (INFO `tracking_total_items`).
    items: AtomicUsize,
    table: Box<[Mutex<KeyTable>]>,
    /// BCAST prefixes (INFO `tracking_total_prefixes` counts them).
    bcast: Mutex<BTreeMap<Bytes, Prefix>>,
    prefix_count: AtomicUsize,
    /// BCAST keys collected and not sent yet.
    pending: AtomicBool,
    /// `tracking-table-max-keys`, 0 for no limit.
    max_keys: AtomicU64,
    /// Times in a row the limit was still exceeded after evicting: the effort grows with it.
    over_limit: AtomicU32,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            clients: AtomicUsize::new(0),
            keys: AtomicUsize::new(0),
            items: AtomicUsize::new(0),
            table: (0..SHARDS).map(|_| Mutex::default()).collect(),
            bcast: Mutex::default(),
            prefix_count: AtomicUsize::new(0),
            pending: AtomicBool::new(false),
            max_keys: AtomicU64::new(0),
            over_limit: AtomicU32::new(0),
        }
    }
}

impl Tracking {
    /// Nothing to do for a write: nobody tracks and the table is empty.
    #[inline]
    pub fn idle(&self) -> bool {
        self.clients.load(Ordering::Relaxed) == 0 && self.keys.load(Ordering::Relaxed) == 0
    }

    /// INFO `tracking_clients`.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// INFO `tracking_total_keys`, `tracking_total_items`, `tracking_total_prefixes`.
    pub fn totals(&self) -> (usize, usize, usize) {
        (
            self.keys.load(Ordering::Relaxed),
            self.items.load(Ordering::Relaxed),
            self.prefix_count.load(Ordering::Relaxed),
        )
    }

    /// `tracking-table-max-keys`, mirrored from the settings.
    pub fn set_max_keys(&self, max: u64) {
        self.max_keys.store(max, Ordering::Relaxed);
    }

    /// CLIENT TRACKING ON, options already checked. Turning it on again keeps the BCAST
    /// prefixes and adds the new ones (the empty prefix when none is given), and replaces
    /// the redirect and the other options.
    pub fn enable(
        &self,
        handle: &Arc<ClientHandle>,
        redirect: u64,
        options: u32,
        prefixes: &[Bytes],
    ) {
        let state = &handle.tracking;
        let old = state.flags();
        if old & flag::ON == 0 {
            self.clients.fetch_add(1, Ordering::Relaxed);
        }
        state.redirect.store(redirect, Ordering::Relaxed);
        let mut flags = flag::ON
            | (old & flag::CACHING)
            | (options & (flag::OPTIN | flag::OPTOUT | flag::NOLOOP));
        if options & flag::BCAST != 0 {
            flags |= flag::BCAST;
            if prefixes.is_empty() {
                self.add_prefix(handle, Bytes::new());
            }
            for prefix in prefixes {
                self.add_prefix(handle, prefix.clone());
            }
        }
        state.flags.store(flags, Ordering::Relaxed);
    }

    fn add_prefix(&self, handle: &Arc<ClientHandle>, prefix: Bytes) {
        let mut own = handle.tracking.prefixes.lock();
        let Err(pos) = own.binary_search(&prefix) else {
            return;
        };
        own.insert(pos, prefix.clone());
        let mut bcast = self.bcast.lock();
        let entry = bcast.entry(prefix).or_insert_with(|| {
            self.prefix_count.fetch_add(1, Ordering::Relaxed);
            Prefix::default()
        });
        entry.clients.push(handle.clone());
    }

    /// CLIENT TRACKING OFF, RESET and disconnects. Keys the client read stay in the table
    /// until they change (as in Redis); it is simply not told any more.
    pub fn disable(&self, handle: &ClientHandle) {
        let state = &handle.tracking;
        let old = state.flags();
        if old & flag::BCAST != 0 {
            let own = std::mem::take(&mut *state.prefixes.lock());
            let mut bcast = self.bcast.lock();
            for prefix in own {
                let Some(entry) = bcast.get_mut(&prefix) else {
                    continue;
                };
                entry.clients.retain(|c| c.id != handle.id);
                if entry.clients.is_empty() {
                    bcast.remove(&prefix);
                    self.prefix_count.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
        if old & flag::ON != 0 {
            self.clients.fetch_sub(1, Ordering::Relaxed);
            state.flags.store(0, Ordering::Relaxed);
        }
    }

    /// Remembers that client `id` may cache `keys` (it just read them).
    pub fn remember<'k>(&self, id: u64, keys: impl Iterator<Item = &'k [u8]>) {
        for key in keys {
            let mut table = self.table[shard_index(key)].lock();
            let ids = match table.get_mut(key) {
                Some(ids) => ids,
                None => {
                    self.keys.fetch_add(1, Ordering::Relaxed);
                    table.entry(key.into()).or_default()
                }
            };
            if let Err(pos) = ids.binary_search(&id) {
                ids.insert(pos, id);
                self.items.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// `key` changed (Redis's signalModifiedKey, or expiry), by the command of client
    /// `writer` (0 for the server itself): BCAST prefixes collect it, and the clients
    /// remembered for it are told and forgotten. Callers check `idle` first.
    pub fn key_changed(&self, server: &Server, key: &[u8], writer: u64) {
        if self.prefix_count.load(Ordering::Relaxed) > 0 {
            self.collect(key, writer);
        }
        self.invalidate(server, key, writer, true);
    }

    /// Tells the clients remembered for `key` to drop it, and forgets it. With `defer_own`,
    /// the message for `writer` itself waits for the end of its command.
    fn invalidate(&self, server: &Server, key: &[u8], writer: u64, defer_own: bool) {
        if self.keys.load(Ordering::Relaxed) == 0 {
            return;
        }
        let Some(ids) = self.table[shard_index(key)].lock().remove(key) else {
            return;
        };
        self.keys.fetch_sub(1, Ordering::Relaxed);
        self.items.fetch_sub(ids.len(), Ordering::Relaxed);
        let mut payload = None;
        for id in ids {
            let Some(target) = server.clients.get(id) else {
                continue;
            };
            let flags = target.tracking.flags();
            // Tracking turned off, or switched to BCAST, since the read.
            if flags & flag::ON == 0 || flags & flag::BCAST != 0 {
                continue;
            }
            if flags & flag::NOLOOP != 0 && id == writer {
                continue;
            }
            let payload = payload.get_or_insert_with(|| key_array(std::iter::once(key)));
            if defer_own && id == writer {
                target.tracking.defer(Deferred::Keys(payload.clone()));
            } else {
                send(server, &target, payload);
            }
        }
    }

    /// Adds `key` to the pending keys of every BCAST prefix it starts with.
    fn collect(&self, key: &[u8], writer: u64) {
        let mut bcast = self.bcast.lock();
        let mut collected = false;
        for (prefix, entry) in bcast.iter_mut() {
            if !key.starts_with(prefix) {
                continue;
            }
            match entry.keys.get_mut(key) {
                Some(last) => *last = writer,
                None => {
                    entry.keys.insert(key.into(), writer);
                }
            }
            collected = true;
        }
        if collected {
            self.pending.store(true, Ordering::Relaxed);
        }
    }

    /// Sends each BCAST prefix's collected keys, as one message per prefix, to its clients
    /// (without the keys a NOLOOP client changed itself). One load when nothing is pending.
    ///
    /// `pending` is cleared only once the messages are queued, under the lock: a
    /// connection finishing its batch while another thread (the cron, another connection)
    /// sends its keys waits for the lock, so the messages are in the outboxes before its
    /// reply goes out; otherwise they could reach their clients after later replies.
    pub fn send_broadcasts(&self, server: &Server) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        let mut bcast = self.bcast.lock();
        for entry in bcast.values_mut() {
            if entry.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut entry.keys);
            let all = key_array(keys.keys().map(|k| &k[..]));
            for client in &entry.clients {
                if client.tracking.flags() & flag::NOLOOP == 0 {
                    send(server, client, &all);
                    continue;
                }
                let others: Vec<&[u8]> = keys
                    .iter()
                    .filter(|&(_, &writer)| writer != client.id)
                    .map(|(k, _)| &k[..])
                    .collect();
                if !others.is_empty() {
                    send(server, client, &key_array(others.into_iter()));
                }
            }
        }
        self.pending.store(false, Ordering::Release);
    }

    /// FLUSHDB / FLUSHALL by client `writer`: the table is emptied and every tracking
    /// client, BCAST ones too, is told to drop its whole cache (a null instead of the key
    /// array, in the tracking client's own protocol). The table is emptied before the
    /// messages go, so a key read after the flush stays remembered, and the message reaches
    /// a client after the reply of any read remembered before it.
    ///
    /// Clients are told in connection order, as Redis; the writer's own message waits for
    /// the end of its command (sent by `after_command`).
    pub fn flushed(&self, server: &Server, writer: u64) {
        if self.keys.load(Ordering::Relaxed) > 0 {
            for part in self.table.iter() {
                let old = std::mem::take(&mut *part.lock());
                self.keys.fetch_sub(old.len(), Ordering::Relaxed);
                let items: usize = old.values().map(Vec::len).sum();
                self.items.fetch_sub(items, Ordering::Relaxed);
            }
        }
        if self.clients.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut clients = server.clients.all();
        clients.retain(|c| c.tracking.is_on());
        clients.sort_unstable_by_key(|c| c.id);
        for client in clients {
            if client.id == writer {
                client.tracking.defer(Deferred::Flush);
            } else {
                send(server, &client, null_of(&client));
            }
        }
    }

    /// `tracking-table-max-keys`: while the table holds more keys than that, forgets and
    /// invalidates keys picked at random, up to an effort that grows each time in a row
    /// it was not enough, as Redis does before each command. `current` is the client
    /// about to run one. True if anything was evicted.
    pub fn enforce_limit(&self, server: &Server, current: u64) -> bool {
        let max = self.max_keys.load(Ordering::Relaxed);
        if max == 0 || self.keys.load(Ordering::Relaxed) as u64 <= max {
            if self.over_limit.load(Ordering::Relaxed) != 0 {
                self.over_limit.store(0, Ordering::Relaxed);
            }
            return false;
        }
        let rounds = self.over_limit.load(Ordering::Relaxed) as usize;
        for _ in 0..100 * (rounds + 1) {
            let Some(key) = self.random_key() else {
                break;
            };
            self.invalidate(server, &key, current, false);
            if self.keys.load(Ordering::Relaxed) as u64 <= max {
                self.over_limit.store(0, Ordering::Relaxed);
                return true;
            }
        }
        self.over_limit.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A key of the table: the first, in hash order, of a part chosen at random.
    fn random_key(&self) -> Option<Box<[u8]>> {
        let start = rand::random_range(0..SHARDS);
        (0..SHARDS).find_map(|i| {
            let part = self.table[(start + i) % SHARDS].lock();
            part.keys().next().cloned()
        })
    }
}

/// The body of a flush invalidation: a null in the tracking client's own protocol.
fn null_of(client: &ClientHandle) -> &'static [u8] {
    if client.resp.load(Ordering::Relaxed) == 3 {
        b"_\r\n"
    } else {
        b"$-1\r\n"
    }
}

/// Encodes `keys` as a RESP array of bulk strings: the body of an invalidation.
fn key_array<'k>(keys: impl Iterator<Item = &'k [u8]> + Clone) -> Bytes {
    let size: usize = keys.clone().map(|k| k.len() + 16).sum();
    let mut out = BytesMut::with_capacity(16 + size);
    header(&mut out, b'*', keys.clone().count());
    for key in keys {
        header(&mut out, b'$', key.len());
        out.put_slice(key);
        out.put_slice(b"\r\n");
    }
    out.freeze()
}

fn header(out: &mut BytesMut, kind: u8, n: usize) {
    out.put_u8(kind);
    out.put_slice(itoa::Buffer::new().format(n).as_bytes());
    out.put_slice(b"\r\n");
}

/// Queues an invalidation whose body is `payload` (a key array or a null) for `client`:
/// to its redirect target if it has one, as a RESP3 push or a RESP2 Pub/Sub message.
fn send(server: &Server, client: &Arc<ClientHandle>, payload: &[u8]) {
    let redirect = client.tracking.redirect.load(Ordering::Relaxed);
    let found;
    let target: &Arc<ClientHandle> = if redirect == 0 {
        client
    } else {
        match server.clients.get(redirect) {
            Some(t) => {
                found = t;
                &found
            }
            None => return redirect_broken(server, client, redirect),
        }
    };
    let mut frame = BytesMut::with_capacity(48 + payload.len());
    if target.resp.load(Ordering::Relaxed) == 3 {
        frame.put_slice(b">2\r\n$10\r\ninvalidate\r\n");
    } else if redirect != 0 && target.outbox.subscribed() {
        frame.put_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n");
        frame.put_slice(CHANNEL);
        frame.put_slice(b"\r\n");
    } else {
        // RESP2 has no pushes: nothing can reach a client that is not subscribed.
        return;
    }
    frame.put_slice(payload);
    crate::pubsub::queue_frame(server, std::slice::from_ref(target), frame.freeze());
}

/// The redirect target of `client` is gone: flag R, and a push saying so in RESP3.
fn redirect_broken(server: &Server, client: &Arc<ClientHandle>, redirect: u64) {
    client
        .tracking
        .flags
        .fetch_or(flag::BROKEN_REDIR, Ordering::Relaxed);
    if client.resp.load(Ordering::Relaxed) != 3 {
        return;
    }
    let mut frame = BytesMut::with_capacity(64);
    frame.put_slice(b">2\r\n$21\r\ntracking-redir-broken\r\n");
    header(&mut frame, b':', redirect as usize);
    crate::pubsub::queue_frame(server, std::slice::from_ref(client), frame.freeze());
}

/// After each command of a tracking client: a CLIENT CACHING choice lasts until the
/// next command other than CLIENT, or to the end of a transaction; and the messages the
/// command caused for the client itself are sent, to its redirect as it is now, and
/// written after its reply, as Redis defers them (pending keys), before anything the
/// pipeline runs next.
pub fn after_command(
    server: &Server,
    client: &Client,
    args: &[Bytes],
    reply: &mut vireo_resp::Reply,
) {
    let handle = &client.handle;
    let deferred = handle.tracking.has_deferred.swap(false, Ordering::Relaxed);
    if deferred {
        let deferred = std::mem::take(&mut *handle.tracking.deferred.lock());
        for message in deferred {
            match message {
                Deferred::Keys(payload) => send(server, handle, &payload),
                Deferred::Flush => send(server, handle, null_of(handle)),
            }
        }
    }
    let flags = handle.tracking.flags();
    if flags & flag::CACHING != 0
        && client.multi.is_none()
        && !args
            .first()
            .is_some_and(|name| name.eq_ignore_ascii_case(b"client"))
    {
        handle
            .tracking
            .flags
            .fetch_and(!flag::CACHING, Ordering::Relaxed);
    }
    if flags & flag::ON != 0 || deferred {
        handle.outbox.drain_into(&mut reply.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_reads_follow_optin_and_optout() {
        use flag::*;
        assert!(!remembers(0));
        assert!(remembers(ON));
        assert!(!remembers(ON | BCAST));
        assert!(!remembers(ON | OPTIN));
        assert!(remembers(ON | OPTIN | CACHING));
        assert!(remembers(ON | OPTOUT));
        assert!(!remembers(ON | OPTOUT | CACHING));
    }

    #[test]
    fn key_arrays_are_resp_arrays() {
        let keys: [&[u8]; 2] = [b"a", b"bc"];
        assert_eq!(
            &key_array(keys.into_iter())[..],
            b"*2\r\n$1\r\na\r\n$2\r\nbc\r\n"
        );
    }

    #[test]
    fn the_table_counts_keys_and_items() {
        let t = Tracking::default();
        assert!(t.idle());
        t.remember(1, [&b"k"[..], b"j"].into_iter());
        t.remember(2, [&b"k"[..]].into_iter());
        t.remember(2, [&b"k"[..]].into_iter());
        assert_eq!(t.totals(), (2, 3, 0));
        assert!(!t.idle());
    }
}
