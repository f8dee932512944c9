//! List commands: the pushes (LPUSH RPUSH LPUSHX RPUSHX LINSERT), the pops (LPOP RPOP
//! LMPOP), moves (LMOVE RPOPLPUSH), reads (LLEN LRANGE LINDEX LPOS) and edits (LSET LREM
//! LTRIM).
//!
//! The list itself and its encodings (listpack, quicklist, compression) live in
//! `vireo_store::list`; this module parses arguments, applies Redis's encoding conversions
//! at the points Redis applies them (before growing: [`List::reserve_for`]; after removing
//! or replacing: [`List::shrink_encoding`]), deletes a list that became empty, and writes
//! elements into the reply straight from the listpack.
//!
//! The blocking commands (`blocking.rs`) share the cores of pops and moves:
//! - [`pop_and_reply`]`(ctx, key, end, count: Option<usize>, with_key: bool)
//!   -> Result<Option<usize>, CmdError>`: pops one element (`count` None: a bulk reply) or
//!   up to `count` (an array) from `key`'s `end`; `with_key` wraps the reply as
//!   `[key, element]` (BLPOP) or `[key, [elements]]` (LMPOP/BLMPOP). `Ok(None)` and nothing
//!   written when the key does not exist; WRONGTYPE for another type.
//! - [`move_and_reply`]`(ctx, src, dst, from, to) -> Result<bool, CmdError>`: LMOVE's
//!   core; `Ok(false)` and nothing written when `src` does not exist.
//! - [`parse_end`] reads `LEFT`/`RIGHT`.
//!
//! Every list key is created through [`create_list`], the one place to wake clients blocked
//! on a key.

use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::notify::class;
use bytes::Bytes;
use std::ops::ControlFlow;
use vireo_resp::Reply;
use vireo_store::list::{End, List, ListConfig};
use vireo_store::listpack::LpValue;
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("lpush", lpush),
    Cmd::keys("rpush", rpush),
    Cmd::keys("lpushx", lpushx),
    Cmd::keys("rpushx", rpushx),
    Cmd::keys("linsert", linsert),
    Cmd::keys("llen", llen),
    Cmd::keys("lindex", lindex),
    Cmd::keys("lset", lset),
    Cmd::keys("lpop", lpop),
    Cmd::keys("rpop", rpop),
    Cmd::keys("lmpop", lmpop),
    Cmd::keys("lrange", lrange),
    Cmd::keys("ltrim", ltrim),
    Cmd::keys("lpos", lpos),
    Cmd::keys("lrem", lrem),
    Cmd::keys("lmove", lmove),
    Cmd::keys("rpoplpush", rpoplpush),
];

const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
const NUMKEYS: &str = "ERR numkeys should be greater than 0";
const COUNT_NOT_POSITIVE: &str = "ERR count should be greater than 0";

/// The encoding configuration now in force.
fn config(ctx: &Ctx) -> ListConfig {
    let settings = ctx.server.settings.read();
    ListConfig {
        fill: settings.encodings.list_max_listpack_size,
        compress_depth: settings.encodings.list_compress_depth,
    }
}

