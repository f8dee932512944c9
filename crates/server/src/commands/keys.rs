//! The generic keyspace commands: DEL UNLINK EXISTS TYPE TOUCH KEYS SCAN RANDOMKEY DBSIZE
//! FLUSHDB FLUSHALL SWAPDB RENAME RENAMENX MOVE COPY, and OBJECT.
//!
//! **Locking.** Commands on named keys of the client's database (DEL, RENAME, ...) are
//! `Cmd::keys`: the dispatcher locks their shards. The others lock for themselves, always in
//! the global order — databases ascending, then shards ascending — so they cannot deadlock
//! with each other or with the dispatcher: KEYS, DBSIZE, RANDOMKEY and FLUSHDB hold every
//! shard of the database at once; FLUSHALL holds every shard of every database and SWAPDB
//! every shard of both databases, so each is one atomic step that any other command sees
//! entirely or not at all. MOVE and COPY ... DB lock the key's shard in each database, the
//! lower database first. SCAN is the exception by design: it holds one shard at a time, as
//! its contract only promises to return keys present for the whole iteration.
//!
//! **The SCAN cursor.** A database is 64 shards, each its own dict with its own
//! reverse-binary cursor (see `vireo_store::dict`). The client's cursor packs both:
//!
//! ```text
//!   cursor = dict_cursor << 6 | shard
//! ```
//!
//! A scan walks shard 0 from dict cursor 0 until that dict's scan returns 0, then shard 1,
//! and so on; after shard 63 it returns 0. A key never changes shard (its shard is a function
//! of its name), so a key present for the whole scan is in one shard for the whole scan, and
//! that shard's dict scan — which survives resizes and rehashing — returns it. The shard sits
//! in the low bits so that small databases keep small cursors. Every cursor value decodes to
//! some position, so a garbage cursor at worst returns part of the keyspace.
//!
//! **Notifications and propagation** (Redis 7.2): DEL and UNLINK publish `del` per key
//! deleted; RENAME `rename_from` then `rename_to`, MOVE `move_from` (source database) then
//! `move_to`, COPY `copy_to`, each after the keyspace's `new` for the key it adds; FLUSHDB,
//! FLUSHALL and SWAPDB publish nothing. Everything propagates as sent, FLUSHDB even on
//! an empty database, and nothing when it changed nothing.

use super::args::{self, ScanOptions};
use super::{Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::keyspace::Keyspace;
use crate::lazyfree;
use crate::notify::class;
use crate::stats::Stats;
use crate::Server;
use parking_lot::MutexGuard;
use vireo_store::glob::string_match;
use vireo_store::{Shard, SmallBytes, Value, SHARDS};

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("del", del),
    Cmd::keys("unlink", unlink),
    Cmd::keys("exists", exists),
    Cmd::keys("type", type_),
    Cmd::keys("touch", touch),
    Cmd::manual("keys", keys),
    Cmd::manual("scan", scan),
    Cmd::manual("randomkey", randomkey),
    Cmd::manual("dbsize", dbsize),
    Cmd::manual("flushdb", flushdb),
    Cmd::manual("flushall", flushall),
    Cmd::manual("swapdb", swapdb),
    Cmd::keys("rename", rename),
    Cmd::keys("renamenx", renamenx),
    Cmd::manual("move", move_),
    Cmd::manual("copy", copy),
    Cmd::keys("object|encoding", object_encoding),
    Cmd::keys("object|refcount", object_refcount),
    Cmd::keys("object|idletime", object_idletime),
    Cmd::keys("object|freq", object_freq),
    Cmd::manual("object|help", object_help),
];

/// SCAN's dict cursor sits above this many shard bits (64 shards).
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

// ---------------------------------------------------------------------------------------
// Locking helpers for the commands that lock for themselves.

/// Every shard of database `db`, locked in ascending order.
fn lock_db(server: &Server, db: usize) -> Vec<MutexGuard<'_, Shard>> {
    server.dbs[db].lock_all()
}

/// Every shard of every database, in the global order.
fn lock_all_dbs(server: &Server) -> Vec<MutexGuard<'_, Shard>> {
    server.dbs.iter().flat_map(|db| db.lock_all()).collect()
}

