//! The command runtime: the context a handler runs in, and the table that joins each
//! command's declaration (from `vireo_cmdspec`, the one command table) with its handler.
//!
//! A family module (`string.rs`, `keys.rs`, ...) lists its handlers in a `COMMANDS` slice;
//! `Table::build` attaches them to the declarations by name. A declared command without a
//! handler answers an honest "not implemented" error and is left out of COMMAND's listings.

pub mod args;
pub mod bitmap;
pub mod blocking;
pub mod client;
pub mod command;
pub mod connection;
pub mod dump;
pub mod expire;
pub mod hash;
pub mod keys;
pub mod list;
pub mod multi;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod sort;
pub mod string;
pub mod tracking;
pub mod zset;

use crate::client::Client;
use crate::keyspace::Keyspace;
use crate::stats::CommandStats;
use crate::Server;
use bytes::Bytes;
use std::borrow::Cow;
use std::collections::HashMap;
use vireo_cmdspec::CommandSpec;
use vireo_resp::Reply;

/// An error reply: the full text after `-`, e.g. `ERR syntax error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError(Cow::Borrowed(s))
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError(Cow::Owned(s))
    }
}

pub type CmdResult = Result<(), CmdError>;
pub type Handler = fn(&mut Ctx<'_, '_>) -> CmdResult;

/// How the dispatcher prepares the keyspace for a command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Locking {
    /// Lock the shards of the keys the key specs name, in the client's database.
    Keys,
    /// The handler locks what it needs itself (whole-database and cross-database
    /// commands such as KEYS, FLUSHALL, MOVE, SWAPDB), or touches no keys at all.
    Manual,
}

/// A handler as a family module declares it.
pub struct Cmd {
    /// The declared name: `get`, or `config|get` for a subcommand.
    pub name: &'static str,
    pub handler: Handler,
    pub locking: Locking,
}

impl Cmd {
    pub const fn keys(name: &'static str, handler: Handler) -> Cmd {
        Cmd {
            name,
            handler,
            locking: Locking::Keys,
        }
    }

    pub const fn manual(name: &'static str, handler: Handler) -> Cmd {
        Cmd {
            name,
            handler,
            locking: Locking::Manual,
        }
    }
}

/// Everything a running command may touch. The keyspace view has its own lifetime so
/// that EXEC can hand one view, holding the whole transaction's locks, from one queued
/// command to the next.
pub struct Ctx<'a, 'k> {
    pub server: &'a Server,
    pub client: &'a mut Client,
    /// The request; `args[0]` is the command name as the client sent it.
    pub args: &'a [Bytes],
    pub reply: &'a mut Reply,
    /// The locked part of the client's database (empty for `Locking::Manual`). Borrowed:
    /// the view is a few hundred bytes, which a command should not copy around.
    pub db: &'a mut Keyspace<'k>,
    /// The time the command started, in unix milliseconds: one clock for the whole command.
    pub now_ms: i64,
}