/// The list in a looked-up value: None for a missing key, WRONGTYPE for another type.
fn list_of(value: Option<&Value>) -> Result<Option<&List>, CmdError> {
    match value {
        None => Ok(None),
        Some(Value::List { l, .. }) => Ok(Some(l)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

fn list_mut(value: Option<&mut Value>) -> Result<Option<&mut List>, CmdError> {
    match value {
        None => Ok(None),
        Some(Value::List { l, .. }) => Ok(Some(l)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

/// Stores a new list at `key`.
fn create_list(ctx: &mut Ctx, key: &[u8], list: List) {
    ctx.db.set(key, Value::list(list));
}

/// After elements left `key`'s list by an operation that notifies `event`: publishes it,
/// deletes the key if the list is `emptied` (with a `del` event), and signals the key
/// changed. As Redis's listElementsRemoved, which LPOP, LTRIM, LREM and the moves share;
/// `settle` said whether the list emptied.
fn after_removal(ctx: &mut Ctx, key: &[u8], event: &str, emptied: bool) {
    ctx.notify(class::LIST, event, key);
    if emptied {
        ctx.db.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.changed(key);
}

/// After a removal from `l`: whether it is now empty (its key must go), else lets it
/// return to a listpack if it shrank enough.
fn settle(l: &mut List, config: &ListConfig) -> bool {
    if l.is_empty() {
        return true;
    }
    l.shrink_encoding(config);
    false
}

/// The event a pop from `end` publishes.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// The event a push to `end` publishes.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The command name of a pop from `end`, as Redis propagates pops it rewrites.
pub(crate) fn pop_command(end: End) -> Bytes {
    Bytes::from_static(match end {
        End::Head => b"LPOP",
        End::Tail => b"RPOP",
    })
}

fn reply_value(reply: &mut Reply, v: LpValue<'_>) {
    match v {
        LpValue::Int(n) => reply.bulk_int(n),
        LpValue::Str(s) => reply.bulk(s),
    }
}

/// `LEFT` or `RIGHT` (syntax error otherwise).
pub(crate) fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if args::is(arg, "left") {
        Ok(End::Head)
    } else if args::is(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(errors::SYNTAX.into())
    }
}

/// An integer that may be any long but LONG_MIN (LPOS's RANK; Redis 7.2 still takes
/// LONG_MIN as LREM's count, the refusal there came with 8.0).
fn long_not_min(arg: &[u8]) -> Result<i64, CmdError> {
    match args::int(arg)? {
        i64::MIN => Err(errors::NOT_LONG_MIN.into()),
        n => Ok(n),
    }
}

/// A non-negative integer; `error` for anything else, as Redis's
/// getPositiveLongFromObjectOrReply replies.
fn non_negative(arg: &[u8], error: &'static str) -> Result<usize, CmdError> {
    match vireo_resp::parse_int(arg) {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(error.into()),
    }
}

/// A start/stop pair as LRANGE and LTRIM read it, resolved against `len`: the inclusive
/// range, or None if it is empty.
fn resolve_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop.min(len - 1) as usize))
}

fn lpush(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Head, false)
}

fn rpush(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Head, true)
}

fn rpushx(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Tail, true)
}

/// LPUSH/RPUSH and, with `existing_only`, LPUSHX/RPUSHX.
fn push(ctx: &mut Ctx, end: End, existing_only: bool) -> CmdResult {
    let key = ctx.arg(1);
    let values = &ctx.args[2..];
    let config = config(ctx);
    let bytes = values.iter().map(|v| v.len()).sum();
    let fill = |l: &mut List| {
        l.reserve_for(&config, bytes, values.len());
        for v in values {
            l.push(end, v);
        }
        l.len()
    };
    let len = match list_mut(ctx.db.get_mut(key))? {
        Some(l) => fill(l),
        None if existing_only => 0,
        None => {
            let mut l = List::new();
            let len = fill(&mut l);
            create_list(ctx, key, l);
            len
        }
    };
    if len > 0 {
        ctx.dirty(values.len() as u64);
        ctx.modified(key, class::LIST, push_event(end));
    }
    ctx.reply.int(len as i64);
    Ok(())
}

fn linsert(ctx: &mut Ctx) -> CmdResult {
    let after = if args::is(ctx.arg(2), "after") {
        true
    } else if args::is(ctx.arg(2), "before") {
        false
    } else {
        return Err(errors::SYNTAX.into());
    };
    let (key, pivot, value) = (ctx.arg(1), ctx.arg(3), ctx.arg(4));
    let config = config(ctx);
    let Some(l) = list_mut(ctx.db.get_mut(key))? else {
        ctx.reply.int(0);
        return Ok(());
    };
    // As in Redis, the list converts for the new element before the pivot is known to exist.
    l.reserve_for(&config, value.len(), 1);
    if !l.insert(pivot, value, after) {
        ctx.reply.int(-1);
        return Ok(());
    }
    let len = l.len();
    ctx.dirty(1);
    ctx.modified(key, class::LIST, "linsert");
    ctx.reply.int(len as i64);
    Ok(())
}

fn llen(ctx: &mut Ctx) -> CmdResult {
    let len = list_of(ctx.db.get(ctx.arg(1)))?.map_or(0, List::len);
    ctx.reply.int(len as i64);
    Ok(())
}

