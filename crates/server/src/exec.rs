//! Dispatch: from a parsed request to a reply, in Redis's order of checks — command lookup,
//! subcommand lookup, arity, protected commands, authentication — then the shards of the
//! command's keys are locked, the handler runs, and statistics are recorded.

use crate::client::{Client, ReplyMode};
use crate::commands::multi;
use crate::commands::{Command, Ctx, Handler, Locking};
use crate::errors;
use crate::keyspace::Keyspace;
use crate::propagate::Op;
use crate::stats::Stats;
use crate::Server;
use bytes::Bytes;
use std::sync::atomic::Ordering;
use vireo_cmdspec::{flags, KeyRef};
use vireo_config::Permission;
use vireo_resp::Reply;

/// Scratch space a connection reuses from command to command.
#[derive(Default)]
pub struct Scratch {
    keys: Vec<KeyRef>,
}

/// Runs one command and appends its reply.
pub fn execute(
    server: &Server,
    client: &mut Client,
    args: &[Bytes],
    reply: &mut Reply,
    scratch: &mut Scratch,
) {
    // tracking-table-max-keys is enforced before each command, as in Redis. Invalidations
    // a tracking client was sent before this command (those too) precede its reply, as
    // they would already sit in Redis's output buffer.
    if server.tracking.clients() > 0 {
        server.tracking.enforce_limit(server, client.id());
        if client.handle.tracking.is_on() {
            client.handle.outbox.drain_into(&mut reply.buf);
        }
    }
    let mark = reply.len();
    run(server, client, args, reply, scratch);
    if client.postponed {
        // CLIENT PAUSE: the connection runs it again once the pause is over.
        return;
    }
    apply_reply_mode(client, reply, mark);
    if client.handle.tracking.flags() != 0 || client.handle.tracking.has_deferred() {
        crate::tracking::after_command(server, client, args, reply);
    }
    // Ready keys whose blocked clients needed a busy shard (rare; one load otherwise).
    if server.blocking.has_deferred() {
        crate::blocking::serve_deferred(server, client);
    }
}

fn run(
    server: &Server,
    client: &mut Client,
    args: &[Bytes],
    reply: &mut Reply,
    scratch: &mut Scratch,
) {
    let Some(cmd) = resolve(server, args, reply) else {
        multi::flag_error(client);
        return;
    };
    // CLIENT LIST shows the command even when it is then rejected, as in Redis.
    client.handle.set_last_command(cmd.spec);
    if !cmd.spec.arity_ok(args.len()) {
        return reject(
            server,
            client,
            cmd,
            reply,
            &errors::wrong_arity(cmd.spec.name),
        );
    }
    if let Err(msg) = check_protected(server, client, cmd) {
        return reject(server, client, cmd, reply, &msg);
    }
    if !client.authenticated && cmd.spec.flags & flags::NO_AUTH == 0 {
        return reject(server, client, cmd, reply, errors::NOAUTH);
    }
    let in_multi = client.multi.is_some();
    if in_multi && cmd.spec.flags & flags::NO_MULTI != 0 {
        return reject(server, client, cmd, reply, multi::NOT_ALLOWED);
    }
    // maxmemory: evict first; refuse what may grow memory if that failed.
    if server.eviction.limited() && out_of_memory(server, client, cmd, args) {
        return reject(server, client, cmd, reply, errors::OOM);
    }
    // A RESP2 subscriber may only run the pub/sub commands, PING, QUIT and RESET.
    if client.subs.any() && !reply.resp3() {
        if let Some(msg) = crate::commands::pubsub::check_subscribed_mode(cmd.spec.name) {
            return reject(server, client, cmd, reply, &msg);
        }
    }
    let Some(handler) = cmd.handler else {
        let msg = errors::NOT_IMPLEMENTED_YET.replace("%s", cmd.spec.name);
        return reject(server, client, cmd, reply, &msg);
    };
    if client.monitor && cmd.spec.flags & KEYSPACE_FLAGS != 0 {
        return reject(server, client, cmd, reply, MONITOR_KEYSPACE);
    }
    // CLIENT PAUSE holds the command back (monitors are never paused).
    if server.pause.any() && !client.monitor {
        let write = may_write(server, client, cmd);
        if server.pause.holds(write, crate::unix_ms()).is_some() {
            client.postponed = true;
            return;
        }
    }
    if in_multi && !multi::runs_inside_multi(cmd.spec.name) {
        multi::queue(client, args);
        reply.simple("QUEUED");
        return;
    }
    // Every command passes the exclusive gate, except EXEC, which may need it exclusively
    // (see `run_transaction`).
    let _gate = (cmd.spec.name != "exec")
        .then(|| server.gate.enter(client.id(), runs_exclusively(cmd, args)));
    call(
        server,
        client,
        cmd,
        handler,
        args,
        reply,
        &mut scratch.keys,
        None,
    );
}

