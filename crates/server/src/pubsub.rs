//! Pub/Sub: who is subscribed to what, and how a published message reaches the
//! subscribers' connections.
//!
//! **Registry.** Three maps — channels, patterns, shard channels — from a name to the
//! handles of its subscribers, behind one `RwLock`. PUBLISH holds it for reading only; it
//! never touches a socket. Each client also keeps its own sets (`Subscriptions`, owned by
//! its connection) for UNSUBSCRIBE without arguments, RESET and disconnects.
//!
//! **Delivery.** A message is encoded once per protocol it is sent in (RESP2 array, RESP3
//! push) and the frame is shared, as `Bytes`, by every subscriber's `Outbox`: a queue of
//! frames plus a `Notify`. The connection task, awaiting its socket, is woken by the notify,
//! takes the frames and writes them after whatever replies it has ready. Frames are queued in
//! the order the publisher published them, so a publisher's order is kept for every
//! subscriber.
//!
//! **Output buffer limits.** The bytes waiting in an outbox are counted. When they pass the
//! hard limit of the client's class (`client-output-buffer-limit`, the pubsub class for
//! subscribers), or stay above the soft limit for longer than its seconds, the queue is
//! dropped and the client is killed, as Redis closes such clients ASAP. A connection takes
//! frames only when its previous write has finished, so a client that does not read holds
//! at most one write's worth besides its (bounded) queue.

use crate::client::{Client, ClientHandle};
use crate::stats::Stats;
use crate::{log_warning, Server};
use bytes::{BufMut, Bytes, BytesMut};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;
use vireo_config::BufferLimit;
use vireo_store::glob::string_match;

/// The three kinds of subscription.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel = 0,
    Pattern = 1,
    Shard = 2,
}

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
}

type Subscribers = Vec<Arc<ClientHandle>>;

#[derive(Default)]
struct Registry {
    /// Indexed by `Kind`.
    maps: [HashMap<Bytes, Subscribers>; 3],
}

/// The server's pub/sub state.
#[derive(Default)]
pub struct PubSub {
    registry: RwLock<Registry>,
    /// Clients with at least one subscription (INFO `pubsub_clients`).
    clients: AtomicUsize,
}

/// A connection's own subscriptions (only its connection task touches them). Each name
/// maps to when it was subscribed: an UNSUBSCRIBE without arguments confirms in
/// subscription order, as Redis does for patterns.
#[derive(Default)]
pub struct Subscriptions {
    sets: [HashMap<Bytes, u64>; 3],
    next_seq: u64,
}

impl Subscriptions {
    /// Channels and patterns: the count SUBSCRIBE, PSUBSCRIBE and their UNSUBSCRIBEs reply.
    pub fn count(&self) -> usize {
        self.sets[0].len() + self.sets[1].len()
    }

    pub fn shard_count(&self) -> usize {
        self.sets[2].len()
    }

    /// Does the client have any subscription (Redis's CLIENT_PUBSUB flag)?
    pub fn any(&self) -> bool {
        self.sets.iter().any(|s| !s.is_empty())
    }
}

/// The output queue other connections fill for a client; part of its `ClientHandle`.
#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
    /// Signalled when the queue goes from empty to not empty.
    pub notify: Notify,
    /// Subscription counts by kind, for CLIENT LIST (`sub`, `psub`, `ssub`) and the class
    /// of output buffer limit.
    counts: [AtomicUsize; 3],
}

#[derive(Default)]
struct Queue {
    frames: VecDeque<Bytes>,
    bytes: usize,
    /// When the queue went above the soft limit (None while below).
    soft_since: Option<Instant>,
    /// The client was disconnected for its output buffer: nothing more is queued.
    closed: bool,
}

impl Outbox {
    /// Subscriptions of `kind` (CLIENT LIST).
    pub fn count(&self, kind: Kind) -> usize {
        self.counts[kind.index()].load(Ordering::Relaxed)
    }

    /// Does the client have any subscription (flag `P`, CLIENT LIST TYPE pubsub)?
    pub fn subscribed(&self) -> bool {
        self.counts.iter().any(|c| c.load(Ordering::Relaxed) > 0)
    }

    /// Frames waiting and their bytes (CLIENT LIST `oll`, `omem`).
    pub fn pending(&self) -> (usize, usize) {
        let q = self.queue.lock();
        (q.frames.len(), q.bytes)
    }

    /// Moves every queued frame to `out`; false when there was none.
    pub fn drain_into(&self, out: &mut BytesMut) -> bool {
        let mut q = self.queue.lock();
        if q.frames.is_empty() {
            return false;
        }
        out.reserve(q.bytes);
        for frame in q.frames.drain(..) {
            out.put_slice(&frame);
        }
        q.bytes = 0;
        q.soft_since = None;
        true
    }

