//! Hash commands (Redis 7.2), and the hash-field expiration of Redis 7.4: HEXPIRE,
//! HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST.
//!
//! The data type and its encodings are `vireo_store::hash`. Every read sees the hash at
//! the command's clock: fields past their expiry are invisible. Every write first removes
//! such fields (`for_write`), and a hash left empty by a command is deleted, as Redis
//! deletes emptied collections. HEXPIRE and friends register the key in its shard's
//! `hexpires` index, which the active expiry cycle (`cron.rs`) samples.
//!
//! **Notifications and propagation.** Events `hset` (HSET, HMSET, HSETNX), `hdel`,
//! `hincrby`, `hincrbyfloat`, then `del` when a command empties the hash, as Redis 7.2.
//! HINCRBYFLOAT propagates as HSET of the sum. Field expiration follows Valkey 9 (the
//! Redis 7.4 feature as the reference here implements it): `hexpire` and `hpersist`
//! events; the HEXPIRE family propagates as HPEXPIREAT with an absolute time (options and
//! fields as sent); a time already past deletes the fields, which is the `hexpired` event
//! and propagates as HDEL of those fields. Fields that reach their time are removed by the
//! active cycle or by the next write of the hash (`fields_expired`): `hexpired`, an HDEL
//! of its own, and `del` plus a DEL (one MULTI unit with the HDEL) if the hash is left
//! empty. Reads only hide expired fields.

use super::args::{self, ScanOptions};
use super::string::long_double;
use super::{Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::keyspace::Keyspace;
use crate::notify::class;
use crate::propagate::Op;
use crate::Server;
use bytes::Bytes;
use vireo_resp::Reply;
use vireo_store::hash::{FieldExpiry, Hash, Limits};
use vireo_store::listpack::LpValue;
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("hset", hset),
    Cmd::keys("hmset", hmset),
    Cmd::keys("hsetnx", hsetnx),
    Cmd::keys("hget", hget),
    Cmd::keys("hmget", hmget),
    Cmd::keys("hdel", hdel),
    Cmd::keys("hlen", hlen),
    Cmd::keys("hstrlen", hstrlen),
    Cmd::keys("hexists", hexists),
    Cmd::keys("hkeys", hkeys),
    Cmd::keys("hvals", hvals),
    Cmd::keys("hgetall", hgetall),
    Cmd::keys("hincrby", hincrby),
    Cmd::keys("hincrbyfloat", hincrbyfloat),
    Cmd::keys("hrandfield", hrandfield),
    Cmd::keys("hscan", hscan),
    Cmd::keys("hexpire", hexpire),
    Cmd::keys("hpexpire", hpexpire),
    Cmd::keys("hexpireat", hexpireat),
    Cmd::keys("hpexpireat", hpexpireat),
    Cmd::keys("httl", httl),
    Cmd::keys("hpttl", hpttl),
    Cmd::keys("hexpiretime", hexpiretime),
    Cmd::keys("hpexpiretime", hpexpiretime),
    Cmd::keys("hpersist", hpersist),
];

const HASH_VALUE_NOT_INTEGER: &str = "ERR hash value is not an integer";
const HASH_VALUE_NOT_FLOAT: &str = "ERR hash value is not a float";
const INCREMENT_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";
const VALUE_OUT_OF_RANGE: &str = "ERR value is out of range";
const EXPIRE_NEGATIVE: &str = "ERR invalid expire time, must be >= 0";
const FIELDS_MISSING: &str =
    "ERR Mandatory argument FIELDS is missing or not at the right position";
const NUMFIELDS_NOT_POSITIVE_HEXPIRE: &str = "ERR Parameter `numFields` should be greater than 0";
const NUMFIELDS_NOT_POSITIVE: &str = "ERR Number of fields must be a positive integer";
const NUMFIELDS_MISMATCH: &str = "ERR The `numfields` parameter must match the number of arguments";

/// Latest field expiry (unix ms) the HEXPIRE family accepts: 2^46 - 1, as in Redis 7.4
/// (which keeps the top bits of its 48-bit expiry times for later use).
const MAX_FIELD_EXPIRE_MS: i64 = (1 << 46) - 1;