impl<'a> Ctx<'a, '_> {
    pub fn arg(&self, i: usize) -> &'a [u8] {
        &self.args[i]
    }

    /// Replies with a HELP text: one status reply per line, as Redis's HELP subcommands do.
    pub fn reply_help(&mut self, lines: &[&str]) -> CmdResult {
        self.reply.array(lines.len());
        for line in lines {
            self.reply.simple(line);
        }
        Ok(())
    }

    /// Records `n` changes to the dataset (for save points and INFO). A command that
    /// records changes is propagated (see `crate::propagate`).
    pub fn dirty(&mut self, n: u64) {
        crate::stats::Stats::add(&self.server.stats.dirty, n);
        self.client.effects.dirty += n;
    }

    /// Whether writes are being propagated (an AOF or a replica consumes them). Commands
    /// that build a rewritten command vector check it first, so that nothing is built
    /// when nobody consumes it.
    pub fn propagating(&self) -> bool {
        self.server.propagation.active()
    }

    /// Propagates `argv` in the command's database before the command itself (Redis's
    /// alsoPropagate): extra effects such as the LPOP of a served BLPOP.
    pub fn propagate(&mut self, argv: Vec<Bytes>) {
        if self.propagating() {
            let op = crate::propagate::Op::new(self.db.db_index(), argv);
            self.client.effects.also.push(op);
        }
    }

    /// Propagates `argv` instead of the command as sent (EXPIRE → PEXPIREAT, SPOP →
    /// SREM...). Only takes effect if the command changed something (`dirty`).
    pub fn rewrite_propagated(&mut self, argv: Vec<Bytes>) {
        if self.propagating() {
            self.client.effects.rewritten = Some(argv);
        }
    }

    /// The command changed the dataset but must not propagate itself (what it did is
    /// propagated with `propagate`, or must not reach replicas at all).
    pub fn no_propagate(&mut self) {
        self.client.effects.prevented = true;
    }

    /// Feeds what was collected for propagation as a unit of its own, without the
    /// command itself (a served blocked client's pop, after the write that served it).
    pub(crate) fn flush_effects(&mut self) {
        if self.propagating() {
            let mut unit = Vec::new();
            self.client
                .effects
                .finish(self.db.db_index(), &[], &mut unit);
            self.server.propagation.feed(unit, false);
        } else {
            self.client.effects.reset();
        }
    }

    /// Publishes a keyspace notification about `key` in the command's database, if
    /// `class` (`crate::notify::class`) is enabled.
    pub fn notify(&self, class: u32, event: &str, key: &[u8]) {
        self.server.notify(class, event, key, self.db.db_index());
    }

    /// `key` was changed (Redis's signalModifiedKey): clients WATCHing it see their
    /// transaction fail.
    pub fn changed(&mut self, key: &[u8]) {
        self.db.signal_modified(key);
    }

    /// `key` was changed by an event of `class` named `event`: `changed` plus `notify`, the
    /// pair nearly every write makes.
    pub fn modified(&mut self, key: &[u8], class: u32, event: &str) {
        self.changed(key);
        self.notify(class, event, key);
    }

    /// The error for a syntactically valid command with a bad argument count in a part
    /// the arity cannot express (e.g. odd MSET pairs): Redis's wrong-arity message.
    pub fn wrong_arity(&self) -> CmdError {
        CmdError::from(crate::errors::wrong_arity(
            &self.args[0]
                .to_ascii_lowercase()
                .iter()
                .map(|&b| b as char)
                .collect::<String>(),
        ))
    }
}

/// A command as the dispatcher sees it: declaration, handler, statistics.
pub struct Command {
    pub spec: &'static CommandSpec,
    pub handler: Option<Handler>,
    pub locking: Locking,
    /// `spec.single_key_index()`, computed once: where the only key is, for commands
    /// whose keys need no spec interpretation per call.
    pub single_key: Option<usize>,
    pub stats: CommandStats,
    /// By the subcommand's own lowercase name (`encoding` for `object|encoding`).
    pub subcommands: HashMap<&'static str, Command>,
}

impl Command {
    pub fn implemented(&self) -> bool {
        self.handler.is_some() || self.subcommands.values().any(|c| c.implemented())
    }

    /// The subcommand named by `sub`, case-insensitively, without allocating.
    pub fn subcommand(&self, sub: &[u8]) -> Option<&Command> {
        let mut buf = [0u8; 48];
        let name = std::str::from_utf8(lowercase_into(sub, &mut buf)?).ok()?;
        self.subcommands.get(name)
    }
}

/// Every declared command, by lowercase name. Looked up once per request, so it uses a
/// fast hasher (the names are ours, not attacker-chosen keys) and byte keys (no UTF-8
/// validation of the request's name).
pub struct Table {
    commands: HashMap<&'static [u8], Command, foldhash::fast::FixedState>,
}

