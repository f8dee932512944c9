//! Set commands: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS, SRANDMEMBER, SPOP,
//! SMOVE, the SINTER/SUNION/SDIFF families (with their STORE forms and SINTERCARD) and
//! SSCAN.
//!
//! The set itself, its encodings and the algebra live in `vireo_store::set`; this module
//! parses arguments, applies Redis's lookup and error order, and writes replies. Replies
//! that list members follow the set's own order (ascending for an intset, insertion order
//! for a listpack), as Redis's do. A STORE form overwrites a destination of any type and
//! deletes it when the result is empty.
//!
//! Writes publish Redis's keyspace events (`sadd`, `srem`, `spop`, `sinterstore`...,
//! `del` when a set goes) only when something changed. SPOP, being random, propagates as
//! the SREM of what it popped (in batches of 1024 members, as Redis 7.2), or as DEL
//! (UNLINK with `lazyfree-lazy-server-del`) when it takes the whole set.

use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::notify::class;
use bytes::Bytes;
use vireo_resp::Reply;
use vireo_store::glob::string_match;
use vireo_store::set::{Member, Set, SetLimits};
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("sadd", sadd),
    Cmd::keys("srem", srem),
    Cmd::keys("scard", scard),
    Cmd::keys("sismember", sismember),
    Cmd::keys("smismember", smismember),
    Cmd::keys("smembers", smembers),
    Cmd::keys("srandmember", srandmember),
    Cmd::keys("spop", spop),
    Cmd::keys("smove", smove),
    Cmd::keys("sinter", sinter),
    Cmd::keys("sintercard", sintercard),
    Cmd::keys("sinterstore", sinterstore),
    Cmd::keys("sunion", sunion),
    Cmd::keys("sunionstore", sunionstore),
    Cmd::keys("sdiff", sdiff),
    Cmd::keys("sdiffstore", sdiffstore),
    Cmd::keys("sscan", sscan),
];

const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
/// The most members one propagated SREM of an SPOP carries (Redis 7.2's batch).
const SREM_BATCH: usize = 1024;

/// The encoding thresholds in force now.
fn limits(ctx: &Ctx) -> SetLimits {
    let settings = ctx.server.settings.read();
    let e = &settings.encodings;
    SetLimits {
        intset_entries: e.set_max_intset_entries,
        listpack_entries: e.set_max_listpack_entries,
        listpack_value: e.set_max_listpack_value,
    }
}

/// Whether a value is a set (what the multi-key reads accept, `Keyspace::get_many`).
fn is_set(value: &Value) -> bool {
    matches!(value, Value::Set { .. })
}

