//! Key expiry: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX XX GT LT), TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME, PERSIST.
//!
//! Every form turns its argument into one absolute unix-ms time before looking at the key,
//! so the four setters are one function. A time at or before the command's clock deletes
//! the key at once (and still answers 1), as Redis does on a master. Keys that reach their
//! time later are removed lazily on access (`Keyspace`) or by the active cycle (`cron.rs`).
//!
//! Notifications and propagation follow Redis: a TTL set is the `expire` event and
//! propagates as `PEXPIREAT key ms` (an absolute time, the same on every replica); a time
//! already past is the `del` event and propagates as DEL (UNLINK with
//! `lazyfree-lazy-expire`); PERSIST is the `persist` event. Nothing changes, nothing is
//! published or propagated.

use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::notify::class;
use bytes::Bytes;

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("expire", expire),
    Cmd::keys("pexpire", pexpire),
    Cmd::keys("expireat", expireat),
    Cmd::keys("pexpireat", pexpireat),
    Cmd::keys("ttl", ttl),
    Cmd::keys("pttl", pttl),
    Cmd::keys("expiretime", expiretime),
    Cmd::keys("pexpiretime", pexpiretime),
    Cmd::keys("persist", persist),
];

/// The unit of the time argument of an EXPIRE-family command.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// EXPIRE key seconds [NX | XX | GT | LT]
fn expire(ctx: &mut Ctx) -> CmdResult {
    set_expiry(ctx, Unit::Seconds, false, "expire")
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn pexpire(ctx: &mut Ctx) -> CmdResult {
    set_expiry(ctx, Unit::Millis, false, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn expireat(ctx: &mut Ctx) -> CmdResult {
    set_expiry(ctx, Unit::Seconds, true, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn pexpireat(ctx: &mut Ctx) -> CmdResult {
    set_expiry(ctx, Unit::Millis, true, "pexpireat")
}

/// The NX / XX / GT / LT condition of the EXPIRE family.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Condition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Condition {
    fn parse(options: &[bytes::Bytes]) -> Result<Condition, CmdError> {
        let mut c = Condition::default();
        for opt in options {
            match opt.to_ascii_uppercase().as_slice() {
                b"NX" => c.nx = true,
                b"XX" => c.xx = true,
                b"GT" => c.gt = true,
                b"LT" => c.lt = true,
                _ => {
                    return Err(format!(
                        "ERR Unsupported option {}",
                        errors::printable(opt, usize::MAX)
                    )
                    .into())
                }
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(errors::EXPIRE_NX_AND_OTHERS.into());
        }
        if c.gt && c.lt {
            return Err(errors::EXPIRE_GT_AND_LT.into());
        }
        Ok(c)
    }

    /// May a key whose expiry is `current` (None: no TTL, i.e. infinite) get `new`?
    fn allows(self, current: Option<i64>, new: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        // No TTL counts as an infinite one: nothing is greater, everything is less.
        if self.gt && current.is_none_or(|at| new <= at) {
            return false;
        }
        if self.lt && current.is_some_and(|at| new >= at) {
            return false;
        }
        true
    }
}

/// The absolute expiry in unix ms named by `arg`. Negative values are allowed (they delete
/// the key); only overflow in the unit conversion or in adding the clock is an error.
/// `cmd` names the command in the overflow error.
fn absolute_ms(arg: &[u8], unit: Unit, base_ms: i64, cmd: &str) -> Result<i64, CmdError> {
    let n = args::int(arg)?;
    let invalid = || CmdError::from(errors::INVALID_EXPIRE.replace("%s", cmd));
    let ms = match unit {
        Unit::Seconds => n.checked_mul(1000).ok_or_else(invalid)?,
        Unit::Millis => n,
    };
    if ms > i64::MAX - base_ms {
        return Err(invalid());
    }
    Ok(ms + base_ms)
}

fn set_expiry(ctx: &mut Ctx, unit: Unit, absolute: bool, cmd: &str) -> CmdResult {
    let key = ctx.arg(1);
    // Redis checks the options before the number.
    let condition = Condition::parse(&ctx.args[3..])?;
    let base = if absolute { 0 } else { ctx.now_ms };
    let at = absolute_ms(ctx.arg(2), unit, base, cmd)?;
    // A write lookup, as Redis's: lazy expiry and the access clock.
    if ctx.db.get_mut(key).is_none() {
        ctx.reply.int(0);
        return Ok(());
    }
    if !condition.allows(ctx.db.expire_at(key), at) {
        ctx.reply.int(0);
        return Ok(());
    }
    ctx.reply.int(1);
    if at <= ctx.now_ms {
        delete_expired_now(ctx, key);
        return Ok(());
    }
    ctx.db.set_expire(key, at);
    ctx.dirty(1);
    ctx.modified(key, class::GENERIC, "expire");
    // PEXPIREAT propagates as sent; the other forms become one, their options kept.
    if ctx.propagating() && !(absolute && unit == Unit::Millis) {
        let mut argv = pexpireat_argv(&ctx.args[1], at);
        argv.extend(ctx.args[3..].iter().cloned());
        ctx.rewrite_propagated(argv);
    }
    Ok(())
}

/// `PEXPIREAT key at`, the propagated form of a TTL set.
pub(super) fn pexpireat_argv(key: &Bytes, at: i64) -> Vec<Bytes> {
    let at = Bytes::copy_from_slice(itoa::Buffer::new().format(at).as_bytes());
    vec![Bytes::from_static(b"PEXPIREAT"), key.clone(), at]
}

/// Deletes `key` (which exists) because a command gave it an expiry time already past
/// (EXPIRE with a negative TTL, GETEX EXAT in the past): the `del` event, propagated as
/// DEL, or UNLINK with `lazyfree-lazy-expire`, as Redis does on a master.
pub(super) fn delete_expired_now(ctx: &mut Ctx, key: &[u8]) {
    let lazy = ctx.server.settings.read().lazyfree_lazy_expire;
    if let Some(value) = ctx.db.remove(key) {
        crate::lazyfree::free_deleted(value, || lazy);
    }
    ctx.dirty(1);
    ctx.modified(key, class::GENERIC, "del");
    if ctx.propagating() {
        let name: &'static [u8] = if lazy { b"UNLINK" } else { b"DEL" };
        let argv = vec![Bytes::from_static(name), Bytes::copy_from_slice(key)];
        ctx.rewrite_propagated(argv);
    }
}

/// What TTL-family commands report about a key.
enum Ttl {
    Missing,
    Persistent,
    /// The expiry, absolute or remaining, in ms (never negative).
    Ms(i64),
}

/// Looks the key up as Redis's TTL does: hit/miss counted, access clock untouched.
fn lookup_ttl(ctx: &mut Ctx, absolute: bool) -> Ttl {
    let key = ctx.arg(1);
    let found = super::keys::peek_counted(ctx.db, &ctx.server.stats, key).is_some();
    if !found {
        return Ttl::Missing;
    }
    match ctx.db.expire_at(key) {
        None => Ttl::Persistent,
        Some(at) if absolute => Ttl::Ms(at.max(0)),
        Some(at) => Ttl::Ms((at - ctx.now_ms).max(0)),
    }
}

fn reply_ttl(ctx: &mut Ctx, unit: Unit, absolute: bool) -> CmdResult {
    let n = match lookup_ttl(ctx, absolute) {
        Ttl::Missing => -2,
        Ttl::Persistent => -1,
        Ttl::Ms(ms) if unit == Unit::Millis => ms,
        Ttl::Ms(ms) => round_to_secs(ms),
    };
    ctx.reply.int(n);
    Ok(())
}

/// Milliseconds to the nearest second, as Redis reports TTL and EXPIRETIME (without
/// overflowing near i64::MAX). `ms` is never negative.
fn round_to_secs(ms: i64) -> i64 {
    ms / 1000 + i64::from(ms % 1000 >= 500)
}

/// TTL key
fn ttl(ctx: &mut Ctx) -> CmdResult {
    reply_ttl(ctx, Unit::Seconds, false)
}

/// PTTL key
fn pttl(ctx: &mut Ctx) -> CmdResult {
    reply_ttl(ctx, Unit::Millis, false)
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx) -> CmdResult {
    reply_ttl(ctx, Unit::Seconds, true)
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx) -> CmdResult {
    reply_ttl(ctx, Unit::Millis, true)
}

/// PERSIST key
fn persist(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let removed = ctx.db.get_mut(key).is_some() && ctx.db.persist(key);
    if removed {
        ctx.dirty(1);
        ctx.modified(key, class::GENERIC, "persist");
    }
    ctx.reply.int(removed as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn parse(opts: &[&str]) -> Result<Condition, CmdError> {
        let opts: Vec<Bytes> = opts.iter().map(|o| Bytes::from(o.to_string())).collect();
        Condition::parse(&opts)
    }

    #[test]
    fn option_combinations() {
        assert!(parse(&["nx", "NX"]).is_ok());
        assert_eq!(
            parse(&["NX", "GT"]).unwrap_err().0,
            errors::EXPIRE_NX_AND_OTHERS
        );
        assert_eq!(
            parse(&["gt", "lt"]).unwrap_err().0,
            errors::EXPIRE_GT_AND_LT
        );
        assert_eq!(
            parse(&["xx", "foo"]).unwrap_err().0,
            "ERR Unsupported option foo"
        );
        assert!(parse(&["XX", "GT"]).is_ok());
    }

    #[test]
    fn conditions_treat_no_ttl_as_infinite() {
        let gt = parse(&["GT"]).unwrap();
        let lt = parse(&["LT"]).unwrap();
        assert!(!gt.allows(None, 10));
        assert!(gt.allows(Some(5), 10));
        assert!(!gt.allows(Some(10), 10));
        assert!(lt.allows(None, 10));
        assert!(!lt.allows(Some(10), 10));
        assert!(lt.allows(Some(11), 10));
        assert!(!parse(&["NX"]).unwrap().allows(Some(1), 10));
        assert!(!parse(&["XX"]).unwrap().allows(None, 10));
    }

    #[test]
    fn seconds_round_to_nearest() {
        assert_eq!(round_to_secs(1499), 1);
        assert_eq!(round_to_secs(1500), 2);
        assert_eq!(round_to_secs(i64::MAX), 9_223_372_036_854_776);
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(absolute_ms(b"-5", Unit::Seconds, 1000, "expire"), Ok(-4000));
        assert!(absolute_ms(b"9223372036854775807", Unit::Seconds, 0, "expire").is_err());
        assert!(absolute_ms(b"9223372036854775807", Unit::Millis, 1, "pexpire").is_err());
        assert_eq!(
            absolute_ms(b"9223372036854775807", Unit::Millis, 0, "pexpire"),
            Ok(i64::MAX)
        );
        assert!(absolute_ms(b"-9223372036854775808", Unit::Seconds, 0, "expire").is_err());
    }
}