/// The conversion thresholds as configured now.
fn limits(ctx: &Ctx) -> Limits {
    let settings = ctx.server.settings.read();
    Limits {
        max_listpack_entries: settings.encodings.hash_max_listpack_entries,
        max_listpack_value: settings.encodings.hash_max_listpack_value,
    }
}

/// The hash at `key` for reading (counts a keyspace hit or miss): None when missing.
fn for_read<'d>(db: &'d mut Keyspace<'_>, key: &[u8]) -> Result<Option<&'d Hash>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(Value::Hash { h, .. }) => Ok(Some(h)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

/// The hash at `key` for writing, its expired fields removed: None when missing. Fields
/// removed are notified and propagated (`fields_expired`), and a hash they leave empty is
/// deleted at once (so the command sees no key), as the active cycle would have done.
fn for_write<'d>(
    db: &'d mut Keyspace<'_>,
    key: &[u8],
    now: i64,
) -> Result<Option<&'d mut Hash>, CmdError> {
    let (server, db_index) = (db.server(), db.db_index());
    let mut removed = Vec::new();
    let emptied = match db.get_mut(key) {
        None => return Ok(None),
        Some(Value::Hash { h, .. }) => {
            if h.earliest_field_expiry().is_none_or(|at| at > now) {
                return Ok(Some(reborrow(db, key)));
            }
            h.purge_expired_with(now, usize::MAX, |f| removed.push(Box::from(f)));
            h.is_empty()
        }
        Some(_) => return Err(errors::WRONGTYPE.into()),
    };
    if emptied {
        db.remove(key);
    } else {
        db.signal_modified(key);
    }
    fields_expired(server, db_index, key, removed, emptied);
    Ok((!emptied).then(|| reborrow(db, key)))
}

/// The hash at `key`, known to be there (a second lookup: the borrow checker cannot see
/// that an early return ends the first one).
fn reborrow<'d>(db: &'d mut Keyspace<'_>, key: &[u8]) -> &'d mut Hash {
    match db.get_mut(key) {
        Some(Value::Hash { h, .. }) => h,
        _ => unreachable!("the hash was just looked up"),
    }
}

/// Fields of the hash at `key` in database `db` reached their expiry and were removed
/// (by the active cycle or a write), `emptied` if that deleted the key: `hexpired` (and
/// `del`), propagated as an HDEL of the fields (and a DEL of the key) of their own.
pub(crate) fn fields_expired(
    server: &Server,
    db: usize,
    key: &[u8],
    fields: Vec<Box<[u8]>>,
    emptied: bool,
) {
    if fields.is_empty() {
        return;
    }
    server.notify(class::HASH, "hexpired", key, db);
    if emptied {
        server.notify(class::GENERIC, "del", key, db);
    }
    if server.propagation.active() {
        let key = Bytes::copy_from_slice(key);
        let mut hdel = Vec::with_capacity(fields.len() + 2);
        hdel.push(Bytes::from_static(b"HDEL"));
        hdel.push(key.clone());
        hdel.extend(fields.into_iter().map(Bytes::from));
        let mut unit = vec![Op::new(db, hdel)];
        if emptied {
            let name: &'static [u8] = if server.settings.read().lazyfree_lazy_expire {
                b"UNLINK"
            } else {
                b"DEL"
            };
            unit.push(Op::new(db, vec![Bytes::from_static(name), key]));
        }
        server.propagation.feed(unit, false);
    }
}

/// WRONGTYPE if `key` holds something other than a hash; for commands that check the
/// type before their arguments, as Redis's HEXPIRE family does.
fn check_type(db: &mut Keyspace<'_>, key: &[u8]) -> CmdResult {
    match db.peek(key) {
        Some(v) if !matches!(v, Value::Hash { .. }) => Err(errors::WRONGTYPE.into()),
        _ => Ok(()),
    }
}

/// The hash at `key` for writing, created empty when missing.
fn for_write_or_create<'d>(
    db: &'d mut Keyspace<'_>,
    key: &[u8],
    now: i64,
) -> Result<&'d mut Hash, CmdError> {
    if for_write(db, key, now)?.is_none() {
        db.set(key, Value::hash(Hash::new()));
    }
    match db.get_mut(key) {
        Some(Value::Hash { h, .. }) => Ok(h),
        _ => unreachable!("the hash was just stored"),
    }
}

