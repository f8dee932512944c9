//! Connection commands: PING, ECHO, SELECT, AUTH, HELLO, QUIT, RESET.

use super::{Cmd, CmdResult, Ctx};
use crate::client::ReplyMode;
use crate::errors;
use crate::{Server, REDIS_VERSION};
use std::sync::atomic::Ordering;
use vireo_resp::parse_int;

pub const COMMANDS: &[Cmd] = &[
    Cmd::manual("ping", ping),
    Cmd::manual("echo", echo),
    Cmd::manual("select", select),
    Cmd::manual("auth", auth),
    Cmd::manual("hello", hello),
    Cmd::manual("quit", quit),
    Cmd::manual("reset", reset),
];

fn ping(ctx: &mut Ctx) -> CmdResult {
    // A RESP2 subscriber gets its pong as a message-like array: "pong" and the argument.
    if ctx.client.subs.any() && !ctx.reply.resp3() {
        if ctx.args.len() > 2 {
            return Err(ctx.wrong_arity());
        }
        let arg = ctx.args.get(1).map_or(&b""[..], |a| &a[..]);
        ctx.reply.array(2);
        ctx.reply.bulk(b"pong");
        ctx.reply.bulk(arg);
        return Ok(());
    }
    match ctx.args.len() {
        1 => ctx.reply.simple("PONG"),
        2 => ctx.reply.bulk(ctx.arg(1)),
        _ => return Err(ctx.wrong_arity()),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx) -> CmdResult {
    ctx.reply.bulk(ctx.arg(1));
    Ok(())
}

fn select(ctx: &mut Ctx) -> CmdResult {
    let index = parse_int(ctx.arg(1)).ok_or(errors::NOT_INTEGER)?;
    if index < 0 || index as usize >= ctx.server.dbs.len() {
        return Err(errors::DB_INDEX_OUT_OF_RANGE.into());
    }
    ctx.client.select(index as usize);
    ctx.reply.ok();
    Ok(())
}

/// Checks a username/password pair against the default user (ACL users come later):
/// with no `requirepass` the default user takes any password.
fn check_password(server: &Server, user: &[u8], password: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &server.settings.read().requirepass {
        None => true,
        Some(pass) => constant_time_eq(pass, password),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn auth(ctx: &mut Ctx) -> CmdResult {
    let (user, password) = match ctx.args.len() {
        2 => {
            if ctx.server.settings.read().requirepass.is_none() {
                return Err(errors::AUTH_NOT_CONFIGURED.into());
            }
            (&b"default"[..], ctx.arg(1))
        }
        3 => (ctx.arg(1), ctx.arg(2)),
        _ => return Err(errors::SYNTAX.into()),
    };
    if !check_password(ctx.server, user, password) {
        return Err(errors::WRONGPASS.into());
    }
    ctx.client.authenticated = true;
    ctx.reply.ok();
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx) -> CmdResult {
    let mut protover = None;
    if ctx.args.len() >= 2 {
        let v = parse_int(ctx.arg(1))
            .ok_or("ERR Protocol version is not an integer or out of range")?;
        if !(2..=3).contains(&v) {
            return Err("NOPROTO unsupported protocol version".into());
        }
        protover = Some(v);
    }
    let mut credentials = None;
    let mut name = None;
    let mut i = 2;
    while i < ctx.args.len() {
        let more = ctx.args.len() - i - 1;
        let opt = ctx.arg(i);
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            credentials = Some((ctx.arg(i + 1), ctx.arg(i + 2)));
            i += 3;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(ctx.arg(i + 1));
            i += 2;
        } else {
            return Err(format!(
                "ERR Syntax error in HELLO option '{}'",
                errors::printable(opt, 128)
            )
            .into());
        }
    }
    if !ctx.client.authenticated && credentials.is_none() {
        return Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into());
    }
    if let Some((user, password)) = credentials {
        if !check_password(ctx.server, user, password) {
            return Err(errors::WRONGPASS.into());
        }
        ctx.client.authenticated = true;
    }
    if let Some(name) = name {
        let name = validate_client_name(name)?;
        ctx.client.handle.meta.lock().name = name;
    }
    if let Some(v) = protover {
        ctx.reply.set_resp3(v == 3);
        ctx.client
            .handle
            .resp
            .store(v as u32, std::sync::atomic::Ordering::Relaxed);
    }
    let proto = if ctx.reply.resp3() { 3 } else { 2 };
    let r = &mut *ctx.reply;
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(proto);
    r.bulk(b"id");
    r.int(ctx.client.id() as i64);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
    Ok(())
}

/// Client names may not contain spaces, newlines or other special characters; an empty
/// name clears it.
pub fn validate_client_name(name: &[u8]) -> Result<Option<String>, &'static str> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    Ok((!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned()))
}

fn quit(ctx: &mut Ctx) -> CmdResult {
    ctx.reply.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// RESET: the connection's state as if it had just connected — replies on, database 0,
/// RESP2, no name, NO-EVICT and NO-TOUCH off, and unauthenticated again when the default
/// user needs a password, no subscriptions, no transaction or watched keys, out of MONITOR
/// mode, tracking off. The library name and version stay, as in Redis.
fn reset(ctx: &mut Ctx) -> CmdResult {
    super::client::stop_monitoring(ctx);
    ctx.server.pubsub.unsubscribe_all(ctx.client);
    ctx.server.tracking.disable(&ctx.client.handle);
    super::multi::discard_transaction(ctx.server, ctx.client);
    let client = &mut *ctx.client;
    // A reply already being skipped by CLIENT REPLY SKIP stays skipped: Redis clears only
    // OFF and a SKIP that has not started.
    if client.reply_mode != ReplyMode::Skip {
        client.reply_mode = ReplyMode::On;
    }
    client.select(0);
    client.authenticated = ctx.server.settings.read().requirepass.is_none();
    ctx.reply.set_resp3(false);
    let handle = &client.handle;
    handle.resp.store(2, Ordering::Relaxed);
    handle.no_evict.store(false, Ordering::Relaxed);
    handle.no_touch.store(false, Ordering::Relaxed);
    {
        let mut meta = handle.meta.lock();
        meta.name = None;
        if meta.user != "default" {
            meta.user = "default".into();
        }
    }
    ctx.reply.simple("RESET");
    Ok(())
}
