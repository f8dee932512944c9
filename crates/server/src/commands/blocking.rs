//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! Each is its non-blocking form (LPOP, LMOVE, LMPOP, ZPOPMIN, ZMPOP...) run over its keys
//! in order, plus a timeout: when every key is empty the client blocks on them
//! (`crate::blocking`) until a write makes one ready, and the same `Pop` then runs again
//! for it, as Redis 7 re-executes a blocked command. Inside MULTI/EXEC and scripts
//! (`Client::deny_blocking`) they answer at once with their timeout reply instead — a null
//! array, or for BLMOVE/BRPOPLPUSH a null, as Redis does there.
//!
//! The timeout is in seconds, a float, 0 meaning forever; it is read as Redis reads it:
//! milliseconds rounded up, negative refused, and a deadline beyond the clock's range
//! refused as out of range (Redis 7.2).

use super::list::{move_and_reply, parse_end, parse_mpop, pop_and_reply};
use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::blocking;
use bytes::Bytes;
use std::time::Duration;
use tokio::time::Instant;
use vireo_store::list::End;
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("blpop", blpop),
    Cmd::keys("brpop", brpop),
    Cmd::keys("blmove", blmove),
    Cmd::keys("brpoplpush", brpoplpush),
    Cmd::keys("blmpop", blmpop),
];

const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";

/// What a blocking command does to the first of its keys that holds something.
#[derive(Debug)]
pub enum Pop {
    /// BLPOP/BRPOP: one element, replied as `[key, element]`.
    List { end: End },
    /// BLMOVE/BRPOPLPUSH: one element moved to `dst`, replied alone.
    ListMove { from: End, to: End, dst: Bytes },
    /// BLMPOP: up to `count` elements, replied as `[key, [elements]]`.
    ListMany { end: End, count: usize },
}

impl Pop {
    /// Runs on `keys` in order: Ok(true) once it has replied (from the first key holding
    /// something), Ok(false) with nothing written if every key is empty, or WRONGTYPE from
    /// a key of another type met first.
    pub fn run(&self, ctx: &mut Ctx, keys: &[Bytes]) -> Result<bool, CmdError> {
        match self {
            Pop::List { end } => pop_first(ctx, keys, *end, None),
            Pop::ListMany { end, count } => pop_first(ctx, keys, *end, Some(*count)),
            Pop::ListMove { from, to, dst } => move_and_reply(ctx, &keys[0], dst, *from, *to),
        }
    }

    /// Whether a ready key holding `value` can serve this pop (a list for the list pops).
    pub fn wants(&self, value: &Value) -> bool {
        matches!(value, Value::List { .. })
    }

    /// The key written besides the popped one: BLMOVE's destination.
    pub fn destination(&self) -> Option<&[u8]> {
        match self {
            Pop::ListMove { dst, .. } => Some(dst),
            _ => None,
        }
    }

    /// The reply inside MULTI or a script when nothing can be popped.
    fn reply_nothing(&self, ctx: &mut Ctx) {
        match self {
            Pop::ListMove { .. } => ctx.reply.null(),
            _ => ctx.reply.null_array(),
        }
    }
}

