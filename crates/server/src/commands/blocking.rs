//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! Each is its non-blocking form (LPOP, LMOVE, LMPOP, ZPOPMIN, ZMPOP...) run over its keys
//! in order, plus a timeout: when every key is empty the client blocks on them
//! (`crate::blocking`) until a write makes one ready, and the same `Pop` then runs again
//! for it, as Redis 7 re-executes a blocked command. Inside MULTI/EXEC and scripts
//! (`Client::deny_blocking`) they answer at once with their timeout reply instead — a null
//! array, or for BLMOVE/BRPOPLPUSH a null, as Redis does there.
//!
//! A pop, whether it answers at once or serves a waiter later, propagates as its
//! non-blocking form, as Redis 7.2 rewrites it: BLPOP → LPOP key, BLMPOP → LPOP key n,
//! BLMOVE → LMOVE, BRPOPLPUSH → RPOPLPUSH, BZPOPMIN → ZPOPMIN key, BZMPOP → ZPOPMIN key
//! n. A waiter's pop runs in the context of the write that served it (its arguments are
//! the writer's), so the pop is added with `Ctx::propagate` and the command itself
//! propagates nothing.
//!
//! The timeout is in seconds, a float, 0 meaning forever; it is read as Redis reads it:
//! milliseconds rounded up, negative refused, and a deadline beyond the clock's range
//! refused as out of range (Redis 7.2).

use super::list::{self, move_and_reply, parse_end};
use super::zset::{self, PopShape};
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
    Cmd::keys("bzpopmin", bzpopmin),
    Cmd::keys("bzpopmax", bzpopmax),
    Cmd::keys("bzmpop", bzmpop),
];

const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";

/// What a blocking command does to the first of its keys that holds something.
#[derive(Debug)]
pub enum Pop {
    /// BLPOP/BRPOP: one element, replied as `[key, element]`.
    List { end: End },
    /// BLMOVE/BRPOPLPUSH: one element moved to `dst`, replied alone. `ends` are BLMOVE's
    /// LEFT/RIGHT words as sent (it propagates as LMOVE with them); None for BRPOPLPUSH.
    ListMove {
        from: End,
        to: End,
        dst: Bytes,
        ends: Option<[Bytes; 2]>,
    },
    /// BLMPOP: up to `count` elements, replied as `[key, [elements]]`.
    ListMany { end: End, count: usize },
    /// BZPOPMIN/BZPOPMAX: the lowest (highest) member, replied as `[key, member, score]`.
    ZSet { from_max: bool },
    /// BZMPOP: up to `count` members, replied as `[key, [[member, score], ...]]`.
    ZSetMany { from_max: bool, count: usize },
}

impl Pop {
    /// Runs on `keys` in order: Ok(true) once it has replied (from the first key holding
    /// something), Ok(false) with nothing written if every key is empty, or WRONGTYPE from
    /// a key of another type met first.
    pub fn run(&self, ctx: &mut Ctx, keys: &[Bytes]) -> Result<bool, CmdError> {
        match self {
            Pop::List { end } => pop_first(ctx, keys, *end, None),
            Pop::ListMany { end, count } => pop_first(ctx, keys, *end, Some(*count)),
            Pop::ListMove {
                from,
                to,
                dst,
                ends,
            } => {
                let moved = move_and_reply(ctx, &keys[0], dst, *from, *to)?;
                if moved && ctx.propagating() {
                    let argv = match ends {
                        Some([from, to]) => vec![
                            Bytes::from_static(b"LMOVE"),
                            keys[0].clone(),
                            dst.clone(),
                            from.clone(),
                            to.clone(),
                        ],
                        None => vec![
                            Bytes::from_static(b"RPOPLPUSH"),
                            keys[0].clone(),
                            dst.clone(),
                        ],
                    };
                    propagate_instead(ctx, argv);
                }
                Ok(moved)
            }
            Pop::ZSet { from_max } => zpop_first(ctx, keys, *from_max, 1, PopShape::Blocking),
            Pop::ZSetMany { from_max, count } => {
                zpop_first(ctx, keys, *from_max, *count, PopShape::WithKey)
            }
        }
    }