/// Deletes the key if its hash was emptied.
fn delete_if_empty(db: &mut Keyspace<'_>, key: &[u8], empty: bool) {
    if empty {
        db.remove(key);
    }
}

fn bulk(reply: &mut Reply, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => reply.bulk_int(n),
        LpValue::Str(s) => reply.bulk(s),
    }
}

/// HSET key field value [field value ...]: the number of new fields.
fn hset(ctx: &mut Ctx) -> CmdResult {
    let created = set_pairs(ctx)?;
    ctx.reply.int(created as i64);
    Ok(())
}

/// HMSET key field value [field value ...]: HSET's old form, replying OK.
fn hmset(ctx: &mut Ctx) -> CmdResult {
    set_pairs(ctx)?;
    ctx.reply.ok();
    Ok(())
}

fn set_pairs(ctx: &mut Ctx) -> Result<usize, CmdError> {
    if ctx.args.len() % 2 == 1 {
        return Err(ctx.wrong_arity());
    }
    let limits = limits(ctx);
    let (key, pairs) = (ctx.arg(1), &ctx.args[2..]);
    let h = for_write_or_create(ctx.db, key, ctx.now_ms)?;
    let longest = pairs.iter().map(|a| a.len()).max().unwrap_or(0);
    let bytes = pairs.iter().map(|a| a.len()).sum();
    h.prepare_write(pairs.len() / 2, longest, bytes, limits);
    let created = pairs
        .chunks_exact(2)
        .filter(|pair| h.set(&pair[0], &pair[1], limits))
        .count();
    ctx.dirty(pairs.len() as u64 / 2);
    ctx.modified(key, class::HASH, "hset");
    Ok(created)
}

