//! CLIENT: a connection's own settings (ID, SETNAME, GETNAME, SETINFO, REPLY, NO-EVICT,
//! NO-TOUCH), the view of every connection (LIST, INFO, KILL, UNBLOCK), PAUSE and UNPAUSE,
//! and MONITOR.
//!
//! Other connections are seen through their `ClientHandle` in the server's registry: the
//! fields they publish (database, RESP version, name, last command, buffer sizes) and the
//! kill switch their connection task watches. A client line (`id=… addr=… … lib-ver=`) has
//! Redis 7.2's fields in Redis's order; what only the calling connection knows (its current
//! arguments, the replies it has pending) is filled in for the caller alone, as Redis's
//! values for other clients are those of a connection between two commands.

use super::connection::validate_client_name;
use super::{Cmd, CmdError, CmdResult, Ctx};
use crate::client::{flag, ClientHandle, ReplyMode};
use crate::errors;
use crate::pubsub::Kind;
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use vireo_resp::Reply;

pub const COMMANDS: &[Cmd] = &[
    Cmd::manual("client|id", id),
    Cmd::manual("client|setname", setname),
    Cmd::manual("client|getname", getname),
    Cmd::manual("client|setinfo", setinfo),
    Cmd::manual("client|list", list),
    Cmd::manual("client|info", info),
    Cmd::manual("client|kill", kill),
    Cmd::manual("client|unblock", unblock),
    Cmd::manual("client|reply", reply),
    Cmd::manual("client|no-evict", no_evict),
    Cmd::manual("client|no-touch", no_touch),
    Cmd::manual("client|pause", pause),
    Cmd::manual("client|unpause", unpause),
    Cmd::manual("client|help", help),
    Cmd::manual("monitor", monitor),
];

/// CLIENT ID
fn id(ctx: &mut Ctx) -> CmdResult {
    ctx.reply.int(ctx.client.id() as i64);
    Ok(())
}

/// CLIENT SETNAME name: an empty name clears it.
fn setname(ctx: &mut Ctx) -> CmdResult {
    let name = validate_client_name(ctx.arg(2))?;
    ctx.client.handle.meta.lock().name = name;
    ctx.reply.ok();
    Ok(())
}

/// CLIENT GETNAME
fn getname(ctx: &mut Ctx) -> CmdResult {
    match &ctx.client.handle.meta.lock().name {
        Some(name) => ctx.reply.bulk(name.as_bytes()),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// CLIENT SETINFO LIB-NAME name | LIB-VER version: what client library drives the
/// connection, shown in CLIENT LIST. An empty value clears it; RESET keeps both.
fn setinfo(ctx: &mut Ctx) -> CmdResult {
    let (attr, value) = (ctx.arg(2), ctx.arg(3));
    let is_name = attr.eq_ignore_ascii_case(b"lib-name");
    if !is_name && !attr.eq_ignore_ascii_case(b"lib-ver") {
        return Err(format!("ERR Unrecognized option '{}'", errors::printable(attr, 128)).into());
    }
    // The same charset as client names: a CLIENT LIST line must split on spaces.
    if value.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            errors::printable(attr, 128)
        )
        .into());
    }
    let value = (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned());
    let mut meta = ctx.client.handle.meta.lock();
    if is_name {
        meta.lib_name = value;
    } else {
        meta.lib_ver = value;
    }
    drop(meta);
    ctx.reply.ok();
    Ok(())
}

/// The kinds of connection CLIENT LIST TYPE and CLIENT KILL TYPE select.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Master,
    PubSub,
}

impl ClientType {
    fn parse(name: &[u8]) -> Result<ClientType, CmdError> {
        let lower = name.to_ascii_lowercase();
        Ok(match &lower[..] {
            b"normal" => ClientType::Normal,
            b"replica" | b"slave" => ClientType::Replica,
            b"master" => ClientType::Master,
            b"pubsub" => ClientType::PubSub,
            _ => {
                return Err(
                    format!("ERR Unknown client type '{}'", errors::printable(name, 128)).into(),
                )
            }
        })
    }

