//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...): Redis's `blocking_keys` and
//! `ready_keys`, spread over the shards. The commands themselves are in
//! `commands/blocking.rs`; this module is the waiting room.
//!
//! **Waiting.** A blocking command that finds nothing to pop registers a `Waiter` in the
//! blocking table of each of its keys' shards (one FIFO queue per key, kept in
//! `Shard::blocking`) while the dispatcher still holds those shards, and its connection
//! then awaits the waiter's outcome (`wait`): served, timed out, unblocked by CLIENT
//! UNBLOCK, or given up because the client went away.
//!
//! **Serving.** A write to a key someone waits on marks the key ready in the command's
//! `Keyspace` (shards without waiters pay one word for the check). When the handler is
//! done and before its locks are released, the dispatcher calls `serve_ready`, which takes
//! each ready key's waiters in FIFO order and runs their command again on the locked
//! shards, as Redis 7 re-executes a blocked command after the command (or transaction)
//! that made its key ready: so LPUSH replies with the length including what the waiters
//! then take. The reply is written in the waiter's protocol and handed to its connection.
//! No other client can take the element in between. What a served command writes (BLMOVE's destination)
//! may make more keys ready: those are served in the same pass, so chains of BLMOVE
//! waiters move an element all the way along in one step.
//!
//! **Claiming.** A waiter sits in the queue of each of its keys, possibly in several
//! shards, and may be ended from several sides at once: a write serving it, its timeout,
//! CLIENT UNBLOCK, a disconnect. Whoever ends it claims it first with one atomic swap; the
//! others leave it alone. The server claims a waiter before popping anything for it, so an
//! element is never popped for a client that timed out or went away, and never twice.
//!
//! **Shards not held.** Serving needs the shards of all the waiter's keys (and of BLMOVE's
//! destination). Those the writing command did not lock are taken with `try_lock`, since
//! they may lie outside the ascending lock order. If one is busy, the ready key is
//! deferred: right after the command, with no lock held, the shards the waiter needs are
//! locked in order and the key is served then (`serve_deferred`). Keys made ready through
//! a view the dispatcher does not serve (MOVE's view of the target database) take the
//! same path. In that window another client may pop the
//! element first, exactly as if its command had run just before the write: nothing is lost
//! or duplicated, and the waiter stays blocked until the next push.

use crate::client::{Client, ReplyMode};
use crate::commands::blocking::Pop;
use crate::commands::Ctx;
use crate::keyspace::Keyspace;
use crate::stats::Stats;
use crate::Server;
use bytes::{Bytes, BytesMut};
use parking_lot::{Mutex, MutexGuard};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::time::Instant;
use vireo_resp::Reply;
use vireo_store::{shard_index, Shard, SmallBytes};

/// The error a client unblocked by `CLIENT UNBLOCK id ERROR` receives.
pub const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// One shard's waiters, by key, oldest first. Stored type-erased in `Shard::blocking`.
type Table = HashMap<SmallBytes, VecDeque<Arc<Waiter>>>;

fn table(shard: &Shard) -> Option<&Table> {
    shard.blocking.as_ref()?.downcast_ref::<Table>()
}

fn table_mut(slot: &mut Option<Box<dyn std::any::Any + Send>>) -> &mut Table {
    slot.get_or_insert_with(|| Box::new(Table::new()))
        .downcast_mut::<Table>()
        .expect("Shard::blocking holds the blocking table")
}

/// Whether clients wait on `key` in this shard.
pub(crate) fn is_waited(shard: &Shard, key: &[u8]) -> bool {
    shard.blocking.is_some() && table(shard).is_some_and(|t| t.contains_key(key))
}

/// Server-wide blocking state: counters for INFO and the deferred ready keys.
#[derive(Default)]
pub struct Blocking {
    blocked_clients: AtomicUsize,
    /// Blocked clients with a timeout (INFO `clients_in_timeout_table`).
    with_timeout: AtomicUsize,
    /// Ready keys whose waiters need shards that were busy: (database, key).
    deferred: Mutex<Vec<(usize, SmallBytes)>>,
    has_deferred: AtomicBool,
}

impl Blocking {
    pub fn blocked_clients(&self) -> usize {
        self.blocked_clients.load(Ordering::Relaxed)
    }

    pub fn clients_in_timeout_table(&self) -> usize {
        self.with_timeout.load(Ordering::Relaxed)
    }

    /// Are ready keys waiting for `serve_deferred`?
    pub fn has_deferred(&self) -> bool {
        self.has_deferred.load(Ordering::Acquire)
    }

    pub(crate) fn defer(&self, db: usize, key: &[u8]) {
        self.deferred.lock().push((db, SmallBytes::new(key)));
        self.has_deferred.store(true, Ordering::Release);
    }