fn hsetnx(ctx: &mut Ctx) -> CmdResult {
    let limits = limits(ctx);
    let (key, field, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let h = for_write_or_create(ctx.db, key, ctx.now_ms)?;
    if h.contains(field, ctx.now_ms) {
        ctx.reply.int(0);
        return Ok(());
    }
    h.prepare_write(
        1,
        field.len().max(value.len()),
        field.len() + value.len(),
        limits,
    );
    h.set(field, value, limits);
    ctx.dirty(1);
    ctx.modified(key, class::HASH, "hset");
    ctx.reply.int(1);
    Ok(())
}

fn hget(ctx: &mut Ctx) -> CmdResult {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    match for_read(ctx.db, key)?.and_then(|h| h.get(field, ctx.now_ms)) {
        Some(v) => bulk(ctx.reply, v),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn hmget(ctx: &mut Ctx) -> CmdResult {
    let (key, fields) = (ctx.arg(1), &ctx.args[2..]);
    let h = for_read(ctx.db, key)?;
    ctx.reply.array(fields.len());
    for field in fields {
        match h.and_then(|h| h.get(field, ctx.now_ms)) {
            Some(v) => bulk(ctx.reply, v),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn hdel(ctx: &mut Ctx) -> CmdResult {
    let (key, fields) = (ctx.arg(1), &ctx.args[2..]);
    let Some(h) = for_write(ctx.db, key, ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let deleted = fields.iter().filter(|f| h.delete(f)).count();
    let empty = h.is_empty();
    delete_if_empty(ctx.db, key, empty);
    ctx.dirty(deleted as u64);
    if deleted > 0 {
        ctx.modified(key, class::HASH, "hdel");
        if empty {
            ctx.notify(class::GENERIC, "del", key);
        }
    }
    ctx.reply.int(deleted as i64);
    Ok(())
}

fn hlen(ctx: &mut Ctx) -> CmdResult {
    let (key, now) = (ctx.arg(1), ctx.now_ms);
    let len = for_read(ctx.db, key)?.map_or(0, |h| h.live_len(now));
    ctx.reply.int(len as i64);
    Ok(())
}

fn hstrlen(ctx: &mut Ctx) -> CmdResult {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let len = match for_read(ctx.db, key)?.and_then(|h| h.get(field, ctx.now_ms)) {
        None => 0,
        Some(LpValue::Str(s)) => s.len(),
        Some(LpValue::Int(n)) => itoa::Buffer::new().format(n).len(),
    };
    ctx.reply.int(len as i64);
    Ok(())
}

fn hexists(ctx: &mut Ctx) -> CmdResult {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let found = for_read(ctx.db, key)?.is_some_and(|h| h.contains(field, ctx.now_ms));
    ctx.reply.int(i64::from(found));
    Ok(())
}

fn hkeys(ctx: &mut Ctx) -> CmdResult {
    reply_all(ctx, true, false)
}

fn hvals(ctx: &mut Ctx) -> CmdResult {
    reply_all(ctx, false, true)
}

fn hgetall(ctx: &mut Ctx) -> CmdResult {
    reply_all(ctx, true, true)
}

/// HKEYS, HVALS, HGETALL: fields and/or values; HGETALL is a map in RESP3.
fn reply_all(ctx: &mut Ctx, fields: bool, values: bool) -> CmdResult {
    let (key, now) = (ctx.arg(1), ctx.now_ms);
    let h = for_read(ctx.db, key)?;
    let len = h.map_or(0, |h| h.live_len(now));
    if fields && values {
        ctx.reply.map(len);
    } else {
        ctx.reply.array(len);
    }
    for (f, v) in h.into_iter().flat_map(|h| h.iter(now)) {
        if fields {
            bulk(ctx.reply, f);
        }
        if values {
            bulk(ctx.reply, v);
        }
    }
    Ok(())
}

fn hincrby(ctx: &mut Ctx) -> CmdResult {
    let by = args::int(ctx.arg(3))?;
    let limits = limits(ctx);
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let h = for_write_or_create(ctx.db, key, ctx.now_ms)?;
    let current = match h.get(field, ctx.now_ms) {
        None => 0,
        Some(LpValue::Int(n)) => n,
        Some(LpValue::Str(s)) => vireo_store::num::parse_i64(s).ok_or(HASH_VALUE_NOT_INTEGER)?,
    };
    let n = current.checked_add(by).ok_or(errors::OVERFLOW)?;
    h.set_keep_ttl(field, itoa::Buffer::new().format(n).as_bytes(), limits);
    ctx.dirty(1);
    ctx.modified(key, class::HASH, "hincrby");
    ctx.reply.int(n);
    Ok(())
}

fn hincrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let by = ctx.arg(3);
    let mut out = [0u8; long_double::OUT_LEN];
    // The increment alone must be a finite number.
    if let Err(e) = long_double::incrbyfloat(None, by, &mut out) {
        return Err(if e.0 == errors::NOT_FLOAT {
            e
        } else {
            INCREMENT_NAN_OR_INFINITY.into()
        });
    }
    let limits = limits(ctx);
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let h = for_write_or_create(ctx.db, key, ctx.now_ms)?;
    let mut digits = itoa::Buffer::new();
    let current = h.get(field, ctx.now_ms);
    let current = current.as_ref().map(|v| v.as_bytes(&mut digits));
    let sum = long_double::incrbyfloat(current, by, &mut out).map_err(|e| {
        if e.0 == errors::NOT_FLOAT {
            CmdError::from(HASH_VALUE_NOT_FLOAT)
        } else {
            e
        }
    })?;
    h.set_keep_ttl(field, sum, limits);
    ctx.dirty(1);
    ctx.reply.bulk(sum);
    ctx.modified(key, class::HASH, "hincrbyfloat");
    if ctx.propagating() {
        // The sum's text, so that a replica does not redo the float arithmetic.
        let argv = vec![
            Bytes::from_static(b"HSET"),
            ctx.args[1].clone(),
            ctx.args[2].clone(),
            Bytes::copy_from_slice(sum),
        ];
        ctx.rewrite_propagated(argv);
    }
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]].
fn hrandfield(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now_ms;
    if ctx.args.len() == 2 {
        let key = ctx.arg(1);
        let pick = for_read(ctx.db, key)?.and_then(|h| h.random_pair(now));
        match pick {
            Some((f, _)) => bulk(ctx.reply, f),
            None => ctx.reply.null(),
        }
        return Ok(());
    }
    // The count is read before the options are checked, as Redis does.
    let count = args::int(ctx.arg(2))?;
    if count == i64::MIN {
        return Err(errors::NOT_LONG_MIN.into());
    }
    let with_values = match ctx.args.len() {
        3 => false,
        4 if args::is(ctx.arg(3), "withvalues") => true,
        _ => return Err(errors::SYNTAX.into()),
    };
    // A WITHVALUES reply of 2 × count entries must not overflow.
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(VALUE_OUT_OF_RANGE.into());
    }
    let (key, resp3) = (ctx.arg(1), ctx.reply.resp3());
    let Some(h) = for_read(ctx.db, key)? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let live = h.live_len(now);
    let distinct = count >= 0;
    let wanted = count.unsigned_abs() as usize;
    let n = match (live, distinct) {
        (0, _) => 0,
        (_, true) => wanted.min(live),
        (_, false) => wanted,
    };
    // Each pick costs fewer than 8192 bytes unless fields or values are long: only counts
    // that could pass the limit are worth estimating.
    if !distinct
        && n > errors::RANDOM_REPLY_MAX_BYTES / 8192
        && estimated_reply_bytes(h, n, with_values, now) > errors::RANDOM_REPLY_MAX_BYTES
    {
        return Err(errors::RANDOM_REPLY_TOO_BIG.into());
    }
    ctx.reply
        .array(if with_values && !resp3 { n * 2 } else { n });
    if n == 0 {
        return Ok(());
    }
    let reply = &mut *ctx.reply;
    h.random_pairs(n, distinct, now, |f, v| {
        if with_values && resp3 {
            reply.array(2);
        }
        bulk(reply, f);
        if with_values {
            bulk(reply, v);
        }
    });
    Ok(())
}

/// The size of a reply of `count` random picks, from a sample of 16.
fn estimated_reply_bytes(h: &Hash, count: usize, with_values: bool, now: i64) -> usize {
    const SAMPLES: usize = 16;
    let mut digits = itoa::Buffer::new();
    let mut sampled = 0;
    h.random_pairs(SAMPLES, false, now, |f, v| {
        sampled += f.as_bytes(&mut digits).len();
        if with_values {
            sampled += v.as_bytes(&mut digits).len();
        }
    });
    // A bulk string costs about 6 bytes beyond its bytes; a RESP3 pair's header 4.
    let per_pick = sampled / SAMPLES + if with_values { 16 } else { 6 };
    count.saturating_mul(per_pick)
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES].
fn hscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = args::scan_cursor(ctx.arg(2))?;
    let (key, now) = (ctx.arg(1), ctx.now_ms);
    let Some(h) = for_read(ctx.db, key)? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array(0);
        return Ok(());
    };
    let options = ScanOptions::parse_hscan(&ctx.args[3..])?;
    let per_pair = if options.novalues { 1 } else { 2 };
    let mut found: Vec<LpValue<'_>> = Vec::new();
    let mut visited = 0usize;
    let mut visits_left = options.count.saturating_mul(10);
    let mut cursor = cursor;
    loop {
        cursor = h.scan(cursor, now, |f, v| {
            visited += per_pair;
            let wanted = options.pattern.is_none_or(|p| {
                vireo_store::glob::string_match(p, f.as_bytes(&mut itoa::Buffer::new()), false)
            });
            if wanted {
                found.push(f);
                if !options.novalues {
                    found.push(v);
                }
            }
        });
        visits_left = visits_left.saturating_sub(1);
        if cursor == 0 || visits_left == 0 || visited >= options.count {
            break;
        }
    }
    ctx.reply.array(2);
    ctx.reply
        .bulk(itoa::Buffer::new().format(cursor).as_bytes());
    ctx.reply.array(found.len());
    for v in found {
        bulk(ctx.reply, v);
    }
    Ok(())
}

// ---- hash-field expiration (Redis 7.4) ----

fn hexpire(ctx: &mut Ctx) -> CmdResult {
    expire_fields(ctx, 1000, false)
}

fn hpexpire(ctx: &mut Ctx) -> CmdResult {
    expire_fields(ctx, 1, false)
}

fn hexpireat(ctx: &mut Ctx) -> CmdResult {
    expire_fields(ctx, 1000, true)
}

fn hpexpireat(ctx: &mut Ctx) -> CmdResult {
    expire_fields(ctx, 1, true)
}

/// The NX | XX | GT | LT condition of the HEXPIRE family, per field. A field without a
/// TTL counts as expiring never: GT never holds for it, LT always does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

impl Condition {
    fn parse(arg: &[u8]) -> Option<Condition> {
        [
            ("nx", Condition::Nx),
            ("xx", Condition::Xx),
            ("gt", Condition::Gt),
            ("lt", Condition::Lt),
        ]
        .into_iter()
        .find_map(|(name, c)| args::is(arg, name).then_some(c))
    }

    fn holds(self, current: Option<i64>, new: i64) -> bool {
        match (self, current) {
            (Condition::Always, _) => true,
            (Condition::Nx, current) => current.is_none(),
            (Condition::Xx, current) => current.is_some(),
            (Condition::Gt, current) => current.is_some_and(|at| new > at),
            (Condition::Lt, current) => current.is_none_or(|at| new < at),
        }
    }
}

/// The fields named by `FIELDS numfields field...` starting at `at` (the FIELDS token).
fn fields_clause<'a>(
    args: &'a [bytes::Bytes],
    at: usize,
    not_positive: &'static str,
) -> Result<&'a [bytes::Bytes], CmdError> {
    if !args::is(&args[at], "fields") {
        return Err(FIELDS_MISSING.into());
    }
    let n = args
        .get(at + 1)
        .and_then(|a| vireo_resp::parse_int(a))
        .filter(|&n| n >= 1)
        .ok_or(not_positive)?;
    let fields = &args[(at + 2).min(args.len())..];
    if n as u64 != fields.len() as u64 {
        return Err(NUMFIELDS_MISMATCH.into());
    }
    Ok(fields)
}

