//! Client-side caching commands: CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO. The
//! table of tracked keys, the BCAST prefixes and the invalidation messages are in
//! `crate::tracking`; these commands set a connection's mode and report it.

use super::{args, Cmd, CmdError, CmdResult, Ctx};
use crate::errors;
use crate::tracking::flag;
use bytes::Bytes;

pub const COMMANDS: &[Cmd] = &[
    Cmd::manual("client|tracking", tracking),
    Cmd::manual("client|caching", caching),
    Cmd::manual("client|getredir", getredir),
    Cmd::manual("client|trackinginfo", trackinginfo),
];

const REDIRECT_TWICE: &str = "ERR A client can only redirect to a single other client";
const NO_SUCH_REDIRECT: &str = "ERR The client ID you want redirect to does not exist";
const PREFIX_WITHOUT_BCAST: &str = "ERR PREFIX option requires BCAST mode to be enabled";
const SWITCH_BCAST: &str = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
const BCAST_WITH_OPTIN_OPTOUT: &str = "ERR OPTIN and OPTOUT are not compatible with BCAST";
const OPTIN_AND_OPTOUT: &str = "ERR You can't specify both OPTIN mode and OPTOUT mode";
const SWITCH_OPTIN_OPTOUT: &str = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
const CACHING_WITHOUT_TRACKING: &str = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";
const CACHING_YES_WITHOUT_OPTIN: &str =
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
const CACHING_NO_WITHOUT_OPTOUT: &str =
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";

/// The options of CLIENT TRACKING, as given.
#[derive(Default)]
struct Options {
    /// REDIRECT id; 0 when not given.
    redirect: u64,
    /// BCAST OPTIN OPTOUT NOLOOP as `tracking::flag` bits.
    flags: u32,
    prefixes: Vec<Bytes>,
}

/// Reads the options after ON/OFF, in order, as Redis does: a REDIRECT must name a
/// connected client even for OFF.
fn parse_options(ctx: &Ctx) -> Result<Options, CmdError> {
    let mut options = Options::default();
    let mut i = 3;
    while i < ctx.args.len() {
        let arg = ctx.arg(i);
        let has_value = i + 1 < ctx.args.len();
        if args::is(arg, "redirect") && has_value {
            i += 1;
            if options.redirect != 0 {
                return Err(REDIRECT_TWICE.into());
            }
            let id = vireo_resp::parse_int(ctx.arg(i)).ok_or(errors::NOT_INTEGER)?;
            let exists = u64::try_from(id).is_ok_and(|id| ctx.server.clients.get(id).is_some());
            if !exists {
                return Err(NO_SUCH_REDIRECT.into());
            }
            options.redirect = id as u64;
        } else if args::is(arg, "prefix") && has_value {
            i += 1;
            options.prefixes.push(ctx.args[i].clone());
        } else if args::is(arg, "bcast") {
            options.flags |= flag::BCAST;
        } else if args::is(arg, "optin") {
            options.flags |= flag::OPTIN;
        } else if args::is(arg, "optout") {
            options.flags |= flag::OPTOUT;
        } else if args::is(arg, "noloop") {
            options.flags |= flag::NOLOOP;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    Ok(options)
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT]
/// [NOLOOP]
fn tracking(ctx: &mut Ctx) -> CmdResult {
    let options = parse_options(ctx)?;
    let handle = ctx.client.handle.clone();
    if args::is(ctx.arg(2), "on") {
        check_on(ctx, &options)?;
        ctx.server
            .tracking
            .enable(&handle, options.redirect, options.flags, &options.prefixes);
    } else if args::is(ctx.arg(2), "off") {
        ctx.server.tracking.disable(&handle);
    } else {
        return Err(errors::SYNTAX.into());
    }
    ctx.reply.ok();
    Ok(())
}

/// The checks before turning tracking on, in Redis's order: the options must agree with
/// each other and with the mode already on, and BCAST prefixes must not overlap.
fn check_on(ctx: &Ctx, options: &Options) -> CmdResult {
    let wanted = options.flags;
    let current = ctx.client.handle.tracking.flags();
    let bcast = wanted & flag::BCAST != 0;
    if !bcast && !options.prefixes.is_empty() {
        return Err(PREFIX_WITHOUT_BCAST.into());
    }
    if current & flag::ON != 0 && (current & flag::BCAST != 0) != bcast {
        return Err(SWITCH_BCAST.into());
    }
    let (optin, optout) = (wanted & flag::OPTIN != 0, wanted & flag::OPTOUT != 0);
    if bcast && (optin || optout) {
        return Err(BCAST_WITH_OPTIN_OPTOUT.into());
    }
    if optin && optout {
        return Err(OPTIN_AND_OPTOUT.into());
    }
    if (optin && current & flag::OPTOUT != 0) || (optout && current & flag::OPTIN != 0) {
        return Err(SWITCH_OPTIN_OPTOUT.into());
    }
    if bcast {
        check_prefix_overlaps(ctx, &options.prefixes)?;
    }
    Ok(())
}

/// A client's prefixes may not overlap (one a prefix of the other), neither with those it
/// has nor among the new ones: a key would otherwise be announced twice.
fn check_prefix_overlaps(ctx: &Ctx, prefixes: &[Bytes]) -> CmdResult {
    let existing = ctx.client.handle.tracking.prefixes();
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    for (i, prefix) in prefixes.iter().enumerate() {
        if let Some(old) = existing.iter().find(|old| overlap(old, prefix)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(prefix),
                text(old)
            )
            .into());
        }
        if let Some(other) = prefixes[i + 1..].iter().find(|p| overlap(p, prefix)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                text(prefix),
                text(other)
            )
            .into());
        }
    }
    Ok(())
}

