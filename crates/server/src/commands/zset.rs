//! Sorted-set commands: ZADD and ZINCRBY, the reads (ZCARD ZSCORE ZMSCORE ZRANK ZCOUNT
//! ZLEXCOUNT ZRANDMEMBER ZSCAN), the ZRANGE family (ZRANGE with BYSCORE/BYLEX/REV/LIMIT,
//! ZRANGESTORE and the older ZREVRANGE, ZRANGEBYSCORE, ZRANGEBYLEX...), removals (ZREM,
//! ZREMRANGEBYRANK/SCORE/LEX, ZPOPMIN/ZPOPMAX, ZMPOP) and the set algebra (ZUNION, ZINTER,
//! ZDIFF, their STORE forms, ZINTERCARD), which also takes plain sets with score 1.
//!
//! The type and its encodings live in `vireo_store::zset`; a range query there is a
//! half-open range of ranks, walked up or down here while the reply is written. Scores are
//! replied with `Reply::double` (a RESP3 double, or Redis's shortest round-trip text in a
//! bulk string under RESP2). WITHSCORES pairs are flat under RESP2 and two-element arrays
//! under RESP3, as in Redis 7.
//!
//! Shared with the blocking pops (`blocking.rs`):
//! - [`pop_and_reply`]`(ctx, key, from_max, count, shape: PopShape)
//!   -> Result<Option<usize>, CmdError>` pops up to `count` members from the low or high
//!   end of `key` and writes the reply in `shape` (`Zpop`: ZPOPMIN's; `Blocking`:
//!   BZPOPMIN's `[key, member, score]`; `WithKey`: ZMPOP's `[key, [[member, score]...]]`);
//!   deletes the emptied key; the number popped. `Ok(None)` and nothing written when the
//!   key does not exist; WRONGTYPE for another type.
//! - [`pop_argv`]: what ZMPOP and the blocking pops propagate (ZPOPMIN/ZPOPMAX).
//! - [`parse_mpop`]`(args, numkeys_index) -> Result<Mpop, CmdError>` reads ZMPOP's (and
//!   BZMPOP's) `numkeys key... MIN|MAX [COUNT count]`.
//!
//! Every sorted-set key is created through [`create_zset`], the one place to wake clients
//! blocked on a key.
//!
//! Writes publish Redis's keyspace events (`zadd`, `zincr`, `zrem`, `zremrangebyscore`...,
//! `zpopmin`, the STORE events, `del` when a sorted set goes) only when something changed.

use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::notify::class;
use bytes::Bytes;
use rand::seq::{IndexedRandom, SliceRandom};
use smallvec::SmallVec;
use std::collections::HashSet;
use std::ops::Range;
use vireo_resp::Reply;
use vireo_store::dict::Dict;
use vireo_store::set::Set;
use vireo_store::zset::{AddFlags, AddOutcome, LexRange, Limits, LpValue, ScoreRange, ZSet};
use vireo_store::{SmallBytes, Value};

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("zadd", zadd),
    Cmd::keys("zincrby", zincrby),
    Cmd::keys("zrem", zrem),
    Cmd::keys("zcard", zcard),
    Cmd::keys("zscore", zscore),
    Cmd::keys("zmscore", zmscore),
    Cmd::keys("zrank", zrank),
    Cmd::keys("zrevrank", zrevrank),
    Cmd::keys("zcount", zcount),
    Cmd::keys("zlexcount", zlexcount),
    Cmd::keys("zrange", zrange),
    Cmd::keys("zrangestore", zrangestore),
    Cmd::keys("zrevrange", zrevrange),
    Cmd::keys("zrangebyscore", zrangebyscore),
    Cmd::keys("zrevrangebyscore", zrevrangebyscore),
    Cmd::keys("zrangebylex", zrangebylex),
    Cmd::keys("zrevrangebylex", zrevrangebylex),
    Cmd::keys("zremrangebyrank", zremrangebyrank),
    Cmd::keys("zremrangebyscore", zremrangebyscore),
    Cmd::keys("zremrangebylex", zremrangebylex),
    Cmd::keys("zpopmin", zpopmin),
    Cmd::keys("zpopmax", zpopmax),
    Cmd::keys("zmpop", zmpop),
    Cmd::keys("zrandmember", zrandmember),
    Cmd::keys("zscan", zscan),
    Cmd::keys("zunion", zunion),
    Cmd::keys("zinter", zinter),
    Cmd::keys("zdiff", zdiff),
    Cmd::keys("zunionstore", zunionstore),
    Cmd::keys("zinterstore", zinterstore),
    Cmd::keys("zdiffstore", zdiffstore),
    Cmd::keys("zintercard", zintercard),
];

const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_ONE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
const NUMKEYS: &str = "ERR numkeys should be greater than 0";
const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
const OUT_OF_RANGE: &str = "ERR value is out of range";
const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// The encoding thresholds in force.
fn limits(ctx: &Ctx) -> Limits {
    let settings = ctx.server.settings.read();
    Limits {
        max_entries: settings.encodings.zset_max_listpack_entries,
        max_value: settings.encodings.zset_max_listpack_value,
    }
}