/// HEXPIRE / HPEXPIRE / HEXPIREAT / HPEXPIREAT key time [NX|XX|GT|LT] FIELDS n field...
/// Replies per field: -2 no such field, 0 condition not met, 1 expiry set, 2 deleted (the
/// time is not in the future).
fn expire_fields(ctx: &mut Ctx, unit_ms: i64, absolute: bool) -> CmdResult {
    let now = ctx.now_ms;
    let key = ctx.arg(1);
    // The key's type is checked before any argument, as in Redis.
    check_type(ctx.db, key)?;
    let at = expire_time(ctx, unit_ms, if absolute { 0 } else { now })?;
    let condition = Condition::parse(ctx.arg(3));
    let fields_at = if condition.is_some() { 4 } else { 3 };
    let fields = fields_clause(ctx.args, fields_at, NUMFIELDS_NOT_POSITIVE_HEXPIRE)?;
    let condition = condition.unwrap_or(Condition::Always);
    ctx.reply.array(fields.len());
    let h = match for_write(ctx.db, key, now)? {
        Some(h) => h,
        None => {
            fields.iter().for_each(|_| ctx.reply.int(-2));
            return Ok(());
        }
    };
    h.start_field_expiry();
    let mut changed = 0;
    let mut deleted: Vec<Bytes> = Vec::new();
    for field in fields {
        let current = match h.field_expiry(field, now) {
            FieldExpiry::Missing => {
                ctx.reply.int(-2);
                continue;
            }
            FieldExpiry::Persistent => None,
            FieldExpiry::At(t) => Some(t),
        };
        if !condition.holds(current, at) {
            ctx.reply.int(0);
            continue;
        }
        changed += 1;
        if at <= now {
            h.delete(field);
            deleted.push(field.clone());
            ctx.reply.int(2);
        } else {
            h.set_field_expiry(field, at);
            ctx.reply.int(1);
        }
    }
    let (empty, has_ttls) = (h.is_empty(), h.has_field_ttls());
    delete_if_empty(ctx.db, key, empty);
    if !empty && has_ttls {
        ctx.db.note_field_ttls(key);
    }
    if changed == 0 {
        return Ok(());
    }
    ctx.dirty(changed);
    if deleted.is_empty() {
        ctx.modified(key, class::HASH, "hexpire");
        // HPEXPIREAT propagates as sent; the others as one, options and fields kept.
        if ctx.propagating() && !(absolute && unit_ms == 1) {
            let at = Bytes::copy_from_slice(itoa::Buffer::new().format(at).as_bytes());
            let mut argv = vec![Bytes::from_static(b"HPEXPIREAT"), ctx.args[1].clone(), at];
            argv.extend(ctx.args[3..].iter().cloned());
            ctx.rewrite_propagated(argv);
        }
    } else {
        // A time already past: the fields are deleted, as if they had expired.
        ctx.modified(key, class::HASH, "hexpired");
        if empty {
            ctx.notify(class::GENERIC, "del", key);
        }
        if ctx.propagating() {
            let mut argv = vec![Bytes::from_static(b"HDEL"), ctx.args[1].clone()];
            argv.extend(deleted);
            ctx.rewrite_propagated(argv);
        }
    }
    Ok(())
}