fn pop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    end: End,
    count: Option<usize>,
) -> Result<bool, CmdError> {
    for key in keys {
        if pop_and_reply(ctx, key, end, count, true)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The deadline a timeout argument names (None: wait forever), read as Redis reads it.
fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<Option<Instant>, CmdError> {
    let secs = args::parse_f64(arg).ok_or(TIMEOUT_NOT_FLOAT)?;
    let ms = (secs * 1000.0).ceil();
    if ms > i64::MAX as f64 {
        return Err(TIMEOUT_OUT_OF_RANGE.into());
    }
    if ms < 0.0 {
        return Err(TIMEOUT_NEGATIVE.into());
    }
    let ms = ms as i64;
    if ms == 0 {
        return Ok(None);
    }
    if ms > i64::MAX - now_ms {
        return Err(TIMEOUT_OUT_OF_RANGE.into());
    }
    // A deadline past what the clock can represent is as good as never.
    Ok(Instant::now().checked_add(Duration::from_millis(ms as u64)))
}

/// Pops at once if a key holds something; else blocks on `keys`, or, where blocking is
/// not allowed, gives the empty reply.
fn pop_or_block(ctx: &mut Ctx, keys: &[Bytes], pop: Pop, deadline: Option<Instant>) -> CmdResult {
    if pop.run(ctx, keys)? {
        return Ok(());
    }
    if ctx.client.deny_blocking {
        pop.reply_nothing(ctx);
        return Ok(());
    }
    blocking::block(ctx, keys, pop, deadline);
    Ok(())
}

/// BLPOP/BRPOP/BZPOPMIN/BZPOPMAX: `key [key ...] timeout`.
fn keys_then_timeout(ctx: &mut Ctx, pop: Pop) -> CmdResult {
    let args = ctx.args;
    let deadline = parse_timeout(&args[args.len() - 1], ctx.now_ms)?;
    pop_or_block(ctx, &args[1..args.len() - 1], pop, deadline)
}

/// BLPOP key [key ...] timeout
fn blpop(ctx: &mut Ctx) -> CmdResult {
    keys_then_timeout(ctx, Pop::List { end: End::Head })
}

/// BRPOP key [key ...] timeout
fn brpop(ctx: &mut Ctx) -> CmdResult {
    keys_then_timeout(ctx, Pop::List { end: End::Tail })
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx) -> CmdResult {
    let from = parse_end(ctx.arg(3))?;
    let to = parse_end(ctx.arg(4))?;
    move_blocking(ctx, from, to, ctx.arg(5))
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    move_blocking(ctx, End::Tail, End::Head, ctx.arg(3))
}

fn move_blocking(ctx: &mut Ctx, from: End, to: End, timeout: &[u8]) -> CmdResult {
    let deadline = parse_timeout(timeout, ctx.now_ms)?;
    let dst = ctx.args[2].clone();
    let args = ctx.args;
    pop_or_block(ctx, &args[1..2], Pop::ListMove { from, to, dst }, deadline)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (numkeys, end, count) = parse_mpop(&args[2..])?;
    let deadline = parse_timeout(&args[1], ctx.now_ms)?;
    pop_or_block(
        ctx,
        &args[3..3 + numkeys],
        Pop::ListMany { end, count },
        deadline,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(arg: &str) -> String {
        parse_timeout(arg.as_bytes(), 1_700_000_000_000)
            .unwrap_err()
            .0
            .into_owned()
    }

    #[test]
    fn timeouts_read_as_redis_reads_them() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_timeout(b"0", now).unwrap(), None);
        // Rounded up to whole milliseconds: a tiny negative rounds to 0, i.e. forever.
        assert_eq!(parse_timeout(b"-0.0001", now).unwrap(), None);
        assert_eq!(parse_timeout(b"-0", now).unwrap(), None);
        assert!(parse_timeout(b"0.0001", now).unwrap().is_some());
        assert!(parse_timeout(b"1.5", now).unwrap().is_some());
        assert_eq!(err("-1"), TIMEOUT_NEGATIVE);
        assert_eq!(err("-inf"), TIMEOUT_NEGATIVE);
        assert_eq!(err("abc"), TIMEOUT_NOT_FLOAT);
        assert_eq!(err("nan"), TIMEOUT_NOT_FLOAT);
        assert_eq!(err(" 1"), TIMEOUT_NOT_FLOAT);
        assert_eq!(err("inf"), TIMEOUT_OUT_OF_RANGE);
        assert_eq!(err("1e20"), TIMEOUT_OUT_OF_RANGE);
        // Fits in milliseconds, but not once added to the clock.
        assert_eq!(err("9223372036854775"), TIMEOUT_OUT_OF_RANGE);
    }
}
