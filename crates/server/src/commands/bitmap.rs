//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
//!
//! A bitmap is a string value; the bit arithmetic lives in `vireo_store::bitops`. Writers
//! turn the value "raw" and grow it with zero bytes. Bit offsets are limited, as in Redis,
//! by `proto-max-bulk-len` (in bytes: 2^32 bits by default).
//!
//! Keyspace events as Redis: `setbit` for SETBIT and BITFIELD (once per command) when a
//! bit changed or the string grew, `set` for a BITOP result, `del` when BITOP's empty
//! result deletes the destination. Each propagates as sent when it changed something.

use super::string::string_of;
use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::notify::class;
use crate::Server;
use smallvec::SmallVec;
use vireo_store::bitops::{self, BitOp, FieldType, Overflow, Unit};
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("setbit", setbit),
    Cmd::keys("getbit", getbit),
    Cmd::keys("bitcount", bitcount),
    Cmd::keys("bitpos", bitpos),
    Cmd::keys("bitop", bitop),
    Cmd::keys("bitfield", bitfield),
    Cmd::keys("bitfield_ro", bitfield_ro),
];

/// A bit offset argument. With `hash_width` (BITFIELD), `#n` means `n * width`. Offsets
/// must address a byte below `proto-max-bulk-len`.
fn bit_offset(server: &Server, arg: &[u8], hash_width: Option<u32>) -> Result<u64, CmdError> {
    let invalid = || CmdError::from(errors::BIT_OFFSET);
    let (digits, width) = match (hash_width, arg.split_first()) {
        (Some(width), Some((b'#', rest))) => (rest, Some(width)),
        _ => (arg, None),
    };
    let mut offset = vireo_resp::parse_int(digits).ok_or_else(invalid)?;
    if let Some(width) = width {
        offset = offset.wrapping_mul(width as i64);
    }
    if offset < 0 {
        return Err(invalid());
    }
    // proto-max-bulk-len cannot be set below 1 MB: smaller offsets need no look at it.
    let byte = offset >> 3;
    if byte >= 1024 * 1024 && byte >= server.settings.read().proto_max_bulk_len {
        return Err(invalid());
    }
    Ok(offset as u64)
}

/// `BYTE` or `BIT` (BITCOUNT, BITPOS).
fn unit(arg: &[u8]) -> Result<Unit, CmdError> {
    if args::is(arg, "bit") {
        Ok(Unit::Bit)
    } else if args::is(arg, "byte") {
        Ok(Unit::Byte)
    } else {
        Err(errors::SYNTAX.into())
    }
}

fn setbit(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let offset = bit_offset(ctx.server, ctx.arg(2), None)?;
    let on = match args::int(ctx.arg(3)) {
        Ok(0) => false,
        Ok(1) => true,
        _ => return Err(errors::BIT_VALUE.into()),
    };
    let (old, changed) = match ctx.db.get_mut(key) {
        None => {
            let mut buf = Vec::new();
            bitops::grow_for_bit(&mut buf, offset);
            bitops::set_bit(&mut buf, offset, on);
            ctx.db.set(key, Value::raw(buf));
            (false, true)
        }
        Some(value) => {
            let buf = value.make_raw().ok_or(errors::WRONGTYPE)?;
            let grew = bitops::grow_for_bit(buf, offset);
            let old = bitops::set_bit(buf, offset, on);
            (old, grew || old != on)
        }
    };
    if changed {
        ctx.dirty(1);
        ctx.modified(key, class::STRING, "setbit");
    }
    ctx.reply.int(old as i64);
    Ok(())
}

fn getbit(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let offset = bit_offset(ctx.server, ctx.arg(2), None)?;
    let mut digits = itoa::Buffer::new();
    let bits = string_of(ctx.db.get(key), &mut digits)?.unwrap_or_default();
    ctx.reply.int(bitops::get_bit(bits, offset) as i64);
    Ok(())
}

