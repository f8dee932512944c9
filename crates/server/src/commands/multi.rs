//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH.
//!
//! **Queuing.** After MULTI the dispatcher (`crate::exec`) checks each command as it would
//! before running it (lookup, arity, authentication, `no-multi`) and queues it instead,
//! replying `+QUEUED`; a command refused there flags the transaction, and EXEC then
//! answers EXECABORT. EXEC DISCARD MULTI WATCH QUIT RESET are not queued.
//!
//! **Atomicity.** EXEC locks, once and in ascending order, the shards of every key the
//! queued commands name, then runs them one after the other on that one locked view, so
//! no other client, on any thread, sees part of the transaction. Blocking commands inside
//! answer at once (`Client::deny_blocking`), and keys the transaction made ready serve
//! their blocked clients after the last command, still under the locks. A transaction
//! that also holds a command locking for itself (whole-database commands such as FLUSHDB,
//! DBSIZE, KEYS, INFO; MOVE, COPY, SWAPDB; CLIENT UNBLOCK) or a SELECT cannot name its
//! shards up front (see `needs_own_locking`): it runs in exclusive mode (`crate::gate`),
//! each command with its own locking while no other command runs.
//!
//! **WATCH.** Each shard keeps the keys watched in it (`Shard::watched`, `None` while
//! nobody watches there: a write checks one word) with the dirty flag of each watching
//! client. Every change of a key flags its watchers: the `Shard` methods that write
//! (insert, remove, expiry changes: so lazy and active expiry too), in-place edits that
//! changed something (`Ctx::changed`, Redis's signalModifiedKey: a no-op such as SREM of a
//! missing member is not a change), FLUSHDB/FLUSHALL/SWAPDB for the watched keys that
//! existed. WATCH
//! registers under the key's shard lock, after deleting the key if it had already expired,
//! so a key that expired before WATCH is not a change, one that expires after is. EXEC
//! checks the flag once it holds its locks: a change made after that check is ordered
//! after the transaction.

use super::{Cmd, CmdResult, Ctx};
use crate::client::Client;
use crate::Server;
use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use vireo_store::{shard_index, SmallBytes};

pub const COMMANDS: &[Cmd] = &[
    Cmd::manual("multi", multi),
    Cmd::manual("exec", exec),
    Cmd::manual("discard", discard),
    Cmd::keys("watch", watch),
    Cmd::manual("unwatch", unwatch),
];

pub const NESTED: &str = "ERR MULTI calls can not be nested";
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
pub const WATCH_INSIDE_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const NOT_ALLOWED: &str = "ERR Command not allowed inside a transaction";

/// A transaction being queued.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<Vec<Bytes>>,
    /// A command was refused while queuing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// Server-wide WATCH counters (INFO `watching_clients`, `total_watched_keys`).
#[derive(Default)]
pub struct WatchStats {
    pub watching_clients: AtomicUsize,
    /// Distinct watched (database, key) pairs.
    pub watched_keys: AtomicUsize,
}

/// Whether the dispatcher runs `name` at once inside MULTI instead of queuing it.
pub fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Commands that lock on their own (`Locking::Manual`) but touch no shard, so they can
/// run inside a transaction that holds its locks. Any other manual command (KEYS, DBSIZE,
/// FLUSHDB, INFO, MOVE, CLIENT UNBLOCK...) would wait for shards the transaction holds,
/// and SELECT moves later commands to another database.
pub fn needs_own_locking(name: &str) -> bool {
    let shard_free = matches!(
        name,
        "ping"
            | "echo"
            | "time"
            | "lastsave"
            | "hello"
            | "auth"
            | "object|help"
            | "client|id"
            | "client|setname"
            | "client|getname"
            | "client|setinfo"
            | "client|list"
            | "client|info"
            | "client|kill"
            | "client|reply"
            | "client|no-evict"
            | "client|no-touch"
            | "client|help"
            | "config|get"
            | "config|set"
            | "config|resetstat"
            | "config|rewrite"
            | "config|help"
    ) || name == "command"
        || name.starts_with("command|");
    !shard_free
}

/// Queues a command that passed the dispatcher's checks.
pub fn queue(client: &mut Client, args: &[Bytes]) {
    if let Some(multi) = client.multi.as_mut() {
        multi.queued.push(args.to_vec());
        let n = multi.queued.len() as i64;
        client.handle.multi.store(n, Ordering::Relaxed);
        let mem = crate::client::queued_command_mem(args);
        client.handle.multi_mem.fetch_add(mem, Ordering::Relaxed);
    }
}