    /// Queues `frame`; false if the client must be disconnected for passing `limit`.
    fn push(&self, frame: Bytes, limit: BufferLimit) -> Push {
        let mut q = self.queue.lock();
        if q.closed {
            return Push::Dropped;
        }
        let was_empty = q.frames.is_empty();
        q.bytes += frame.len();
        q.frames.push_back(frame);
        let bytes = q.bytes as u64;
        let over_hard = limit.hard_bytes > 0 && bytes >= limit.hard_bytes;
        let mut over_soft = false;
        if limit.soft_bytes > 0 && bytes >= limit.soft_bytes {
            let since = *q.soft_since.get_or_insert_with(Instant::now);
            over_soft = since.elapsed().as_secs() > limit.soft_seconds;
        } else {
            q.soft_since = None;
        }
        if over_hard || over_soft {
            q.closed = true;
            q.frames = VecDeque::new();
            q.bytes = 0;
            return Push::OverLimit;
        }
        if was_empty {
            Push::Woke
        } else {
            Push::Queued
        }
    }
}

enum Push {
    Woke,
    Queued,
    Dropped,
    OverLimit,
}

/// A message encoded lazily, once per protocol, for all its receivers.
struct Frames<'a> {
    parts: [&'a [u8]; 4],
    len: usize,
    encoded: [Option<Bytes>; 2],
}