    /// A connection with subscriptions is a pubsub one; the others are normal (no
    /// connection is a replica or a master link in this server yet).
    fn of(client: &ClientHandle) -> ClientType {
        if client.outbox.subscribed() {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }
}

/// The connections CLIENT LIST and CLIENT KILL see: those not already being closed by a
/// kill (Redis frees a killed client at once), plus the caller itself.
fn visible_clients(ctx: &Ctx) -> Vec<Arc<ClientHandle>> {
    let me = ctx.client.id();
    let mut clients = ctx.server.clients.all();
    clients.retain(|c| c.id == me || !c.is_killed());
    clients
}

/// CLIENT LIST [TYPE type | ID id [id ...]]
fn list(ctx: &mut Ctx) -> CmdResult {
    let argc = ctx.args.len();
    let clients = if argc == 2 {
        visible_clients(ctx)
    } else if argc == 4 && ctx.arg(2).eq_ignore_ascii_case(b"type") {
        let wanted = ClientType::parse(ctx.arg(3))?;
        let mut clients = visible_clients(ctx);
        clients.retain(|c| ClientType::of(c) == wanted);
        clients
    } else if argc > 3 && ctx.arg(2).eq_ignore_ascii_case(b"id") {
        // In the order asked, repeats included; ids of no client are skipped.
        let visible = visible_clients(ctx);
        let mut clients = Vec::new();
        for arg in &ctx.args[3..] {
            let id = vireo_resp::parse_int(arg).ok_or("ERR Invalid client ID")?;
            clients.extend(visible.iter().filter(|c| c.id as i64 == id).cloned());
        }
        clients
    } else {
        return Err(errors::SYNTAX.into());
    };
    let mut text = String::with_capacity(clients.len() * 320);
    for client in &clients {
        write_client_line(&mut text, client, ctx.now_ms, caller_view(ctx, client));
        text.push('\n');
    }
    ctx.reply.verbatim("txt", text.as_bytes());
    Ok(())
}

/// CLIENT INFO: the caller's own CLIENT LIST line.
fn info(ctx: &mut Ctx) -> CmdResult {
    let mut text = String::with_capacity(320);
    let me = &ctx.client.handle;
    write_client_line(&mut text, me, ctx.now_ms, caller_view(ctx, me));
    text.push('\n');
    ctx.reply.verbatim("txt", text.as_bytes());
    Ok(())
}

/// What the connection running CLIENT LIST / INFO knows of itself mid-command: the
/// arguments it holds, the replies of its batch so far, and whether it closes after them.
pub(crate) struct CallerView<'a> {
    args: &'a [Bytes],
    reply: &'a Reply,
    closing: bool,
}

/// The caller's view when `client` is the connection running `ctx`.
fn caller_view<'a>(ctx: &'a Ctx, client: &ClientHandle) -> Option<CallerView<'a>> {
    (client.id == ctx.client.id()).then_some(CallerView {
        args: ctx.args,
        reply: &*ctx.reply,
        closing: ctx.client.close_after_reply,
    })
}

/// The CLIENT LIST line of `client` as another connection sees it (for logs).
pub(crate) fn client_line(client: &ClientHandle, now_ms: i64) -> String {
    let mut line = String::with_capacity(320);
    write_client_line(&mut line, client, now_ms, None);
    line
}

/// Output a connection holds between two commands: (`obl`, `oll`, `omem`, whether it
/// waits for its socket). The first REPLY_CHUNK bytes not written yet count as the reply
/// buffer, the rest as chunks of the reply list, with the messages and MONITOR lines
/// queued for the client.
fn pending_output(client: &ClientHandle) -> (usize, usize, usize, bool) {
    let (frames, queued) = client.outbox.pending();
    let unwritten = client.buffers.unwritten.load(Ordering::Relaxed);
    let obl = unwritten.min(REPLY_CHUNK);
    let rest = unwritten - obl;
    (
        obl,
        rest.div_ceil(REPLY_CHUNK) + frames,
        rest + queued,
        unwritten > 0 || frames > 0,
    )
}

/// Memory of a transaction being queued and of the client's watches (`multi-mem`).
fn multi_mem(client: &ClientHandle) -> usize {
    client.multi_mem.load(Ordering::Relaxed)
        + client.watched_keys.load(Ordering::Relaxed) * crate::client::WATCHED_KEY_MEM
}

/// `tot-mem`: the connection's own structures plus its buffers.
fn tot_mem(qbuf_total: usize, argv_mem: usize, multi_mem: usize, rbs: usize, omem: usize) -> usize {
    std::mem::size_of::<ClientHandle>()
        + std::mem::size_of::<crate::client::Client>()
        + qbuf_total
        + argv_mem
        + multi_mem
        + rbs
        + omem
}