/// The sorted set in a looked-up value: None for a missing key, WRONGTYPE for another type.
fn zset_of(value: Option<&Value>) -> Result<Option<&ZSet>, CmdError> {
    match value {
        None => Ok(None),
        Some(Value::ZSet { z, .. }) => Ok(Some(z)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

fn zset_mut(value: Option<&mut Value>) -> Result<Option<&mut ZSet>, CmdError> {
    match value {
        None => Ok(None),
        Some(Value::ZSet { z, .. }) => Ok(Some(z)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

/// Stores a new sorted set at `key` (replacing any value and its TTL).
fn create_zset(ctx: &mut Ctx, key: &[u8], z: ZSet) {
    ctx.db.set(key, Value::zset(z));
}

/// After members left `key` by an operation that notifies `event`: publishes it, deletes
/// the key (with a `del` event) if its sorted set became empty, and signals the change.
fn after_removal(ctx: &mut Ctx, key: &[u8], event: &str) {
    ctx.notify(class::ZSET, event, key);
    if matches!(zset_of(ctx.db.peek(key)), Ok(Some(z)) if z.is_empty()) {
        ctx.db.remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.changed(key);
}

fn reply_member(reply: &mut Reply, m: LpValue<'_>) {
    match m {
        LpValue::Int(n) => reply.bulk_int(n),
        LpValue::Str(s) => reply.bulk(s),
    }
}

/// The array header for `n` members, with or without their scores.
fn reply_pairs_header(reply: &mut Reply, n: usize, withscores: bool) {
    if withscores && !reply.resp3() {
        reply.array(n * 2);
    } else {
        reply.array(n);
    }
}

/// One member, with its score: flat under RESP2, a two-element array under RESP3.
fn reply_pair(reply: &mut Reply, m: LpValue<'_>, score: f64, withscores: bool) {
    if withscores && reply.resp3() {
        reply.array(2);
    }
    reply_member(reply, m);
    if withscores {
        reply.double(score);
    }
}

// ---------------------------------------------------------------------------------------
// Argument parsing shared by several commands.

/// A ZRANGEBYSCORE bound: an optional `(`, then C `strtod` text filling the rest (an
/// empty text reads as 0, as strtod leaves Redis's end pointer on the terminator).
fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, exclusive) = match arg.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (arg, false),
    };
    let parsed = args::strtod(text)?;
    (parsed.consumed == text.len() && !parsed.value.is_nan()).then_some((parsed.value, exclusive))
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let parse = || {
        let (min, min_exclusive) = score_bound(min)?;
        let (max, max_exclusive) = score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            min_exclusive,
            max_exclusive,
        })
    };
    parse().ok_or_else(|| NOT_FLOAT_RANGE.into())
}

fn lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
    LexRange::parse(min, max).ok_or_else(|| NOT_LEX_RANGE.into())
}

/// A count of 0 or more; anything else, a non-number too, is
/// `ERR value is out of range, must be positive` (Redis's getPositiveLongFromObject).
fn positive(arg: &[u8]) -> Result<usize, CmdError> {
    args::int(arg)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| MUST_BE_POSITIVE.into())
}

/// An integer in 1..=LONG_MAX; anything else, a non-number too, is `err`.
fn at_least_one(arg: &[u8], err: &'static str) -> Result<usize, CmdError> {
    match args::int(arg) {
        Ok(n) if n >= 1 => Ok(n as usize),
        _ => Err(err.into()),
    }
}

/// Redis's rank-range rule (ZRANGE, ZREMRANGEBYRANK): negative indexes count from the end,
/// the start is clamped to 0 and the end to the last rank. None for an empty range.
fn rank_range(start: i64, end: i64, len: usize) -> Option<Range<usize>> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some(start as usize..end as usize + 1)
}

// ---------------------------------------------------------------------------------------
// ZADD, ZINCRBY

fn zadd(ctx: &mut Ctx) -> CmdResult {
    let mut flags = AddFlags::default();
    let mut ch = false;
    let mut i = 2;
    while let Some(opt) = ctx.args.get(i) {
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => flags.nx = true,
            b"xx" => flags.xx = true,
            b"gt" => flags.gt = true,
            b"lt" => flags.lt = true,
            b"ch" => ch = true,
            b"incr" => flags.incr = true,
            _ => break,
        }
        i += 1;
    }
    add_generic(ctx, i, flags, ch)
}

fn zincrby(ctx: &mut Ctx) -> CmdResult {
    let flags = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    add_generic(ctx, 2, flags, false)
}

