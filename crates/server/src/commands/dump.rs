//! DUMP and RESTORE: a value serialized as Redis's RDB object with a version and checksum
//! footer (`vireo_rdb`), so payloads move between Vireo and Redis in both directions.
//!
//! RESTORE follows Redis's order of checks: options, then BUSYKEY (without REPLACE), the
//! TTL, the payload's footer, the payload itself. A TTL already past creates nothing
//! (deleting what REPLACE would have replaced: a `del`, propagated as DEL).
//! Otherwise the key gets the value (`restore` event) and a relative TTL is propagated as
//! an absolute one (`ABSTTL`), so a replica or an AOF replays the same expiry time.

use super::{args, Cmd, CmdResult, Ctx};
use crate::errors;
use crate::notify::class;
use bytes::Bytes;
use vireo_rdb::{DumpOptions, LoadConfig};
use vireo_store::evict::lfu_minutes;
use vireo_store::hash::Limits as HashLimits;
use vireo_store::list::ListConfig;
use vireo_store::set::SetLimits;
use vireo_store::zset::Limits as ZSetLimits;
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[Cmd::keys("dump", dump), Cmd::keys("restore", restore)];

const INVALID_TTL: &str = "ERR Invalid TTL value, must be >= 0";
const INVALID_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
const INVALID_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

/// How DUMP writes now: `rdbcompression`, and the command's clock for hash field TTLs.
pub fn dump_options(ctx: &Ctx) -> DumpOptions {
    let compress = ctx.server.config.read().get_one("rdbcompression");
    DumpOptions {
        compress: compress.as_deref() != Some("no"),
        now_ms: ctx.now_ms,
    }
}

/// The encoding thresholds a restored value is converted by.
fn load_config(ctx: &Ctx) -> LoadConfig {
    let settings = ctx.server.settings.read();
    let e = &settings.encodings;
    LoadConfig {
        list: ListConfig {
            fill: e.list_max_listpack_size,
            compress_depth: e.list_compress_depth,
        },
        hash: HashLimits {
            max_listpack_entries: e.hash_max_listpack_entries,
            max_listpack_value: e.hash_max_listpack_value,
        },
        set: SetLimits {
            intset_entries: e.set_max_intset_entries,
            listpack_entries: e.set_max_listpack_entries,
            listpack_value: e.set_max_listpack_value,
        },
        zset: ZSetLimits {
            max_entries: e.zset_max_listpack_entries,
            max_value: e.zset_max_listpack_value,
        },
    }
}

/// DUMP key
fn dump(ctx: &mut Ctx) -> CmdResult {
    let options = dump_options(ctx);
    match ctx.db.get(ctx.arg(1)) {
        None => ctx.reply.null(),
        Some(value) => {
            let payload = vireo_rdb::dump(value, options);
            ctx.reply.bulk(&payload);
        }
    }
    Ok(())
}

/// RESTORE's options.
#[derive(Default)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idletime: Option<i64>,
    freq: Option<i64>,
}