/// `key` locked in database `a` and `b_key` in database `b` (a != b), lower database first.
fn lock_in_two_dbs<'s>(
    ctx: &Ctx<'s, '_>,
    a: usize,
    a_key: &'s [u8],
    b: usize,
    b_key: &'s [u8],
) -> (Keyspace<'s>, Keyspace<'s>) {
    let lock = |db: usize, key: &'s [u8]| {
        let mut ks = Keyspace::lock(ctx.server, db, ctx.now_ms, std::iter::once(key));
        ks.set_touch(touches(ctx));
        ks
    };
    if a < b {
        let first = lock(a, a_key);
        (first, lock(b, b_key))
    } else {
        let first = lock(b, b_key);
        (lock(a, a_key), first)
    }
}

/// Whether this client's lookups stamp access clocks (CLIENT NO-TOUCH turns it off).
fn touches(ctx: &Ctx) -> bool {
    !ctx.client
        .handle
        .no_touch
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// Redis's read lookup without touching the access clock (EXISTS, TYPE, TTL): lazy
/// expiry, the hit/miss counters and the `keymiss` notification, nothing else.
pub(super) fn peek_counted<'k>(
    db: &'k mut Keyspace<'_>,
    stats: &Stats,
    key: &[u8],
) -> Option<&'k Value> {
    peek_counted_notifying(db, stats, key, true)
}

/// `peek_counted`, with or without the `keymiss` notification (OBJECT counts the lookup
/// but notifies nothing, as Redis).
fn peek_counted_notifying<'k>(
    db: &'k mut Keyspace<'_>,
    stats: &Stats,
    key: &[u8],
    notify_miss: bool,
) -> Option<&'k Value> {
    let found = db.peek(key).is_some();
    if found {
        Stats::add(&stats.keyspace_hits, 1);
    } else {
        Stats::add(&stats.keyspace_misses, 1);
        if notify_miss {
            db.note_read_miss(key);
        }
    }
    db.peek(key)
}

/// Is the configuration directive `name` set to `yes`?
fn config_yes(server: &Server, name: &str) -> bool {
    server.config.read().get_one(name).as_deref() == Some("yes")
}

// ---------------------------------------------------------------------------------------
// DEL UNLINK EXISTS TYPE TOUCH

/// DEL key [key ...]
fn del(ctx: &mut Ctx) -> CmdResult {
    delete(ctx, false)
}

/// UNLINK key [key ...]
fn unlink(ctx: &mut Ctx) -> CmdResult {
    delete(ctx, true)
}

/// DEL and UNLINK differ only in who frees a big value; DEL defers too when
/// `lazyfree-lazy-user-del` is on. (The directive is read only for values big enough
/// for the choice to matter.)
fn delete(ctx: &mut Ctx, unlink: bool) -> CmdResult {
    let mut deleted = 0;
    for key in &ctx.args[1..] {
        let Some(value) = ctx.db.remove(key) else {
            continue;
        };
        deleted += 1;
        ctx.modified(key, class::GENERIC, "del");
        let server = ctx.server;
        lazyfree::free_deleted(value, || {
            unlink || config_yes(server, "lazyfree-lazy-user-del")
        });
    }
    ctx.dirty(deleted);
    ctx.reply.int(deleted as i64);
    Ok(())
}

/// EXISTS key [key ...] — a key named twice counts twice.
fn exists(ctx: &mut Ctx) -> CmdResult {
    let mut found = 0;
    for key in &ctx.args[1..] {
        if peek_counted(ctx.db, &ctx.server.stats, key).is_some() {
            found += 1;
        }
    }
    ctx.reply.int(found);
    Ok(())
}

/// TYPE key
fn type_(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let name = peek_counted(ctx.db, &ctx.server.stats, key).map_or("none", Value::type_name);
    ctx.reply.simple(name);
    Ok(())
}

