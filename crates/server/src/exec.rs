//! Dispatch: from a parsed request to a reply, in Redis's order of checks — command lookup,
//! subcommand lookup, arity, protected commands, authentication — then the shards of the
//! command's keys are locked, the handler runs, and statistics are recorded.

use crate::client::{Client, ReplyMode};
use crate::commands::{Command, Ctx, Locking};
use crate::errors;
use crate::keyspace::Keyspace;
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
    let mark = reply.len();
    run(server, client, args, reply, scratch);
    apply_reply_mode(client, reply, mark);
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
        return;
    };
    // CLIENT LIST shows the command even when it is then rejected, as in Redis.
    client.handle.set_last_command(cmd.spec);
    if !cmd.spec.arity_ok(args.len()) {
        return reject(server, cmd, reply, &errors::wrong_arity(cmd.spec.name));
    }
    if let Err(msg) = check_protected(server, client, cmd) {
        return reject(server, cmd, reply, &msg);
    }
    if !client.authenticated && cmd.spec.flags & flags::NO_AUTH == 0 {
        return reject(server, cmd, reply, errors::NOAUTH);
    }
    // A RESP2 subscriber may only run the pub/sub commands, PING, QUIT and RESET.
    if client.subs.any() && !reply.resp3() {
        if let Some(msg) = crate::commands::pubsub::check_subscribed_mode(cmd.spec.name) {
            return reject(server, cmd, reply, &msg);
        }
    }
    let Some(handler) = cmd.handler else {
        let msg = errors::NOT_IMPLEMENTED_YET.replace("%s", cmd.spec.name);
        return reject(server, cmd, reply, &msg);
    };

    // One wall-clock read starts the command: its time for expiry, and the start of its
    // duration for commandstats (Redis also times commands with the wall clock).
    let start_us = crate::unix_us();
    let now_ms = start_us / 1000;
    let db_index = client.db;
    let mut db = if cmd.locking == Locking::Keys && !cmd.spec.key_specs.is_empty() {
        scratch.keys.clear();
        // On an error here the handler reports it (bad numkeys and the like) before
        // touching any key, so nothing is locked.
        let _ = vireo_cmdspec::key_positions(cmd.spec, args, &mut scratch.keys);
        let keys = scratch.keys.iter().map(|k| &args[k.pos][..]);
        Keyspace::lock(server, db_index, now_ms, keys)
    } else {
        Keyspace::empty(server, db_index, now_ms)
    };
    // CLIENT NO-TOUCH: lookups leave the access clock alone, except TOUCH itself.
    if client.handle.no_touch.load(Ordering::Relaxed) && cmd.spec.name != "touch" {
        db.set_touch(false);
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
        // Clients blocked on keys the command wrote are served before the locks go.
        if ctx.db.has_ready() {
            crate::blocking::serve_ready(&mut ctx);
        }
        result
    };
    let usec = (crate::unix_us() - start_us).max(0) as u64;
    Stats::add(&cmd.stats.calls, 1);
    Stats::add(&cmd.stats.usec, usec);
    if let Err(e) = result {
        Stats::add(&cmd.stats.failed_calls, 1);
        server.stats.record_error(&e.0);
        reply.error(&e.0);
    }
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

fn reject(server: &Server, cmd: &Command, reply: &mut Reply, msg: &str) {
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