/// The set in a looked-up value: None for a missing key, WRONGTYPE for another type.
fn set_of(value: Option<&Value>) -> Result<Option<&Set>, CmdError> {
    match value {
        None => Ok(None),
        Some(Value::Set { s, .. }) => Ok(Some(s)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

fn set_of_mut(value: Option<&mut Value>) -> Result<Option<&mut Set>, CmdError> {
    match value {
        None => Ok(None),
        Some(Value::Set { s, .. }) => Ok(Some(s)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

/// The sets named by `keys`, looked up together; WRONGTYPE if any holds another type
/// (checked for every key, even after a missing one, as Redis 7.2 does).
fn sets_of(values: Vec<Option<&Value>>) -> Result<Vec<Option<&Set>>, CmdError> {
    values.into_iter().map(set_of).collect()
}

fn reply_member(reply: &mut Reply, member: Member<'_>) {
    match member {
        Member::Int(n) => reply.bulk_int(n),
        Member::Str(s) => reply.bulk(s),
    }
}

/// Replies with a set's members as a RESP3 set (an array in RESP2).
fn reply_members(reply: &mut Reply, set: &Set) {
    reply.set(set.len());
    for member in set.iter() {
        reply_member(reply, member);
    }
}

fn sadd(ctx: &mut Ctx) -> CmdResult {
    let (args, limits) = (ctx.args, limits(ctx));
    let (key, members) = (&args[1][..], &args[2..]);
    let added = match set_of_mut(ctx.db.get_mut(key))? {
        Some(set) => {
            set.maybe_convert(members.len(), &limits);
            add_all(set, members, &limits)
        }
        None => {
            let mut set = Set::for_members(&members[0], members.len(), &limits);
            let added = add_all(&mut set, members, &limits);
            ctx.db.set(key, Value::set(set));
            added
        }
    };
    if added > 0 {
        ctx.modified(key, class::SET, "sadd");
    }
    ctx.dirty(added as u64);
    ctx.reply.int(added as i64);
    Ok(())
}

fn add_all(set: &mut Set, members: &[Bytes], limits: &SetLimits) -> usize {
    members.iter().filter(|m| set.add(m, limits)).count()
}

fn srem(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let key = &args[1][..];
    let Some(set) = set_of_mut(ctx.db.get_mut(key))? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for member in &args[2..] {
        if set.remove(member) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let emptied = set.is_empty();
    if emptied {
        ctx.db.remove(key);
    }
    if removed > 0 {
        ctx.modified(key, class::SET, "srem");
        if emptied {
            ctx.notify(class::GENERIC, "del", key);
        }
    }
    ctx.dirty(removed);
    ctx.reply.int(removed as i64);
    Ok(())
}

fn scard(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let len = set_of(ctx.db.get(key))?.map_or(0, Set::len);
    ctx.reply.int(len as i64);
    Ok(())
}

fn sismember(ctx: &mut Ctx) -> CmdResult {
    let (key, member) = (ctx.arg(1), ctx.arg(2));
    let found = set_of(ctx.db.get(key))?.is_some_and(|s| s.contains(member));
    ctx.reply.int(found as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let set = set_of(ctx.db.get(&args[1]))?;
    ctx.reply.array(args.len() - 2);
    for member in &args[2..] {
        let found = set.is_some_and(|s| s.contains(member));
        ctx.reply.int(found as i64);
    }
    Ok(())
}

fn smembers(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    match set_of(ctx.db.get(key))? {
        Some(set) => reply_members(ctx.reply, set),
        None => ctx.reply.set(0),
    }
    Ok(())
}

fn srandmember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    match args.len() {
        2 => {}
        3 => return srandmember_count(ctx),
        _ => return Err(errors::SYNTAX.into()),
    }
    match set_of(ctx.db.get(&args[1]))?.and_then(Set::random) {
        Some(member) => reply_member(ctx.reply, member),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// SRANDMEMBER key count: distinct members for a positive count, independent draws for a
/// negative one.
fn srandmember_count(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let count = args::int(&args[2])?;
    if count == i64::MIN {
        return Err(errors::NOT_LONG_MIN.into());
    }
    let Some(set) = set_of(ctx.db.get(&args[1]))? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let reply = &mut *ctx.reply;
    let wanted = count.unsigned_abs() as usize;
    if count < 0 || count == 1 {
        // Every member costs fewer than 8192 bytes unless members are long: only
        // counts that could pass the limit are worth estimating.
        if wanted > errors::RANDOM_REPLY_MAX_BYTES / 8192
            && estimated_reply_bytes(set, wanted) > errors::RANDOM_REPLY_MAX_BYTES
        {
            return Err(errors::RANDOM_REPLY_TOO_BIG.into());
        }
        reply.array(wanted);
        set.random_with_repeats(wanted, |m| reply_member(reply, m));
        return Ok(());
    }
    if wanted == 0 {
        reply.array(0);
        return Ok(());
    }
    if wanted >= set.len() {
        reply.array(set.len());
        set.iter().for_each(|m| reply_member(reply, m));
        return Ok(());
    }
    let sample = set.random_distinct(wanted);
    reply.array(sample.len());
    for member in sample {
        reply_member(reply, member);
    }
    Ok(())
}

/// Roughly the reply size of `count` random members of `set`, from a few samples.
fn estimated_reply_bytes(set: &Set, count: usize) -> usize {
    const SAMPLES: usize = 16;
    let mut digits = itoa::Buffer::new();
    let mut sampled = 0;
    set.random_with_repeats(SAMPLES, |m| sampled += m.as_bytes(&mut digits).len());
    // "$<len>\r\n<bytes>\r\n" costs about 6 bytes beyond the member.
    let per_member = sampled / SAMPLES + 6;
    count.saturating_mul(per_member)
}

fn spop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    match args.len() {
        2 => {}
        3 => return spop_count(ctx),
        _ => return Err(errors::SYNTAX.into()),
    }
    let key = &args[1][..];
    let Some(set) = set_of_mut(ctx.db.get_mut(key))? else {
        ctx.reply.null();
        return Ok(());
    };
    let member = set.pop_random().expect("a stored set is never empty");
    let emptied = set.is_empty();
    ctx.notify(class::SET, "spop", key);
    if ctx.propagating() {
        let argv = vec![
            Bytes::from_static(b"SREM"),
            args[1].clone(),
            Bytes::copy_from_slice(&member),
        ];
        ctx.rewrite_propagated(argv);
    }
    ctx.reply.bulk(&member);
    if emptied {
        ctx.db.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.changed(key);
    ctx.dirty(1);
    Ok(())
}

/// SPOP key count. Popping the whole set replies with it as SUNION would (so in the same
/// order) and deletes the key.
fn spop_count(ctx: &mut Ctx) -> CmdResult {
    let (args, limits) = (ctx.args, limits(ctx));
    let key = &args[1][..];
    // Redis answers "must be positive" for a count that is not even an integer.
    let count = args::int(&args[2])
        .ok()
        .filter(|&n| n >= 0)
        .ok_or(CmdError::from(NOT_POSITIVE))? as u64;
    let Some(set) = set_of_mut(ctx.db.get_mut(key))? else {
        ctx.reply.set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.reply.set(0);
        return Ok(());
    }
    let size = set.len();
    if count >= size as u64 {
        let all = Set::union(&[Some(&*set)], &limits);
        ctx.notify(class::SET, "spop", key);
        if let Some(old) = ctx.db.remove(key) {
            ctx.db.free_deleted(old);
        }
        ctx.notify(class::GENERIC, "del", key);
        reply_members(ctx.reply, &all);
        if ctx.propagating() {
            let lazy = ctx.server.settings.read().lazyfree_lazy_server_del;
            let name: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
            ctx.rewrite_propagated(vec![Bytes::from_static(name), args[1].clone()]);
        }
        ctx.changed(key);
        ctx.dirty(size as u64);
        return Ok(());
    }
    let popped = set.pop_many(count as usize, &limits);
    ctx.notify(class::SET, "spop", key);
    ctx.reply.set(popped.len());
    for member in &popped {
        ctx.reply.bulk(member);
    }
    // Propagated as SREMs of the popped members, never as the SPOP itself.
    if ctx.propagating() {
        for batch in popped.chunks(SREM_BATCH) {
            let mut argv = Vec::with_capacity(2 + batch.len());
            argv.push(Bytes::from_static(b"SREM"));
            argv.push(args[1].clone());
            argv.extend(batch.iter().map(|m| Bytes::copy_from_slice(m)));
            ctx.propagate(argv);
        }
    }
    ctx.no_propagate();
    ctx.changed(key);
    ctx.dirty(count);
    Ok(())
}

fn smove(ctx: &mut Ctx) -> CmdResult {
    let (args, limits) = (ctx.args, limits(ctx));
    let (src, dst, member) = (&args[1][..], &args[2][..], &args[3][..]);
    if set_of(ctx.db.get_mut(src).map(|v| &*v))?.is_none() {
        ctx.reply.int(0);
        return Ok(());
    }
    set_of(ctx.db.get_mut(dst).map(|v| &*v))?;
    if src == dst {
        let found = set_of(ctx.db.peek(src))?.is_some_and(|s| s.contains(member));
        ctx.reply.int(found as i64);
        return Ok(());
    }
    let source = set_of_mut(ctx.db.get_mut(src))?.expect("checked above");
    if !source.remove(member) {
        ctx.reply.int(0);
        return Ok(());
    }
    let emptied = source.is_empty();
    ctx.notify(class::SET, "srem", src);
    if emptied {
        ctx.db.remove(src);
        ctx.notify(class::GENERIC, "del", src);
    }
    ctx.changed(src);
    ctx.dirty(1);
    let added = match set_of_mut(ctx.db.get_mut(dst))? {
        Some(target) => target.add(member, &limits),
        None => {
            let mut target = Set::for_members(member, 1, &limits);
            target.add(member, &limits);
            ctx.db.set(dst, Value::set(target));
            true
        }
    };
    if added {
        ctx.dirty(1);
        ctx.modified(dst, class::SET, "sadd");
    }
    ctx.reply.int(1);
    Ok(())
}

fn sinter(ctx: &mut Ctx) -> CmdResult {
    let keys = &ctx.args[1..];
    let sets = sets_of(ctx.db.get_many(keys.iter().map(|k| &k[..]), is_set))?;
    let Some(sets) = sets.into_iter().collect::<Option<Vec<&Set>>>() else {
        ctx.reply.set(0);
        return Ok(());
    };
    let mut common = Vec::new();
    Set::intersect(&sets, |m| {
        common.push(m);
        true
    });
    ctx.reply.set(common.len());
    for member in common {
        reply_member(ctx.reply, member);
    }
    Ok(())
}

fn sintercard(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let numkeys = args::int(&args[1])
        .ok()
        .filter(|&n| n > 0)
        .ok_or(CmdError::from(NUMKEYS_NOT_POSITIVE))?;
    if numkeys > (args.len() - 2) as i64 {
        return Err(NUMKEYS_TOO_MANY.into());
    }
    let keys = &args[2..2 + numkeys as usize];
    let mut limit = 0usize;
    let mut options = args[2 + keys.len()..].iter();
    while let Some(option) = options.next() {
        match options.as_slice().first() {
            Some(value) if args::is(option, "limit") => {
                let n = args::int(value)
                    .ok()
                    .filter(|&n| n >= 0)
                    .ok_or(CmdError::from(LIMIT_NEGATIVE))?;
                limit = n as usize;
                options.next();
            }
            _ => return Err(errors::SYNTAX.into()),
        }
    }
    let sets = sets_of(ctx.db.get_many(keys.iter().map(|k| &k[..]), is_set))?;
    let mut cardinality = 0usize;
    if let Some(sets) = sets.into_iter().collect::<Option<Vec<&Set>>>() {
        Set::intersect(&sets, |_| {
            cardinality += 1;
            limit == 0 || cardinality < limit
        });
    }
    ctx.reply.int(cardinality as i64);
    Ok(())
}

fn sinterstore(ctx: &mut Ctx) -> CmdResult {
    let (args, limits) = (ctx.args, limits(ctx));
    let keys = &args[2..];
    let sets = sets_of(ctx.db.get_many(keys.iter().map(|k| &k[..]), is_set))?;
    let result = sets
        .into_iter()
        .collect::<Option<Vec<&Set>>>()
        .map(|sets| Set::intersection(&sets, &limits));
    store(ctx, result, "sinterstore")
}

/// Which of SUNION and SDIFF.
#[derive(Clone, Copy)]
enum Algebra {
    Union,
    Diff,
}

fn combine(ctx: &mut Ctx, keys: &[Bytes], op: Algebra) -> Result<Set, CmdError> {
    let limits = limits(ctx);
    let sets = sets_of(ctx.db.get_many(keys.iter().map(|k| &k[..]), is_set))?;
    Ok(match op {
        Algebra::Union => Set::union(&sets, &limits),
        Algebra::Diff => Set::difference(&sets, &limits),
    })
}

fn sunion(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let result = combine(ctx, &args[1..], Algebra::Union)?;
    reply_members(ctx.reply, &result);
    Ok(())
}

fn sdiff(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let result = combine(ctx, &args[1..], Algebra::Diff)?;
    reply_members(ctx.reply, &result);
    Ok(())
}

fn sunionstore(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let result = combine(ctx, &args[2..], Algebra::Union)?;
    store(ctx, Some(result), "sunionstore")
}

fn sdiffstore(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let result = combine(ctx, &args[2..], Algebra::Diff)?;
    store(ctx, Some(result), "sdiffstore")
}

/// The end of a STORE form: the result replaces the destination (any type, TTL dropped),
/// or an empty result deletes it; the reply is the result's size. `event` is published
/// for a stored result, `del` for a deleted destination.
fn store(ctx: &mut Ctx, result: Option<Set>, event: &str) -> CmdResult {
    let dst = ctx.arg(1);
    match result.filter(|s| !s.is_empty()) {
        Some(set) => {
            ctx.reply.int(set.len() as i64);
            ctx.db.set(dst, Value::set(set));
            ctx.modified(dst, class::SET, event);
            ctx.dirty(1);
        }
        None => {
            ctx.reply.int(0);
            if let Some(old) = ctx.db.remove(dst) {
                ctx.db.free_deleted(old);
                ctx.modified(dst, class::GENERIC, "del");
                ctx.dirty(1);
            }
        }
    }
    Ok(())
}

fn sscan(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let cursor = args::scan_cursor(&args[2])?;
    let Some(set) = set_of(ctx.db.get(&args[1]))? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array(0);
        return Ok(());
    };
    let options = args::ScanOptions::parse(&args[3..], false)?;
    let mut found: Vec<Member> = Vec::new();
    let mut next = cursor;
    if set.is_hashtable() {
        // Redis's loop: buckets until `count` members are collected, with at most ten
        // times `count` buckets visited in one call.
        let mut budget = options.count.saturating_mul(10).saturating_add(1);
        loop {
            next = set.scan(next, |m| found.push(m));
            budget -= 1;
            if next == 0 || budget == 0 || found.len() >= options.count {
                break;
            }
        }
    } else {
        next = set.scan(cursor, |m| found.push(m));
    }
    if let Some(pattern) = options.pattern {
        let mut digits = itoa::Buffer::new();
        found.retain(|m| string_match(pattern, m.as_bytes(&mut digits), false));
    }
    ctx.reply.array(2);
    ctx.reply.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.reply.array(found.len());
    for member in found {
        reply_member(ctx.reply, member);
    }
    Ok(())
}