    fn next_deferred(&self) -> Option<(usize, SmallBytes)> {
        let mut deferred = self.deferred.lock();
        let next = deferred.pop();
        if deferred.is_empty() {
            self.has_deferred.store(false, Ordering::Release);
        }
        next
    }
}

/// How a wait ended, when it did not end with the client gone.
enum Outcome {
    /// The command ran; its reply, already written in the client's protocol.
    Served(BytesMut),
    /// The timeout passed, or CLIENT UNBLOCK ... TIMEOUT.
    TimedOut,
    /// CLIENT UNBLOCK ... ERROR.
    Unblocked,
}

/// A client blocked on keys: what to run when one is ready, and how the wait ends.
pub struct Waiter {
    db: usize,
    /// The keys the command names, in its order (it pops from the first that holds data).
    keys: Vec<Bytes>,
    pop: Pop,
    resp3: bool,
    deadline: Option<Instant>,
    claimed: AtomicBool,
    outcome: Mutex<Option<Outcome>>,
    done: Notify,
}

impl Waiter {
    fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }

    /// Ends the wait for whoever calls first; false for everyone else.
    fn claim(&self, blocking: &Blocking) -> bool {
        if self.claimed.swap(true, Ordering::AcqRel) {
            return false;
        }
        blocking.blocked_clients.fetch_sub(1, Ordering::Relaxed);
        if self.deadline.is_some() {
            blocking.with_timeout.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    /// Hands the outcome to the waiting connection (after a successful `claim`).
    fn finish(&self, outcome: Outcome) {
        *self.outcome.lock() = Some(outcome);
        self.done.notify_one();
    }

    /// The keys whose shards serving needs: the waited keys and BLMOVE's destination.
    fn keys_to_lock(&self) -> impl Iterator<Item = &[u8]> {
        self.keys
            .iter()
            .map(|k| &k[..])
            .chain(self.pop.destination())
    }

    /// Is a client with this waiter shown as blocked (CLIENT LIST `b`)?
    pub fn is_blocked(&self) -> bool {
        !self.is_claimed()
    }
}

/// Blocks the calling client on `keys` until one of them can be popped by `pop`, or
/// `deadline` (None: forever). Called by a blocking command that found nothing, with the
/// keys' shards locked; the connection then waits in `wait`.
pub fn block(ctx: &mut Ctx, keys: &[Bytes], pop: Pop, deadline: Option<Instant>) {
    let waiter = Arc::new(Waiter {
        db: ctx.db.db_index(),
        keys: keys.to_vec(),
        pop,
        resp3: ctx.reply.resp3(),
        deadline,
        claimed: AtomicBool::new(false),
        outcome: Mutex::new(None),
        done: Notify::new(),
    });
    for key in keys {
        let queue = table_mut(ctx.db.blocking_slot(key))
            .entry(SmallBytes::new(key))
            .or_default();
        // A key named twice is waited on once: it would be our own entry at the back.
        if !queue.back().is_some_and(|w| Arc::ptr_eq(w, &waiter)) {
            queue.push_back(waiter.clone());
        }
    }
    let blocking = &ctx.server.blocking;
    blocking.blocked_clients.fetch_add(1, Ordering::Relaxed);
    if deadline.is_some() {
        blocking.with_timeout.fetch_add(1, Ordering::Relaxed);
    }
    // The command's arguments are held while it waits (CLIENT LIST `argv-mem`): stored
    // before the waiter makes the client show as blocked, so that a line with `b` has them.
    ctx.client.handle.hold_args(Some(ctx.args));
    *ctx.client.handle.blocked.lock() = Some(waiter.clone());
    ctx.client.blocked = Some(waiter);
}

/// Removes a waiter from the queues of its keys (after it was claimed), one shard at a time.
fn unregister(server: &Server, waiter: &Arc<Waiter>) {
    let db = &server.dbs[waiter.db];
    for key in &waiter.keys {
        let mut shard = db.lock(shard_index(key));
        remove_from_queue(&mut shard.blocking, key, |w| Arc::ptr_eq(w, waiter));
    }
}

/// Removes the waiters `gone` selects from `key`'s queue, and the queue (and the table)
/// once empty, so that `Shard::blocking` is `None` again when nobody waits in the shard.
fn remove_from_queue(
    slot: &mut Option<Box<dyn std::any::Any + Send>>,
    key: &[u8],
    gone: impl Fn(&Arc<Waiter>) -> bool,
) {
    if slot.is_none() {
        return;
    }
    let table = table_mut(slot);
    if let Some(queue) = table.get_mut(key) {
        queue.retain(|w| !gone(w));
        if queue.is_empty() {
            table.remove(key);
        }
    }
    if table.is_empty() {
        *slot = None;
    }
}

// ---------------------------------------------------------------------------------------
// Serving

/// Serves the waiters of every key the command made ready (called by the dispatcher once
/// the handler is done, its locks still held). Keys made ready while serving are served
/// too. Each waiter's command runs in `ctx` (the writer's context) with the reply buffer
/// swapped for one in the waiter's protocol.
pub fn serve_ready(ctx: &mut Ctx) {
    while let Some(key) = ctx.db.next_ready() {
        serve_key(ctx, &key);
    }
}

/// Serves `key`'s waiters, oldest first, while it holds something for them.
fn serve_key(ctx: &mut Ctx, key: &[u8]) {
    let blocking = &ctx.server.blocking;
    // At most the waiters there now: a served command cannot block again, but the bound
    // makes the loop's end obvious.
    let Some(mut budget) = queue_of(ctx.db, key).map(|q| q.len()) else {
        return;
    };
    let mut pos = 0;
    while budget > 0 {
        budget -= 1;
        let Some(waiter) = queue_of(ctx.db, key).and_then(|q| q.get(pos).cloned()) else {
            return;
        };
        if waiter.is_claimed() {
            remove_at(ctx.db, key, pos);
            continue;
        }
        // The key must hold a value of the waiter's type (a list for BLPOP...); a
        // waiter of another type keeps its place.
        match ctx.db.peek(key).map(|v| waiter.pop.wants(v)) {
            None => return,
            Some(false) => {
                pos += 1;
                continue;
            }
            Some(true) => {}
        }
        if !waiter.keys_to_lock().all(|k| ctx.db.try_cover(k)) {
            blocking.defer(ctx.db.db_index(), key);
            return;
        }
        if !waiter.claim(blocking) {
            remove_at(ctx.db, key, pos);
            continue;
        }
        remove_at(ctx.db, key, pos);
        let reply = run_for(ctx, &waiter);
        waiter.finish(Outcome::Served(reply));
    }
}

/// Runs a claimed waiter's command on the locked shards; its reply, in its protocol.
fn run_for(ctx: &mut Ctx, waiter: &Waiter) -> BytesMut {
    let mut reply = Reply::new();
    reply.set_resp3(waiter.resp3);
    std::mem::swap(ctx.reply, &mut reply);
    let result = waiter.pop.run(ctx, &waiter.keys);
    // The waiter's command propagates as a unit of its own, after the one that served it.
    ctx.flush_effects();
    std::mem::swap(ctx.reply, &mut reply);
    match result {
        Ok(true) => {}
        // `serve_key` saw a value of the waiter's type under the same locks.
        Ok(false) => unreachable!("a waiter was served from a key holding nothing"),
        Err(e) => {
            ctx.server.stats.record_error(&e.0);
            reply.error(&e.0);
        }
    }
    reply.buf
}

fn queue_of<'k>(db: &'k mut Keyspace, key: &[u8]) -> Option<&'k VecDeque<Arc<Waiter>>> {
    let slot = db.blocking_slot(key);
    slot.as_ref()?.downcast_ref::<Table>()?.get(key)
}

