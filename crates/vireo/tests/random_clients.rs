//! A seeded random differential test of what happens *between* clients: transactions and
//! WATCH, pub/sub in RESP2 and RESP3, keyspace notifications, client-side caching and
//! CLIENT REPLY, played step by step against vireo-server and redis-server.
//!
//! Both servers get the same `CLIENTS` connections, opened in the same order, some speaking
//! RESP3. Each step picks a client and a command, sends it to both servers and then makes
//! everything that command caused observable: a barrier `PING <token>` behind the command
//! on its own client (so the command has run: vireo runs connections in parallel), a round
//! trip on an observer connection (so that a reference server has run its end-of-iteration
//! work, such as broadcast-mode invalidations), then a barrier on every client that is not
//! inside MULTI.
//! Everything a client receives before the barrier's reply (the command's own replies,
//! pub/sub messages, pushes, invalidations) is that client's frames for the step; the frames
//! of both servers must be equal.
//!
//! The barrier works in every mode: a RESP2 subscriber answers `["pong", token]`, anyone
//! else the token itself. A client inside MULTI would queue it, so it is not barriered; it
//! can only receive RESP3 pushes meanwhile, which it reads before its next reply.
//!
//! Normalisations, each because the two servers may differ for a reason that is not a bug:
//! - client ids depend on how many connections each server saw before ours: ids in
//!   REDIRECT arguments are each server's own id of the target, and ids in CLIENT GETREDIR
//!   and CLIENT TRACKINGINFO replies are mapped back to the client's index;
//! - HELLO's reply names the server and its version: compared by kind only;
//! - PUBSUB CHANNELS / SHARDCHANNELS replies are unordered: sorted;
//! - UNSUBSCRIBE / SUNSUBSCRIBE without arguments confirm channels in hash-table order:
//!   the names are sorted (PUNSUBSCRIBE follows subscription order, compared as is);
//! - the acting client's own pushes are moved behind its replies: a command's pushes to its
//!   own client come first in Redis 7.0 (and in vireo) and last in Valkey;
//! - messages a command sends its own client are moved out of its reply (Redis 7.0 writes
//!   them inside it, Valkey and vireo after it); a transaction's are sorted (7.0 defers
//!   some, so their order is not the commands' order);
//! - pmessages of one publication to several matching patterns are sorted by pattern
//!   (Redis delivers them in hash-table order);
//! - invalidation messages are moved (keeping their order) behind the other frames of the
//!   step: Redis sends broadcast-mode invalidations, and since 7.2 those of the client's own
//!   command, after the command's reply, in a later part of its event loop.
//!
//! `VIREO_RANDOM_SEEDS=7` replays seed 7, `VIREO_RANDOM_SEEDS=1-200` runs those seeds
//! (a list is `a,b,c`, ranges allowed), `VIREO_RANDOM_STEPS=N` steps per seed,
//! `VIREO_RANDOM_HISTORY=N` shows more steps. A difference fails with the seed, the step
//! and the last steps of both servers.
//!
//! `VIREO_RANDOM_REFERENCE=valkey` compares with Valkey 9 (Redis 7.2 behaviour) instead of
//! redis-server 7.0. Valkey's own choices are then set aside: a few error texts are mapped
//! to Redis's, MULTI and WATCH inside MULTI are not generated (Valkey aborts the
//! transaction for them, Redis does not), and PUNSUBSCRIBE's order is sorted (Valkey keeps
//! patterns in a hash table). CLIENT REPLY OFF/SKIP is then also sent by subscribed and
//! tracking clients, whose pushes 7.2 no longer silences.

mod common;

use common::random::{self, Rng};
use common::{encode_command, valkey, RawClient, Reply, Server};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// Connections per server; clients 0 and 2 speak RESP3.
const CLIENTS: usize = 4;
/// Seeds and steps per seed in CI: well under a minute in a debug build.
const DEFAULT_SEEDS: &[u64] = &[1, 2, 3, 4, 5, 6, 7, 8];
const DEFAULT_STEPS: usize = 500;
/// Steps shown when a difference is found (`VIREO_RANDOM_HISTORY=n` for more).
const HISTORY: usize = 30;

const KEYS: &[&str] = &["a", "b", "ab", "c"];
const CHANNELS: &[&str] = &[
    "ch1",
    "ch2",
    "news.x",
    "__redis__:invalidate",
    "__keyspace@0__:a",
    "__keyevent@0__:set",
    "__keyevent@0__:del",
];
const PATTERNS: &[&str] = &["ch*", "news.*", "__key*__:*", "__keyspace@1__:*", "x?"];
const SHARD_CHANNELS: &[&str] = &["ch1", "sh1", "sh2"];
const PREFIXES: &[&str] = &["a", "b", "", "c"];
const NOTIFY_FLAGS: &[u8] = b"KEg$lshzxetmdnA";