fn lindex(ctx: &mut Ctx) -> CmdResult {
    let (key, index) = (ctx.arg(1), ctx.arg(2));
    let Some(l) = list_of(ctx.db.get(key))? else {
        ctx.reply.null();
        return Ok(());
    };
    let index = args::int(index)?;
    let reply = &mut *ctx.reply;
    if l.get_with(index, |v| reply_value(reply, v)).is_none() {
        reply.null();
    }
    Ok(())
}

fn lset(ctx: &mut Ctx) -> CmdResult {
    let (key, index, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let config = config(ctx);
    let l = list_mut(ctx.db.get_mut(key))?.ok_or(errors::NO_SUCH_KEY)?;
    let index = args::int(index)?;
    l.reserve_for(&config, value.len(), 1);
    if !l.set(index, value) {
        return Err(INDEX_OUT_OF_RANGE.into());
    }
    // A smaller value may let the list return to a listpack.
    l.shrink_encoding(&config);
    ctx.dirty(1);
    ctx.modified(key, class::LIST, "lset");
    ctx.reply.ok();
    Ok(())
}

fn lpop(ctx: &mut Ctx) -> CmdResult {
    pop(ctx, End::Head)
}

fn rpop(ctx: &mut Ctx) -> CmdResult {
    pop(ctx, End::Tail)
}

/// LPOP/RPOP `key [count]`: with a count the reply is an array (null array for a missing
/// key, empty for count 0), without it a bulk string (null for a missing key).
fn pop(ctx: &mut Ctx, end: End) -> CmdResult {
    if ctx.args.len() > 3 {
        return Err(ctx.wrong_arity());
    }
    let key = ctx.arg(1);
    let count = match ctx.args.get(2) {
        Some(arg) => Some(non_negative(arg, MUST_BE_POSITIVE)?),
        None => None,
    };
    if count == Some(0) {
        match list_of(ctx.db.get_mut(key).map(|v| &*v))? {
            Some(_) => ctx.reply.array(0),
            None => ctx.reply.null_array(),
        }
        return Ok(());
    }
    if pop_and_reply(ctx, key, end, count, false)?.is_none() {
        match count {
            Some(_) => ctx.reply.null_array(),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// Pops from `key`'s `end` and writes the reply: one element as a bulk string (`count`
/// None) or up to `count` as an array, wrapped as `[key, ...]` with `with_key`. Deletes
/// the key if the list empties. Ok(None), with nothing written, if the key is missing.
pub(crate) fn pop_and_reply(
    ctx: &mut Ctx,
    key: &[u8],
    end: End,
    count: Option<usize>,
    with_key: bool,
) -> Result<Option<usize>, CmdError> {
    let config = config(ctx);
    let Some(l) = list_mut(ctx.db.get_mut(key))? else {
        return Ok(None);
    };
    let reply = &mut *ctx.reply;
    if with_key {
        reply.array(2);
        reply.bulk(key);
    }
    let popped = match count {
        None => l.pop_with(end, |v| reply_value(reply, v)).map_or(0, |()| 1),
        Some(count) => {
            let len = l.len();
            let n = count.min(len);
            reply.array(n);
            match end {
                End::Head => {
                    l.for_each_in(0, n, false, |v| reply_value(reply, v));
                    l.delete_range(0, n);
                }
                End::Tail => {
                    if n > 0 {
                        l.for_each_in(len - 1, n, true, |v| reply_value(reply, v));
                    }
                    l.delete_range(len - n, n);
                }
            }
            n
        }
    };
    let emptied = settle(l, &config);
    after_removal(ctx, key, pop_event(end), emptied);
    ctx.dirty(popped as u64);
    Ok(Some(popped))
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx) -> CmdResult {
    let (numkeys, end, count) = parse_mpop(&ctx.args[1..])?;
    for i in 0..numkeys {
        let key = ctx.arg(2 + i);
        let exists = list_of(ctx.db.get_mut(key).map(|v| &*v))?.is_some();
        if exists {
            let popped = pop_and_reply(ctx, key, end, Some(count), true)?.unwrap_or(0);
            // Propagated as the pop with the count it had (Redis rewrites LMPOP so).
            if ctx.propagating() {
                let argv = pop_count_argv(end, ctx.args[2 + i].clone(), popped);
                ctx.rewrite_propagated(argv);
            }
            return Ok(());
        }
    }
    ctx.reply.null_array();
    Ok(())
}

/// `LPOP key n` / `RPOP key n`: what LMPOP and BLMPOP propagate.
pub(crate) fn pop_count_argv(end: End, key: Bytes, n: usize) -> Vec<Bytes> {
    let n = Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes());
    vec![pop_command(end), key, n]
}

/// The arguments of LMPOP (and BLMPOP after its timeout), from `numkeys` on: the number
/// of keys, the end, and the count (1 if absent).
pub(crate) fn parse_mpop(args: &[bytes::Bytes]) -> Result<(usize, End, usize), CmdError> {
    let numkeys = match vireo_resp::parse_int(&args[0]) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(NUMKEYS.into()),
    };
    let end_at = numkeys.checked_add(1).filter(|&i| i < args.len());
    let end = parse_end(&args[end_at.ok_or(errors::SYNTAX)?])?;
    let mut count = None;
    let mut rest = &args[end_at.unwrap_or_default() + 1..];
    while let [opt, tail @ ..] = rest {
        match tail {
            [value, more @ ..] if count.is_none() && args::is(opt, "count") => {
                count = Some(match vireo_resp::parse_int(value) {
                    Some(n) if n > 0 => n as usize,
                    _ => return Err(COUNT_NOT_POSITIVE.into()),
                });
                rest = more;
            }
            _ => return Err(errors::SYNTAX.into()),
        }
    }
    Ok((numkeys, end, count.unwrap_or(1)))
}

fn lrange(ctx: &mut Ctx) -> CmdResult {
    let start = args::int(ctx.arg(2))?;
    let stop = args::int(ctx.arg(3))?;
    let Some(l) = list_of(ctx.db.get(ctx.arg(1)))? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let Some((first, last)) = resolve_range(start, stop, l.len()) else {
        ctx.reply.array(0);
        return Ok(());
    };
    let n = last - first + 1;
    let reply = &mut *ctx.reply;
    reply.array(n);
    l.for_each_in(first, n, false, |v| reply_value(reply, v));
    Ok(())
}

fn ltrim(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let start = args::int(ctx.arg(2))?;
    let stop = args::int(ctx.arg(3))?;
    let config = config(ctx);
    if let Some(l) = list_mut(ctx.db.get_mut(key))? {
        let removed = l.trim(start, stop);
        let emptied = settle(l, &config);
        // Notified even when nothing was trimmed, as Redis does (but not propagated).
        after_removal(ctx, key, "ltrim", emptied);
        ctx.dirty(removed as u64);
    }
    ctx.reply.ok();
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx) -> CmdResult {
    let (key, element) = (ctx.arg(1), ctx.arg(2));
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen = 0;
    let mut rest = &ctx.args[3..];
    while let [opt, value, tail @ ..] = rest {
        if args::is(opt, "rank") {
            rank = long_not_min(value)?;
            if rank == 0 {
                return Err(RANK_ZERO.into());
            }
        } else if args::is(opt, "count") {
            count = Some(non_negative(value, COUNT_NEGATIVE)?);
        } else if args::is(opt, "maxlen") {
            maxlen = non_negative(value, MAXLEN_NEGATIVE)?;
        } else {
            return Err(errors::SYNTAX.into());
        }
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(errors::SYNTAX.into());
    }
    let Some(l) = list_of(ctx.db.get(key))? else {
        match count {
            Some(_) => ctx.reply.array(0),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let skip = rank.unsigned_abs() - 1;
    let mut matches: u64 = 0;
    let mut found: Vec<usize> = Vec::new();
    l.positions(element, rank < 0, maxlen, |index| {
        matches += 1;
        if matches <= skip {
            return ControlFlow::Continue(());
        }
        found.push(index);
        match count {
            Some(c) if c == 0 || found.len() < c => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    });
    match count {
        Some(_) => {
            ctx.reply.array(found.len());
            for index in found {
                ctx.reply.int(index as i64);
            }
        }
        None => match found.first() {
            Some(&index) => ctx.reply.int(index as i64),
            None => ctx.reply.null(),
        },
    }
    Ok(())
}

/// LREM key count element
fn lrem(ctx: &mut Ctx) -> CmdResult {
    let (key, element) = (ctx.arg(1), ctx.arg(3));
    let count = args::int(ctx.arg(2))?;
    let config = config(ctx);
    let Some(l) = list_mut(ctx.db.get_mut(key))? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let removed = l.remove(element, count < 0, count.unsigned_abs() as usize);
    if removed > 0 {
        let emptied = settle(l, &config);
        after_removal(ctx, key, "lrem", emptied);
        ctx.dirty(removed as u64);
    }
    ctx.reply.int(removed as i64);
    Ok(())
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx) -> CmdResult {
    let from = parse_end(ctx.arg(3))?;
    let to = parse_end(ctx.arg(4))?;
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    if !move_and_reply(ctx, src, dst, from, to)? {
        ctx.reply.null();
    }
    Ok(())
}

fn rpoplpush(ctx: &mut Ctx) -> CmdResult {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    if !move_and_reply(ctx, src, dst, End::Tail, End::Head)? {
        ctx.reply.null();
    }
    Ok(())
}

/// Moves one element from `src`'s `from` end to `dst`'s `to` end (the same key rotates)
/// and replies with it. Ok(false), nothing written, if `src` does not exist; WRONGTYPE,
/// nothing changed, if either key holds another type.
pub(crate) fn move_and_reply(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<bool, CmdError> {
    let config = config(ctx);
    if list_of(ctx.db.get_mut(src).map(|v| &*v))?.is_none() {
        return Ok(false);
    }
    list_of(ctx.db.get_mut(dst).map(|v| &*v))?;
    let Some(value) = list_mut(ctx.db.get_mut(src))?.and_then(|l| l.pop(from)) else {
        return Ok(false);
    };
    match list_mut(ctx.db.get_mut(dst))? {
        Some(l) => {
            l.reserve_for(&config, value.len(), 1);
            l.push(to, &value);
        }
        None => {
            let mut l = List::new();
            l.reserve_for(&config, value.len(), 1);
            l.push(to, &value);
            create_list(ctx, dst, l);
        }
    }
    // As in Redis, the push is notified before the pop (the documented order is the
    // reverse, but Redis kept its behaviour).
    ctx.modified(dst, class::LIST, push_event(to));
    ctx.reply.bulk(&value);
    // The source may be the destination: it is settled after the push.
    let emptied = list_mut(ctx.db.get_mut(src))?.is_none_or(|l| settle(l, &config));
    after_removal(ctx, src, pop_event(from), emptied);
    ctx.dirty(1);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(items: &[&str]) -> Vec<bytes::Bytes> {
        items
            .iter()
            .map(|s| bytes::Bytes::from(s.to_string()))
            .collect()
    }

    #[test]
    fn mpop_arguments() {
        assert_eq!(
            parse_mpop(&args(&["2", "a", "b", "LEFT"])).unwrap(),
            (2, End::Head, 1)
        );
        assert_eq!(
            parse_mpop(&args(&["1", "a", "right", "COUNT", "5"])).unwrap(),
            (1, End::Tail, 5)
        );
        let err = |a: &[&str]| parse_mpop(&args(a)).unwrap_err().0.into_owned();
        assert_eq!(err(&["0", "a", "left"]), NUMKEYS);
        assert_eq!(err(&["x", "a", "left"]), NUMKEYS);
        assert_eq!(err(&["3", "a", "left"]), errors::SYNTAX);
        assert_eq!(err(&["9223372036854775807", "a", "left"]), errors::SYNTAX);
        assert_eq!(err(&["1", "a", "up"]), errors::SYNTAX);
        assert_eq!(err(&["1", "a", "left", "count", "0"]), COUNT_NOT_POSITIVE);
        assert_eq!(
            err(&["1", "a", "left", "count", "1", "count", "1"]),
            errors::SYNTAX
        );
        assert_eq!(err(&["1", "a", "left", "count"]), errors::SYNTAX);
    }

    #[test]
    fn ranges_resolve_like_lrange() {
        assert_eq!(resolve_range(0, -1, 3), Some((0, 2)));
        assert_eq!(resolve_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(resolve_range(2, 1, 3), None);
        assert_eq!(resolve_range(3, 5, 3), None);
        assert_eq!(resolve_range(0, -4, 3), None);
        assert_eq!(resolve_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }
}