fn remove_at(db: &mut Keyspace, key: &[u8], pos: usize) {
    let slot = db.blocking_slot(key);
    let table = table_mut(slot);
    if let Some(queue) = table.get_mut(key) {
        queue.remove(pos);
        if queue.is_empty() {
            table.remove(key);
        }
    }
    if table.is_empty() {
        *slot = None;
    }
}

/// Serves the keys deferred because a shard was busy, or marked ready by a view the
/// dispatcher did not serve. Called after the command, with no lock held, in the context
/// of the client that ran it. For each key, the shards its oldest waiter needs are locked
/// together, in order, so that waiter is served (or the key found empty): every round
/// makes progress.
pub fn serve_deferred(server: &Server, client: &mut Client) {
    while let Some((db_index, key)) = server.blocking.next_deferred() {
        let needed: Vec<Bytes> = {
            let shard = server.dbs[db_index].lock(shard_index(&key));
            let oldest = table(&shard)
                .and_then(|t| t.get(key.as_slice()))
                .and_then(|q| q.iter().find(|w| !w.is_claimed()).cloned());
            match oldest {
                Some(w) => w.keys_to_lock().map(Bytes::copy_from_slice).collect(),
                None => continue,
            }
        };
        let now_ms = crate::unix_ms();
        // A pop served here is a command like any other: not during an exclusive EXEC.
        let _gate = server.gate.shared(client.id());
        let keys = std::iter::once(key.as_slice()).chain(needed.iter().map(|k| &k[..]));
        let mut reply = Reply::new();
        let mut db = Keyspace::lock(server, db_index, now_ms, keys);
        let mut ctx = Ctx {
            server,
            client: &mut *client,
            args: &[],
            reply: &mut reply,
            db: &mut db,
            now_ms,
        };
        ctx.db.mark_ready(&key);
        serve_ready(&mut ctx);
    }
}

