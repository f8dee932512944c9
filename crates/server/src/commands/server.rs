//! Server administration: CONFIG, INFO, DEBUG, TIME, LASTSAVE, SHUTDOWN.
//!
//! CONFIG SET is all or nothing, as in Redis: the values are parsed and stored by
//! `vireo_config`, then the server acts on what changed (log level, listeners, file
//! descriptor limit, working directory...); if acting fails, the previous configuration is
//! put back and the error names the directive. Nothing set is silently ignored: a
//! directive Vireo does not act on yet is logged as such.

use super::{Cmd, CmdError, CmdResult, Ctx};
use crate::keyspace::Keyspace;
use crate::settings::Settings;
use crate::{errors, info, log_notice, log_warning, Server};
use std::sync::atomic::{AtomicBool, Ordering};
use vireo_config::table::{self, Status, DIRECTIVES};
use vireo_config::LogLevel;
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[
    Cmd::manual("config|get", config_get),
    Cmd::manual("config|set", config_set),
    Cmd::manual("config|resetstat", config_resetstat),
    Cmd::manual("config|rewrite", config_rewrite),
    Cmd::manual("config|help", config_help),
    Cmd::manual("info", info_command),
    Cmd::manual("debug", debug),
    Cmd::manual("time", time),
    Cmd::manual("lastsave", lastsave),
    Cmd::manual("shutdown", shutdown),
];

/// Whether the cron runs the active expiry cycle (DEBUG SET-ACTIVE-EXPIRE). One server per
/// process, so the switch is process-wide.
pub static ACTIVE_EXPIRE_ENABLED: AtomicBool = AtomicBool::new(true);

/// File descriptors kept free beyond one per client (listeners, log, persistence files),
/// as Redis reserves them.
const RESERVED_FDS: u64 = 32;

/// CONFIG GET pattern [pattern ...]. A name is listed once however many patterns match
/// it (compared case-insensitively); a pattern without glob characters is an exact lookup
/// and is listed as the client spelled it, as Redis does.
fn config_get(ctx: &mut Ctx) -> CmdResult {
    let config = ctx.server.config.read();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pattern in &ctx.args[2..] {
        let is_glob = pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        for (name, value) in config.get(&[&pattern[..]]) {
            let name = if is_glob {
                name
            } else {
                String::from_utf8_lossy(pattern).into_owned()
            };
            if !pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                pairs.push((name, value));
            }
        }
    }
    drop(config);
    ctx.reply.map(pairs.len());
    for (name, value) in &pairs {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
    Ok(())
}