/// A connection's input (query buffer and the arguments it holds) and output (what waits
/// for its socket, and messages on their way) in bytes, for INFO's
/// `client_recent_max_input_buffer` and `client_recent_max_output_buffer`.
pub(crate) fn buffer_usage(client: &ClientHandle) -> (usize, usize) {
    let buffers = &client.buffers;
    let input = buffers.query_len.load(Ordering::Relaxed)
        + buffers.query_free.load(Ordering::Relaxed)
        + client.argv_mem.load(Ordering::Relaxed);
    let (obl, _, omem, _) = pending_output(client);
    (input, obl + omem)
}

/// The memory a connection holds between two commands, as CLIENT LIST's `tot-mem` shows it
/// to another connection (what `maxmemory-clients` counts, and INFO's `mem_clients_normal`).
pub(crate) fn memory_of(client: &ClientHandle) -> usize {
    let buffers = &client.buffers;
    let (_, _, omem, _) = pending_output(client);
    tot_mem(
        buffers.query_len.load(Ordering::Relaxed) + buffers.query_free.load(Ordering::Relaxed),
        client.argv_mem.load(Ordering::Relaxed),
        multi_mem(client),
        buffers.reply_size.load(Ordering::Relaxed),
        omem,
    )
}

/// Appends the CLIENT LIST line of `client` (without the newline); `caller` when `client`
/// is the connection running the command.
fn write_client_line(
    out: &mut String,
    client: &ClientHandle,
    now: i64,
    caller: Option<CallerView>,
) {
    let meta = client.meta.lock().clone();
    let age = (now - client.created_ms).max(0) / 1000;
    // The caller's command was read just now; others were last heard from at their last read.
    let idle = if caller.is_some() {
        0
    } else {
        (now - client.last_interaction_ms.load(Ordering::Relaxed)).max(0) / 1000
    };
    let buffers = &client.buffers;
    let qbuf = buffers.query_len.load(Ordering::Relaxed);
    let qbuf_free = buffers.query_free.load(Ordering::Relaxed);
    let mut rbs = buffers.reply_size.load(Ordering::Relaxed);
    let mut rbp = buffers.reply_peak.load(Ordering::Relaxed);
    // The flags before `argv-mem`: a connection publishes the arguments it waits in before
    // it shows as blocked, so a line with `b` carries them.
    let flags = flag_letters(client, caller.as_ref().is_some_and(|c| c.closing));
    // A client has `w` in `events` while output waits for its socket.
    let (argv_mem, obl, oll, omem, writing);
    if let Some(caller) = &caller {
        // The caller is in the middle of a command: its arguments are held, and the
        // replies of the commands before it in the batch wait in the reply buffer.
        let (frames, queued) = client.outbox.pending();
        argv_mem = caller.args.iter().map(|a| a.len()).sum();
        obl = caller.reply.len();
        rbs = caller.reply.buf.capacity();
        rbp = rbp.max(obl);
        (oll, omem, writing) = (frames, queued, false);
    } else {
        // Between two commands, a connection holds no arguments, unless it waits in one
        // (blocked, paused).
        argv_mem = client.argv_mem.load(Ordering::Relaxed);
        (obl, oll, omem, writing) = pending_output(client);
    }
    let multi_mem = multi_mem(client);
    let outbox = &client.outbox;
    let (sub, psub, ssub) = (
        outbox.count(Kind::Channel),
        outbox.count(Kind::Pattern),
        outbox.count(Kind::Shard),
    );
    let tot_mem = tot_mem(qbuf + qbuf_free, argv_mem, multi_mem, rbs, omem);
    let events = if writing { "rw" } else { "r" };
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={age} idle={idle} flags={} db={} \
         sub={sub} psub={psub} ssub={ssub} multi={} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} \
         multi-mem={multi_mem} rbs={rbs} rbp={rbp} obl={obl} oll={oll} omem={omem} tot-mem={tot_mem} events={events} \
         cmd={} user={} redir={} resp={} lib-name={} lib-ver={}",
        client.id,
        client.addr,
        client.laddr,
        client.fd,
        meta.name.as_deref().unwrap_or(""),
        flags,
        client.db.load(Ordering::Relaxed),
        client.multi.load(Ordering::Relaxed),
        client.last_command().unwrap_or("NULL"),
        meta.user,
        client.tracking.redirect(),
        client.resp.load(Ordering::Relaxed),
        meta.lib_name.as_deref().unwrap_or(""),
        meta.lib_ver.as_deref().unwrap_or(""),
    );
}