/// ZADD and ZINCRBY from the first score argument on, in Redis's order of checks.
fn add_generic(ctx: &mut Ctx, first: usize, flags: AddFlags, ch: bool) -> CmdResult {
    let pairs = &ctx.args[first..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    if flags.nx && flags.xx {
        return Err(XX_AND_NX.into());
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(GT_LT_NX.into());
    }
    if flags.incr && pairs.len() > 2 {
        return Err(INCR_ONE_PAIR.into());
    }
    // Every score is read before anything changes.
    let scores: SmallVec<[f64; 8]> = pairs
        .chunks(2)
        .map(|pair| args::float(&pair[0]))
        .collect::<Result<_, _>>()?;
    let key = ctx.arg(1);
    let limits = limits(ctx);
    if zset_mut(ctx.db.get_mut(key))?.is_none() {
        if flags.xx {
            if flags.incr {
                ctx.reply.null();
            } else {
                ctx.reply.int(0);
            }
            return Ok(());
        }
        let longest = pairs.chunks(2).map(|p| p[1].len()).max().unwrap_or(0);
        create_zset(ctx, key, ZSet::with_hint(scores.len(), longest, limits));
    }
    let z = zset_mut(ctx.db.get_mut(key))?.expect("created above");
    let (mut added, mut updated) = (0, 0);
    let mut result = None;
    for (pair, &score) in pairs.chunks(2).zip(&scores) {
        match z.add(&pair[1], score, flags, limits) {
            AddOutcome::Added(s) => {
                added += 1;
                result = Some(s);
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                result = Some(s);
            }
            AddOutcome::Unchanged(s) => result = Some(s),
            AddOutcome::Skipped => {}
            AddOutcome::Nan => return Err(NAN_SCORE.into()),
        }
    }
    ctx.dirty(added + updated);
    if added + updated > 0 {
        ctx.modified(key, class::ZSET, if flags.incr { "zincr" } else { "zadd" });
    }
    if flags.incr {
        match result {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    } else {
        ctx.reply
            .int((if ch { added + updated } else { added }) as i64);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reads of single members

fn zrem(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let Some(z) = zset_mut(ctx.db.get_mut(key))? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let removed = ctx.args[2..].iter().filter(|m| z.remove(m)).count();
    if removed > 0 {
        after_removal(ctx, key, "zrem");
    }
    ctx.dirty(removed as u64);
    ctx.reply.int(removed as i64);
    Ok(())
}

fn zcard(ctx: &mut Ctx) -> CmdResult {
    let len = zset_of(ctx.db.get(ctx.arg(1)))?.map_or(0, ZSet::len);
    ctx.reply.int(len as i64);
    Ok(())
}

fn zscore(ctx: &mut Ctx) -> CmdResult {
    let member = ctx.arg(2);
    let score = zset_of(ctx.db.get(ctx.arg(1)))?.and_then(|z| z.score(member));
    match score {
        Some(s) => ctx.reply.double(s),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx) -> CmdResult {
    let z = zset_of(ctx.db.get(ctx.arg(1)))?;
    let members = &ctx.args[2..];
    ctx.reply.array(members.len());
    for m in members {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx) -> CmdResult {
    rank_generic(ctx, false)
}

fn zrevrank(ctx: &mut Ctx) -> CmdResult {
    rank_generic(ctx, true)
}

fn rank_generic(ctx: &mut Ctx, reverse: bool) -> CmdResult {
    let withscore = match ctx.args.len() {
        3 => false,
        4 if args::is(ctx.arg(3), "withscore") => true,
        4 => return Err(errors::SYNTAX.into()),
        _ => return Err(ctx.wrong_arity()),
    };
    let member = ctx.arg(2);
    let z = zset_of(ctx.db.get(ctx.arg(1)))?;
    match z.and_then(|z| z.rank(member, reverse)) {
        Some((rank, score)) if withscore => {
            ctx.reply.array(2);
            ctx.reply.int(rank as i64);
            ctx.reply.double(score);
        }
        Some((rank, _)) => ctx.reply.int(rank as i64),
        None if withscore => ctx.reply.null_array(),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn zcount(ctx: &mut Ctx) -> CmdResult {
    let range = score_range(ctx.arg(2), ctx.arg(3))?;
    let n = zset_of(ctx.db.get(ctx.arg(1)))?.map_or(0, |z| z.score_ranks(&range).len());
    ctx.reply.int(n as i64);
    Ok(())
}

fn zlexcount(ctx: &mut Ctx) -> CmdResult {
    let range = lex_range(ctx.arg(2), ctx.arg(3))?;
    let n = zset_of(ctx.db.get(ctx.arg(1)))?.map_or(0, |z| z.lex_ranks(&range).len());
    ctx.reply.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The ZRANGE family

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeBy {
    Rank,
    Score,
    Lex,
}

/// How a ZRANGE-family command reads its arguments.
struct RangeCommand {
    /// Index of the source key; min and max follow it.
    key: usize,
    /// Fixed by the command (ZRANGEBYSCORE...), or None when options choose (ZRANGE).
    by: Option<RangeBy>,
    /// Fixed by the command (ZREVRANGE...), or None when REV may be given.
    reverse: Option<bool>,
    /// ZRANGESTORE: the destination key's index.
    store: Option<usize>,
}

/// A parsed range request.
struct RangeRequest<'a> {
    by: RangeBy,
    reverse: bool,
    withscores: bool,
    /// LIMIT offset count; count -1 is "no limit", as Redis's default.
    offset: i64,
    limit: i64,
    min: &'a [u8],
    max: &'a [u8],
}

impl RangeCommand {
    fn parse<'a>(&self, a: &'a [bytes::Bytes]) -> Result<RangeRequest<'a>, CmdError> {
        let mut by = self.by;
        let mut reverse = self.reverse;
        let mut withscores = false;
        let (mut offset, mut limit) = (0, -1);
        let mut j = self.key + 3;
        while j < a.len() {
            let left = a.len() - j - 1;
            let opt = &a[j][..];
            if self.store.is_none() && args::is(opt, "withscores") {
                withscores = true;
            } else if args::is(opt, "limit") && left >= 2 {
                offset = args::int(&a[j + 1])?;
                limit = args::int(&a[j + 2])?;
                j += 2;
            } else if self.reverse.is_none() && reverse.is_none() && args::is(opt, "rev") {
                reverse = Some(true);
            } else if self.by.is_none() && by.is_none() && args::is(opt, "bylex") {
                by = Some(RangeBy::Lex);
            } else if self.by.is_none() && by.is_none() && args::is(opt, "byscore") {
                by = Some(RangeBy::Score);
            } else {
                return Err(errors::SYNTAX.into());
            }
            j += 1;
        }
        let by = by.unwrap_or(RangeBy::Rank);
        let reverse = reverse.unwrap_or(false);
        if limit != -1 && by == RangeBy::Rank {
            return Err(LIMIT_NEEDS_BY.into());
        }
        if withscores && by == RangeBy::Lex {
            return Err(WITHSCORES_BYLEX.into());
        }
        // Score and lex ranges are given as max, min when reversed.
        let (mut min, mut max) = (&a[self.key + 1][..], &a[self.key + 2][..]);
        if reverse && by != RangeBy::Rank {
            std::mem::swap(&mut min, &mut max);
        }
        Ok(RangeRequest {
            by,
            reverse,
            withscores,
            offset,
            limit,
            min,
            max,
        })
    }
}

/// What to walk: `count` members from ascending rank `start`, upwards or downwards.
struct Walk {
    start: usize,
    count: usize,
    reverse: bool,
}

impl Walk {
    const EMPTY: Walk = Walk {
        start: 0,
        count: 0,
        reverse: false,
    };

    /// The members at ranks `ranks` minus the first `offset` (from the walk's starting
    /// end), at most `limit` of them when it is not negative.
    fn within(ranks: Range<usize>, reverse: bool, offset: i64, limit: i64) -> Walk {
        let Ok(offset) = usize::try_from(offset) else {
            return Walk::EMPTY;
        };
        let available = ranks.len().saturating_sub(offset);
        let count = match usize::try_from(limit) {
            Ok(limit) => available.min(limit),
            Err(_) => available,
        };
        if count == 0 {
            return Walk::EMPTY;
        }
        let start = if reverse {
            ranks.end - 1 - offset
        } else {
            ranks.start + offset
        };
        Walk {
            start,
            count,
            reverse,
        }
    }

    fn iter<'z>(&self, z: &'z ZSet) -> impl Iterator<Item = (LpValue<'z>, f64)> {
        z.iter_from(self.start, self.reverse).take(self.count)
    }
}

/// Parses the range itself (errors here come before the key lookup, as in Redis).
enum ParsedRange<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

impl<'a> ParsedRange<'a> {
    fn parse(req: &RangeRequest<'a>) -> Result<ParsedRange<'a>, CmdError> {
        Ok(match req.by {
            RangeBy::Rank => ParsedRange::Rank(args::int(req.min)?, args::int(req.max)?),
            RangeBy::Score => ParsedRange::Score(score_range(req.min, req.max)?),
            RangeBy::Lex => ParsedRange::Lex(lex_range(req.min, req.max)?),
        })
    }

    /// The ascending ranks the range covers in `z`.
    fn ranks(&self, z: &ZSet) -> Range<usize> {
        match self {
            ParsedRange::Rank(start, end) => rank_range(*start, *end, z.len()).unwrap_or(0..0),
            ParsedRange::Score(r) => z.score_ranks(r),
            ParsedRange::Lex(r) => z.lex_ranks(r),
        }
    }

    fn walk(&self, z: &ZSet, req: &RangeRequest) -> Walk {
        let ranks = self.ranks(z);
        match self {
            // Reversed rank indexes count from the top: mirror them.
            ParsedRange::Rank(..) if req.reverse => {
                Walk::within(z.len() - ranks.end..z.len() - ranks.start, true, 0, -1)
            }
            ParsedRange::Rank(..) => Walk::within(ranks, false, 0, -1),
            _ => Walk::within(ranks, req.reverse, req.offset, req.limit),
        }
    }
}

fn range_generic(ctx: &mut Ctx, cmd: RangeCommand) -> CmdResult {
    let req = cmd.parse(ctx.args)?;
    let range = ParsedRange::parse(&req)?;
    let src = ctx.arg(cmd.key);
    if let Some(dst) = cmd.store {
        let dst = ctx.arg(dst);
        return range_store(ctx, src, dst, &req, &range);
    }
    let Some(z) = zset_of(ctx.db.get(src))? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let walk = range.walk(z, &req);
    reply_pairs_header(ctx.reply, walk.count, req.withscores);
    for (m, s) in walk.iter(z) {
        reply_pair(ctx.reply, m, s, req.withscores);
    }
    Ok(())
}

fn range_store(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    req: &RangeRequest,
    range: &ParsedRange,
) -> CmdResult {
    let limits = limits(ctx);
    let result = match zset_of(ctx.db.get(src))? {
        None => None,
        Some(z) => {
            let walk = range.walk(z, req);
            // Redis sizes the destination up front only for a range of ranks; for a range
            // of scores or of members it starts with a listpack and converts when it
            // outgrows it, so the first members' scores go through the listpack (where -0
            // becomes 0).
            let hint = if req.by == RangeBy::Rank {
                walk.count
            } else {
                0
            };
            let mut out = ZSet::with_hint(hint, 0, limits);
            let mut digits = itoa::Buffer::new();
            for (m, s) in walk.iter(z) {
                out.insert(m.as_bytes(&mut digits), s, limits);
            }
            Some(out)
        }
    };
    store_result(ctx, dst, result.filter(|z| !z.is_empty()), "zrangestore");
    Ok(())
}

/// Stores a computed set at `dst` (deleting `dst` for an empty result) and replies its size.
/// `event` is published for a stored result, `del` for a deleted destination.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Option<ZSet>, event: &str) {
    match result {
        Some(z) => {
            let n = z.len();
            create_zset(ctx, dst, z);
            ctx.modified(dst, class::ZSET, event);
            ctx.dirty(1);
            ctx.reply.int(n as i64);
        }
        None => {
            if let Some(old) = ctx.db.remove(dst) {
                ctx.db.free_deleted(old);
                ctx.modified(dst, class::GENERIC, "del");
                ctx.dirty(1);
            }
            ctx.reply.int(0);
        }
    }
}

fn zrange(ctx: &mut Ctx) -> CmdResult {
    range_generic(
        ctx,
        RangeCommand {
            key: 1,
            by: None,
            reverse: None,
            store: None,
        },
    )
}

fn zrangestore(ctx: &mut Ctx) -> CmdResult {
    range_generic(
        ctx,
        RangeCommand {
            key: 2,
            by: None,
            reverse: None,
            store: Some(1),
        },
    )
}

fn fixed_range(ctx: &mut Ctx, by: RangeBy, reverse: bool) -> CmdResult {
    range_generic(
        ctx,
        RangeCommand {
            key: 1,
            by: Some(by),
            reverse: Some(reverse),
            store: None,
        },
    )
}

fn zrevrange(ctx: &mut Ctx) -> CmdResult {
    fixed_range(ctx, RangeBy::Rank, true)
}

fn zrangebyscore(ctx: &mut Ctx) -> CmdResult {
    fixed_range(ctx, RangeBy::Score, false)
}

fn zrevrangebyscore(ctx: &mut Ctx) -> CmdResult {
    fixed_range(ctx, RangeBy::Score, true)
}

fn zrangebylex(ctx: &mut Ctx) -> CmdResult {
    fixed_range(ctx, RangeBy::Lex, false)
}

fn zrevrangebylex(ctx: &mut Ctx) -> CmdResult {
    fixed_range(ctx, RangeBy::Lex, true)
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBY*

fn remrange_generic(ctx: &mut Ctx, by: RangeBy) -> CmdResult {
    let (min, max) = (ctx.arg(2), ctx.arg(3));
    let range = match by {
        RangeBy::Rank => ParsedRange::Rank(args::int(min)?, args::int(max)?),
        RangeBy::Score => ParsedRange::Score(score_range(min, max)?),
        RangeBy::Lex => ParsedRange::Lex(lex_range(min, max)?),
    };
    let key = ctx.arg(1);
    let Some(z) = zset_mut(ctx.db.get_mut(key))? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let ranks = range.ranks(z);
    let removed = z.remove_ranks(ranks);
    if removed > 0 {
        let event = match by {
            RangeBy::Rank => "zremrangebyrank",
            RangeBy::Score => "zremrangebyscore",
            RangeBy::Lex => "zremrangebylex",
        };
        after_removal(ctx, key, event);
    }
    ctx.dirty(removed as u64);
    ctx.reply.int(removed as i64);
    Ok(())
}

fn zremrangebyrank(ctx: &mut Ctx) -> CmdResult {
    remrange_generic(ctx, RangeBy::Rank)
}

fn zremrangebyscore(ctx: &mut Ctx) -> CmdResult {
    remrange_generic(ctx, RangeBy::Score)
}

fn zremrangebylex(ctx: &mut Ctx) -> CmdResult {
    remrange_generic(ctx, RangeBy::Lex)
}

// ---------------------------------------------------------------------------------------
// Pops

/// The reply shape of a pop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PopShape {
    /// ZPOPMIN/ZPOPMAX: `[member, score, ...]`; under RESP3 with a COUNT argument,
    /// `[[member, score], ...]`.
    Zpop { count_given: bool },
    /// BZPOPMIN/BZPOPMAX: `[key, member, score]`.
    Blocking,
    /// ZMPOP/BZMPOP: `[key, [[member, score], ...]]`.
    WithKey,
}

/// Pops up to `count` members from the low end of `key` (high end with `from_max`) and
/// writes the reply in `shape`; deletes the key when it empties. The number popped, or
/// `Ok(None)` with nothing written when the key does not exist; WRONGTYPE for another type.
pub(crate) fn pop_and_reply(
    ctx: &mut Ctx,
    key: &[u8],
    from_max: bool,
    count: usize,
    shape: PopShape,
) -> Result<Option<usize>, CmdError> {
    let Some(z) = zset_mut(ctx.db.get_mut(key))? else {
        return Ok(None);
    };
    let n = count.min(z.len());
    let reply = &mut *ctx.reply;
    let nested = match shape {
        PopShape::Zpop { count_given } => {
            let nested = count_given && reply.resp3();
            reply.array(if nested { n } else { 2 * n });
            nested
        }
        PopShape::Blocking => {
            reply.array(3);
            reply.bulk(key);
            false
        }
        PopShape::WithKey => {
            reply.array(2);
            reply.bulk(key);
            reply.array(n);
            true
        }
    };
    z.pop(n, from_max, |m, s| {
        if nested {
            reply.array(2);
        }
        reply_member(reply, m);
        reply.double(s);
    });
    after_removal(ctx, key, if from_max { "zpopmax" } else { "zpopmin" });
    ctx.dirty(n as u64);
    Ok(Some(n))
}

/// `ZPOPMIN key [n]` / `ZPOPMAX key [n]`: what ZMPOP and the blocking pops propagate as
/// (Redis rewrites them so), with the number popped.
pub(crate) fn pop_argv(from_max: bool, key: Bytes, n: Option<usize>) -> Vec<Bytes> {
    let name: &'static [u8] = if from_max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    let mut argv = vec![Bytes::from_static(name), key];
    if let Some(n) = n {
        argv.push(Bytes::copy_from_slice(
            itoa::Buffer::new().format(n).as_bytes(),
        ));
    }
    argv
}

fn zpopmin(ctx: &mut Ctx) -> CmdResult {
    zpop_generic(ctx, false)
}

fn zpopmax(ctx: &mut Ctx) -> CmdResult {
    zpop_generic(ctx, true)
}

fn zpop_generic(ctx: &mut Ctx, from_max: bool) -> CmdResult {
    if ctx.args.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let count = match ctx.args.get(2) {
        Some(arg) => Some(positive(arg)?),
        None => None,
    };
    let key = ctx.arg(1);
    if count == Some(0) {
        // Still a type check, as Redis looks the key up first.
        zset_mut(ctx.db.get_mut(key))?;
        ctx.reply.array(0);
        return Ok(());
    }
    let shape = PopShape::Zpop {
        count_given: count.is_some(),
    };
    if pop_and_reply(ctx, key, from_max, count.unwrap_or(1), shape)?.is_none() {
        ctx.reply.array(0);
    }
    Ok(())
}

/// ZMPOP's arguments after the command name (and BZMPOP's after the timeout).
#[derive(Debug)]
pub(crate) struct Mpop {
    /// Indexes of the keys in the arguments.
    pub keys: Range<usize>,
    pub from_max: bool,
    pub count: usize,
}

/// Reads `numkeys key... MIN|MAX [COUNT count]` starting at `numkeys_index`.
pub(crate) fn parse_mpop(a: &[bytes::Bytes], numkeys_index: usize) -> Result<Mpop, CmdError> {
    let numkeys = at_least_one(&a[numkeys_index], NUMKEYS)?;
    let where_index = numkeys
        .checked_add(numkeys_index + 1)
        .filter(|&w| w < a.len())
        .ok_or(CmdError::from(errors::SYNTAX))?;
    let from_max = if args::is(&a[where_index], "min") {
        false
    } else if args::is(&a[where_index], "max") {
        true
    } else {
        return Err(errors::SYNTAX.into());
    };
    let mut count = None;
    let mut j = where_index + 1;
    while j < a.len() {
        if count.is_none() && args::is(&a[j], "count") && j + 1 < a.len() {
            count = Some(at_least_one(&a[j + 1], COUNT_POSITIVE)?);
            j += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    Ok(Mpop {
        keys: numkeys_index + 1..where_index,
        from_max,
        count: count.unwrap_or(1),
    })
}

fn zmpop(ctx: &mut Ctx) -> CmdResult {
    let mpop = parse_mpop(ctx.args, 1)?;
    for i in mpop.keys {
        let key = ctx.arg(i);
        if let Some(n) = pop_and_reply(ctx, key, mpop.from_max, mpop.count, PopShape::WithKey)? {
            if ctx.propagating() {
                let argv = pop_argv(mpop.from_max, ctx.args[i].clone(), Some(n));
                ctx.rewrite_propagated(argv);
            }
            return Ok(());
        }
    }
    ctx.reply.null_array();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER

/// With a positive count up to this fraction of the set, members are drawn at random
/// until enough distinct ones are found; above it, the set is copied and thinned out
/// (Redis's ZRANDMEMBER_SUB_STRATEGY_MUL).
const RANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

fn zrandmember(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() == 2 {
        let z = zset_of(ctx.db.get(ctx.arg(1)))?;
        match z.and_then(ZSet::random_entry) {
            Some((m, _)) => reply_member(ctx.reply, m),
            None => ctx.reply.null(),
        }
        return Ok(());
    }
    let count = args::int(ctx.arg(2))?;
    if count == i64::MIN {
        return Err(errors::NOT_LONG_MIN.into());
    }
    let withscores = match ctx.args.len() {
        3 => false,
        4 if args::is(ctx.arg(3), "withscores") => true,
        _ => return Err(errors::SYNTAX.into()),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(OUT_OF_RANGE.into());
    }
    let Some(z) = zset_of(ctx.db.get(ctx.arg(1)))? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let reply = &mut *ctx.reply;
    let wanted = count.unsigned_abs() as usize;
    if wanted == 0 {
        reply.array(0);
        return Ok(());
    }
    if count < 0 {
        // With repetitions: `wanted` independent draws. Members cost fewer than 8192
        // bytes each unless they are long: only such counts are worth estimating.
        if wanted > errors::RANDOM_REPLY_MAX_BYTES / 8192
            && estimated_reply_bytes(z, wanted, withscores) > errors::RANDOM_REPLY_MAX_BYTES
        {
            return Err(errors::RANDOM_REPLY_TOO_BIG.into());
        }
        reply_pairs_header(reply, wanted, withscores);
        if z.is_listpack() {
            let all: Vec<(LpValue, f64)> = z.iter().collect();
            let mut rng = rand::rng();
            for _ in 0..wanted {
                let (m, s) = *all.choose(&mut rng).expect("non-empty set");
                reply_pair(reply, m, s, withscores);
            }
        } else {
            for _ in 0..wanted {
                let (m, s) = z.random_entry().expect("non-empty set");
                reply_pair(reply, m, s, withscores);
            }
        }
        return Ok(());
    }
    let size = z.len();
    if wanted >= size {
        // The whole set, from the top down, as Redis happens to send it.
        reply_pairs_header(reply, size, withscores);
        for (m, s) in z.iter_from(size - 1, true) {
            reply_pair(reply, m, s, withscores);
        }
        return Ok(());
    }
    reply_pairs_header(reply, wanted, withscores);
    if z.is_listpack() || wanted * RANDMEMBER_SUB_STRATEGY_MUL > size {
        let mut all: Vec<(LpValue, f64)> = z.iter().collect();
        let (picked, _) = all.partial_shuffle(&mut rand::rng(), wanted);
        for &(m, s) in picked.iter() {
            reply_pair(reply, m, s, withscores);
        }
        return Ok(());
    }
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(wanted);
    while seen.len() < wanted {
        let Some((LpValue::Str(m), s)) = z.random_entry() else {
            unreachable!("a big set's members are byte strings");
        };
        if seen.insert(m) {
            reply_pair(reply, LpValue::Str(m), s, withscores);
        }
    }
    Ok(())
}

/// Roughly the reply size of `count` random members of `z`, from a few samples.
fn estimated_reply_bytes(z: &ZSet, count: usize, withscores: bool) -> usize {
    const SAMPLES: usize = 16;
    let mut digits = itoa::Buffer::new();
    let sampled: usize = (0..SAMPLES)
        .filter_map(|_| z.random_entry())
        .map(|(m, _)| m.as_bytes(&mut digits).len())
        .sum();
    // "$<len>\r\n<bytes>\r\n" costs about 6 bytes beyond the member; a score up to 30.
    let per_member = sampled / SAMPLES + 6 + if withscores { 30 } else { 0 };
    count.saturating_mul(per_member)
}

// ---------------------------------------------------------------------------------------
// ZSCAN

fn zscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = args::scan_cursor(ctx.arg(2))?;
    let Some(z) = zset_of(ctx.db.get(ctx.arg(1)))? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array(0);
        return Ok(());
    };
    let opts = args::ScanOptions::parse(&ctx.args[3..], false)?;
    // Like Redis, COUNT counts reply entries (a member and its score are two), and at
    // most ten times COUNT steps are taken.
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut next = cursor;
    let mut steps = opts.count.saturating_mul(10);
    let mut digits = itoa::Buffer::new();
    loop {
        next = z.scan(next, |m, s| {
            found.push((m.as_bytes(&mut digits).to_vec(), s))
        });
        steps -= 1;
        if next == 0 || steps == 0 || found.len() * 2 >= opts.count {
            break;
        }
    }
    if let Some(pattern) = opts.pattern {
        found.retain(|(m, _)| vireo_store::glob::string_match(pattern, m, false));
    }
    ctx.reply.array(2);
    ctx.reply.bulk(next.to_string().as_bytes());
    ctx.reply.array(found.len() * 2);
    for (m, s) in &found {
        ctx.reply.bulk(m);
        ctx.reply.bulk(vireo_resp::format_double(*s).as_bytes());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Combines a member's score so far with one more (Redis's zunionInterAggregate).
    fn apply(self, acc: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *acc += v;
                // inf + -inf: Redis settles on 0.
                if acc.is_nan() {
                    *acc = 0.0;
                }
            }
            Aggregate::Min => {
                if v < *acc {
                    *acc = v;
                }
            }
            Aggregate::Max => {
                if v > *acc {
                    *acc = v;
                }
            }
        }
    }
}

/// An input of the set algebra: a sorted set, a plain set (every member scores 1), or a
/// missing key (empty).
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    ZSet(&'a ZSet),
    Set(&'a Set),
}

impl<'a> Source<'a> {
    fn of(value: Option<&'a Value>) -> Result<Source<'a>, CmdError> {
        match value {
            None => Ok(Source::Missing),
            Some(Value::ZSet { z, .. }) => Ok(Source::ZSet(z)),
            Some(Value::Set { s, .. }) => Ok(Source::Set(s)),
            Some(_) => Err(errors::WRONGTYPE.into()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::ZSet(z) => z.len(),
            Source::Set(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::ZSet(z) => z.score(member),
            Source::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut visit: impl FnMut(&[u8], f64)) {
        let mut digits = itoa::Buffer::new();
        match self {
            Source::Missing => {}
            Source::ZSet(z) => z
                .iter()
                .for_each(|(m, s)| visit(m.as_bytes(&mut digits), s)),
            Source::Set(set) => set.iter().for_each(|m| visit(m.as_bytes(&mut digits), 1.0)),
        }
    }
}

/// The options after the keys of ZUNION & co.
struct AlgebraOptions {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT; 0 is no limit.
    limit: usize,
}

/// Which command of the family is running.
struct AlgebraCommand {
    op: SetOp,
    /// Index of the destination key (the STORE forms).
    dst: Option<usize>,
    /// ZINTERCARD: count only.
    card: bool,
}

impl AlgebraCommand {
    fn numkeys_index(&self) -> usize {
        if self.dst.is_some() {
            2
        } else {
            1
        }
    }

    /// Parses the options following the keys, in Redis's manner (each only where the
    /// command takes it; anything else a syntax error).
    fn parse_options(
        &self,
        rest: &[bytes::Bytes],
        setnum: usize,
    ) -> Result<AlgebraOptions, CmdError> {
        let mut o = AlgebraOptions {
            weights: Vec::new(),
            aggregate: Aggregate::Sum,
            withscores: false,
            limit: 0,
        };
        let full = self.op != SetOp::Diff && !self.card;
        let mut j = 0;
        while j < rest.len() {
            let remaining = rest.len() - j;
            let opt = &rest[j][..];
            if full && remaining > setnum && args::is(opt, "weights") {
                o.weights = rest[j + 1..j + 1 + setnum]
                    .iter()
                    .map(|w| args::parse_f64(w).ok_or(CmdError::from(WEIGHT_NOT_FLOAT)))
                    .collect::<Result<_, _>>()?;
                j += 1 + setnum;
            } else if full && remaining >= 2 && args::is(opt, "aggregate") {
                let a = &rest[j + 1][..];
                o.aggregate = if args::is(a, "sum") {
                    Aggregate::Sum
                } else if args::is(a, "min") {
                    Aggregate::Min
                } else if args::is(a, "max") {
                    Aggregate::Max
                } else {
                    return Err(errors::SYNTAX.into());
                };
                j += 2;
            } else if self.dst.is_none() && !self.card && args::is(opt, "withscores") {
                o.withscores = true;
                j += 1;
            } else if self.card && remaining >= 2 && args::is(opt, "limit") {
                o.limit = args::int(&rest[j + 1])
                    .ok()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or(CmdError::from(LIMIT_NEGATIVE))?;
                j += 2;
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        Ok(o)
    }
}

/// The members of a result with their scores (no order yet).
type Scores = Dict<SmallBytes, f64>;

/// A source's score for a member after its weight; NaN (0 × inf) counts as 0, as in Redis.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn union(sources: &[(Source, f64)], aggregate: Aggregate) -> Scores {
    let mut out = Scores::new();
    for (src, weight) in sources {
        src.for_each(|m, s| {
            let v = weighted(s, *weight);
            match out.get_mut(m) {
                Some(acc) => aggregate.apply(acc, v),
                None => {
                    out.insert(SmallBytes::new(m), v);
                }
            }
        });
    }
    out
}

/// Visits the members of every source with their combined score; stops when `visit`
/// returns false. `sources` come smallest first.
fn intersect(
    sources: &[(Source, f64)],
    aggregate: Aggregate,
    mut visit: impl FnMut(&[u8], f64) -> bool,
) {
    let Some(((first, w0), others)) = sources.split_first() else {
        return;
    };
    if sources.iter().any(|(s, _)| s.len() == 0) {
        return;
    }
    let mut going = true;
    first.for_each(|m, s| {
        if !going {
            return;
        }
        let mut acc = weighted(s, *w0);
        for (src, w) in others {
            match src.score(m) {
                // Only the first source's product is settled to 0 when NaN (0 × inf), as
                // in Redis: a later NaN makes a SUM 0 and leaves a MIN or MAX unchanged.
                Some(sj) => aggregate.apply(&mut acc, sj * *w),
                None => return,
            }
        }
        going = visit(m, acc);
    });
}

fn difference(sources: &[(Source, f64)]) -> Scores {
    let mut out = Scores::new();
    let Some(((first, _), others)) = sources.split_first() else {
        return out;
    };
    first.for_each(|m, s| {
        if others.iter().all(|(o, _)| o.score(m).is_none()) {
            out.insert(SmallBytes::new(m), s);
        }
    });
    out
}

/// The result in (score, member) order.
fn sorted(mut scores: Scores) -> Vec<(f64, SmallBytes)> {
    let mut v: Vec<(f64, SmallBytes)> = scores.drain().map(|(m, s)| (s, m)).collect();
    v.sort_by(|a, b| {
        a.0.partial_cmp(&b.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.1.as_slice().cmp(b.1.as_slice()))
    });
    v
}

fn algebra_generic(ctx: &mut Ctx, cmd: AlgebraCommand) -> CmdResult {
    let numkeys_index = cmd.numkeys_index();
    let setnum = args::int(ctx.arg(numkeys_index))?;
    if setnum < 1 {
        let name = String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase();
        return Err(format!("ERR at least 1 input key is needed for '{name}' command").into());
    }
    let first_key = numkeys_index + 1;
    let setnum = usize::try_from(setnum).unwrap_or(usize::MAX);
    if setnum > ctx.args.len() - first_key {
        return Err(errors::SYNTAX.into());
    }
    let args_all = ctx.args;
    let keys = &args_all[first_key..first_key + setnum];
    let values = ctx.db.get_many(keys.iter().map(|k| &k[..]), |v| {
        matches!(v, Value::ZSet { .. } | Value::Set { .. })
    });
    let mut sources: Vec<(Source, f64)> = values
        .into_iter()
        .map(|v| Source::of(v).map(|s| (s, 1.0)))
        .collect::<Result<_, _>>()?;
    let opts = cmd.parse_options(&args_all[first_key + setnum..], setnum)?;
    for ((_, w), weight) in sources.iter_mut().zip(&opts.weights) {
        *w = *weight;
    }
    if cmd.op != SetOp::Diff {
        // Smallest first (stable): the intersection walks the first and probes the rest.
        sources.sort_by_key(|(s, _)| s.len());
    }
    if cmd.card {
        let mut n = 0;
        intersect(&sources, opts.aggregate, |_, _| {
            n += 1;
            opts.limit == 0 || n < opts.limit
        });
        ctx.reply.int(n as i64);
        return Ok(());
    }
    let scores = match cmd.op {
        SetOp::Union => union(&sources, opts.aggregate),
        SetOp::Diff => difference(&sources),
        SetOp::Inter => {
            let mut out = Scores::new();
            intersect(&sources, opts.aggregate, |m, s| {
                out.insert(SmallBytes::new(m), s);
                true
            });
            out
        }
    };
    drop(sources);
    let result = sorted(scores);
    let Some(dst) = cmd.dst else {
        let reply = &mut *ctx.reply;
        reply_pairs_header(reply, result.len(), opts.withscores);
        for (s, m) in &result {
            reply_pair(reply, LpValue::Str(m), *s, opts.withscores);
        }
        return Ok(());
    };
    let limits = limits(ctx);
    let longest = result.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
    let mut z = ZSet::with_hint(result.len(), longest, limits);
    for (s, m) in &result {
        z.insert(m, *s, limits);
    }
    let dst = ctx.arg(dst);
    let event = match cmd.op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    store_result(ctx, dst, (!z.is_empty()).then_some(z), event);
    Ok(())
}

fn zunion(ctx: &mut Ctx) -> CmdResult {
    algebra_generic(
        ctx,
        AlgebraCommand {
            op: SetOp::Union,
            dst: None,
            card: false,
        },
    )
}

fn zinter(ctx: &mut Ctx) -> CmdResult {
    algebra_generic(
        ctx,
        AlgebraCommand {
            op: SetOp::Inter,
            dst: None,
            card: false,
        },
    )
}

fn zdiff(ctx: &mut Ctx) -> CmdResult {
    algebra_generic(
        ctx,
        AlgebraCommand {
            op: SetOp::Diff,
            dst: None,
            card: false,
        },
    )
}

fn zunionstore(ctx: &mut Ctx) -> CmdResult {
    algebra_generic(
        ctx,
        AlgebraCommand {
            op: SetOp::Union,
            dst: Some(1),
            card: false,
        },
    )
}

fn zinterstore(ctx: &mut Ctx) -> CmdResult {
    algebra_generic(
        ctx,
        AlgebraCommand {
            op: SetOp::Inter,
            dst: Some(1),
            card: false,
        },
    )
}

fn zdiffstore(ctx: &mut Ctx) -> CmdResult {
    algebra_generic(
        ctx,
        AlgebraCommand {
            op: SetOp::Diff,
            dst: Some(1),
            card: false,
        },
    )
}

fn zintercard(ctx: &mut Ctx) -> CmdResult {
    algebra_generic(
        ctx,
        AlgebraCommand {
            op: SetOp::Inter,
            dst: None,
            card: true,
        },
    )
}