impl<'a> Frames<'a> {
    fn new(parts: &[&'a [u8]]) -> Frames<'a> {
        let mut all: [&[u8]; 4] = [b""; 4];
        all[..parts.len()].copy_from_slice(parts);
        Frames {
            parts: all,
            len: parts.len(),
            encoded: [None, None],
        }
    }

    fn get(&mut self, resp3: bool) -> Bytes {
        let parts = &self.parts[..self.len];
        self.encoded[resp3 as usize]
            .get_or_insert_with(|| {
                let size = 16 + parts.iter().map(|p| p.len() + 16).sum::<usize>();
                let mut buf = BytesMut::with_capacity(size);
                header(&mut buf, if resp3 { b'>' } else { b'*' }, parts.len());
                for part in parts {
                    header(&mut buf, b'$', part.len());
                    buf.put_slice(part);
                    buf.put_slice(b"\r\n");
                }
                buf.freeze()
            })
            .clone()
    }
}

fn header(buf: &mut BytesMut, kind: u8, n: usize) {
    let mut digits = itoa::Buffer::new();
    buf.put_u8(kind);
    buf.put_slice(digits.format(n).as_bytes());
    buf.put_slice(b"\r\n");
}

impl PubSub {
    /// INFO `pubsub_clients`.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// Channels, patterns or shard channels with at least one subscriber.
    pub fn len(&self, kind: Kind) -> usize {
        self.registry.read().maps[kind.index()].len()
    }

    /// The names of `kind` with subscribers, those matching `pattern` if given.
    pub fn names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.registry.read().maps[kind.index()]
            .keys()
            .filter(|name| pattern.is_none_or(|p| string_match(p, name, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of channel (or shard channel) `name`.
    pub fn subscribers(&self, kind: Kind, name: &[u8]) -> usize {
        self.registry.read().maps[kind.index()]
            .get(name)
            .map_or(0, Vec::len)
    }

    /// Subscribes `client` to `name`; false if it already was.
    pub fn subscribe(&self, client: &mut Client, kind: Kind, name: &[u8]) -> bool {
        let was_subscribed = client.subs.any();
        let set = &mut client.subs.sets[kind.index()];
        if set.contains_key(name) {
            return false;
        }
        let name = Bytes::copy_from_slice(name);
        set.insert(name.clone(), client.subs.next_seq);
        client.subs.next_seq += 1;
        let count = set.len();
        self.registry.write().maps[kind.index()]
            .entry(name)
            .or_default()
            .push(client.handle.clone());
        client.handle.outbox.counts[kind.index()].store(count, Ordering::Relaxed);
        if !was_subscribed {
            self.clients.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// Unsubscribes `client` from `name`; false if it was not subscribed.
    pub fn unsubscribe(&self, client: &mut Client, kind: Kind, name: &[u8]) -> bool {
        let set = &mut client.subs.sets[kind.index()];
        if set.remove(name).is_none() {
            return false;
        }
        let count = set.len();
        self.forget(&client.handle, kind, name);
        client.handle.outbox.counts[kind.index()].store(count, Ordering::Relaxed);
        if !client.subs.any() {
            self.clients.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    fn forget(&self, handle: &ClientHandle, kind: Kind, name: &[u8]) {
        let mut registry = self.registry.write();
        let map = &mut registry.maps[kind.index()];
        if let Some(subscribers) = map.get_mut(name) {
            if let Some(pos) = subscribers.iter().position(|h| h.id == handle.id) {
                subscribers.swap_remove(pos);
            }
            if subscribers.is_empty() {
                map.remove(name);
            }
        }
    }

    /// The names `client` is subscribed to, of `kind`, in subscription order.
    pub fn subscribed(client: &Client, kind: Kind) -> Vec<Bytes> {
        let mut names: Vec<(&Bytes, u64)> = client.subs.sets[kind.index()]
            .iter()
            .map(|(name, &seq)| (name, seq))
            .collect();
        names.sort_unstable_by_key(|&(_, seq)| seq);
        names.into_iter().map(|(name, _)| name.clone()).collect()
    }

    /// Drops every subscription of `client` (RESET, disconnect), without replies.
    pub fn unsubscribe_all(&self, client: &mut Client) {
        if !client.subs.any() {
            return;
        }
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in std::mem::take(&mut client.subs.sets[kind.index()]).into_keys() {
                self.forget(&client.handle, kind, &name);
            }
            client.handle.outbox.counts[kind.index()].store(0, Ordering::Relaxed);
        }
        self.clients.fetch_sub(1, Ordering::Relaxed);
    }

    /// PUBLISH: delivers `message` to the subscribers of `channel` and of the patterns
    /// matching it; the number of receivers.
    pub fn publish(&self, server: &Server, channel: &[u8], message: &[u8]) -> usize {
        let limits = Limits::of(server);
        let registry = self.registry.read();
        let mut receivers = 0;
        if let Some(subscribers) = registry.maps[Kind::Channel.index()].get(channel) {
            let mut frames = Frames::new(&[b"message", channel, message]);
            receivers += deliver(server, subscribers, &mut frames, &limits);
        }
        for (pattern, subscribers) in &registry.maps[Kind::Pattern.index()] {
            if string_match(pattern, channel, false) {
                let mut frames = Frames::new(&[b"pmessage", pattern, channel, message]);
                receivers += deliver(server, subscribers, &mut frames, &limits);
            }
        }
        receivers
    }

    /// SPUBLISH: delivers `message` to the subscribers of shard channel `channel`.
    pub fn spublish(&self, server: &Server, channel: &[u8], message: &[u8]) -> usize {
        let limits = Limits::of(server);
        let registry = self.registry.read();
        match registry.maps[Kind::Shard.index()].get(channel) {
            Some(subscribers) => {
                let mut frames = Frames::new(&[b"smessage", channel, message]);
                deliver(server, subscribers, &mut frames, &limits)
            }
            None => 0,
        }
    }
}

/// The output buffer limits of the classes a receiver may be in.
struct Limits {
    normal: BufferLimit,
    pubsub: BufferLimit,
}

impl Limits {
    fn of(server: &Server) -> Limits {
        let s = server.settings.read();
        Limits {
            normal: s.output_limits.normal,
            pubsub: s.output_limits.pubsub,
        }
    }
}

fn deliver(
    server: &Server,
    subscribers: &[Arc<ClientHandle>],
    frames: &mut Frames,
    limits: &Limits,
) -> usize {
    for handle in subscribers {
        let resp3 = handle.resp.load(Ordering::Relaxed) == 3;
        let outbox = &handle.outbox;
        let limit = if outbox.subscribed() {
            limits.pubsub
        } else {
            limits.normal
        };
        match outbox.push(frames.get(resp3), limit) {
            Push::Woke => outbox.notify.notify_one(),
            Push::Queued | Push::Dropped => {}
            Push::OverLimit => close_for_output_limit(server, handle),
        }
    }
    subscribers.len()
}

/// Queues `frame` for each of `receivers` outside PUBLISH (MONITOR lines), under the
/// output buffer limit of each one's class.
pub fn queue_frame(server: &Server, receivers: &[Arc<ClientHandle>], frame: Bytes) {
    let limits = Limits::of(server);
    for handle in receivers {
        let outbox = &handle.outbox;
        let limit = if outbox.subscribed() {
            limits.pubsub
        } else {
            limits.normal
        };
        match outbox.push(frame.clone(), limit) {
            Push::Woke => outbox.notify.notify_one(),
            Push::Queued | Push::Dropped => {}
            Push::OverLimit => close_for_output_limit(server, handle),
        }
    }
}

/// Disconnects a client whose output passed its limit, logged as Redis logs it.
pub fn close_for_output_limit(server: &Server, handle: &ClientHandle) {
    Stats::add(&server.stats.client_output_buffer_limit_disconnections, 1);
    let name = handle.meta.lock().name.clone().unwrap_or_default();
    log_warning!(
        "Client id={} addr={} laddr={} fd={} name={} scheduled to be closed ASAP for overcoming of output buffer limits.",
        handle.id,
        handle.addr,
        handle.laddr,
        handle.fd,
        name
    );
    handle.kill();
}