/// TOUCH key [key ...] — stamps the access clocks even for a NO-TOUCH client.
fn touch(ctx: &mut Ctx) -> CmdResult {
    let mut found = 0;
    for key in &ctx.args[1..] {
        if ctx.db.get(key).is_some() {
            found += 1;
        }
    }
    ctx.reply.int(found);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// KEYS SCAN RANDOMKEY DBSIZE

/// KEYS pattern — expired keys not yet reclaimed are skipped, not deleted.
fn keys(ctx: &mut Ctx) -> CmdResult {
    let pattern = ctx.arg(1);
    let every = pattern == b"*";
    let shards = lock_db(ctx.server, ctx.client.db);
    let mut found: Vec<&SmallBytes> = Vec::new();
    for shard in &shards {
        for (key, _) in shard.keys.iter() {
            let wanted = every || string_match(pattern, key.as_slice(), false);
            if wanted && !shard.is_expired(key.as_slice(), ctx.now_ms) {
                found.push(key);
            }
        }
    }
    ctx.reply.array(found.len());
    for key in found {
        ctx.reply.bulk(key.as_slice());
    }
    Ok(())
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] (cursor layout in the module
/// header). As in Redis, COUNT is the number of dict buckets to visit (with up to ten
/// times as many visits allowed while nothing matches); expired keys met on the way are
/// deleted.
fn scan(ctx: &mut Ctx) -> CmdResult {
    let cursor = args::scan_cursor(ctx.arg(1))?;
    let options = ScanOptions::parse(&ctx.args[2..], true)?;
    let db_index = ctx.client.db;
    let db = &ctx.server.dbs[db_index];
    let mut shard_index = (cursor % SHARDS as u64) as usize;
    let mut dict_cursor = cursor >> SHARD_BITS;
    let mut visits_left = options.count.saturating_mul(10);
    let mut found: Vec<SmallBytes> = Vec::new();
    let mut expired: Vec<SmallBytes> = Vec::new();
    while shard_index < SHARDS {
        let mut guard = db.lock(shard_index);
        let shard: &mut Shard = &mut guard;
        // Empty shards are skipped for free: only bucket visits count.
        let shard_done = loop {
            if shard.keys.is_empty() {
                break true;
            }
            dict_cursor = shard.keys.scan(dict_cursor, |key, value| {
                if !scan_wants(&options, key.as_slice(), value) {
                    return;
                }
                if shard
                    .expires
                    .get(key.as_slice())
                    .is_some_and(|&at| at <= ctx.now_ms)
                {
                    expired.push(key.clone());
                } else {
                    found.push(key.clone());
                }
            });
            visits_left = visits_left.saturating_sub(1);
            if dict_cursor == 0 {
                break true;
            }
            if found.len() >= options.count || visits_left == 0 {
                break false;
            }
        };
        // (Not during a CLIENT PAUSE: the dataset must not change.)
        if !ctx.server.pause.is_paused(ctx.now_ms) {
            for key in expired.drain(..) {
                let value = shard.remove(key.as_slice());
                ctx.server.key_expired(db_index, key.as_slice(), value);
            }
        }
        expired.clear();
        drop(guard);
        if shard_done {
            shard_index += 1;
            dict_cursor = 0;
        }
        if found.len() >= options.count || visits_left == 0 {
            break;
        }
    }
    let next = if shard_index >= SHARDS {
        0
    } else {
        dict_cursor << SHARD_BITS | shard_index as u64
    };
    ctx.reply.array(2);
    ctx.reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.reply.array(found.len());
    for key in &found {
        ctx.reply.bulk(key.as_slice());
    }
    Ok(())
}

/// The MATCH and TYPE filters of SCAN.
fn scan_wants(options: &ScanOptions, key: &[u8], value: &Value) -> bool {
    if let Some(pattern) = options.pattern {
        if !string_match(pattern, key, false) {
            return false;
        }
    }
    options
        .type_name
        .is_none_or(|t| t.eq_ignore_ascii_case(value.type_name().as_bytes()))
}

/// Draws of expired keys RANDOMKEY makes during a CLIENT PAUSE before it returns one.
const RANDOMKEY_PAUSED_TRIES: usize = 100;

/// RANDOMKEY — every key equally likely: a shard is drawn weighted by its size, then a key
/// in it. Expired keys drawn are deleted and the draw repeats, as in Redis.
fn randomkey(ctx: &mut Ctx) -> CmdResult {
    let db_index = ctx.client.db;
    let mut shards = lock_db(ctx.server, db_index);
    let mut paused_draws = 0;
    loop {
        let total: usize = shards.iter().map(|s| s.keys.len()).sum();
        if total == 0 {
            ctx.reply.null();
            return Ok(());
        }
        let mut pick = rand::random_range(0..total);
        let shard = shards
            .iter_mut()
            .find(|s| {
                let len = s.keys.len();
                if pick < len {
                    return true;
                }
                pick -= len;
                false
            })
            .expect("pick < total");
        let key = match shard.keys.random_entry() {
            Some((key, _)) => key.clone(),
            None => continue,
        };
        if shard.is_expired(key.as_slice(), ctx.now_ms) {
            // During a CLIENT PAUSE expired keys stay; after enough expired draws the
            // last one is returned, as Redis does, rather than drawing forever.
            if ctx.server.pause.is_paused(ctx.now_ms) {
                paused_draws += 1;
                if paused_draws < RANDOMKEY_PAUSED_TRIES {
                    continue;
                }
            } else {
                let value = shard.remove(key.as_slice());
                ctx.server.key_expired(db_index, key.as_slice(), value);
                continue;
            }
        }
        ctx.reply.bulk(key.as_slice());
        return Ok(());
    }
}

/// DBSIZE — counts keys that expired but are not reclaimed yet, as Redis does.
fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let shards = lock_db(ctx.server, ctx.client.db);
    let n: usize = shards.iter().map(|s| s.keys.len()).sum();
    ctx.reply.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// FLUSHDB FLUSHALL SWAPDB

/// Whether FLUSHDB/FLUSHALL free in the background: `ASYNC`, `SYNC`, or without either
/// the `lazyfree-lazy-user-flush` directive.
fn flush_is_async(ctx: &Ctx) -> Result<bool, CmdError> {
    match ctx.args.len() {
        1 => Ok(config_yes(ctx.server, "lazyfree-lazy-user-flush")),
        2 if args::is(ctx.arg(1), "async") => Ok(true),
        2 if args::is(ctx.arg(1), "sync") => Ok(false),
        _ => Err(errors::SYNTAX.into()),
    }
}

/// Empties the locked shards in O(1) each by swapping in empty ones. Returns what they held,
/// for the caller to free once the locks are released, and the number of keys removed.
fn detach(shards: &mut [MutexGuard<'_, Shard>]) -> (Vec<Shard>, usize) {
    let mut keys = 0;
    let detached = shards
        .iter_mut()
        .filter(|s| !s.keys.is_empty() || !s.expires.is_empty())
        .map(|s| {
            keys += s.keys.len();
            // Watchers of keys that existed see a change (not those of missing keys).
            s.touch_existing();
            s.take_data()
        })
        .collect();
    (detached, keys)
}

/// Frees detached shards: on the lazyfree thread if `lazy` and they are big, else here.
fn free_detached(detached: Vec<Shard>, keys: usize, lazy: bool) {
    if lazy {
        lazyfree::free_structure(detached, keys, keys as u64);
    } else {
        drop(detached);
    }
}

/// FLUSHDB [ASYNC | SYNC]
fn flushdb(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_is_async(ctx)?;
    let mut shards = lock_db(ctx.server, ctx.client.db);
    let (detached, keys) = detach(&mut shards);
    drop(shards);
    ctx.server.tracking.flushed(ctx.server, ctx.client.id());
    free_detached(detached, keys, lazy);
    ctx.dirty(keys as u64);
    // Propagated even when the database was empty, as Redis does.
    ctx.propagate(ctx.args.to_vec());
    ctx.no_propagate();
    ctx.reply.ok();
    Ok(())
}

/// FLUSHALL [ASYNC | SYNC] — every database in one atomic step.
fn flushall(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_is_async(ctx)?;
    let mut shards = lock_all_dbs(ctx.server);
    let (detached, keys) = detach(&mut shards);
    drop(shards);
    ctx.server.tracking.flushed(ctx.server, ctx.client.id());
    free_detached(detached, keys, lazy);
    ctx.dirty(keys as u64 + 1);
    ctx.reply.ok();
    Ok(())
}

/// A database index argument, read as Redis reads a C int: errors say `invalid` if given,
/// else Redis's generic "not an integer" / "out of range for an int" errors; an int that
/// names no database is `ERR DB index is out of range`.
fn db_index(ctx: &Ctx, arg: &[u8], invalid: Option<&'static str>) -> Result<usize, CmdError> {
    let n = vireo_resp::parse_int(arg).ok_or(invalid.unwrap_or(errors::NOT_INTEGER))?;
    let n = i32::try_from(n).map_err(|_| invalid.unwrap_or(errors::INT_OUT_OF_RANGE))?;
    usize::try_from(n)
        .ok()
        .filter(|&i| i < ctx.server.dbs.len())
        .ok_or_else(|| errors::DB_INDEX_OUT_OF_RANGE.into())
}

/// SWAPDB index1 index2 — both databases' shards are exchanged pairwise while all of them
/// are held, so no command sees one swapped and the other not.
fn swapdb(ctx: &mut Ctx) -> CmdResult {
    let a = db_index(ctx, ctx.arg(1), Some(errors::INVALID_FIRST_DB))?;
    let b = db_index(ctx, ctx.arg(2), Some(errors::INVALID_SECOND_DB))?;
    if a != b {
        let (lo, hi) = (a.min(b), a.max(b));
        let mut low = lock_db(ctx.server, lo);
        let mut high = lock_db(ctx.server, hi);
        for (x, y) in low.iter_mut().zip(high.iter_mut()) {
            // A watched key that exists in either database before or after is changed.
            x.touch_existing();
            y.touch_existing();
            x.swap_data(y);
            x.touch_existing();
            y.touch_existing();
        }
        // Clients blocked in either database may now find their keys (served after this
        // command, as Redis does after a SWAPDB).
        crate::blocking::signal_existing(ctx.server, lo, &low);
        crate::blocking::signal_existing(ctx.server, hi, &high);
    }
    ctx.dirty(1);
    ctx.reply.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// RENAME RENAMENX MOVE COPY

/// RENAME key newkey
fn rename(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, false)
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, true)
}

/// Both keys are named by the key specs, so their shards are locked. The value moves with
/// its TTL.
fn rename_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    if ctx.db.get_mut(src).is_none() {
        return Err(errors::NO_SUCH_KEY.into());
    }
    if src == dst {
        reply_renamed(ctx, nx, !nx);
        return Ok(());
    }
    if ctx.db.get_mut(dst).is_some() {
        if nx {
            ctx.reply.int(0);
            return Ok(());
        }
        if let Some(old) = ctx.db.remove(dst) {
            ctx.db.free_deleted(old);
        }
    }
    let expire = ctx.db.expire_at(src);
    let value = ctx
        .db
        .remove(src)
        .expect("looked up above, under the same lock");
    ctx.db.set(dst, value);
    if let Some(at) = expire {
        ctx.db.set_expire(dst, at);
    }
    ctx.dirty(1);
    ctx.modified(src, class::GENERIC, "rename_from");
    ctx.modified(dst, class::GENERIC, "rename_to");
    reply_renamed(ctx, nx, true);
    Ok(())
}

fn reply_renamed(ctx: &mut Ctx, nx: bool, renamed: bool) {
    if nx {
        ctx.reply.int(renamed as i64);
    } else {
        ctx.reply.ok();
    }
}

/// MOVE key db
fn move_(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let src_db = ctx.client.db;
    let dst_db = db_index(ctx, ctx.arg(2), None)?;
    if src_db == dst_db {
        return Err(errors::SAME_OBJECT.into());
    }
    let (mut src, mut dst) = lock_in_two_dbs(ctx, src_db, key, dst_db, key);
    if src.get_mut(key).is_none() || dst.get_mut(key).is_some() {
        ctx.reply.int(0);
        return Ok(());
    }
    let expire = src.expire_at(key);
    let value = src
        .remove(key)
        .expect("looked up above, under the same lock");
    dst.set(key, value);
    if let Some(at) = expire {
        dst.set_expire(key, at);
    }
    // Signalled and published while both keys are still locked.
    src.signal_modified(key);
    dst.signal_modified(key);
    ctx.server.notify(class::GENERIC, "move_from", key, src_db);
    ctx.server.notify(class::GENERIC, "move_to", key, dst_db);
    ctx.dirty(1);
    ctx.reply.int(1);
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx) -> CmdResult {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < ctx.args.len() {
        if args::is(ctx.arg(i), "replace") {
            replace = true;
            i += 1;
        } else if args::is(ctx.arg(i), "db") && i + 1 < ctx.args.len() {
            dst_db = db_index(ctx, ctx.arg(i + 1), None)?;
            i += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    if src_db == dst_db && src == dst {
        return Err(errors::SAME_OBJECT.into());
    }
    let copied = if src_db == dst_db {
        let keys = [src, dst].into_iter();
        let mut db = Keyspace::lock(ctx.server, src_db, ctx.now_ms, keys);
        db.set_touch(touches(ctx));
        let mut target = None;
        copy_value(&mut db, &mut target, src, dst, replace)
    } else {
        let (mut from, to) = lock_in_two_dbs(ctx, src_db, src, dst_db, dst);
        copy_value(&mut from, &mut Some(to), src, dst, replace)
    };
    if copied {
        ctx.dirty(1);
    }
    ctx.reply.int(copied as i64);
    Ok(())
}

/// Copies `src` of `from` to `dst` of `to` (or of `from` itself when `to` is None), with its
/// TTL. False if `src` is missing, or `dst` exists and `replace` is off.
fn copy_value<'s>(
    from: &mut Keyspace<'s>,
    to: &mut Option<Keyspace<'s>>,
    src: &[u8],
    dst: &[u8],
    replace: bool,
) -> bool {
    let Some(value) = from.get(src).cloned() else {
        return false;
    };
    let expire = from.expire_at(src);
    let to = to.as_mut().unwrap_or(from);
    if to.get_mut(dst).is_some() {
        if !replace {
            return false;
        }
        if let Some(old) = to.remove(dst) {
            to.free_deleted(old);
        }
    }
    to.set(dst, value);
    if let Some(at) = expire {
        to.set_expire(dst, at);
    }
    to.signal_modified(dst);
    let server = to.server();
    server.notify(class::GENERIC, "copy_to", dst, to.db_index());
    true
}

// ---------------------------------------------------------------------------------------
// OBJECT

/// The value of the key OBJECT asks about, without touching its access clock; None after
/// replying null for a missing key.
fn object_lookup<'k>(ctx: &'k mut Ctx) -> Option<&'k Value> {
    let key = ctx.arg(2);
    let found = peek_counted_notifying(ctx.db, &ctx.server.stats, key, false).is_some();
    if !found {
        ctx.reply.null();
        return None;
    }
    ctx.db.peek(key)
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx) -> CmdResult {
    if let Some(value) = object_lookup(ctx) {
        let encoding = value.encoding();
        ctx.reply.bulk(encoding.as_bytes());
    }
    Ok(())
}