/// The absolute expiry (unix ms) named by argument 2, in units of `unit_ms` after `base`.
fn expire_time(ctx: &Ctx, unit_ms: i64, base: i64) -> Result<i64, CmdError> {
    let n = args::int(ctx.arg(2))?;
    if n < 0 {
        return Err(EXPIRE_NEGATIVE.into());
    }
    let invalid = || {
        let name = String::from_utf8_lossy(ctx.arg(0)).to_ascii_lowercase();
        CmdError::from(errors::INVALID_EXPIRE.replace("%s", &name))
    };
    if n > MAX_FIELD_EXPIRE_MS / unit_ms {
        return Err(invalid());
    }
    let ms = n * unit_ms;
    if ms > MAX_FIELD_EXPIRE_MS - base {
        return Err(invalid());
    }
    Ok(ms + base)
}

/// What HTTL and its siblings report of a field's expiry time `at` (unix ms).
#[derive(Clone, Copy)]
enum TtlReport {
    /// Seconds left, rounded up (HTTL).
    Seconds,
    /// Milliseconds left (HPTTL).
    Millis,
    /// Unix seconds, rounded up (HEXPIRETIME).
    UnixSeconds,
    /// Unix milliseconds (HPEXPIRETIME).
    UnixMillis,
}

fn httl(ctx: &mut Ctx) -> CmdResult {
    field_ttls(ctx, TtlReport::Seconds)
}