/// The handler lists of every family.
fn families() -> impl Iterator<Item = &'static Cmd> {
    [
        bitmap::COMMANDS,
        blocking::COMMANDS,
        client::COMMANDS,
        command::COMMANDS,
        connection::COMMANDS,
        dump::COMMANDS,
        expire::COMMANDS,
        hash::COMMANDS,
        keys::COMMANDS,
        list::COMMANDS,
        pubsub::COMMANDS,
        multi::COMMANDS,
        server::COMMANDS,
        set::COMMANDS,
        sort::COMMANDS,
        string::COMMANDS,
        tracking::COMMANDS,
        zset::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

impl Table {
    pub fn build() -> Table {
        let mut handlers: HashMap<&'static str, &'static Cmd> = HashMap::new();
        for cmd in families() {
            let previous = handlers.insert(cmd.name, cmd);
            assert!(previous.is_none(), "command {} registered twice", cmd.name);
        }
        let mut commands = HashMap::with_hasher(foldhash::fast::FixedState::default());
        for spec in vireo_cmdspec::all() {
            commands.insert(spec.name.as_bytes(), Self::command(spec, &mut handlers));
        }
        assert!(
            handlers.is_empty(),
            "handlers without a declaration: {:?}",
            handlers.keys().collect::<Vec<_>>()
        );
        Table { commands }
    }

    fn command(spec: &'static CommandSpec, handlers: &mut HashMap<&str, &'static Cmd>) -> Command {
        let cmd = handlers.remove(spec.name);
        Command {
            spec,
            handler: cmd.map(|c| c.handler),
            locking: cmd.map_or(Locking::Keys, |c| c.locking),
            single_key: spec.single_key_index(),
            stats: CommandStats::default(),
            subcommands: spec
                .subcommands
                .iter()
                .map(|sub| (subcommand_name(sub.name), Self::command(sub, handlers)))
                .collect(),
        }
    }

    /// The command named by `name`, case-insensitively, without allocating.
    pub fn lookup(&self, name: &[u8]) -> Option<&Command> {
        let mut buf = [0u8; 48];
        self.commands.get(lowercase_into(name, &mut buf)?)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Command> {
        self.commands.values()
    }
}

/// What `subcommands` is keyed by: the part of `container|sub` after the bar.
pub fn subcommand_name(full: &'static str) -> &'static str {
    full.split_once('|').map_or(full, |(_, sub)| sub)
}

fn lowercase_into<'b>(name: &[u8], buf: &'b mut [u8; 48]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..name.len())?;
    for (o, &b) in out.iter_mut().zip(name) {
        *o = b.to_ascii_lowercase();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Building the table checks that no handler is registered twice and that every
    /// handler has a declaration; this makes that check part of the unit tests.
    #[test]
    fn table_builds_and_every_family_is_registered() {
        let table = Table::build();
        for name in ["get", "ping", "del", "expire", "setbit"] {
            let cmd = table.lookup(name.as_bytes()).expect("declared");
            assert!(cmd.implemented(), "{name} must have a handler");
        }
    }

    #[test]
    fn lookup_finds_every_command_in_any_case_and_nothing_else() {
        let table = Table::build();
        let mut count = 0;
        for spec in vireo_cmdspec::all() {
            let name = spec.name;
            let mixed: String = name
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            for form in [name.to_string(), name.to_ascii_uppercase(), mixed] {
                let found = table.lookup(form.as_bytes()).expect("declared command");
                assert_eq!(found.spec.name, name);
            }
            // A prefix or an extension of a name is not that command.
            let longer = format!("{name}x");
            assert!(table
                .lookup(longer.as_bytes())
                .is_none_or(|c| c.spec.name == longer));
            count += 1;
        }
        assert_eq!(table.iter().count(), count);
        for unknown in [
            &b""[..],
            b"ge",
            b"gett",
            b"g\xc3\xa9t",
            b"GET\0",
            b"get ",
            b"_",
            b"\xff",
        ] {
            assert!(table.lookup(unknown).is_none(), "{unknown:?}");
        }
    }
}