    /// Whether a ready key holding `value` can serve this pop (a list for the list pops,
    /// a sorted set for the others).
    pub fn wants(&self, value: &Value) -> bool {
        match self {
            Pop::List { .. } | Pop::ListMove { .. } | Pop::ListMany { .. } => {
                matches!(value, Value::List { .. })
            }
            Pop::ZSet { .. } | Pop::ZSetMany { .. } => matches!(value, Value::ZSet { .. }),
        }
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

/// Propagates `argv` as what the pop did, in place of the command (see the module doc).
fn propagate_instead(ctx: &mut Ctx, argv: Vec<Bytes>) {
    ctx.propagate(argv);
    ctx.no_propagate();
}

fn pop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    end: End,
    count: Option<usize>,
) -> Result<bool, CmdError> {
    for key in keys {
        if let Some(popped) = list::pop_and_reply(ctx, key, end, count, true)? {
            if ctx.propagating() {
                let argv = match count {
                    None => vec![list::pop_command(end), key.clone()],
                    Some(_) => list::pop_count_argv(end, key.clone(), popped),
                };
                propagate_instead(ctx, argv);
            }
            return Ok(true);
        }
    }
    Ok(false)
}

fn zpop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    from_max: bool,
    count: usize,
    shape: PopShape,
) -> Result<bool, CmdError> {
    for key in keys {
        if let Some(n) = zset::pop_and_reply(ctx, key, from_max, count, shape)? {
            if ctx.propagating() {
                // BZPOPMIN → ZPOPMIN key, BZMPOP → ZPOPMIN key n.
                let n = (shape == PopShape::WithKey).then_some(n);
                propagate_instead(ctx, zset::pop_argv(from_max, key.clone(), n));
            }
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
    let ends = [ctx.args[3].clone(), ctx.args[4].clone()];
    move_blocking(ctx, from, to, Some(ends), ctx.arg(5))
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    move_blocking(ctx, End::Tail, End::Head, None, ctx.arg(3))
}

fn move_blocking(
    ctx: &mut Ctx,
    from: End,
    to: End,
    ends: Option<[Bytes; 2]>,
    timeout: &[u8],
) -> CmdResult {
    let deadline = parse_timeout(timeout, ctx.now_ms)?;
    let dst = ctx.args[2].clone();
    let args = ctx.args;
    let pop = Pop::ListMove {
        from,
        to,
        dst,
        ends,
    };
    pop_or_block(ctx, &args[1..2], pop, deadline)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (numkeys, end, count) = list::parse_mpop(&args[2..])?;
    let deadline = parse_timeout(&args[1], ctx.now_ms)?;
    pop_or_block(
        ctx,
        &args[3..3 + numkeys],
        Pop::ListMany { end, count },
        deadline,
    )
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx) -> CmdResult {
    keys_then_timeout(ctx, Pop::ZSet { from_max: false })
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx) -> CmdResult {
    keys_then_timeout(ctx, Pop::ZSet { from_max: true })
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let mpop = zset::parse_mpop(args, 2)?;
    let deadline = parse_timeout(&args[1], ctx.now_ms)?;
    let pop = Pop::ZSetMany {
        from_max: mpop.from_max,
        count: mpop.count,
    };
    pop_or_block(ctx, &args[mpop.keys], pop, deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Client, NewClient};
    use crate::exec::{execute, Scratch};
    use crate::Server;
    use vireo_resp::Reply;

    fn client(server: &Server, deny_blocking: bool) -> Client {
        let conn = NewClient::without_socket("127.0.0.1:1");
        assert!(server.clients.try_reserve(usize::MAX));
        let mut client = Client::new(server.clients.register(conn, 0), true);
        client.deny_blocking = deny_blocking;
        client
    }

    fn run(server: &Server, client: &mut Client, args: &[&str]) -> Vec<u8> {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.to_string())).collect();
        let mut reply = Reply::new();
        execute(server, client, &args, &mut reply, &mut Scratch::default());
        reply.buf.to_vec()
    }

    /// Inside MULTI/EXEC and scripts (`deny_blocking`) nothing blocks: the empty reply of
    /// each command comes at once, as Redis gives it there.
    #[test]
    fn denied_blocking_answers_at_once() {
        let server = Server::new(vireo_config::Config::default());
        let mut c = client(&server, true);
        for (args, expected) in [
            (&["BLPOP", "k", "0"][..], &b"*-1\r\n"[..]),
            (&["BRPOP", "k", "j", "0"], b"*-1\r\n"),
            (&["BLMPOP", "0", "1", "k", "LEFT"], b"*-1\r\n"),
            (&["BZPOPMIN", "k", "0"], b"*-1\r\n"),
            (&["BZMPOP", "0", "1", "k", "MAX"], b"*-1\r\n"),
            (&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"], b"$-1\r\n"),
            (&["BRPOPLPUSH", "k", "d", "0"], b"$-1\r\n"),
            // Arguments are still checked first.
            (&["BLPOP", "k", "-1"], b"-ERR timeout is negative\r\n"),
        ] {
            assert_eq!(run(&server, &mut c, args), expected, "{args:?}");
            assert!(c.blocked.is_none());
        }
        assert_eq!(server.blocking.blocked_clients(), 0);
        // The same client allowed to block registers a waiter and writes nothing.
        c.deny_blocking = false;
        assert_eq!(run(&server, &mut c, &["BLPOP", "k", "0"]), b"");
        assert!(c.blocked.is_some());
        assert_eq!(server.blocking.blocked_clients(), 1);
        assert_eq!(crate::blocking::blocking_keys(&server), (1, 0));
    }

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