fn config_set(ctx: &mut Ctx) -> CmdResult {
    // Names and values in pairs (the arity already asks for at least one pair).
    if !ctx.args.len().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    let pairs: Vec<(&[u8], &[u8])> = ctx.args[2..]
        .chunks(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect();
    let server = ctx.server;
    // The write lock is held until the change is applied, so CONFIG SETs are serial.
    let mut config = server.config.write();
    let before = config.clone();
    let changed = config
        .set_from(&pairs, ctx.client.is_local())
        .map_err(|e| CmdError::from(format!("ERR {e}")))?;
    let settings = Settings::from_config(&config);
    if let Err((name, reason)) = apply(server, &changed, &settings) {
        *config = before;
        let typed = pairs
            .iter()
            .find(|(n, _)| table::lookup(n) == table::lookup(name.as_bytes()))
            .map_or(name.to_string(), |(n, _)| {
                String::from_utf8_lossy(n).into_owned()
            });
        return Err(format!(
            "ERR CONFIG SET failed (possibly related to argument '{typed}') - {reason}"
        )
        .into());
    }
    *server.settings.write() = settings;
    server.settings_changed();
    drop(config);
    announce(&changed, ctx.server);
    if changed.contains(&"maxmemory") {
        ctx.server.eviction.settle();
    }
    // A lower limit (or a first one) evicts at once, as Redis does after the command.
    if changed.contains(&"maxmemory-clients") || changed.contains(&"maxmemory") {
        ctx.server.client_memory.update_all(ctx.server);
    }
    ctx.reply.ok();
    Ok(())
}

/// Acts on the directives a CONFIG SET changed. Fallible steps come first; on an error
/// nothing has been applied yet except what the error's directive itself undid.
fn apply(
    server: &Server,
    changed: &[&'static str],
    new: &Settings,
) -> Result<(), (&'static str, String)> {
    let old = server.settings.read().clone();
    if changed.contains(&"maxclients") && new.maxclients > old.maxclients {
        raise_open_files_limit(new.maxclients as u64).map_err(|e| ("maxclients", e))?;
    }
    if let Some(&name) = changed.iter().find(|n| **n == "dir") {
        std::env::set_current_dir(&new.dir).map_err(|e| (name, io_reason(&e)))?;
    }
    if changed.contains(&"port") || changed.contains(&"bind") {
        let name = if changed.contains(&"port") {
            "port"
        } else {
            "bind"
        };
        if let Err(e) = server.rebind(new.clone()) {
            if changed.contains(&"dir") {
                let _ = std::env::set_current_dir(&old.dir);
            }
            return Err((name, e));
        }
    }
    if changed.contains(&"loglevel") {
        crate::log::set_level(log_level(new.loglevel));
    }
    Ok(())
}

/// Logs what a successful CONFIG SET means for directives Vireo does not fully act on.
fn announce(changed: &[&'static str], server: &Server) {
    for name in changed {
        if *name == "appendonly" && server.settings.read().appendonly {
            log_warning!("appendonly is set, but this version of Vireo does not write an AOF yet: data is NOT persisted");
        }
        let not_yet =
            table::lookup(name.as_bytes()).is_some_and(|i| DIRECTIVES[i].status == Status::NotYet);
        if not_yet {
            log_warning!("Directive '{name}' is set but not implemented in this version of Vireo yet: it has no effect");
        }
    }
}

fn log_level(level: LogLevel) -> crate::log::Level {
    use crate::log::Level;
    match level {
        LogLevel::Debug => Level::Debug,
        LogLevel::Verbose => Level::Verbose,
        LogLevel::Notice => Level::Notice,
        LogLevel::Warning | LogLevel::Nothing => Level::Warning,
    }
}

fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    // `No such file or directory (os error 2)` -> strerror's text, as Redis prints it.
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Makes room for `maxclients` connections in the open files limit, as Redis does when
/// maxclients grows; the error is Redis's.
fn raise_open_files_limit(maxclients: u64) -> Result<(), String> {
    let needed = maxclients + RESERVED_FDS;
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(format!(
                "The operating system is not able to handle the specified number of clients, try with {}",
                maxclients
            ));
        }
        if limit.rlim_cur >= needed {
            return Ok(());
        }
        let wanted = libc::rlimit {
            rlim_cur: needed,
            rlim_max: limit.rlim_max.max(needed),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
            return Ok(());
        }
        let best = limit.rlim_max.max(limit.rlim_cur);
        if best > limit.rlim_cur {
            let soft = libc::rlimit {
                rlim_cur: best,
                rlim_max: limit.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &soft);
        }
        Err(format!(
            "The operating system is not able to handle the specified number of clients, try with {}",
            best.saturating_sub(RESERVED_FDS)
        ))
    }
}

fn config_resetstat(ctx: &mut Ctx) -> CmdResult {
    ctx.server.stats.reset();
    ctx.server.eviction.reset_stats();
    ctx.server.client_memory.reset_stats();
    for cmd in ctx.server.commands.iter() {
        cmd.stats.reset();
        for sub in cmd.subcommands.values() {
            sub.stats.reset();
        }
    }
    info::reset();
    ctx.reply.ok();
    Ok(())
}

fn config_rewrite(ctx: &mut Ctx) -> CmdResult {
    let outcome = ctx.server.config.read().rewrite();
    match outcome {
        Ok(()) => {
            log_notice!("CONFIG REWRITE executed with success.");
            ctx.reply.ok();
            Ok(())
        }
        Err(e) => {
            log_warning!("CONFIG REWRITE failed: {e}");
            Err(format!("ERR {e}").into())
        }
    }
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

fn config_help(ctx: &mut Ctx) -> CmdResult {
    ctx.reply_help(CONFIG_HELP)
}

fn info_command(ctx: &mut Ctx) -> CmdResult {
    let sections: Vec<&[u8]> = ctx.args[1..].iter().map(|a| &a[..]).collect();
    let text = info::generate(ctx.server, &sections);
    ctx.reply.verbatim("txt", text.as_bytes());
    Ok(())
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

fn debug(ctx: &mut Ctx) -> CmdResult {
    let sub = ctx.arg(1).to_ascii_lowercase();
    let argc = ctx.args.len();
    match (&sub[..], argc) {
        (b"help", 2) => return ctx.reply_help(DEBUG_HELP),
        (b"object", 3) => return debug_object(ctx),
        (b"sleep", 3) => {
            let secs = super::args::parse_f64(ctx.arg(2)).unwrap_or(0.0);
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            }
            ctx.reply.ok();
        }
        (b"set-active-expire", 3) => {
            let on = atoi(ctx.arg(2)) != 0;
            ACTIVE_EXPIRE_ENABLED.store(on, Ordering::Relaxed);
            ctx.reply.ok();
        }
        (b"change-repl-id", 2) => {
            info::REPLICATION_ID.lock().change();
            log_notice!("Changing replication IDs after receiving DEBUG change-repl-id");
            ctx.reply.ok();
        }
        (b"log", 3) => {
            log_warning!("DEBUG LOG: {}", String::from_utf8_lossy(ctx.arg(2)));
            ctx.reply.ok();
        }
        (b"error", 3) => {
            // The text goes out as the whole error line, code included.
            return Err(errors::printable(ctx.arg(2), usize::MAX).into());
        }
        _ => {
            return Err(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                errors::printable(ctx.arg(1), 128)
            )
            .into())
        }
    }
    Ok(())
}

/// C's atoi: the leading decimal digits, 0 when there are none.
fn atoi(arg: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(arg);
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse().unwrap_or(0)
}

/// `Value at:0x... refcount:1 encoding:embstr serializedlength:4 lru:... lru_seconds_idle:...`,
/// plus `ql_nodes:... ql_avg_node:... ql_listpack_max:... ql_compressed:...
/// ql_uncompressed_size:...` for a quicklist.
fn debug_object(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(2);
    let options = super::dump::dump_options(ctx);
    let mut db = Keyspace::lock(ctx.server, ctx.client.db, ctx.now_ms, std::iter::once(key));
    let value = db.peek(key).ok_or(errors::NO_SUCH_KEY)?;
    let mut line = format!(
        "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        value as *const Value,
        value.encoding(),
        vireo_rdb::serialized_length(value, options),
        value.lru(),
        crate::lru_idle_secs(value.lru()),
    );
    // A quicklist also shows its shape, with Redis's field names.
    if let Value::List { l, .. } = value {
        if let Some(ql) = l.quicklist_info() {
            line.push_str(&format!(
                " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
                ql.nodes,
                ql.count as f64 / ql.nodes.max(1) as f64,
                ql.fill,
                u8::from(ql.compress_depth != 0),
                ql.uncompressed_size,
            ));
        }
    }
    drop(db);
    ctx.reply.simple(&line);
    Ok(())
}

fn time(ctx: &mut Ctx) -> CmdResult {
    let us = crate::unix_us();
    ctx.reply.array(2);
    ctx.reply.bulk_int(us / 1_000_000);
    ctx.reply.bulk_int(us % 1_000_000);
    Ok(())
}

fn lastsave(ctx: &mut Ctx) -> CmdResult {
    ctx.reply.int(info::last_save_time(ctx.server));
    Ok(())
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]. Vireo cannot save yet, so a shutdown
/// that would save (SAVE, or save points configured without NOSAVE) fails as a failed save
/// does in Redis — the server keeps running and the dataset stays in memory — unless
/// FORCE says to exit anyway. There are no replicas to wait for, so NOW changes nothing
/// and ABORT always finds no shutdown in progress.
fn shutdown(ctx: &mut Ctx) -> CmdResult {
    // NOW skips waiting for replicas to catch up; there are none to wait for.
    let (mut save, mut nosave, mut force, mut abort, mut now) = (false, false, false, false, false);
    for arg in &ctx.args[1..] {
        let flag = match arg.to_ascii_lowercase().as_slice() {
            b"save" => &mut save,
            b"nosave" => &mut nosave,
            b"force" => &mut force,
            b"abort" => &mut abort,
            b"now" => &mut now,
            _ => return Err(errors::SYNTAX.into()),
        };
        *flag = true;
    }
    if (abort && ctx.args.len() != 2) || (save && nosave) {
        return Err(errors::SYNTAX.into());
    }
    if abort {
        return Err("ERR No shutdown in progress.".into());
    }
    let _ = now;
    let wants_save = save || (!nosave && !ctx.server.config.read().save_points().is_empty());
    if wants_save {
        log_warning!("User requested shutdown...");
        log_notice!("Saving the final RDB snapshot before exiting.");
        log_warning!("Error trying to save the DB, can't exit: this version of Vireo cannot write RDB files yet.");
        if !force {
            log_warning!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            return Err("ERR Errors trying to SHUTDOWN. Check logs.".into());
        }
        log_warning!("FORCE given: exiting without saving; the dataset is lost.");
    }
    // No reply: the connection closes as the server goes down.
    ctx.server.request_shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_leading_digits() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"-3"), -3);
    }
}
