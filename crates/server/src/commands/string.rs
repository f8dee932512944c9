//! String commands: SET and its variants, the GET family, multi-key MGET/MSET, in-place
//! edits (APPEND, SETRANGE), the INCR family, INCRBYFLOAT and LCS.
//!
//! The byte-level logic (ranges, increments, the LCS table) lives in
//! `vireo_store::strings`. Encodings follow Redis: a value set whole is "int" when it is a
//! canonical integer, else "embstr"/"raw" by length (`Value::string`); an in-place edit
//! makes it "raw"; INCR results are "int"; INCRBYFLOAT results are plain strings.
//! INCRBYFLOAT computes in C's `long double`, as Redis does (see `csrc/long_double.c`).
//!
//! **Notifications and propagation** follow Redis 7.2: events `set`, `expire`, `del`,
//! `persist`, `append`, `setrange`, `incrby`, `incrbyfloat` (and `new` from the keyspace
//! when a key is added). Commands whose effect depends on the clock propagate absolute
//! forms: SET with an expiry (and SETEX, PSETEX) as `SET key value PXAT ms`, GETEX as
//! PEXPIREAT / PERSIST / DEL; GETSET and SET ... GET propagate without the GET; GETDEL as
//! DEL; INCRBYFLOAT as `SET key sum KEEPTTL` (a float's text is exact, the sum is not).
//! A SET whose expiry is already past stores the key anyway: it expires on its next access.

use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::notify::class;
use crate::Server;
use bytes::Bytes;
use vireo_store::strings::{self, Lcs};
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[
    Cmd::keys("get", get),
    Cmd::keys("set", set),
    Cmd::keys("setnx", setnx),
    Cmd::keys("setex", setex),
    Cmd::keys("psetex", psetex),
    Cmd::keys("getset", getset),
    Cmd::keys("getdel", getdel),
    Cmd::keys("getex", getex),
    Cmd::keys("mget", mget),
    Cmd::keys("mset", mset),
    Cmd::keys("msetnx", msetnx),
    Cmd::keys("append", append),
    Cmd::keys("strlen", strlen),
    Cmd::keys("getrange", getrange),
    Cmd::keys("substr", getrange),
    Cmd::keys("setrange", setrange),
    Cmd::keys("incr", incr),
    Cmd::keys("decr", decr),
    Cmd::keys("incrby", incrby),
    Cmd::keys("decrby", decrby),
    Cmd::keys("incrbyfloat", incrbyfloat),
    Cmd::keys("lcs", lcs),
];

/// The bytes of a looked-up value: None for a missing key, WRONGTYPE for another type.
/// `digits` holds the text of an int-encoded value.
pub(super) fn string_of<'v>(
    value: Option<&'v Value>,
    digits: &'v mut itoa::Buffer,
) -> Result<Option<&'v [u8]>, CmdError> {
    match value {
        None => Ok(None),
        Some(v) => v
            .as_bytes(digits)
            .map(Some)
            .ok_or_else(|| errors::WRONGTYPE.into()),
    }
}

/// Replaces a value in place, keeping its access clock (the key's TTL is untouched).
fn replace(slot: &mut Value, mut new: Value) {
    new.set_lru(slot.lru());
    *slot = new;
}

/// Refuses a string that would grow past `proto-max-bulk-len` (APPEND, SETRANGE).
pub(super) fn check_length(server: &Server, total: u64) -> CmdResult {
    // proto-max-bulk-len cannot be set below 1 MB: shorter strings need no look at it.
    if total <= 1024 * 1024 || total <= server.settings.read().proto_max_bulk_len as u64 {
        return Ok(());
    }
    Err(errors::STRING_TOO_LONG.into())
}