/// After SWAPDB: every waited key that now exists in `db` is deferred for serving, as
/// Redis scans a swapped database for keys its blocked clients can now take.
pub fn signal_existing(server: &Server, db: usize, shards: &[MutexGuard<'_, Shard>]) {
    for shard in shards {
        let Some(table) = table(shard) else { continue };
        for key in table.keys() {
            if shard.keys.contains_key(key.as_slice()) {
                server.blocking.defer(db, key);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The blocked connection

/// Waits until the client's blocked command ends, after writing the replies before it,
/// and appends its reply. The connection's input is still read meanwhile (and kept for
/// after), so that a client that closes its end is noticed at once: its wait is then
/// claimed and nothing is popped for it. False when the connection must close.
pub async fn wait<S>(
    server: &Server,
    client: &mut Client,
    stream: &mut S,
    rbuf: &mut BytesMut,
    reply: &mut Reply,
) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(waiter) = client.blocked.take() else {
        return true;
    };
    let outcome = wait_outcome(server, client, &waiter, stream, rbuf, reply).await;
    unregister(server, &waiter);
    *client.handle.blocked.lock() = None;
    client.handle.touch(crate::unix_ms());
    let Some(outcome) = outcome else {
        return false;
    };
    if client.reply_mode == ReplyMode::Off {
        return true;
    }
    match outcome {
        Outcome::Served(bytes) => reply.raw(&bytes),
        Outcome::TimedOut => reply.null_array(),
        Outcome::Unblocked => {
            server.stats.record_error(UNBLOCKED);
            reply.error(UNBLOCKED);
        }
    }
    true
}

/// The outcome of the wait, or None if the client went away (or was killed) first.
async fn wait_outcome<S>(
    server: &Server,
    client: &Client,
    waiter: &Waiter,
    stream: &mut S,
    rbuf: &mut BytesMut,
    reply: &mut Reply,
) -> Option<Outcome>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let blocking = &server.blocking;
    let handle = &client.handle;
    if !reply.is_empty() {
        Stats::add(&server.stats.net_output_bytes, reply.len() as u64);
        if stream.write_all(&reply.buf).await.is_err() {
            waiter.claim(blocking);
            return None;
        }
        reply.buf.clear();
    }
    let qbuf_limit = server.settings.read().client_query_buffer_limit;
    let deadline = async {
        match waiter.deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut timed_out = false;
    loop {
        // Created before the check, so a `finish` in between is not missed.
        let done = waiter.done.notified();
        if let Some(outcome) = waiter.outcome.lock().take() {
            return Some(outcome);
        }
        tokio::select! {
            _ = done => {}
            _ = &mut deadline, if !timed_out => {
                timed_out = true;
                if waiter.claim(blocking) {
                    waiter.finish(Outcome::TimedOut);
                }
            }
            _ = handle.kill_notify.notified() => {
                waiter.claim(blocking);
                return None;
            }
            read = stream.read_buf(rbuf) => match read {
                Ok(n) if n > 0 && rbuf.len() <= qbuf_limit => {
                    Stats::add(&server.stats.net_input_bytes, n as u64);
                }
                _ => {
                    waiter.claim(blocking);
                    return None;
                }
            }
        }
    }
}

/// CLIENT UNBLOCK: ends client `id`'s wait as a timeout, or with the UNBLOCKED error.
/// False if it is not blocked (or its wait is ending anyway).
pub fn unblock(server: &Server, id: u64, error: bool) -> bool {
    let Some(handle) = server.clients.get(id) else {
        return false;
    };
    let Some(waiter) = handle.blocked.lock().clone() else {
        return false;
    };
    if !waiter.claim(&server.blocking) {
        return false;
    }
    waiter.finish(if error {
        Outcome::Unblocked
    } else {
        Outcome::TimedOut
    });
    true
}

/// INFO's `total_blocking_keys` (keys some client is blocked on, in all databases) and
/// `total_blocking_keys_on_nokey` (those whose clients also unblock when the key is
/// deleted: only XREADGROUP does, which Vireo has not yet, so the count is of none).
pub fn blocking_keys(server: &Server) -> (usize, usize) {
    let mut keys = 0;
    for db in server.dbs.iter() {
        for index in 0..vireo_store::SHARDS {
            let shard = db.lock(index);
            if let Some(table) = table(&shard) {
                keys += table
                    .values()
                    .filter(|q| q.iter().any(|w| !w.is_claimed()))
                    .count();
            }
        }
    }
    (keys, 0)
}