/// The size of a connection's reply buffer, as CLIENT LIST's `obl` counts it; output beyond
/// it counts as reply list chunks of this size (Redis's PROTO_REPLY_CHUNK_BYTES).
const REPLY_CHUNK: usize = 16 * 1024;

/// The `flags=` letters, in Redis's order; `N` when there are none.
fn flag_letters(client: &ClientHandle, closing_after_reply: bool) -> String {
    // Acquire: what a connection stored before setting a flag (the arguments it waits in,
    // before `PAUSED`) is seen by whoever sees the flag.
    let bits = client.flags.load(Ordering::Acquire);
    let mut letters = String::new();
    if bits & flag::MONITOR != 0 {
        letters.push('O');
    }
    if client.outbox.subscribed() {
        letters.push('P');
    }
    if client.multi.load(Ordering::Relaxed) >= 0 {
        letters.push('x');
    }
    // Blocked by a command, or waiting for a CLIENT PAUSE to end.
    if bits & flag::PAUSED != 0
        || client
            .blocked
            .lock()
            .as_ref()
            .is_some_and(|w| w.is_blocked())
    {
        letters.push('b');
    }
    // Client-side caching: tracking on, its redirect target gone, BCAST mode.
    let tracking = client.tracking.flags();
    for (bit, letter) in [
        (crate::tracking::flag::ON, 't'),
        (crate::tracking::flag::BROKEN_REDIR, 'R'),
        (crate::tracking::flag::BCAST, 'B'),
    ] {
        if tracking & bit != 0 {
            letters.push(letter);
        }
    }
    // A watched key changed (Redis's CLIENT_DIRTY_CAS).
    if client.watch_dirty.load(Ordering::Relaxed) {
        letters.push('d');
    }
    if closing_after_reply || bits & flag::CLOSE_AFTER_REPLY != 0 {
        letters.push('c');
    }
    if client.is_killed() {
        letters.push('A');
    }
    if bits & flag::UNIX_SOCKET != 0 {
        letters.push('U');
    }
    if client.no_evict.load(Ordering::Relaxed) {
        letters.push('e');
    }
    if client.no_touch.load(Ordering::Relaxed) {
        letters.push('T');
    }
    if letters.is_empty() {
        letters.push('N');
    }
    letters
}

/// Which connections CLIENT KILL closes.
#[derive(Default)]
struct KillFilter<'a> {
    id: Option<u64>,
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    user: Option<&'a [u8]>,
    client_type: Option<ClientType>,
    /// Only connections older than this many seconds.
    max_age: Option<i64>,
    /// Spare the calling connection.
    skip_me: bool,
}

impl KillFilter<'_> {
    fn matches(&self, client: &ClientHandle, me: u64, now_ms: i64) -> bool {
        if self.skip_me && client.id == me {
            return false;
        }
        // Ages in whole seconds, as Redis keeps the creation time.
        let age = now_ms / 1000 - client.created_ms / 1000;
        if self.max_age.is_some_and(|max| age <= max) {
            return false;
        }
        if self.id.is_some_and(|id| id != client.id)
            || self.addr.is_some_and(|a| a != client.addr.as_bytes())
            || self.laddr.is_some_and(|a| a != client.laddr.as_bytes())
            || self
                .client_type
                .is_some_and(|t| t != ClientType::of(client))
        {
            return false;
        }
        match self.user {
            Some(user) => client.meta.lock().user.as_bytes() == user,
            None => true,
        }
    }
}

/// Does the user exist? Only `default` does until ACL users arrive.
fn user_exists(name: &[u8]) -> bool {
    name == b"default"
}