fn get(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let mut digits = itoa::Buffer::new();
    match string_of(ctx.db.get(key), &mut digits)? {
        Some(s) => ctx.reply.bulk(s),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// The expiry options of SET and GETEX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expire {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl Expire {
    fn parse(arg: &[u8]) -> Option<Expire> {
        [
            ("ex", Expire::Ex),
            ("px", Expire::Px),
            ("exat", Expire::ExAt),
            ("pxat", Expire::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| args::is(arg, name))
        .map(|(_, kind)| kind)
    }

    /// The absolute expiry in unix ms named by `arg`, with Redis's checks
    /// (`ERR invalid expire time in '<cmd>' command`).
    fn at_ms(self, arg: &[u8], now_ms: i64, cmd: &str) -> Result<i64, CmdError> {
        let seconds = matches!(self, Expire::Ex | Expire::ExAt);
        let absolute = matches!(self, Expire::ExAt | Expire::PxAt);
        args::expire_option(arg, seconds, absolute, now_ms, cmd)
    }
}

/// The options of SET (`NX XX GET KEEPTTL EX PX EXAT PXAT`) or GETEX (`PERSIST EX PX EXAT
/// PXAT`), parsed as Redis does: NX and XX exclude each other, KEEPTTL and PERSIST exclude
/// any expiry, two different expiry kinds conflict, and a repeated option is accepted.
#[derive(Default)]
struct StringOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(Expire, &'a [u8])>,
}

impl<'a> StringOptions<'a> {
    fn parse(options: &'a [Bytes], for_set: bool) -> Result<Self, CmdError> {
        let mut o = StringOptions::default();
        let mut i = 0;
        while i < options.len() {
            let opt = &options[i][..];
            let no_expiry = o.expire.is_none();
            if for_set && args::is(opt, "nx") && !o.xx {
                o.nx = true;
            } else if for_set && args::is(opt, "xx") && !o.nx {
                o.xx = true;
            } else if for_set && args::is(opt, "get") {
                o.get = true;
            } else if for_set && args::is(opt, "keepttl") && no_expiry {
                o.keep_ttl = true;
            } else if !for_set && args::is(opt, "persist") && no_expiry {
                o.persist = true;
            } else if let (Some(kind), Some(value)) = (Expire::parse(opt), options.get(i + 1)) {
                let conflict = o.expire.is_some_and(|(k, _)| k != kind);
                if o.keep_ttl || o.persist || conflict {
                    return Err(errors::SYNTAX.into());
                }
                o.expire = Some((kind, value));
                i += 1;
            } else {
                return Err(errors::SYNTAX.into());
            }
            i += 1;
        }
        Ok(o)
    }

    fn expire_at(&self, now_ms: i64, cmd: &str) -> Result<Option<i64>, CmdError> {
        self.expire
            .map(|(kind, arg)| kind.at_ms(arg, now_ms, cmd))
            .transpose()
    }
}

/// What a SET-like command does once its arguments are parsed.
#[derive(Default)]
struct SetPlan {
    nx: bool,
    xx: bool,
    /// Reply with the old value first (SET ... GET, GETSET).
    get: bool,
    keep_ttl: bool,
    expire_at: Option<i64>,
    /// Where the value is in the arguments (for the propagated form).
    value_arg: usize,
}

/// Redis's setGenericCommand: stores `value` at `key` unless NX/XX says no; true if it did.
/// With `get`, the old value (or a null) has already been replied.
fn set_string(ctx: &mut Ctx, key: &[u8], value: &[u8], plan: SetPlan) -> Result<bool, CmdError> {
    if plan.get {
        let mut digits = itoa::Buffer::new();
        match string_of(ctx.db.get(key), &mut digits)? {
            Some(old) => ctx.reply.bulk(old),
            None => ctx.reply.null(),
        }
    }
    if plan.nx || plan.xx {
        let found = ctx.db.exists(key);
        if (plan.nx && found) || (plan.xx && !found) {
            return Ok(false);
        }
    }
    let value = Value::string(value);
    if plan.keep_ttl || plan.expire_at.is_some() {
        ctx.db.set_keep_ttl(key, value);
    } else {
        ctx.db.set(key, value);
    }
    ctx.dirty(1);
    ctx.modified(key, class::STRING, "set");
    if let Some(at) = plan.expire_at {
        // Stored as given even if already past (Redis 7.2 lets the key expire later).
        ctx.db.store_expire(key, at);
        ctx.notify(class::GENERIC, "expire", key);
        if ctx.propagating() {
            let (key, value) = (ctx.args[1].clone(), ctx.args[plan.value_arg].clone());
            let at = Bytes::copy_from_slice(itoa::Buffer::new().format(at).as_bytes());
            ctx.rewrite_propagated(vec![SET.clone(), key, value, PXAT.clone(), at]);
        }
    }
    Ok(true)
}

const SET: Bytes = Bytes::from_static(b"SET");
const PXAT: Bytes = Bytes::from_static(b"PXAT");

fn set(ctx: &mut Ctx) -> CmdResult {
    let (key, value) = (ctx.arg(1), ctx.arg(2));
    let o = StringOptions::parse(&ctx.args[3..], true)?;
    let plan = SetPlan {
        nx: o.nx,
        xx: o.xx,
        get: o.get,
        keep_ttl: o.keep_ttl,
        expire_at: o.expire_at(ctx.now_ms, "set")?,
        value_arg: 2,
    };
    let stored = set_string(ctx, key, value, plan)?;
    // Without an expiry (which rewrites the whole command), the GET option is dropped:
    // a replica has nobody to answer.
    if stored && o.get && o.expire.is_none() && ctx.propagating() {
        let options = ctx.args[3..].iter().filter(|a| !args::is(a, "get"));
        let argv: Vec<Bytes> = ctx.args[..3].iter().chain(options).cloned().collect();
        ctx.rewrite_propagated(argv);
    }
    match (o.get, stored) {
        (true, _) => {}
        (false, true) => ctx.reply.ok(),
        (false, false) => ctx.reply.null(),
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx) -> CmdResult {
    let plan = SetPlan {
        nx: true,
        value_arg: 2,
        ..SetPlan::default()
    };
    let (key, value) = (ctx.arg(1), ctx.arg(2));
    let stored = set_string(ctx, key, value, plan)?;
    ctx.reply.int(stored as i64);
    Ok(())
}

fn setex(ctx: &mut Ctx) -> CmdResult {
    set_with_expiry(ctx, Expire::Ex, "setex")
}

fn psetex(ctx: &mut Ctx) -> CmdResult {
    set_with_expiry(ctx, Expire::Px, "psetex")
}

/// SETEX / PSETEX: `key ttl value`.
fn set_with_expiry(ctx: &mut Ctx, kind: Expire, cmd: &str) -> CmdResult {
    let plan = SetPlan {
        expire_at: Some(kind.at_ms(ctx.arg(2), ctx.now_ms, cmd)?),
        value_arg: 3,
        ..SetPlan::default()
    };
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    set_string(ctx, key, value, plan)?;
    ctx.reply.ok();
    Ok(())
}

fn getset(ctx: &mut Ctx) -> CmdResult {
    let plan = SetPlan {
        get: true,
        value_arg: 2,
        ..SetPlan::default()
    };
    let (key, value) = (ctx.arg(1), ctx.arg(2));
    set_string(ctx, key, value, plan)?;
    if ctx.propagating() {
        let argv = vec![SET.clone(), ctx.args[1].clone(), ctx.args[2].clone()];
        ctx.rewrite_propagated(argv);
    }
    Ok(())
}

fn getdel(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let mut digits = itoa::Buffer::new();
    let Some(value) = string_of(ctx.db.get(key), &mut digits)? else {
        ctx.reply.null();
        return Ok(());
    };
    ctx.reply.bulk(value);
    ctx.db.remove(key);
    ctx.dirty(1);
    ctx.modified(key, class::GENERIC, "del");
    if ctx.propagating() {
        ctx.rewrite_propagated(vec![Bytes::from_static(b"DEL"), ctx.args[1].clone()]);
    }
    Ok(())
}

fn getex(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let o = StringOptions::parse(&ctx.args[2..], false)?;
    let mut digits = itoa::Buffer::new();
    let Some(value) = string_of(ctx.db.get(key), &mut digits)? else {
        ctx.reply.null();
        return Ok(());
    };
    // The expiry is checked only once the key is known to exist, as in Redis.
    let expire_at = o.expire_at(ctx.now_ms, "getex")?;
    ctx.reply.bulk(value);
    if let Some(at) = expire_at {
        if at <= ctx.now_ms {
            // An EXAT/PXAT in the past deletes the key.
            super::expire::delete_expired_now(ctx, key);
        } else {
            ctx.db.set_expire(key, at);
            ctx.dirty(1);
            ctx.modified(key, class::GENERIC, "expire");
            if ctx.propagating() {
                let argv = super::expire::pexpireat_argv(&ctx.args[1], at);
                ctx.rewrite_propagated(argv);
            }
        }
    } else if o.persist && ctx.db.persist(key) {
        ctx.dirty(1);
        ctx.modified(key, class::GENERIC, "persist");
        if ctx.propagating() {
            let argv = vec![Bytes::from_static(b"PERSIST"), ctx.args[1].clone()];
            ctx.rewrite_propagated(argv);
        }
    }
    Ok(())
}

fn mget(ctx: &mut Ctx) -> CmdResult {
    let keys = &ctx.args[1..];
    ctx.reply.array(keys.len());
    for key in keys {
        let mut digits = itoa::Buffer::new();
        // A key of another type reads as missing.
        match ctx.db.get(key).and_then(|v| v.as_bytes(&mut digits)) {
            Some(value) => ctx.reply.bulk(value),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, false)
}

/// MSETNX sets every pair, or none if any key exists.
fn msetnx(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, true)
}

fn mset_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    if ctx.args.len().is_multiple_of(2) {
        return Err(ctx.wrong_arity());
    }
    let pairs = &ctx.args[1..];
    if nx && pairs.chunks(2).any(|pair| ctx.db.exists(&pair[0])) {
        ctx.reply.int(0);
        return Ok(());
    }
    for pair in pairs.chunks(2) {
        ctx.db.set(&pair[0], Value::string(&pair[1]));
        ctx.modified(&pair[0], class::STRING, "set");
    }
    ctx.dirty((pairs.len() / 2) as u64);
    if nx {
        ctx.reply.int(1);
    } else {
        ctx.reply.ok();
    }
    Ok(())
}

fn append(ctx: &mut Ctx) -> CmdResult {
    let (key, tail) = (ctx.arg(1), ctx.arg(2));
    let len = match ctx.db.get_mut(key) {
        None => {
            ctx.db.set(key, Value::string(tail));
            tail.len()
        }
        Some(value) => {
            let old_len = value.string_len().ok_or(errors::WRONGTYPE)?;
            check_length(ctx.server, old_len as u64 + tail.len() as u64)?;
            let buf = value.make_raw().ok_or(errors::WRONGTYPE)?;
            buf.extend_from_slice(tail);
            buf.len()
        }
    };
    ctx.dirty(1);
    ctx.modified(key, class::STRING, "append");
    ctx.reply.int(len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let len = match ctx.db.get(key) {
        None => 0,
        Some(v) => v.string_len().ok_or(errors::WRONGTYPE)?,
    };
    ctx.reply.int(len as i64);
    Ok(())
}

/// GETRANGE and its old name SUBSTR.
fn getrange(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let start = args::int(ctx.arg(2))?;
    let end = args::int(ctx.arg(3))?;
    let mut digits = itoa::Buffer::new();
    let value = string_of(ctx.db.get(key), &mut digits)?.unwrap_or_default();
    ctx.reply.bulk(strings::range(value, start, end));
    Ok(())
}

fn setrange(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let offset = args::int(ctx.arg(2))?;
    let value = ctx.arg(3);
    if offset < 0 {
        return Err(errors::OFFSET_OUT_OF_RANGE.into());
    }
    let end = (offset as u64).saturating_add(value.len() as u64);
    let len = match ctx.db.get_mut(key) {
        None if value.is_empty() => return reply_int(ctx, 0),
        None => {
            check_length(ctx.server, end)?;
            let mut buf = Vec::new();
            strings::set_range(&mut buf, offset as usize, value);
            let len = buf.len();
            ctx.db.set(key, Value::raw(buf));
            len
        }
        Some(current) => {
            let old_len = current.string_len().ok_or(errors::WRONGTYPE)?;
            if value.is_empty() {
                return reply_int(ctx, old_len as i64);
            }
            check_length(ctx.server, end)?;
            let buf = current.make_raw().ok_or(errors::WRONGTYPE)?;
            strings::set_range(buf, offset as usize, value);
            buf.len()
        }
    };
    ctx.dirty(1);
    ctx.modified(key, class::STRING, "setrange");
    reply_int(ctx, len as i64)
}

fn reply_int(ctx: &mut Ctx, n: i64) -> CmdResult {
    ctx.reply.int(n);
    Ok(())
}

fn incr(ctx: &mut Ctx) -> CmdResult {
    increment_by(ctx, 1)
}

fn decr(ctx: &mut Ctx) -> CmdResult {
    increment_by(ctx, -1)
}

fn incrby(ctx: &mut Ctx) -> CmdResult {
    let by = args::int(ctx.arg(2))?;
    increment_by(ctx, by)
}

fn decrby(ctx: &mut Ctx) -> CmdResult {
    let by = args::int(ctx.arg(2))?;
    if by == i64::MIN {
        return Err(errors::DECREMENT_OVERFLOW.into());
    }
    increment_by(ctx, -by)
}

/// The INCR family: the stored string must be a canonical i64; the result is "int"
/// encoded and the key keeps its TTL.
fn increment_by(ctx: &mut Ctx, by: i64) -> CmdResult {
    let key = ctx.arg(1);
    let n = match ctx.db.get_mut(key) {
        None => {
            ctx.db.set(key, Value::int(by));
            by
        }
        Some(value) => {
            let current = match &*value {
                Value::Int { n, .. } => *n,
                other => {
                    let mut digits = itoa::Buffer::new();
                    let bytes = other.as_bytes(&mut digits).ok_or(errors::WRONGTYPE)?;
                    vireo_store::num::parse_i64(bytes).ok_or(errors::NOT_INTEGER)?
                }
            };
            let n = strings::increment(current, by).ok_or(errors::OVERFLOW)?;
            replace(value, Value::int(n));
            n
        }
    };
    ctx.dirty(1);
    ctx.modified(key, class::STRING, "incrby");
    ctx.reply.int(n);
    Ok(())
}

fn incrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let (key, by) = (ctx.arg(1), ctx.arg(2));
    let mut out = [0u8; long_double::OUT_LEN];
    let sum = match ctx.db.get_mut(key) {
        None => {
            let sum = long_double::incrbyfloat(None, by, &mut out)?;
            ctx.db.set(key, strings::plain_string(sum));
            sum
        }
        Some(value) => {
            let mut digits = itoa::Buffer::new();
            let current = value.as_bytes(&mut digits).ok_or(errors::WRONGTYPE)?;
            let sum = long_double::incrbyfloat(Some(current), by, &mut out)?;
            replace(value, strings::plain_string(sum));
            sum
        }
    };
    ctx.reply.bulk(sum);
    ctx.dirty(1);
    ctx.modified(key, class::STRING, "incrbyfloat");
    if ctx.propagating() {
        // The text of the sum, not the increment: a replica must not redo the float math.
        let argv = vec![
            SET.clone(),
            ctx.args[1].clone(),
            Bytes::copy_from_slice(sum),
            Bytes::from_static(b"KEEPTTL"),
        ];
        ctx.rewrite_propagated(argv);
    }
    Ok(())
}

/// The C shim of `csrc/long_double.c` (HINCRBYFLOAT uses it too).
pub(super) mod long_double {
    use crate::commands::CmdError;
    use crate::errors;
    use std::os::raw::{c_char, c_int};

    /// Room for the longest sum Redis prints (MAX_LONG_DOUBLE_CHARS in the C file).
    pub const OUT_LEN: usize = 5 * 1024;

    extern "C" {
        fn vireo_incrbyfloat(
            current: *const c_char,
            current_len: usize,
            incr: *const c_char,
            incr_len: usize,
            out: *mut c_char,
            out_len: *mut usize,
        ) -> c_int;
    }

    /// `current + incr` as INCRBYFLOAT stores it; `current` None for a missing key.
    pub fn incrbyfloat<'o>(
        current: Option<&[u8]>,
        incr: &[u8],
        out: &'o mut [u8; OUT_LEN],
    ) -> Result<&'o [u8], CmdError> {
        let (cur_ptr, cur_len) = match current {
            Some(c) => (c.as_ptr().cast(), c.len()),
            None => (std::ptr::null(), 0),
        };
        let mut len = 0usize;
        // SAFETY: the pointers come from live slices with their lengths; the C side reads
        // at most those lengths, writes at most OUT_LEN bytes into `out` and one usize.
        let code = unsafe {
            vireo_incrbyfloat(
                cur_ptr,
                cur_len,
                incr.as_ptr().cast(),
                incr.len(),
                out.as_mut_ptr().cast(),
                &mut len,
            )
        };
        match code {
            0 => Ok(&out[..len.min(OUT_LEN)]),
            1 => Err(errors::NOT_FLOAT.into()),
            _ => Err(errors::NAN_OR_INFINITY.into()),
        }
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]. Missing keys are empty
/// strings.
fn lcs(ctx: &mut Ctx) -> CmdResult {
    let (key_a, key_b) = (ctx.arg(1), ctx.arg(2));
    let mut digits = itoa::Buffer::new();
    // Both keys are looked up before either is judged, as in Redis.
    let a = ctx
        .db
        .get(key_a)
        .map(|v| v.as_bytes(&mut digits).map(<[u8]>::to_vec));
    let a = match a {
        None => Some(Vec::new()),
        Some(bytes) => bytes,
    };
    let mut digits = itoa::Buffer::new();
    let b = ctx.db.get(key_b).map(|v| v.as_bytes(&mut digits));
    let (Some(a), Some(b)) = (a, b.unwrap_or(Some(&[]))) else {
        return Err(errors::LCS_WRONGTYPE.into());
    };

    let (mut len, mut idx, mut with_match_len, mut min_match_len) = (false, false, false, 0);
    let mut options = ctx.args[3..].iter();
    while let Some(opt) = options.next() {
        if args::is(opt, "idx") {
            idx = true;
        } else if args::is(opt, "len") {
            len = true;
        } else if args::is(opt, "withmatchlen") {
            with_match_len = true;
        } else if let (true, Some(n)) = (args::is(opt, "minmatchlen"), options.clone().next()) {
            min_match_len = args::int(n)?.max(0) as usize;
            options.next();
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    if len && idx {
        return Err(errors::LCS_LEN_AND_IDX.into());
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(errors::LCS_TOO_LONG.into());
    }
    let limit = ctx.server.settings.read().proto_max_bulk_len as u64;
    if Lcs::table_bytes(a.len(), b.len()).is_none_or(|bytes| bytes > limit) {
        return Err(errors::LCS_TOO_MUCH_MEMORY.into());
    }

    let table = Lcs::new(&a, b);
    if len {
        ctx.reply.int(table.len() as i64);
    } else if !idx {
        ctx.reply.bulk(&table.string());
    } else {
        let matches = table.matches(min_match_len);
        ctx.reply.map(2);
        ctx.reply.bulk(b"matches");
        ctx.reply.array(matches.len());
        for m in &matches {
            ctx.reply.array(2 + with_match_len as usize);
            for (start, end) in [m.a, m.b] {
                ctx.reply.array(2);
                ctx.reply.int(start as i64);
                ctx.reply.int(end as i64);
            }
            if with_match_len {
                ctx.reply.int(m.match_len() as i64);
            }
        }
        ctx.reply.bulk(b"len");
        ctx.reply.int(table.len() as i64);
    }
    Ok(())
}