/// Runs an eviction pass (`crate::evict`) and tells whether the command must be refused
/// for lack of memory, as Redis's processCommand: a `denyoom` command, an EXEC with one
/// queued, and inside MULTI anything but EXEC, DISCARD, QUIT and RESET (queuing takes
/// memory too).
fn out_of_memory(server: &Server, client: &Client, cmd: &Command, args: &[Bytes]) -> bool {
    let name = cmd.spec.name;
    let queue_only =
        client.multi.is_some() && !matches!(name, "exec" | "discard" | "quit" | "reset");
    let denyoom = cmd.spec.flags & flags::DENYOOM != 0
        || (name == "exec"
            && client.multi.as_ref().is_some_and(|m| {
                m.queued
                    .iter()
                    .any(|q| lookup_queued(server, q).spec.flags & flags::DENYOOM != 0)
            }));
    let arg_bytes = if denyoom {
        args.iter().map(|a| a.len() as u64).sum()
    } else {
        0
    };
    crate::evict::refuses(server, client.id(), denyoom, queue_only, arg_bytes)
}

/// EXEC refused before it runs (arity, authentication, memory, RESP2 subscribed mode...),
/// inside MULTI or not: the transaction, if any, is discarded and the reason given in an
/// EXECABORT, as Redis's execCommandAbort, without the reason's `ERR ` code.
fn abort_exec(server: &Server, client: &mut Client, cmd: &Command, reply: &mut Reply, why: &str) {
    multi::discard_transaction(server, client);
    let why = why.strip_prefix("ERR ").unwrap_or(why);
    let msg = format!("EXECABORT Transaction discarded because of: {why}");
    Stats::add(&cmd.stats.rejected_calls, 1);
    server.stats.record_error(&msg);
    reply.error(&msg);
}

/// Writes that lock for themselves (FLUSHDB, FLUSHALL, SWAPDB, MOVE, COPY, SORT ... STORE)
/// release their locks before their writes are fed to the propagation stream: they run
/// with no other command beside them, so the stream still has them in the order they ran.
fn runs_exclusively(cmd: &Command, args: &[Bytes]) -> bool {
    if cmd.locking != Locking::Manual || cmd.spec.flags & flags::WRITE == 0 {
        return false;
    }
    cmd.spec.name != "sort" || args.iter().any(|a| a.eq_ignore_ascii_case(b"store"))
}

/// The flags of commands that touch the keyspace, which a monitor may not run.
const KEYSPACE_FLAGS: u32 = flags::READONLY | flags::WRITE | flags::MAY_REPLICATE;
const MONITOR_KEYSPACE: &str = "ERR Replica can't interact with the keyspace";

/// Whether a CLIENT PAUSE WRITE holds `cmd` back: it may write or replicate, or it is the
/// EXEC of a transaction holding such a command.
fn may_write(server: &Server, client: &Client, cmd: &Command) -> bool {
    const WRITING: u32 = flags::WRITE | flags::MAY_REPLICATE;
    if cmd.spec.flags & WRITING != 0 {
        return true;
    }
    match &client.multi {
        Some(multi) if cmd.spec.name == "exec" => multi
            .queued
            .iter()
            .any(|args| lookup_queued(server, args).spec.flags & WRITING != 0),
        _ => false,
    }
}

/// Runs a command that passed the checks: locks the shards of its keys, runs the
/// handler, serves the clients its writes made ready, records statistics. Inside an
/// exclusive transaction its writes join `tx_unit`.
#[allow(clippy::too_many_arguments)]
fn call(
    server: &Server,
    client: &mut Client,
    cmd: &Command,
    handler: Handler,
    args: &[Bytes],
    reply: &mut Reply,
    keys: &mut Vec<KeyRef>,
    tx_unit: Option<&mut Vec<Op>>,
) {
    // One wall-clock read starts the command: its time for expiry, and the start of its
    // duration for commandstats (Redis also times commands with the wall clock).
    let start_us = crate::unix_us();
    let now_ms = start_us / 1000;
    let db_index = client.db;
    let mut db = if cmd.locking == Locking::Keys && !cmd.spec.key_specs.is_empty() {
        match cmd.single_key {
            Some(i) if i < args.len() => {
                Keyspace::lock(server, db_index, now_ms, std::iter::once(&args[i][..]))
            }
            _ => {
                // On an error here the handler reports it (bad numkeys and the like)
                // before touching any key, so nothing is locked.
                let _ = vireo_cmdspec::key_positions(cmd.spec, args, keys);
                let keys = keys.iter().map(|k| &args[k.pos][..]);
                Keyspace::lock(server, db_index, now_ms, keys)
            }
        }
    } else {
        Keyspace::empty(server, db_index, now_ms)
    };
    call_on(
        server, client, cmd, handler, args, reply, &mut db, now_ms, start_us, tx_unit,
    );
    drop(db);
}