/// Flags the transaction being queued, if any: EXEC will answer EXECABORT.
pub fn flag_error(client: &mut Client) {
    if let Some(multi) = client.multi.as_mut() {
        multi.aborted = true;
    }
}

fn multi(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(NESTED.into());
    }
    ctx.client.multi = Some(Multi::default());
    ctx.client.handle.multi.store(0, Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

fn discard(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err(DISCARD_WITHOUT_MULTI.into());
    }
    discard_transaction(ctx.server, ctx.client);
    ctx.reply.ok();
    Ok(())
}

/// Ends the transaction being queued, if any, and drops every watch (DISCARD, RESET).
pub fn discard_transaction(server: &Server, client: &mut Client) {
    client.multi = None;
    client.handle.multi.store(-1, Ordering::Relaxed);
    client.handle.multi_mem.store(0, Ordering::Relaxed);
    unwatch_all(server, client);
}

fn watch(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(WATCH_INSIDE_MULTI.into());
    }
    let db = ctx.client.db;
    let flag = ctx.client.handle.watch_dirty.clone();
    let was_watching = !ctx.client.watched.is_empty();
    for arg in &ctx.args[1..] {
        let key = &arg[..];
        if ctx
            .client
            .watched
            .iter()
            .any(|(d, k)| *d == db && k.as_slice() == key)
        {
            continue;
        }
        // A key already past its expiry is gone now, not changed later.
        ctx.db.exists(key);
        if ctx.db.watch(key, &flag) {
            ctx.server
                .watches
                .watched_keys
                .fetch_add(1, Ordering::Relaxed);
        }
        ctx.client.watched.push((db, SmallBytes::new(key)));
    }
    if !was_watching && !ctx.client.watched.is_empty() {
        ctx.server
            .watches
            .watching_clients
            .fetch_add(1, Ordering::Relaxed);
    }
    ctx.client
        .handle
        .watched_keys
        .store(ctx.client.watched.len(), Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx) -> CmdResult {
    unwatch_all(ctx.server, ctx.client);
    ctx.reply.ok();
    Ok(())
}

/// Drops every watch of the client and clears its dirty flag. Takes each watched key's
/// shard on its own, so it must be called with no shard locked.
pub fn unwatch_all(server: &Server, client: &mut Client) {
    let flag = &client.handle.watch_dirty;
    if !client.watched.is_empty() {
        for (db, key) in client.watched.drain(..) {
            let mut shard = server.dbs[db].lock(shard_index(key.as_slice()));
            if shard.unwatch(key.as_slice(), flag) {
                server.watches.watched_keys.fetch_sub(1, Ordering::Relaxed);
            }
        }
        server
            .watches
            .watching_clients
            .fetch_sub(1, Ordering::Relaxed);
        client.handle.watched_keys.store(0, Ordering::Relaxed);
    }
    flag.store(false, Ordering::Release);
}

/// Whether a watched key has passed its expiry time at `now_ms` without being deleted
/// yet (Redis 7 fails EXEC for that too). Locks one shard at a time.
fn watched_key_expired(server: &Server, client: &Client, now_ms: i64) -> bool {
    client.watched.iter().any(|(db, key)| {
        let shard = server.dbs[*db].lock(shard_index(key.as_slice()));
        shard.is_expired(key.as_slice(), now_ms)
    })
}

fn exec(ctx: &mut Ctx) -> CmdResult {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(EXEC_WITHOUT_MULTI.into());
    };
    ctx.client.handle.multi.store(-1, Ordering::Relaxed);
    ctx.client.handle.multi_mem.store(0, Ordering::Relaxed);
    if multi.aborted {
        unwatch_all(ctx.server, ctx.client);
        return Err(EXECABORT.into());
    }
    if !ctx.client.watched.is_empty() && watched_key_expired(ctx.server, ctx.client, ctx.now_ms) {
        ctx.client.handle.watch_dirty.store(true, Ordering::Release);
    }
    crate::exec::run_transaction(ctx.server, ctx.client, ctx.reply, &multi.queued, ctx.now_ms);
    unwatch_all(ctx.server, ctx.client);
    Ok(())
}