/// BITCOUNT key [start end [BYTE|BIT]]. As in Redis 7.2, a missing key answers 0 before
/// the range is even parsed.
fn bitcount(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let mut digits = itoa::Buffer::new();
    let Some(bits) = string_of(ctx.db.get(key), &mut digits)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let n = match &ctx.args[2..] {
        [] => bitops::count(bits),
        [start, end, rest @ ..] if rest.len() <= 1 => {
            let (start, end) = (args::int(start)?, args::int(end)?);
            let unit = rest.first().map_or(Ok(Unit::Byte), |u| unit(u))?;
            bitops::count_range(bits, start, end, unit)
        }
        _ => return Err(errors::SYNTAX.into()),
    };
    ctx.reply.int(n as i64);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE|BIT]]]. A missing key is an endless run of zeros.
fn bitpos(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let bit = match args::int(ctx.arg(2))? {
        0 => false,
        1 => true,
        _ => return Err(errors::BIT_ARGUMENT.into()),
    };
    let mut digits = itoa::Buffer::new();
    let Some(bits) = string_of(ctx.db.get(key), &mut digits)? else {
        ctx.reply.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let range = &ctx.args[3..];
    if range.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let start = range.first().map_or(Ok(0), |s| args::int(s))?;
    let unit = range.get(2).map_or(Ok(Unit::Byte), |u| unit(u))?;
    let end = range.get(1).map(|e| args::int(e)).transpose()?;
    ctx.reply.int(bitops::position(bits, bit, start, end, unit));
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]. Missing sources are empty strings; an
/// empty result deletes the destination.
fn bitop(ctx: &mut Ctx) -> CmdResult {
    let op = ctx.arg(1);
    let op = [
        ("and", BitOp::And),
        ("or", BitOp::Or),
        ("xor", BitOp::Xor),
        ("not", BitOp::Not),
    ]
    .into_iter()
    .find(|(name, _)| args::is(op, name))
    .map(|(_, op)| op)
    .ok_or(errors::SYNTAX)?;
    let (dest, sources) = (ctx.arg(2), &ctx.args[3..]);
    if op == BitOp::Not && sources.len() != 1 {
        return Err(errors::BITOP_NOT_SOURCES.into());
    }

    // First pass: check types and find the longest source (with read lookups, as the
    // hit/miss statistics expect); second pass: fold the sources into the result.
    let mut len = 0;
    for key in sources {
        let mut digits = itoa::Buffer::new();
        if let Some(bits) = string_of(ctx.db.get(key), &mut digits)? {
            len = len.max(bits.len());
        }
    }
    let mut result = Vec::new();
    if len > 0 {
        for (i, key) in sources.iter().enumerate() {
            let mut digits = itoa::Buffer::new();
            let bits = ctx
                .db
                .peek(key)
                .and_then(|v| v.as_bytes(&mut digits))
                .unwrap_or_default();
            if i == 0 {
                result = op.start(bits, len);
            } else {
                op.fold(&mut result, bits);
            }
        }
        ctx.db.set(dest, Value::raw(result));
        ctx.dirty(1);
        ctx.modified(dest, class::STRING, "set");
    } else if let Some(old) = ctx.db.remove(dest) {
        ctx.db.free_deleted(old);
        ctx.dirty(1);
        ctx.modified(dest, class::GENERIC, "del");
    }
    ctx.reply.int(len as i64);
    Ok(())
}

/// One BITFIELD operation, with the overflow policy in force where it appeared.
struct FieldOp {
    action: FieldAction,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

enum FieldAction {
    Get,
    Set(i64),
    IncrBy(i64),
}

fn bitfield(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx) -> CmdResult {
    bitfield_generic(ctx, true)
}

/// Parses every operation first (any error means nothing runs), then runs them in order
/// on one value; a key that only GETs is never created.
fn bitfield_generic(ctx: &mut Ctx, read_only: bool) -> CmdResult {
    let key = ctx.arg(1);
    let ops = parse_field_ops(ctx.server, &ctx.args[2..])?;
    let last_written_bit = ops
        .iter()
        .filter(|op| !matches!(op.action, FieldAction::Get))
        .map(|op| op.offset + op.ty.bits as u64 - 1)
        .max();

    let Some(last_bit) = last_written_bit else {
        let mut digits = itoa::Buffer::new();
        let bits = string_of(ctx.db.get(key), &mut digits)?.unwrap_or_default();
        ctx.reply.array(ops.len());
        for op in &ops {
            ctx.reply.int(bitops::get_field(bits, op.offset, op.ty));
        }
        return Ok(());
    };
    if read_only {
        return Err(errors::BITFIELD_RO_GET_ONLY.into());
    }

    let changes = match ctx.db.get_mut(key) {
        None => {
            let mut buf = Vec::new();
            bitops::grow_for_bit(&mut buf, last_bit);
            let changes = run_field_ops(&ops, &mut buf, true, ctx.reply);
            ctx.db.set(key, Value::raw(buf));
            changes
        }
        Some(value) => {
            let buf = value.make_raw().ok_or(errors::WRONGTYPE)?;
            let grew = bitops::grow_for_bit(buf, last_bit);
            run_field_ops(&ops, buf, grew, ctx.reply)
        }
    };
    if changes > 0 {
        ctx.dirty(changes);
        ctx.modified(key, class::STRING, "setbit");
    }
    Ok(())
}

fn parse_field_ops(
    server: &Server,
    args: &[bytes::Bytes],
) -> Result<SmallVec<[FieldOp; 4]>, CmdError> {
    let mut ops = SmallVec::new();
    let mut overflow = Overflow::Wrap;
    let mut rest = args;
    while let Some((sub, after)) = rest.split_first() {
        let (action_args, tail) = if args::is(sub, "get") && after.len() >= 2 {
            after.split_at(2)
        } else if (args::is(sub, "set") || args::is(sub, "incrby")) && after.len() >= 3 {
            after.split_at(3)
        } else if args::is(sub, "overflow") && !after.is_empty() {
            overflow = match &after[0] {
                o if args::is(o, "wrap") => Overflow::Wrap,
                o if args::is(o, "sat") => Overflow::Sat,
                o if args::is(o, "fail") => Overflow::Fail,
                _ => return Err(errors::BITFIELD_OVERFLOW_TYPE.into()),
            };
            rest = &after[1..];
            continue;
        } else {
            return Err(errors::SYNTAX.into());
        };
        let ty = FieldType::parse(&action_args[0]).ok_or(errors::BITFIELD_TYPE)?;
        let offset = bit_offset(server, &action_args[1], Some(ty.bits))?;
        let action = match action_args.get(2) {
            None => FieldAction::Get,
            Some(n) if args::is(sub, "set") => FieldAction::Set(args::int(n)?),
            Some(n) => FieldAction::IncrBy(args::int(n)?),
        };
        ops.push(FieldOp {
            action,
            ty,
            offset,
            overflow,
        });
        rest = tail;
    }
    Ok(ops)
}

/// Runs the operations on `buf` (already grown to hold every written field), replying
/// to each; returns the number of changes for the dirty counter. `grew` counts every
/// executed write as a change, as Redis does for a created or lengthened string.
fn run_field_ops(
    ops: &[FieldOp],
    buf: &mut [u8],
    grew: bool,
    reply: &mut vireo_resp::Reply,
) -> u64 {
    let mut changes = 0;
    reply.array(ops.len());
    for op in ops {
        let old = bitops::get_field(buf, op.offset, op.ty);
        let (new, answer) = match op.action {
            FieldAction::Get => {
                reply.int(old);
                continue;
            }
            FieldAction::Set(value) => {
                let new = bitops::field_set_value(value, op.ty, op.overflow);
                (new, old)
            }
            FieldAction::IncrBy(by) => {
                let new = bitops::field_increment(old, by, op.ty, op.overflow);
                (new, new.unwrap_or_default())
            }
        };
        let Some(new) = new else {
            reply.null();
            continue;
        };
        reply.int(answer);
        bitops::set_field(buf, op.offset, op.ty, new);
        if grew || old != new {
            changes += 1;
        }
    }
    changes
}