/// Runs a command's handler on `db`, already locked for it.
///
/// Outside a transaction (`tx_unit` is None) the command's writes are fed to the
/// propagation stream, then the clients blocked on keys it wrote are served, all before
/// the locks go. Inside one, its writes join `tx_unit` and the transaction serves blocked
/// clients after its last command.
#[allow(clippy::too_many_arguments)]
fn call_on<'k>(
    server: &Server,
    client: &mut Client,
    cmd: &Command,
    handler: Handler,
    args: &[Bytes],
    reply: &mut Reply,
    db: &mut Keyspace<'k>,
    now_ms: i64,
    start_us: i64,
    tx_unit: Option<&mut Vec<Op>>,
) {
    // CLIENT NO-TOUCH: lookups leave the access clock alone, except TOUCH itself.
    let no_touch = client.handle.no_touch.load(Ordering::Relaxed) && cmd.spec.name != "touch";
    db.set_touch(!no_touch);
    db.set_client(client.id());
    // Client-side caching remembers the keys of a tracking client's reads. A command
    // that locks for itself has released its locks when it returns, so its keys are
    // remembered before it runs as well: a write in between is then still announced.
    let remember = cmd.spec.flags & (flags::READONLY | flags::PUBSUB) == flags::READONLY
        && crate::tracking::remembers(client.handle.tracking.flags());
    if remember && cmd.locking == Locking::Manual {
        remember_keys(server, client, cmd, args);
    }
    let result = {
        let mut ctx = Ctx {
            server,
            client,
            args,
            reply,
            db,
            now_ms,
        };
        let result = handler(&mut ctx);
        if remember {
            // Still under the command's locks: no write to these keys comes in between.
            remember_keys(server, ctx.client, cmd, args);
        }
        let db_index = ctx.db.db_index();
        let serve = tx_unit.is_none();
        if server.propagation.active() {
            match tx_unit {
                Some(unit) => ctx.client.effects.finish(db_index, args, unit),
                None => {
                    let mut unit = Vec::new();
                    ctx.client.effects.finish(db_index, args, &mut unit);
                    server.propagation.feed(unit, false);
                }
            }
        } else {
            ctx.client.effects.reset();
        }
        // Clients blocked on keys the command wrote are served before the locks go.
        if serve && ctx.db.has_ready() {
            crate::blocking::serve_ready(&mut ctx);
        }
        result
    };
    // MONITOR shows what ran, in the database the command left the client in.
    if server.monitors.any() && cmd.spec.flags & (flags::ADMIN | flags::SKIP_MONITOR) == 0 {
        server
            .monitors
            .feed(server, &client.handle, client.db, args);
    }
    let usec = (crate::unix_us() - start_us).max(0) as u64;
    Stats::add(&cmd.stats.calls, 1);
    Stats::add(&cmd.stats.usec, usec);
    if let Err(e) = result {
        Stats::add(&cmd.stats.failed_calls, 1);
        server.stats.record_error(&e.0);
        reply.error(&e.0);
    }
}

/// Remembers the keys of a read-only command for its tracking client (`crate::tracking`).
fn remember_keys(server: &Server, client: &Client, cmd: &Command, args: &[Bytes]) {
    let mut positions = Vec::new();
    if vireo_cmdspec::key_positions(cmd.spec, args, &mut positions).is_ok() {
        let keys = positions.iter().map(|k| &args[k.pos][..]);
        server.tracking.remember(client.id(), keys);
    }
}