/// CLIENT CACHING YES|NO — in OPTIN mode, YES has the next command's reads remembered;
/// in OPTOUT mode, NO has them not remembered. It lasts for one command, or for the
/// whole of a transaction.
fn caching(ctx: &mut Ctx) -> CmdResult {
    let state = &ctx.client.handle.tracking;
    let flags = state.flags();
    if flags & flag::ON == 0 {
        return Err(CACHING_WITHOUT_TRACKING.into());
    }
    let arg = ctx.arg(2);
    if args::is(arg, "yes") {
        if flags & flag::OPTIN == 0 {
            return Err(CACHING_YES_WITHOUT_OPTIN.into());
        }
    } else if args::is(arg, "no") {
        if flags & flag::OPTOUT == 0 {
            return Err(CACHING_NO_WITHOUT_OPTOUT.into());
        }
    } else {
        return Err(errors::SYNTAX.into());
    }
    state.set_caching();
    ctx.reply.ok();
    Ok(())
}

/// CLIENT GETREDIR — the redirect id, 0 when tracking without one, -1 when not tracking.
fn getredir(ctx: &mut Ctx) -> CmdResult {
    ctx.reply.int(ctx.client.handle.tracking.redirect());
    Ok(())
}

/// CLIENT TRACKINGINFO — a map of the flags (a set), the redirect and the prefixes.
fn trackinginfo(ctx: &mut Ctx) -> CmdResult {
    let state = &ctx.client.handle.tracking;
    let flags = state.flags();
    let mut names: smallvec::SmallVec<[&str; 6]> = smallvec::SmallVec::new();
    names.push(if flags & flag::ON != 0 { "on" } else { "off" });
    if flags & flag::BCAST != 0 {
        names.push("bcast");
    }
    if flags & flag::OPTIN != 0 {
        names.push("optin");
        if flags & flag::CACHING != 0 {
            names.push("caching-yes");
        }
    }
    if flags & flag::OPTOUT != 0 {
        names.push("optout");
        if flags & flag::CACHING != 0 {
            names.push("caching-no");
        }
    }
    if flags & flag::NOLOOP != 0 {
        names.push("noloop");
    }
    if flags & flag::BROKEN_REDIR != 0 {
        names.push("broken_redirect");
    }
    let prefixes = state.prefixes();
    let reply = &mut *ctx.reply;
    reply.map(3);
    reply.bulk(b"flags");
    reply.set(names.len());
    for name in names {
        reply.bulk(name.as_bytes());
    }
    reply.bulk(b"redirect");
    reply.int(state.redirect());
    reply.bulk(b"prefixes");
    reply.array(prefixes.len());
    for prefix in &prefixes {
        reply.bulk(prefix);
    }
    Ok(())
}
