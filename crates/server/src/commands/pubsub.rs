//! Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB's
//! introspection. The registry and the delivery are in `crate::pubsub`.

use super::{Cmd, CmdResult, Ctx};
use crate::pubsub::{Kind, PubSub};

pub const COMMANDS: &[Cmd] = &[
    Cmd::manual("subscribe", subscribe),
    Cmd::manual("psubscribe", psubscribe),
    Cmd::manual("ssubscribe", ssubscribe),
    Cmd::manual("unsubscribe", unsubscribe),
    Cmd::manual("punsubscribe", punsubscribe),
    Cmd::manual("sunsubscribe", sunsubscribe),
    Cmd::manual("publish", publish),
    Cmd::manual("spublish", spublish),
    Cmd::manual("pubsub|channels", channels),
    Cmd::manual("pubsub|numsub", numsub),
    Cmd::manual("pubsub|numpat", numpat),
    Cmd::manual("pubsub|shardchannels", shardchannels),
    Cmd::manual("pubsub|shardnumsub", shardnumsub),
    Cmd::manual("pubsub|help", help),
];

/// The commands a RESP2 client may run while it has subscriptions.
const ALLOWED_WHEN_SUBSCRIBED: &[&str] = &[
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "ping",
    "quit",
    "reset",
];

/// The error for a command a RESP2 subscriber may not run (`name` as declared, e.g.
/// `get` or `client|list`), or None if it may.
pub fn check_subscribed_mode(name: &str) -> Option<String> {
    if ALLOWED_WHEN_SUBSCRIBED.contains(&name) {
        return None;
    }
    Some(format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))
}

fn kind_names(kind: Kind) -> (&'static [u8], &'static [u8]) {
    match kind {
        Kind::Channel => (b"subscribe", b"unsubscribe"),
        Kind::Pattern => (b"psubscribe", b"punsubscribe"),
        Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
    }
}

/// The count a (un)subscription reply carries: channels and patterns together, shard
/// channels apart, as Redis counts them.
fn reply_count(ctx: &Ctx, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => ctx.client.subs.shard_count() as i64,
        _ => ctx.client.subs.count() as i64,
    }
}

fn confirm(ctx: &mut Ctx, name: &[u8], channel: Option<&[u8]>, kind: Kind) {
    let count = reply_count(ctx, kind);
    let r = &mut *ctx.reply;
    r.push(3);
    r.bulk(name);
    match channel {
        Some(c) => r.bulk(c),
        None => r.null(),
    }
    r.int(count);
}

fn subscribe_kind(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let (name, _) = kind_names(kind);
    for i in 1..ctx.args.len() {
        let channel = ctx.arg(i);
        ctx.server.pubsub.subscribe(ctx.client, kind, channel);
        confirm(ctx, name, Some(channel), kind);
    }
    Ok(())
}

fn unsubscribe_kind(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let (_, name) = kind_names(kind);
    if ctx.args.len() > 1 {
        for i in 1..ctx.args.len() {
            let channel = ctx.arg(i);
            ctx.server.pubsub.unsubscribe(ctx.client, kind, channel);
            confirm(ctx, name, Some(channel), kind);
        }
        return Ok(());
    }
    let all = PubSub::subscribed(ctx.client, kind);
    if all.is_empty() {
        confirm(ctx, name, None, kind);
    }
    for channel in all {
        ctx.server.pubsub.unsubscribe(ctx.client, kind, &channel);
        confirm(ctx, name, Some(&channel), kind);
    }
    Ok(())
}

fn subscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_kind(ctx, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_kind(ctx, Kind::Pattern)
}

/// Unlike SUBSCRIBE and PSUBSCRIBE, which Redis keeps allowing inside MULTI for old
/// clients, SSUBSCRIBE refuses to run in a transaction.
const SSUBSCRIBE_DENY_BLOCKING: &str = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client";

fn ssubscribe(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.deny_blocking {
        return Err(SSUBSCRIBE_DENY_BLOCKING.into());
    }
    subscribe_kind(ctx, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_kind(ctx, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_kind(ctx, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_kind(ctx, Kind::Shard)
}

/// PUBLISH channel message. A RESP3 subscriber publishing to itself gets the reply first
/// and then the message, as in Redis 7.2 (7.0 sent the message first): the message waits
/// in the client's outbox like every other push.
fn publish(ctx: &mut Ctx) -> CmdResult {
    let n = ctx
        .server
        .pubsub
        .publish(ctx.server, ctx.arg(1), ctx.arg(2));
    ctx.reply.int(n as i64);
    Ok(())
}

/// SPUBLISH shardchannel message
fn spublish(ctx: &mut Ctx) -> CmdResult {
    let n = ctx
        .server
        .pubsub
        .spublish(ctx.server, ctx.arg(1), ctx.arg(2));
    ctx.reply.int(n as i64);
    Ok(())
}

fn list_names(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let pattern = (ctx.args.len() > 2).then(|| ctx.arg(2));
    let names = ctx.server.pubsub.names(kind, pattern);
    ctx.reply.array(names.len());
    for name in &names {
        ctx.reply.bulk(name);
    }
    Ok(())
}

fn count_subscribers(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let channels = &ctx.args[2..];
    ctx.reply.array(channels.len() * 2);
    for channel in channels {
        let n = ctx.server.pubsub.subscribers(kind, channel);
        ctx.reply.bulk(channel);
        ctx.reply.int(n as i64);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
fn channels(ctx: &mut Ctx) -> CmdResult {
    list_names(ctx, Kind::Channel)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn shardchannels(ctx: &mut Ctx) -> CmdResult {
    list_names(ctx, Kind::Shard)
}

/// PUBSUB NUMSUB [channel ...]
fn numsub(ctx: &mut Ctx) -> CmdResult {
    count_subscribers(ctx, Kind::Channel)
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
fn shardnumsub(ctx: &mut Ctx) -> CmdResult {
    count_subscribers(ctx, Kind::Shard)
}

/// PUBSUB NUMPAT: patterns with at least one subscriber.
fn numpat(ctx: &mut Ctx) -> CmdResult {
    ctx.reply.int(ctx.server.pubsub.len(Kind::Pattern) as i64);
    Ok(())
}

fn help(ctx: &mut Ctx) -> CmdResult {
    ctx.reply_help(&[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ])
}