/// One command argument: text, or the id (on the server at hand) of one of our clients.
#[derive(Clone, Debug)]
enum Arg {
    Text(String),
    ClientId(usize),
}

type Command = Vec<Arg>;

fn cmd(words: &[&str]) -> Command {
    words.iter().map(|w| Arg::Text(w.to_string())).collect()
}

fn show(commands: &[Command]) -> String {
    let show_one = |c: &Command| {
        c.iter()
            .map(|a| match a {
                Arg::Text(t) => t.clone(),
                Arg::ClientId(i) => format!("<id of client {i}>"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    commands
        .iter()
        .map(show_one)
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// What the generator knows about a client, learnt from the reference server's replies.
#[derive(Clone, Default)]
struct Model {
    in_multi: bool,
    /// Channels and patterns, as the last (p)(un)subscribe confirmation counted them.
    subscriptions: i64,
    shard_subscriptions: i64,
    tracking: bool,
    /// The commands queued since MULTI.
    queued: Vec<Command>,
}

impl Model {
    /// A client with nothing that may send it asynchronous messages.
    fn quiet(&self) -> bool {
        !self.in_multi && self.subscriptions == 0 && self.shard_subscriptions == 0 && !self.tracking
    }
}

/// One server's side: its clients, their ids and an observer connection.
struct Side {
    _server: Server,
    clients: Vec<RawClient>,
    ids: Vec<i64>,
    observer: RawClient,
}

impl Side {
    fn open(server: Server) -> Side {
        let mut clients = Vec::new();
        let mut ids = Vec::new();
        for i in 0..CLIENTS {
            let mut c = server.raw();
            if i % 2 == 0 {
                let hello = c.cmd(&["HELLO", "3"]);
                assert!(!hello.is_error(), "HELLO 3: {hello}");
            }
            match c.cmd(&["CLIENT", "ID"]) {
                Reply::Integer(id) => ids.push(id),
                other => panic!("CLIENT ID: {other}"),
            }
            clients.push(c);
        }
        let observer = server.raw();
        Side {
            _server: server,
            clients,
            ids,
            observer,
        }
    }

    fn encode(&self, command: &Command) -> Vec<u8> {
        let args: Vec<String> = command
            .iter()
            .map(|a| match a {
                Arg::Text(t) => t.clone(),
                Arg::ClientId(i) => self.ids[*i].to_string(),
            })
            .collect();
        encode_command(&args)
    }

    /// Sends the step's commands (pipelined) on client `who`.
    fn send(&mut self, who: usize, commands: &[Command]) -> Result<(), String> {
        let bytes: Vec<u8> = commands.iter().flat_map(|c| self.encode(c)).collect();
        self.clients[who]
            .send(&bytes)
            .map_err(|e| format!("send: {e}"))
    }

    /// One round trip on the observer: the server has handled what was sent before.
    fn settle(&mut self) -> Result<(), String> {
        match self.observer.command(&["PING"]) {
            Ok(Reply::Simple(_)) => Ok(()),
            Ok(other) => Err(format!("observer PING answered {other}")),
            Err(e) => Err(format!("observer PING: {e}")),
        }
    }

    /// Frames on client `who` up to and excluding the reply to `PING token`.
    fn barrier(&mut self, who: usize, token: &str) -> Result<Vec<Reply>, Vec<Reply>> {
        let c = &mut self.clients[who];
        if c.send(&encode_command(&["PING", token])).is_err() {
            return Err(vec![]);
        }
        let mut frames = Vec::new();
        loop {
            match c.read_reply() {
                Ok(reply) if is_barrier(&reply, token) => return Ok(frames),
                Ok(reply) => frames.push(reply),
                Err(e) => {
                    frames.push(Reply::Error(format!("(read failed: {e})").into_bytes()));
                    return Err(frames);
                }
            }
        }
    }

    /// Frames on a client inside MULTI: pushes, up to and including the first other frame.
    fn one_reply(&mut self, who: usize) -> Result<Vec<Reply>, Vec<Reply>> {
        let mut frames = Vec::new();
        loop {
            match self.clients[who].read_reply() {
                Ok(reply @ Reply::Push(_)) => frames.push(reply),
                Ok(reply) => {
                    frames.push(reply);
                    return Ok(frames);
                }
                Err(e) => {
                    frames.push(Reply::Error(format!("(read failed: {e})").into_bytes()));
                    return Err(frames);
                }
            }
        }
    }
}

fn is_barrier(reply: &Reply, token: &str) -> bool {
    let tok = Reply::Bulk(Some(token.as_bytes().to_vec()));
    match reply {
        Reply::Bulk(_) => *reply == tok,
        Reply::Array(Some(items)) => {
            items.len() == 2 && items[0] == Reply::Bulk(Some(b"pong".to_vec())) && items[1] == tok
        }
        _ => false,
    }
}

/// The frames one client received during one step, per server.
struct Observed {
    client: usize,
    frames: Vec<Reply>,
}

/// The first word of a command, uppercased, and its second for CLIENT / PUBSUB.
fn name_of(command: &Command) -> (String, String) {
    let word = |i: usize| match command.get(i) {
        Some(Arg::Text(t)) => t.to_ascii_uppercase(),
        _ => String::new(),
    };
    (word(0), word(1))
}

/// Generates the commands of one step for client `who`: usually one command, a few
/// commands for a CLIENT REPLY OFF/SKIP episode.
/// `valkey`: the reference is Valkey, which refuses MULTI and WATCH inside a transaction
/// as commands not allowed there (flagging it, so EXEC aborts); Redis 7.2 answers them
/// with its own errors and keeps the transaction (as vireo): not generated then.
fn generate(rng: &mut Rng, model: &Model, valkey: bool) -> Vec<Command> {
    let key = |rng: &mut Rng| rng.pick(KEYS).to_string();
    let value = |rng: &mut Rng| rng.below(20).to_string();
    let text = |words: Vec<String>| -> Command { words.into_iter().map(Arg::Text).collect() };
    let s = |x: &str| x.to_string();
    loop {
        let command = match rng.below(100) {
            0..=5 => text(vec![s("SET"), key(rng), value(rng)]),
            6..=8 => text(vec![s("GET"), key(rng)]),
            9..=10 => text(vec![s("INCR"), key(rng)]),
            11..=12 => {
                let mut c = vec![s("DEL")];
                c.extend(rng.some(KEYS, 2).into_iter().map(s));
                if c.len() == 1 {
                    c.push(key(rng));
                }
                text(c)
            }
            13 => text(vec![s("LPUSH"), key(rng), value(rng)]),
            14 => text(vec![s("HSET"), key(rng), s("f"), value(rng)]),
            15 => text(vec![s("SADD"), key(rng), value(rng)]),
            16 => text(vec![s("ZADD"), key(rng), value(rng), s("m")]),
            17 => text(vec![s("EXPIRE"), key(rng), s("100000")]),
            18 => text(vec![s("PERSIST"), key(rng)]),
            19 => text(vec![s("RENAME"), key(rng), key(rng)]),
            20 => text(vec![s("FLUSHDB")]),
            21 => text(vec![s("SWAPDB"), s("0"), s("1")]),
            22 => text(vec![s("SELECT"), rng.pick(&["0", "1"]).to_string()]),
            23 => text(vec![s("MGET"), key(rng), key(rng)]),
            24 => text(vec![s("TYPE"), key(rng)]),
            25..=27 if !(valkey && model.in_multi) => cmd(&["MULTI"]),
            28..=30 => cmd(&["EXEC"]),
            31 => cmd(&["DISCARD"]),
            32..=33 if !(valkey && model.in_multi) => {
                let mut c = vec![s("WATCH")];
                c.extend(rng.some(KEYS, 2).into_iter().map(s));
                text(c)
            }
            34 => cmd(&["UNWATCH"]),
            // A syntax error (queued: EXECABORT later) and a runtime error.
            35 => cmd(&[rng.pick(&["SET", "NOSUCHCOMMAND"])]),
            36 => text(vec![s("LPUSH"), key(rng)]),
            37..=39 => subscribe_like(rng, "SUBSCRIBE", CHANNELS, 1),
            40..=41 => subscribe_like(rng, "UNSUBSCRIBE", CHANNELS, 0),
            42..=43 => subscribe_like(rng, "PSUBSCRIBE", PATTERNS, 1),
            44 => subscribe_like(rng, "PUNSUBSCRIBE", PATTERNS, 0),
            45..=46 => subscribe_like(rng, "SSUBSCRIBE", SHARD_CHANNELS, 1),
            47 => subscribe_like(rng, "SUNSUBSCRIBE", SHARD_CHANNELS, 0),
            48..=51 => text(vec![s("PUBLISH"), s(rng.pick(CHANNELS)), value(rng)]),
            52..=53 => text(vec![s("SPUBLISH"), s(rng.pick(SHARD_CHANNELS)), value(rng)]),
            54..=56 => pubsub_introspection(rng, model),
            57..=59 => {
                if rng.chance(50) {
                    cmd(&["PING"])
                } else {
                    cmd(&["PING", "hi"])
                }
            }
            60 => cmd(&["RESET"]),
            61..=65 => tracking_on(rng),
            66 => cmd(&["CLIENT", "TRACKING", "OFF"]),
            67..=68 => cmd(&["CLIENT", "CACHING", rng.pick(&["YES", "NO", "maybe"])]),
            69..=70 if !model.in_multi => cmd(&["CLIENT", "GETREDIR"]),
            71..=72 if !model.in_multi => cmd(&["CLIENT", "TRACKINGINFO"]),
            73..=75 => notify_config(rng),
            76..=77 if model.quiet() || (valkey && !model.in_multi) => return reply_episode(rng),
            78 if !model.in_multi => cmd(&["HELLO", rng.pick(&["2", "3"])]),
            79 => text(vec![s("EXISTS"), key(rng), key(rng)]),
            80..=82 => text(vec![s("LRANGE"), key(rng), s("0"), s("-1")]),
            83 => text(vec![s("HGET"), key(rng), s("f")]),
            84 => text(vec![
                s("ZRANGE"),
                key(rng),
                s("0"),
                s("-1"),
                s("WITHSCORES"),
            ]),
            85 => cmd(&["FLUSHALL"]),
            86 => text(vec![s("SET"), key(rng), value(rng), s("GET")]),
            87 => text(vec![s("GETDEL"), key(rng)]),
            88 => text(vec![s("APPEND"), key(rng), value(rng)]),
            _ => continue,
        };
        return vec![command];
    }
}

fn subscribe_like(rng: &mut Rng, name: &str, names: &[&str], min: usize) -> Command {
    let mut c = cmd(&[name]);
    // Zero names is an arity error for the subscribing commands: keep it rare.
    let max = if min > 0 && !rng.chance(5) { 3 } else { 2 };
    let mut chosen = rng.some(names, max);
    if min > 0 && chosen.is_empty() && !rng.chance(10) {
        chosen.push(rng.pick(names));
    }
    c.extend(cmd(&chosen));
    c
}

fn pubsub_introspection(rng: &mut Rng, model: &Model) -> Command {
    match rng.below(5) {
        // Unordered replies: only outside MULTI, where they are sorted for comparison.
        0 if !model.in_multi => {
            let mut c = cmd(&["PUBSUB", "CHANNELS"]);
            if rng.chance(50) {
                c.extend(cmd(&[rng.pick(&["ch*", "*", "news.*", "__*"])]));
            }
            c
        }
        1 if !model.in_multi => {
            let mut c = cmd(&["PUBSUB", "SHARDCHANNELS"]);
            if rng.chance(50) {
                c.extend(cmd(&[rng.pick(&["sh*", "*", "ch?"])]));
            }
            c
        }
        2 => {
            let mut c = cmd(&["PUBSUB", "NUMSUB"]);
            c.extend(cmd(&rng.some(CHANNELS, 3)));
            c
        }
        3 => {
            let mut c = cmd(&["PUBSUB", "SHARDNUMSUB"]);
            c.extend(cmd(&rng.some(SHARD_CHANNELS, 3)));
            c
        }
        _ => cmd(&["PUBSUB", "NUMPAT"]),
    }
}

fn tracking_on(rng: &mut Rng) -> Command {
    let mut c = cmd(&["CLIENT", "TRACKING", "ON"]);
    if rng.chance(40) {
        c.push(Arg::Text("REDIRECT".into()));
        if rng.chance(10) {
            c.push(Arg::Text("999999".into()));
        } else {
            c.push(Arg::ClientId(rng.below(CLIENTS)));
        }
    }
    let bcast = rng.chance(35);
    if bcast {
        c.extend(cmd(&["BCAST"]));
    }
    if bcast || rng.chance(10) {
        for p in rng.some(PREFIXES, 2) {
            c.extend(cmd(&["PREFIX", p]));
        }
    }
    match rng.below(5) {
        0 => c.extend(cmd(&["OPTIN"])),
        1 => c.extend(cmd(&["OPTOUT"])),
        _ => {}
    }
    if rng.chance(30) {
        c.extend(cmd(&["NOLOOP"]));
    }
    c
}

fn notify_config(rng: &mut Rng) -> Command {
    let mut flags = String::new();
    for &f in NOTIFY_FLAGS {
        if rng.chance(30) {
            flags.push(f as char);
        }
    }
    if rng.chance(60) {
        flags.insert(0, if rng.chance(50) { 'K' } else { 'E' });
    }
    let mut c = cmd(&["CONFIG", "SET", "notify-keyspace-events"]);
    c.push(Arg::Text(flags));
    c
}

/// CLIENT REPLY OFF … ON, or SKIP and one command, sent together. Against redis-server 7.0
/// only by a client with nothing that may push to it: 7.0 silences pushes under CLIENT
/// REPLY OFF, 7.2 (Valkey, vireo) does not.
fn reply_episode(rng: &mut Rng) -> Vec<Command> {
    let writes = |rng: &mut Rng| -> Command {
        let k = rng.pick(KEYS);
        match rng.below(3) {
            0 => cmd(&["SET", k, "9"]),
            1 => cmd(&["INCR", k]),
            _ => cmd(&["GET", k]),
        }
    };
    if rng.chance(50) {
        let mut steps = vec![cmd(&["CLIENT", "REPLY", "OFF"])];
        for _ in 0..rng.below(3) {
            steps.push(writes(rng));
        }
        steps.push(cmd(&["CLIENT", "REPLY", "ON"]));
        steps
    } else {
        vec![cmd(&["CLIENT", "REPLY", "SKIP"]), writes(rng)]
    }
}

/// Learns the client's state from the reference server's frames for its own command.
fn learn(model: &mut Model, commands: &[Command], frames: &[Reply]) {
    for command in commands {
        let (name, sub) = name_of(command);
        let ok = frames
            .iter()
            .any(|f| matches!(f, Reply::Simple(s) if s == b"OK" || s == b"RESET"));
        match (name.as_str(), sub.as_str()) {
            ("RESET", _) => *model = Model::default(),
            ("MULTI", _) if !model.in_multi && ok => model.in_multi = true,
            ("EXEC" | "DISCARD", _) => {
                // A transaction that may have turned tracking on counts as tracking
                // (`quiet` errs on the safe side).
                let tracking_on = |c: &Command| {
                    let words: Vec<String> = c
                        .iter()
                        .take(3)
                        .map(|a| match a {
                            Arg::Text(t) => t.to_ascii_uppercase(),
                            Arg::ClientId(_) => String::new(),
                        })
                        .collect();
                    words == ["CLIENT", "TRACKING", "ON"]
                };
                if name == "EXEC" && model.queued.iter().any(tracking_on) {
                    model.tracking = true;
                }
                model.in_multi = false;
                model.queued.clear();
            }
            ("MULTI" | "WATCH" | "QUIT", _) => {}
            _ if model.in_multi => model.queued.push(command.clone()),
            ("CLIENT", "TRACKING") if !model.in_multi && ok => {
                let on =
                    matches!(command.get(2), Some(Arg::Text(t)) if t.eq_ignore_ascii_case("on"));
                model.tracking = on;
            }
            _ => {}
        }
    }
    count_subscriptions(model, frames);
}

/// Follows the counts in (un)subscribe confirmations, also inside an EXEC reply.
fn count_subscriptions(model: &mut Model, frames: &[Reply]) {
    for frame in frames {
        let Some(items) = frame.elements() else {
            continue;
        };
        let kind = items.first().and_then(Reply::bytes).unwrap_or_default();
        match (kind, items.get(2)) {
            (
                b"subscribe" | b"unsubscribe" | b"psubscribe" | b"punsubscribe",
                Some(Reply::Integer(n)),
            ) if items.len() == 3 => model.subscriptions = *n,
            (b"ssubscribe" | b"sunsubscribe", Some(Reply::Integer(n))) if items.len() == 3 => {
                model.shard_subscriptions = *n
            }
            _ => count_subscriptions(model, items),
        }
    }
}

/// Replaces client ids in the replies of commands that reveal them by the client's index.
fn normalise(
    frames: &mut [Reply],
    commands: &[Command],
    queued: &[Command],
    ids: &[i64],
    valkey: bool,
) {
    let id_to_index = |r: &mut Reply| {
        if let Reply::Integer(n) = r {
            if let Some(i) = ids.iter().position(|id| id == n) {
                *r = Reply::Simple(format!("<client {i}>").into_bytes());
            }
        }
    };
    let names: Vec<(String, String)> = commands.iter().map(name_of).collect();
    // The commands an EXEC ran count too.
    let ran = if names.iter().any(|(name, _)| name == "EXEC") {
        queued
    } else {
        &[]
    };
    for command in commands.iter().chain(ran) {
        let (name, _) = name_of(command);
        // Valkey keeps patterns in a hash table too; Redis 7.0 in subscription order.
        let unordered = matches!(name.as_str(), "UNSUBSCRIBE" | "SUNSUBSCRIBE")
            || (valkey && name == "PUNSUBSCRIBE");
        if command.len() == 1 && unordered {
            sort_confirmed_names(frames, &name.to_ascii_lowercase());
        }
    }
    for frame in frames.iter_mut() {
        for (name, sub) in &names {
            match (name.as_str(), sub.as_str()) {
                ("CLIENT", "GETREDIR") => id_to_index(frame),
                ("CLIENT", "TRACKINGINFO") => match frame {
                    Reply::Map(pairs) => pairs.iter_mut().for_each(|(_, v)| id_to_index(v)),
                    Reply::Array(Some(items)) => items.iter_mut().for_each(id_to_index),
                    _ => {}
                },
                ("PUBSUB", "CHANNELS" | "SHARDCHANNELS") => {
                    if let Reply::Array(Some(_)) = frame {
                        *frame = frame.sorted();
                    }
                }
                ("HELLO", _) => {
                    let is_hello = match frame {
                        Reply::Map(pairs) => pairs.first().map(|p| &p.0) == Some(&bulk("server")),
                        Reply::Array(Some(items)) => items.first() == Some(&bulk("server")),
                        _ => false,
                    };
                    if is_hello {
                        *frame = Reply::Simple(b"<HELLO reply>".to_vec());
                    }
                }
                _ => {}
            }
        }
    }
}

/// UNSUBSCRIBE and SUNSUBSCRIBE without arguments confirm the channels in the order of
/// Redis's hash table of them (random-seeded): sorts the names, keeping the counts, among
/// the frames and the elements of an EXEC reply.
fn sort_confirmed_names(frames: &mut [Reply], kind: &str) {
    let mut names = Vec::new();
    visit_confirmations(frames, kind, &mut |name| names.push(name.clone()));
    names.sort();
    let mut names = names.into_iter();
    visit_confirmations(frames, kind, &mut |name| {
        *name = names.next().expect("as many names as confirmations")
    });
}

/// Calls `f` on the channel name of each `kind` confirmation in `frames` or inside an
/// array of them (an EXEC reply).
fn visit_confirmations(frames: &mut [Reply], kind: &str, f: &mut impl FnMut(&mut Reply)) {
    for frame in frames {
        let nested = matches!(frame, Reply::Array(_));
        let (Reply::Array(Some(items)) | Reply::Push(items)) = frame else {
            continue;
        };
        if items.len() == 3 && items[0] == bulk(kind) {
            f(&mut items[1]);
        } else if nested {
            visit_confirmations(items, kind, f);
        }
    }
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

/// Invalidation messages (RESP3 pushes, or messages on `__redis__:invalidate`).
fn is_invalidation(frame: &Reply) -> bool {
    match frame {
        Reply::Push(items) => items.first() == Some(&bulk("invalidate")),
        Reply::Array(Some(items)) => {
            items.len() == 3
                && items[0] == bulk("message")
                && items[1] == bulk("__redis__:invalidate")
        }
        _ => false,
    }
}

fn invalidations_last(frames: Vec<Reply>) -> Vec<Reply> {
    let (inv, mut rest): (Vec<Reply>, Vec<Reply>) = frames.into_iter().partition(is_invalidation);
    rest.extend(inv);
    rest
}

/// The acting client's pushes behind its replies. Pushes a command causes for its own
/// client (a keyspace notification, a message it published to itself) come before the reply
/// in Redis 7.0 and after it since 7.2 (Valkey does so too); vireo follows 7.2.
fn pushes_last(frames: Vec<Reply>) -> Vec<Reply> {
    let (pushes, mut rest): (Vec<Reply>, Vec<Reply>) = frames
        .into_iter()
        .partition(|f| matches!(f, Reply::Push(_)));
    rest.extend(pushes);
    rest
}

/// Messages a command sends its own client while it writes its reply (keymiss
/// notifications of MGET, those of the commands inside EXEC): Redis 7.0 writes them in the
/// middle of the reply (out of band in RESP3; in RESP2 the array then holds more elements
/// than it says), Redis 7.2 after it. The parser took each such message for an element of
/// the array it was in, and that array's last elements for what followed: the frames are
/// put back in a row and the arrays rebuilt without the messages, which follow the frames
/// in the order they came.
fn messages_out_of_replies(frames: Vec<Reply>) -> Vec<Reply> {
    let mut stream: VecDeque<Reply> = frames.into();
    let mut moved = Vec::new();
    let mut out = Vec::new();
    while let Some(frame) = next_element(&mut stream, &mut moved) {
        out.push(frame);
    }
    out.extend(moved);
    out
}

/// The next frame of `stream` that is not a message (messages go to `moved`), with the
/// elements of an array taken again from the stream.
fn next_element(stream: &mut VecDeque<Reply>, moved: &mut Vec<Reply>) -> Option<Reply> {
    loop {
        let frame = stream.pop_front()?;
        if is_message(&frame) {
            moved.push(frame);
            continue;
        }
        let Reply::Array(Some(items)) = frame else {
            return Some(frame);
        };
        let len = items.len();
        for item in items.into_iter().rev() {
            stream.push_front(item);
        }
        let items = (0..len)
            .map_while(|_| next_element(stream, moved))
            .collect();
        return Some(Reply::Array(Some(items)));
    }
}

/// The pushes and messages a transaction sends its own client, sorted behind the other
/// frames: Redis 7.0 writes some inside the EXEC reply (in RESP2 before its last elements)
/// and defers others until after it, and a SUBSCRIBE of several channels inside it
/// confirms the first as the array's element and the others after the array, so their
/// order is not the commands' order.
fn sort_messages(frames: Vec<Reply>) -> Vec<Reply> {
    let (mut pushed, mut rest): (Vec<Reply>, Vec<Reply>) = frames
        .into_iter()
        .partition(|f| matches!(f, Reply::Push(_)) || is_message(f));
    pushed.sort();
    rest.extend(pushed);
    rest
}

/// A pub/sub message or an invalidation push (never the reply of a command here).
fn is_message(frame: &Reply) -> bool {
    let Some(items) = frame.elements() else {
        return false;
    };
    let kind = items.first().and_then(Reply::bytes).unwrap_or_default();
    match frame {
        Reply::Push(_) => !kind.ends_with(b"subscribe"),
        _ => matches!(kind, b"message" | b"pmessage" | b"smessage"),
    }
}

/// A message published on a channel reaches a client once per matching pattern, in the
/// order of Redis's hash table of patterns (random-seeded): sorts each run of pmessages
/// of one channel and payload.
fn sort_pattern_runs(frames: &mut [Reply]) {
    let key = |f: &Reply| -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let items = f.elements()?;
        if items.len() != 4 || items[0] != bulk("pmessage") {
            return None;
        }
        let b = |i: usize| items[i].bytes().unwrap_or_default().to_vec();
        Some((b(2), b(3), b(1)))
    };
    let mut i = 0;
    while i < frames.len() {
        let Some((channel, payload, _)) = key(&frames[i]) else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < frames.len()
            && key(&frames[j]).is_some_and(|(c, p, _)| c == channel && p == payload)
        {
            j += 1;
        }
        frames[i..j].sort_by_key(|f| key(f).map(|k| k.2));
        i = j;
    }
}

struct StepLog {
    step: usize,
    who: usize,
    commands: String,
    reference: Vec<Observed>,
    vireo: Vec<Observed>,
}

fn show_frames(observed: &[Observed]) -> String {
    let mut out = String::new();
    for o in observed {
        let frames: Vec<String> = o.frames.iter().map(|f| f.to_string()).collect();
        let _ = write!(out, "\n      client {}: {}", o.client, frames.join("  "));
    }
    out
}

fn report(seed: u64, history: &VecDeque<StepLog>, reference: &str) -> String {
    let mut out = format!("seed {seed} (replay: VIREO_RANDOM_SEEDS={seed}); last steps:\n");
    for s in history {
        let _ = writeln!(
            out,
            "  step {} client {}: {}\n    {reference}:{}\n    vireo:{}",
            s.step,
            s.who,
            s.commands,
            show_frames(&s.reference),
            show_frames(&s.vireo)
        );
    }
    out
}

/// Plays one step on one side; the frames of every client that was read.
fn play(
    side: &mut Side,
    models: &[Model],
    who: usize,
    commands: &[Command],
    token: &str,
) -> (Vec<Observed>, bool) {
    let mut observed = Vec::new();
    let mut failed = side.send(who, commands).is_err();
    let in_multi = models[who].in_multi;
    let names: Vec<String> = commands.iter().map(|c| name_of(c).0).collect();
    let enters_multi = !in_multi && names == ["MULTI"];
    let leaves_multi = in_multi
        && names
            .iter()
            .any(|n| matches!(n.as_str(), "EXEC" | "DISCARD" | "RESET"));
    let mut skip_barrier = in_multi && !leaves_multi;
    if in_multi || enters_multi {
        // Inside MULTI (or entering it) the command has exactly one reply, and a barrier
        // would be queued: read the reply itself.
        let frames = side.one_reply(who).unwrap_or_else(|f| {
            failed = true;
            f
        });
        if enters_multi && frames.last() == Some(&Reply::Simple(b"OK".to_vec())) {
            skip_barrier = true;
        }
        observed.push(Observed {
            client: who,
            frames,
        });
    } else {
        // The command's replies first: a multi-threaded server may otherwise run it after
        // the barriers of other clients.
        let frames = side
            .barrier(who, &format!("{token}-own"))
            .unwrap_or_else(|f| {
                failed = true;
                f
            });
        observed.push(Observed {
            client: who,
            frames,
        });
    }
    if let Err(e) = side.settle() {
        observed.push(Observed {
            client: usize::MAX,
            frames: vec![Reply::Error(e.into_bytes())],
        });
        return (observed, true);
    }
    for (c, model) in models.iter().enumerate() {
        let skip = if c == who {
            skip_barrier
        } else {
            model.in_multi
        };
        if skip {
            continue;
        }
        let frames = side.barrier(c, token).unwrap_or_else(|f| {
            failed = true;
            f
        });
        match observed.iter_mut().find(|o| o.client == c) {
            Some(o) => o.frames.extend(frames),
            None => observed.push(Observed { client: c, frames }),
        }
    }
    (observed, failed)
}

fn run_seed(seed: u64, steps: usize, reference: valkey::Reference) {
    let ref_name = match reference {
        valkey::Reference::Redis => "redis",
        valkey::Reference::Valkey => "valkey",
    };
    let Some(ref_server) = reference.start(&[]) else {
        return;
    };
    let mut refs = Side::open(ref_server);
    let mut vireo = Side::open(Server::vireo(&[]));
    let mut models = vec![Model::default(); CLIENTS];
    let mut rng = Rng(seed);
    let mut history: VecDeque<StepLog> = VecDeque::new();
    let history_len = random::history(HISTORY);
    for step in 0..steps {
        let who = rng.below(CLIENTS);
        let commands = generate(
            &mut rng,
            &models[who],
            reference == valkey::Reference::Valkey,
        );
        let token = format!("barrier-{step}");
        let (mut r, r_failed) = play(&mut refs, &models, who, &commands, &token);
        let (mut v, v_failed) = play(&mut vireo, &models, who, &commands, &token);
        if reference == valkey::Reference::Valkey {
            r.iter_mut()
                .for_each(|o| o.frames.iter_mut().for_each(redis_wording));
        }
        let queued = models[who].queued.clone();
        for (side, obs) in [(&refs, &mut r), (&vireo, &mut v)] {
            for o in obs.iter_mut() {
                if o.client == who {
                    let valkey = reference == valkey::Reference::Valkey;
                    normalise(&mut o.frames, &commands, &queued, &side.ids, valkey);
                    let exec = commands.iter().any(|c| name_of(c).0 == "EXEC");
                    o.frames = messages_out_of_replies(std::mem::take(&mut o.frames));
                    o.frames = pushes_last(std::mem::take(&mut o.frames));
                    if exec {
                        o.frames = sort_messages(std::mem::take(&mut o.frames));
                    }
                }
                sort_pattern_runs(&mut o.frames);
                o.frames = invalidations_last(std::mem::take(&mut o.frames));
            }
        }
        if let Some(own) = r.iter().find(|o| o.client == who) {
            learn(&mut models[who], &commands, &own.frames);
        }
        for o in r.iter().filter(|o| o.client != who) {
            count_subscriptions(&mut models[o.client], &o.frames);
        }
        let same = r.len() == v.len()
            && r.iter()
                .zip(&v)
                .all(|(a, b)| a.client == b.client && a.frames == b.frames);
        history.push_back(StepLog {
            step,
            who,
            commands: show(&commands),
            reference: r,
            vireo: v,
        });
        if history.len() > history_len {
            history.pop_front();
        }
        if r_failed {
            panic!(
                "the reference server failed a read (a generator bug?)\n{}",
                report(seed, &history, ref_name)
            );
        }
        if !same || v_failed {
            let late = if v_failed {
                String::new()
            } else {
                late_frames(&mut refs, &mut vireo, &models, ref_name)
            };
            panic!(
                "vireo differs from {ref_name} at step {step}\n{}{late}",
                report(seed, &history, ref_name)
            );
        }
    }
}

/// After a difference: what each side sends on one more barrier (a message that came
/// late rather than not at all shows up here).
fn late_frames(refs: &mut Side, vireo: &mut Side, models: &[Model], ref_name: &str) -> String {
    let mut out = String::from("frames after one more barrier:");
    for (name, side) in [(ref_name, refs), ("vireo", vireo)] {
        let mut observed = Vec::new();
        for (c, model) in models.iter().enumerate() {
            if model.in_multi {
                continue;
            }
            let frames = side.barrier(c, "late").unwrap_or_else(|f| f);
            observed.push(Observed { client: c, frames });
        }
        let _ = write!(out, "\n    {name}:{}", show_frames(&observed));
    }
    out
}

/// Valkey words a few errors its own way; Redis 7.2's wording (vireo's) replaces them.
const VALKEY_WORDING: &[(&str, &str)] = &[
    (
        "ERR Command 'watch' not allowed inside a transaction",
        "ERR WATCH inside MULTI is not allowed",
    ),
    (
        "ERR Command 'multi' not allowed inside a transaction",
        "ERR MULTI calls can not be nested",
    ),
];

fn redis_wording(frame: &mut Reply) {
    match frame {
        Reply::Error(text) => {
            for (valkey, redis) in VALKEY_WORDING {
                if text == valkey.as_bytes() {
                    *text = redis.as_bytes().to_vec();
                }
            }
        }
        Reply::Array(Some(items)) | Reply::Push(items) => items.iter_mut().for_each(redis_wording),
        _ => {}
    }
}

#[test]
fn random_clients_match_the_reference() {
    let reference = match std::env::var("VIREO_RANDOM_REFERENCE").as_deref() {
        Ok("valkey") => valkey::Reference::Valkey,
        _ => valkey::Reference::Redis,
    };
    let steps = random::steps(DEFAULT_STEPS);
    for seed in random::seeds(DEFAULT_SEEDS) {
        run_seed(seed, steps, reference);
    }
}