impl RestoreOptions {
    fn parse(args: &[Bytes]) -> Result<Self, super::CmdError> {
        let mut o = RestoreOptions::default();
        let mut i = 0;
        while i < args.len() {
            let more = i + 1 < args.len();
            let arg = &args[i];
            if args::is(arg, "replace") {
                o.replace = true;
            } else if args::is(arg, "absttl") {
                o.absttl = true;
            } else if args::is(arg, "idletime") && more && o.freq.is_none() {
                let idle = args::int(&args[i + 1])?;
                if idle < 0 {
                    return Err(INVALID_IDLETIME.into());
                }
                o.idletime = Some(idle);
                i += 1;
            } else if args::is(arg, "freq") && more && o.idletime.is_none() {
                let freq = args::int(&args[i + 1])?;
                if !(0..=255).contains(&freq) {
                    return Err(INVALID_FREQ.into());
                }
                o.freq = Some(freq);
                i += 1;
            } else {
                return Err(errors::SYNTAX.into());
            }
            i += 1;
        }
        Ok(o)
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(ctx: &mut Ctx) -> CmdResult {
    let options = RestoreOptions::parse(&ctx.args[4..])?;
    let key = ctx.arg(1);
    if !options.replace && ctx.db.exists(key) {
        return Err(BUSYKEY.into());
    }
    let ttl = args::int(ctx.arg(2))?;
    if ttl < 0 {
        return Err(INVALID_TTL.into());
    }
    let config = load_config(ctx);
    let value = vireo_rdb::restore(ctx.arg(3), &config).map_err(|e| e.to_string())?;
    let replaced = options.replace && ctx.db.exists(key);
    let at = match ttl {
        0 => None,
        t if options.absttl => Some(t),
        t => Some(t.saturating_add(ctx.now_ms)),
    };
    if at.is_some_and(|at| at <= ctx.now_ms) {
        if replaced {
            delete_replaced(ctx, key);
        }
        ctx.reply.ok();
        return Ok(());
    }
    if let Some(old) = ctx.db.remove(key) {
        ctx.db.free_deleted(old);
    }
    let has_field_ttls = matches!(&value, Value::Hash { h, .. } if h.has_field_ttls());
    ctx.db.set(key, value);
    if let Some(at) = at {
        ctx.db.set_expire(key, at);
        if !options.absttl && ctx.propagating() {
            let mut argv = ctx.args.to_vec();
            argv[2] = Bytes::copy_from_slice(itoa::Buffer::new().format(at).as_bytes());
            argv.push(Bytes::from_static(b"ABSTTL"));
            ctx.rewrite_propagated(argv);
        }
    }
    if has_field_ttls {
        ctx.db.note_field_ttls(key);
    }
    set_access(ctx, key, &options);
    ctx.modified(key, class::GENERIC, "restore");
    ctx.dirty(1);
    ctx.reply.ok();
    Ok(())
}

/// RESTORE REPLACE with a TTL already past: the old value goes, as a DEL would remove it.
fn delete_replaced(ctx: &mut Ctx, key: &[u8]) {
    if let Some(old) = ctx.db.remove(key) {
        ctx.db.free_deleted(old);
    }
    ctx.dirty(1);
    ctx.modified(key, class::GENERIC, "del");
    if ctx.propagating() {
        // DEL whatever lazyfree-lazy-server-del says, as redis-server 7.0 writes it.
        ctx.rewrite_propagated(vec![Bytes::from_static(b"DEL"), ctx.args[1].clone()]);
    }
}

/// IDLETIME and FREQ, as Redis applies them: FREQ sets the LFU counter under an LFU
/// policy, IDLETIME the access clock under any other; each is ignored otherwise.
fn set_access(ctx: &mut Ctx, key: &[u8], options: &RestoreOptions) {
    let lfu = ctx.server.eviction.lfu();
    let clock = match (lfu, options.freq, options.idletime) {
        (true, Some(freq), _) => (lfu_minutes(ctx.now_ms) << 8) | freq as u32,
        (false, _, Some(idle)) => idle_clock(crate::lru_clock_at(ctx.now_ms), idle),
        _ => return,
    };
    let touch = ctx.db.touches();
    ctx.db.set_touch(false);
    if let Some(value) = ctx.db.get_mut(key) {
        value.set_lru(clock);
    }
    ctx.db.set_touch(touch);
}

/// The LRU clock of a key last accessed `idle` seconds before `now`; an idle time beyond
/// the clock's wrap gives a clock half a wrap ahead, as Redis does.
fn idle_clock(now: u32, idle: i64) -> u32 {
    let max = crate::LRU_CLOCK_MAX as i64;
    let at = now as i64 - idle;
    if at < 0 {
        ((now as i64 + max / 2) % max) as u32
    } else {
        at as u32
    }
}