/// The reference count Redis would report: values are never shared in Vireo (1), except
/// that Redis shares the integers 0..=9999 between keys (and reports them with the
/// "shared" count INT_MAX) unless an LRU/LFU maxmemory policy with a maxmemory limit
/// needs a clock per key. Clients and tests read this, so it follows Redis's model.
fn object_refcount(ctx: &mut Ctx) -> CmdResult {
    const SHARED_REFCOUNT: i64 = i32::MAX as i64;
    let shareable = shared_integers_enabled(ctx.server);
    let Some(value) = object_lookup(ctx) else {
        return Ok(());
    };
    let shared = matches!(value, Value::Int { n, .. } if (0..10_000).contains(n)) && shareable;
    ctx.reply.int(if shared { SHARED_REFCOUNT } else { 1 });
    Ok(())
}

fn shared_integers_enabled(server: &Server) -> bool {
    let policy = server.eviction.policy();
    !server.eviction.limited() || !(policy.lru() || policy.lfu())
}

fn lfu_policy(server: &Server) -> bool {
    server.eviction.lfu()
}

/// OBJECT IDLETIME key — seconds since the last access, by the LRU clock.
fn object_idletime(ctx: &mut Ctx) -> CmdResult {
    let lfu = lfu_policy(ctx.server);
    let Some(value) = object_lookup(ctx) else {
        return Ok(());
    };
    if lfu {
        return Err(errors::LFU_SELECTED.into());
    }
    let idle = crate::lru_idle_secs(value.lru());
    ctx.reply.int(idle as i64);
    Ok(())
}