/// The filter form of CLIENT KILL: `<option> <value>` pairs.
fn parse_kill_filter<'a>(args: &'a [bytes::Bytes]) -> Result<KillFilter<'a>, CmdError> {
    let mut filter = KillFilter {
        skip_me: true,
        ..KillFilter::default()
    };
    for pair in args.chunks(2) {
        let [option, value] = pair else {
            return Err(errors::SYNTAX.into());
        };
        let option = option.to_ascii_lowercase();
        match &option[..] {
            b"id" => {
                let id = vireo_resp::parse_int(value)
                    .filter(|&id| id > 0)
                    .ok_or("ERR client-id should be greater than 0")?;
                filter.id = Some(id as u64);
            }
            b"type" => filter.client_type = Some(ClientType::parse(value)?),
            b"maxage" => {
                let age = vireo_resp::parse_int(value).ok_or(MAXAGE_NOT_INTEGER)?;
                if age <= 0 {
                    return Err(MAXAGE_NOT_POSITIVE.into());
                }
                filter.max_age = Some(age);
            }
            b"addr" => filter.addr = Some(value),
            b"laddr" => filter.laddr = Some(value),
            b"user" => {
                if !user_exists(value) {
                    return Err(
                        format!("ERR No such user '{}'", errors::printable(value, 128)).into(),
                    );
                }
                filter.user = Some(value);
            }
            b"skipme" => {
                filter.skip_me = if value.eq_ignore_ascii_case(b"yes") {
                    true
                } else if value.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(errors::SYNTAX.into());
                }
            }
            _ => return Err(errors::SYNTAX.into()),
        }
    }
    Ok(filter)
}

const MAXAGE_NOT_INTEGER: &str = "ERR maxage is not an integer or out of range";
const MAXAGE_NOT_POSITIVE: &str = "ERR maxage should be greater than 0";

/// CLIENT KILL ip:port, or CLIENT KILL <option> <value> [...] with ID, ADDR, LADDR, USER,
/// TYPE, MAXAGE (Redis 7.4: connections older than so many seconds) and SKIPME (default
/// yes). The old form may kill the caller and answers OK or
/// `No such client`; the filter form answers how many connections it closed. The caller
/// itself is closed after this reply is written.
fn kill(ctx: &mut Ctx) -> CmdResult {
    let old_form = ctx.args.len() == 3;
    let filter = if old_form {
        KillFilter {
            addr: Some(ctx.arg(2)),
            ..KillFilter::default()
        }
    } else {
        parse_kill_filter(&ctx.args[2..])?
    };
    let me = ctx.client.id();
    let mut killed = 0;
    for client in visible_clients(ctx) {
        if !filter.matches(&client, me, ctx.now_ms) {
            continue;
        }
        if client.id == me {
            ctx.client.close_after_reply = true;
        } else {
            client.kill();
        }
        killed += 1;
    }
    if !old_form {
        ctx.reply.int(killed);
    } else if killed == 0 {
        return Err("ERR No such client".into());
    } else {
        ctx.reply.ok();
    }
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP: ON answers OK; OFF and SKIP answer nothing (the dispatcher
/// drops the replies). SKIP while replies are off changes nothing.
fn reply(ctx: &mut Ctx) -> CmdResult {
    let mode = ctx.arg(2);
    if mode.eq_ignore_ascii_case(b"on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply.ok();
    } else if mode.eq_ignore_ascii_case(b"off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if mode.eq_ignore_ascii_case(b"skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(errors::SYNTAX.into());
    }
    Ok(())
}

/// `on` or `off`, case-insensitively.
fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err(errors::SYNTAX.into())
    }
}

/// CLIENT NO-EVICT ON|OFF: keep this connection out of client eviction.
fn no_evict(ctx: &mut Ctx) -> CmdResult {
    let on = on_off(ctx.arg(2))?;
    ctx.client.handle.no_evict.store(on, Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]: ends another client's blocking command as
/// if it timed out, or with the UNBLOCKED error. 1 if it was blocked, else 0.
fn unblock(ctx: &mut Ctx) -> CmdResult {
    let error = match ctx.args.len() {
        3 => false,
        4 if ctx.arg(3).eq_ignore_ascii_case(b"timeout") => false,
        4 if ctx.arg(3).eq_ignore_ascii_case(b"error") => true,
        4 => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
        _ => {
            return Err(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                errors::printable(ctx.arg(1), 128)
            )
            .into())
        }
    };
    let id = vireo_resp::parse_int(ctx.arg(2)).ok_or(errors::NOT_INTEGER)?;
    let unblocked = id > 0 && crate::blocking::unblock(ctx.server, id as u64, error);
    ctx.reply.int(unblocked as i64);
    Ok(())
}