/// EXEC: runs the queued commands as one step (see `commands::multi`), replying with the
/// array of their replies, or with a null array when a watched key changed.
pub(crate) fn run_transaction(
    server: &Server,
    client: &mut Client,
    reply: &mut Reply,
    queued: &[Vec<Bytes>],
    now_ms: i64,
) {
    let cmds: Vec<&Command> = queued
        .iter()
        .map(|args| lookup_queued(server, args))
        .collect();
    let isolated = cmds
        .iter()
        .all(|c| c.locking == Locking::Keys || !multi::needs_own_locking(c.spec.name));
    let mut keys: Vec<&[u8]> = Vec::new();
    if isolated {
        let mut positions = Vec::new();
        for (cmd, args) in cmds.iter().zip(queued) {
            if cmd.locking == Locking::Keys && !cmd.spec.key_specs.is_empty() {
                let _ = vireo_cmdspec::key_positions(cmd.spec, args, &mut positions);
                keys.extend(positions.iter().map(|k| &args[k.pos][..]));
            }
        }
    }
    // A transaction that cannot name its shards runs in exclusive mode: no other command
    // runs until it is done (EXEC itself does not hold the gate).
    let gate = if isolated {
        Err(server.gate.shared(client.id()))
    } else {
        Ok(server.gate.exclusive())
    };
    let mut db = Keyspace::lock(server, client.db, now_ms, keys.into_iter());
    // Checked under the transaction's locks: a change after this is ordered after it.
    if client.handle.watch_dirty.load(Ordering::Acquire) {
        reply.null_array();
        return;
    }
    reply.array(queued.len());
    let deny_blocking = std::mem::replace(&mut client.deny_blocking, true);
    if isolated {
        // The writes of the whole transaction propagate as one MULTI/EXEC unit.
        let mut unit = Vec::new();
        for (cmd, args) in cmds.iter().zip(queued) {
            let handler = cmd.handler.expect("checked when queued");
            let start_us = crate::unix_us();
            call_on(
                server,
                client,
                cmd,
                handler,
                args,
                reply,
                &mut db,
                now_ms,
                start_us,
                Some(&mut unit),
            );
        }
        server.propagation.feed(unit, true);
        client.deny_blocking = deny_blocking;
        // Keys the transaction made ready serve their blocked clients now, still
        // under its locks.
        if db.has_ready() {
            let mut ctx = Ctx {
                server,
                client,
                args: &[],
                reply: &mut Reply::new(),
                db: &mut db,
                now_ms,
            };
            crate::blocking::serve_ready(&mut ctx);
        }
    } else {
        // Exclusive mode: each command locks for itself, with nothing in between, and
        // the writes of all of them propagate as one MULTI/EXEC unit.
        drop(db);
        let mut positions = Vec::new();
        let mut unit = Vec::new();
        for (cmd, args) in cmds.iter().zip(queued) {
            let handler = cmd.handler.expect("checked when queued");
            call(
                server,
                client,
                cmd,
                handler,
                args,
                reply,
                &mut positions,
                Some(&mut unit),
            );
        }
        server.propagation.feed(unit, true);
        client.deny_blocking = deny_blocking;
    }
    drop(gate);
}

/// The command a queued request names (it was found when queued).
fn lookup_queued<'s>(server: &'s Server, args: &[Bytes]) -> &'s Command {
    let cmd = server
        .commands
        .lookup(&args[0])
        .expect("checked when queued");
    if cmd.subcommands.is_empty() || args.len() < 2 {
        return cmd;
    }
    cmd.subcommand(&args[1]).expect("checked when queued")
}

/// Finds the command (or subcommand) named by the request, or replies with Redis's
/// unknown-command error.
fn resolve<'s>(server: &'s Server, args: &[Bytes], reply: &mut Reply) -> Option<&'s Command> {
    let Some(cmd) = server.commands.lookup(&args[0]) else {
        let msg = errors::unknown_command(args);
        server.stats.record_error(&msg);
        reply.error(&msg);
        return None;
    };
    if cmd.subcommands.is_empty() || args.len() < 2 {
        // A container without its subcommand fails the container's own arity check.
        return Some(cmd);
    }
    match cmd.subcommand(&args[1]) {
        Some(sub) => Some(sub),
        None => {
            let msg = errors::unknown_subcommand(cmd.spec.name, &args[1]);
            server.stats.record_error(&msg);
            reply.error(&msg);
            None
        }
    }
}

/// DEBUG and MODULE are refused unless `enable-debug-command` / `enable-module-command`
/// allow them (`yes`, or `local` for loopback and unix-socket clients).
fn check_protected(server: &Server, client: &Client, cmd: &Command) -> Result<(), String> {
    if cmd.spec.flags & flags::PROTECTED == 0 {
        return Ok(());
    }
    let (directive, name) = if cmd.spec.name == "module" || cmd.spec.name.starts_with("module|") {
        ("enable-module-command", "MODULE")
    } else {
        ("enable-debug-command", "DEBUG")
    };
    let setting = server.settings.read().protected_command(directive);
    let allowed = match setting {
        Permission::Yes => true,
        Permission::Local => client.is_local(),
        Permission::No => false,
    };
    if allowed {
        return Ok(());
    }
    Err(format!(
        "ERR {name} command not allowed. If the {directive} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
    ))
}

fn reject(server: &Server, client: &mut Client, cmd: &Command, reply: &mut Reply, msg: &str) {
    if cmd.spec.name == "exec" {
        return abort_exec(server, client, cmd, reply, msg);
    }
    multi::flag_error(client);
    Stats::add(&cmd.stats.rejected_calls, 1);
    server.stats.record_error(msg);
    reply.error(msg);
}

/// CLIENT REPLY OFF / SKIP: drop what the command wrote.
fn apply_reply_mode(client: &mut Client, reply: &mut Reply, mark: usize) {
    match client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => reply.truncate(mark),
        ReplyMode::Skip => {
            reply.truncate(mark);
            client.reply_mode = ReplyMode::On;
        }
        ReplyMode::SkipNext => client.reply_mode = ReplyMode::Skip,
    }
}