fn hpttl(ctx: &mut Ctx) -> CmdResult {
    field_ttls(ctx, TtlReport::Millis)
}

fn hexpiretime(ctx: &mut Ctx) -> CmdResult {
    field_ttls(ctx, TtlReport::UnixSeconds)
}

fn hpexpiretime(ctx: &mut Ctx) -> CmdResult {
    field_ttls(ctx, TtlReport::UnixMillis)
}

/// HTTL / HPTTL / HEXPIRETIME / HPEXPIRETIME key FIELDS n field...: per field -2 (no such
/// field), -1 (no TTL), or the time.
fn field_ttls(ctx: &mut Ctx, report: TtlReport) -> CmdResult {
    let (key, now) = (ctx.arg(1), ctx.now_ms);
    let h = for_read(ctx.db, key)?;
    let fields = fields_clause(ctx.args, 2, NUMFIELDS_NOT_POSITIVE)?;
    ctx.reply.array(fields.len());
    for field in fields {
        let expiry = h.map_or(FieldExpiry::Missing, |h| h.field_expiry(field, now));
        let n = match expiry {
            FieldExpiry::Missing => -2,
            FieldExpiry::Persistent => -1,
            FieldExpiry::At(at) => match report {
                TtlReport::Seconds => (at - now + 999) / 1000,
                TtlReport::Millis => at - now,
                TtlReport::UnixSeconds => (at + 999) / 1000,
                TtlReport::UnixMillis => at,
            },
        };
        ctx.reply.int(n);
    }
    Ok(())
}

/// HPERSIST key FIELDS n field...: per field -2 (no such field), -1 (no TTL), 1 (removed).
fn hpersist(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now_ms;
    let key = ctx.arg(1);
    check_type(ctx.db, key)?;
    let fields = fields_clause(ctx.args, 2, NUMFIELDS_NOT_POSITIVE)?;
    ctx.reply.array(fields.len());
    let h = match for_write(ctx.db, key, now)? {
        Some(h) => h,
        None => {
            fields.iter().for_each(|_| ctx.reply.int(-2));
            return Ok(());
        }
    };
    let mut changed = 0;
    for field in fields {
        let n = match h.field_expiry(field, now) {
            FieldExpiry::Missing => -2,
            FieldExpiry::Persistent => -1,
            FieldExpiry::At(_) => {
                h.persist_field(field);
                changed += 1;
                1
            }
        };
        ctx.reply.int(n);
    }
    let empty = h.is_empty();
    delete_if_empty(ctx.db, key, empty);
    if changed > 0 {
        ctx.dirty(changed);
        ctx.modified(key, class::HASH, "hpersist");
    }
    Ok(())
}