/// CLIENT NO-TOUCH ON|OFF: this connection's reads leave keys' access times alone
/// (TOUCH still touches).
fn no_touch(ctx: &mut Ctx) -> CmdResult {
    let on = on_off(ctx.arg(2))?;
    ctx.client.handle.no_touch.store(on, Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

const PAUSE_MODE: &str = "ERR CLIENT PAUSE mode must be WRITE or ALL";

/// CLIENT PAUSE timeout [WRITE|ALL]: holds every client's commands (ALL, the default) or
/// those that may write (WRITE) for `timeout` milliseconds; see `crate::pause`.
fn pause(ctx: &mut Ctx) -> CmdResult {
    let all = match ctx.args.len() {
        3 => true,
        4 if ctx.arg(3).eq_ignore_ascii_case(b"write") => false,
        4 if ctx.arg(3).eq_ignore_ascii_case(b"all") => true,
        4 => return Err(PAUSE_MODE.into()),
        _ => {
            return Err(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                errors::printable(ctx.arg(1), 128)
            )
            .into())
        }
    };
    let timeout =
        vireo_resp::parse_int(ctx.arg(2)).ok_or("ERR timeout is not an integer or out of range")?;
    if timeout < 0 {
        return Err("ERR timeout is negative".into());
    }
    let end = ctx
        .now_ms
        .checked_add(timeout)
        .ok_or("ERR timeout is out of range")?;
    ctx.server.pause.pause(end, all, ctx.now_ms);
    ctx.reply.ok();
    Ok(())
}

/// CLIENT UNPAUSE: lifts the pause; the held commands run.
fn unpause(ctx: &mut Ctx) -> CmdResult {
    ctx.server.pause.unpause();
    ctx.reply.ok();
    Ok(())
}

/// MONITOR: from now on the connection receives a line for every command any client runs
/// (see `crate::monitor`) and may no longer touch keys, until RESET or QUIT. Not inside
/// a transaction; a second MONITOR answers nothing.
fn monitor(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.deny_blocking {
        return Err("ERR MONITOR isn't allowed for DENY BLOCKING client".into());
    }
    if ctx.client.monitor {
        return Ok(());
    }
    ctx.client.monitor = true;
    let handle = &ctx.client.handle;
    handle.set_flag(flag::MONITOR, true);
    ctx.server.monitors.add(handle.clone());
    ctx.reply.ok();
    Ok(())
}

/// Leaves MONITOR mode (RESET).
pub fn stop_monitoring(ctx: &mut Ctx) {
    if ctx.client.monitor {
        ctx.client.monitor = false;
        ctx.client.handle.set_flag(flag::MONITOR, false);
        ctx.server.monitors.remove(ctx.client.id());
    }
}

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of this connection, or nil when it has none.",
    "ID",
    "    Return the unique id of this connection.",
    "INFO",
    "    Return the CLIENT LIST line of this connection.",
    "KILL <ip:port>",
    "    Close the connection coming from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Close every connection matching all the options given:",
    "    * ID <client-id>",
    "      The connection with this id.",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Connections coming from this address.",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Connections made to this local address.",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Connections of this kind.",
    "    * USER <username>",
    "      Connections authenticated as <username>.",
    "    * MAXAGE <maxage>",
    "      Connections older than <maxage> seconds.",
    "    * SKIPME (YES|NO)",
    "      Whether to spare this connection (default: yes).",
    "LIST [options ...]",
    "    Describe every connection, one line each. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Only connections of this kind.",
    "    * ID <client-id> [<client-id> ...]",
    "      Only the connections with these ids.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Hold the commands of every client (ALL, default) or those that may write (WRITE)",
    "    for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Turn the replies to this connection on or off, or drop just the next one.",
    "SETINFO <option> <value>",
    "    Record what drives this connection, for CLIENT LIST. Options:",
    "    * LIB-NAME <name>",
    "      The client library's name.",
    "    * LIB-VER <version>",
    "      The client library's version.",
    "SETNAME <name>",
    "    Name this connection <name> (an empty name clears it).",
    "UNPAUSE",
    "    End a pause started by CLIENT PAUSE.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    End the blocking command of client <clientid>, as a timeout or with an error.",
    "NO-EVICT (ON|OFF)",
    "    Keep this connection out of client eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Stop this connection's commands from updating the access time of keys.",
    "HELP",
    "    Print this help.",
];

/// CLIENT HELP
fn help(ctx: &mut Ctx) -> CmdResult {
    ctx.reply_help(HELP)
}