/// OBJECT FREQ key — the key's LFU counter after decay, only under an LFU policy (under
/// an LRU one the field holds a clock, not a counter).
fn object_freq(ctx: &mut Ctx) -> CmdResult {
    let lfu = lfu_policy(ctx.server);
    let now_ms = ctx.now_ms;
    let Some(lru) = object_lookup(ctx).map(Value::lru) else {
        return Ok(());
    };
    if !lfu {
        return Err(errors::LFU_NOT_SELECTED.into());
    }
    let freq = ctx.server.eviction.frequency(lru, now_ms);
    ctx.reply.int(freq as i64);
    Ok(())
}

/// OBJECT HELP
fn object_help(ctx: &mut Ctx) -> CmdResult {
    const HELP: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the internal representation used to store the value at <key>:",
        "    int, embstr, raw, listpack, quicklist, intset, hashtable, skiplist, stream.",
        "FREQ <key>",
        "    Return the logarithmic access-frequency counter of <key>. Needs an LFU",
        "    maxmemory-policy.",
        "IDLETIME <key>",
        "    Return the seconds elapsed since <key> was last read or written. Not",
        "    available under an LFU maxmemory-policy.",
        "REFCOUNT <key>",
        "    Return how many references point to the value stored at <key>; shared",
        "    integers report 2147483647.",
        "HELP",
        "    Print this help.",
    ];
    ctx.reply_help(HELP)
}
