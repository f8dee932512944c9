//! COMMAND and its subcommands: what this server implements, described from the one command
//! table (`vireo_cmdspec`).
//!
//! The descriptions (`COMMAND INFO`, `COMMAND DOCS`) are built by `vireo_cmdspec` as a neutral
//! [`Info`] tree; [`write_info`] sends it. Listings only show what has a handler here: a
//! command declared in the table but not implemented yet answers like an unknown one, so a
//! client library probing features is never told about something that would fail. Key
//! extraction (`GETKEYS`) is pure key-spec logic and works for every declared command.

use super::{Cmd, CmdResult, Command, Ctx};
use crate::errors;
use crate::Server;
use vireo_cmdspec::{command_docs, command_info, docs_entry, getkeys, key_flags, Info, KeyRef};
use vireo_resp::Reply;
use vireo_store::glob::string_match;

pub const COMMANDS: &[Cmd] = &[
    Cmd::manual("command", command),
    Cmd::manual("command|count", count),
    Cmd::manual("command|info", info),
    Cmd::manual("command|docs", docs),
    Cmd::manual("command|list", list),
    Cmd::manual("command|getkeys", getkeys_command),
    Cmd::manual("command|getkeysandflags", getkeysandflags),
    Cmd::manual("command|help", help),
];

/// COMMAND: the INFO of every implemented command.
fn command(ctx: &mut Ctx) -> CmdResult {
    reply_all_info(ctx.server, ctx.reply);
    Ok(())
}

/// COMMAND COUNT
fn count(ctx: &mut Ctx) -> CmdResult {
    ctx.reply.int(implemented(ctx.server).count() as i64);
    Ok(())
}

/// COMMAND INFO [name ...]: one entry per name, nil for a name that is unknown or not
/// implemented; every implemented command without names.
fn info(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() == 2 {
        reply_all_info(ctx.server, ctx.reply);
        return Ok(());
    }
    ctx.reply.array(ctx.args.len() - 2);
    for name in &ctx.args[2..] {
        match lookup_implemented(ctx.server, name) {
            Some(cmd) => write_command_entry(ctx.reply, &info_of(cmd)),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]: a map from name to documentation; unknown or unimplemented
/// names are left out.
fn docs(ctx: &mut Ctx) -> CmdResult {
    let entries: Vec<(&'static str, Info)> = if ctx.args.len() == 2 {
        implemented(ctx.server)
            .map(|cmd| (cmd.spec.name, docs_of(cmd)))
            .collect()
    } else {
        ctx.args[2..]
            .iter()
            .filter_map(|name| lookup_implemented(ctx.server, name))
            .map(|cmd| (cmd.spec.name, docs_of(cmd)))
            .collect()
    };
    write_info(ctx.reply, &Info::Map(entries));
    Ok(())
}

/// What COMMAND LIST keeps.
enum Filter<'a> {
    All,
    Module,
    AclCategory(Option<u32>),
    Pattern(&'a [u8]),
}

impl Filter<'_> {
    fn matches(&self, cmd: &Command) -> bool {
        match self {
            Filter::All => true,
            // No modules can be loaded, so no command belongs to one.
            Filter::Module => false,
            Filter::AclCategory(category) => category.is_some_and(|c| cmd.spec.in_category(c)),
            Filter::Pattern(pattern) => string_match(pattern, cmd.spec.name.as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: the names of the
/// implemented commands and subcommands that pass the filter.
fn list(ctx: &mut Ctx) -> CmdResult {
    let filter = match ctx.args.len() {
        2 => Filter::All,
        5 if ctx.arg(2).eq_ignore_ascii_case(b"filterby") => {
            let (kind, value) = (ctx.arg(3), ctx.arg(4));
            if kind.eq_ignore_ascii_case(b"module") {
                Filter::Module
            } else if kind.eq_ignore_ascii_case(b"aclcat") {
                Filter::AclCategory(vireo_cmdspec::acl::by_name(value))
            } else if kind.eq_ignore_ascii_case(b"pattern") {
                Filter::Pattern(value)
            } else {
                return Err(errors::SYNTAX.into());
            }
        }
        _ => return Err(errors::SYNTAX.into()),
    };
    let mut names = Vec::new();
    for cmd in implemented(ctx.server) {
        if filter.matches(cmd) {
            names.push(cmd.spec.name);
        }
        for sub in implemented_subcommands(cmd) {
            if filter.matches(sub) {
                names.push(sub.spec.name);
            }
        }
    }
    ctx.reply.array(names.len());
    for name in names {
        ctx.reply.bulk(name.as_bytes());
    }
    Ok(())
}

/// The keys of the command line after `COMMAND GETKEYS`, with Redis's errors.
fn keys_of(ctx: &Ctx) -> Result<Vec<KeyRef>, super::CmdError> {
    let mut keys = Vec::new();
    getkeys(&ctx.args[2..], &mut keys).map_err(|e| format!("ERR {}", e.message()))?;
    Ok(keys)
}

/// COMMAND GETKEYS command [arg ...]
fn getkeys_command(ctx: &mut Ctx) -> CmdResult {
    let keys = keys_of(ctx)?;
    ctx.reply.array(keys.len());
    for key in keys {
        ctx.reply.bulk(&ctx.args[2 + key.pos]);
    }
    Ok(())
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]: each key with the flags of its key spec.
fn getkeysandflags(ctx: &mut Ctx) -> CmdResult {
    let keys = keys_of(ctx)?;
    ctx.reply.array(keys.len());
    for key in keys {
        ctx.reply.array(2);
        ctx.reply.bulk(&ctx.args[2 + key.pos]);
        let flags: Vec<&str> = key_flags::NAMES
            .iter()
            .filter(|(bit, _)| key.flags & bit != 0)
            .map(|&(_, name)| name)
            .collect();
        ctx.reply.set(flags.len());
        for flag in flags {
            ctx.reply.simple(flag);
        }
    }
    Ok(())
}

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Describe every command this server implements.",
    "COUNT",
    "    Return how many commands this server implements.",
    "LIST",
    "    Return the names of the implemented commands and subcommands.",
    "INFO [<command-name> ...]",
    "    Describe the named commands (name, arity, flags, key positions, ACL",
    "    categories, tips, key specs and subcommands); nil for an unknown name.",
    "    Without names, every implemented command is described.",
    "DOCS [<command-name> ...]",
    "    Return the documentation of the named commands (summary, since, group,",
    "    complexity, history, arguments). Without names, the documentation of",
    "    every implemented command is returned.",
    "GETKEYS <full-command>",
    "    Return the key arguments of a full command line.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the key arguments of a full command line, each with its access flags.",
    "HELP",
    "    Print this help.",
];

/// COMMAND HELP
fn help(ctx: &mut Ctx) -> CmdResult {
    ctx.reply_help(HELP)
}

/// The implemented top-level commands, in name order.
fn implemented(server: &Server) -> impl Iterator<Item = &Command> {
    vireo_cmdspec::all()
        .filter_map(|spec| server.commands.lookup(spec.name.as_bytes()))
        .filter(|cmd| cmd.implemented())
}

/// The implemented subcommands of `cmd`, in name order.
fn implemented_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.spec
        .subcommands
        .iter()
        .filter_map(|spec| cmd.subcommands.get(super::subcommand_name(spec.name)))
        .filter(|sub| sub.implemented())
}

/// The implemented command named `get` or `config|get` (any case).
fn lookup_implemented<'s>(server: &'s Server, name: &[u8]) -> Option<&'s Command> {
    let cmd = match name.iter().position(|&b| b == b'|') {
        None => server.commands.lookup(name)?,
        Some(bar) => server
            .commands
            .lookup(&name[..bar])?
            .subcommand(&name[bar + 1..])?,
    };
    cmd.implemented().then_some(cmd)
}

fn reply_all_info(server: &Server, reply: &mut Reply) {
    let all: Vec<&Command> = implemented(server).collect();
    reply.array(all.len());
    for cmd in all {
        write_command_entry(reply, &info_of(cmd));
    }
}

/// The COMMAND INFO entry of `cmd`, listing only its implemented subcommands.
fn info_of(cmd: &Command) -> Info {
    let mut info = command_info(cmd.spec);
    if cmd.spec.is_container() {
        if let Info::Array(fields) = &mut info {
            fields[SUBCOMMANDS] = Info::Array(implemented_subcommands(cmd).map(info_of).collect());
        }
    }
    info
}

/// The COMMAND DOCS entry of `cmd`, documenting only its implemented subcommands.
fn docs_of(cmd: &Command) -> Info {
    let mut docs = docs_entry(cmd.spec);
    if let Info::Map(fields) = &mut docs {
        for (name, value) in fields.iter_mut() {
            if *name == "subcommands" {
                *value = command_docs(implemented_subcommands(cmd).map(|sub| sub.spec));
            }
        }
    }
    docs
}

/// Positions in a COMMAND INFO entry (see `vireo_cmdspec::command_info`).
const TIPS: usize = 7;
const SUBCOMMANDS: usize = 9;

/// Sends an [`Info`] tree: maps as maps, sets as sets, strings as bulk strings — except the
/// names in flag sets (command flags, ACL categories, key spec, argument and doc flags),
/// which Redis sends as status replies.
pub fn write_info(reply: &mut Reply, info: &Info) {
    write_node(reply, info, false);
}

/// Sends a COMMAND INFO entry: like [`write_info`], but its tips are the one set of plain
/// strings (bulk), and its subcommands are entries again.
fn write_command_entry(reply: &mut Reply, entry: &Info) {
    let Info::Array(fields) = entry else {
        return write_info(reply, entry);
    };
    reply.array(fields.len());
    for (i, field) in fields.iter().enumerate() {
        match (i, field) {
            (TIPS, Info::Set(tips)) => {
                reply.set(tips.len());
                for tip in tips {
                    write_node(reply, tip, false);
                }
            }
            (SUBCOMMANDS, Info::Array(subcommands)) => {
                reply.array(subcommands.len());
                for sub in subcommands {
                    write_command_entry(reply, sub);
                }
            }
            _ => write_node(reply, field, false),
        }
    }
}

/// `flag_name`: the node is an element of a set of flag names.
fn write_node(reply: &mut Reply, info: &Info, flag_name: bool) {
    match info {
        Info::Str(s) if flag_name => reply.simple(s),
        Info::Str(s) => reply.bulk(s.as_bytes()),
        Info::Int(n) => reply.int(*n),
        Info::Null => reply.null(),
        Info::Map(pairs) => {
            reply.map(pairs.len());
            for (key, value) in pairs {
                reply.bulk(key.as_bytes());
                write_node(reply, value, false);
            }
        }
        Info::Set(items) => {
            reply.set(items.len());
            for item in items {
                write_node(reply, item, true);
            }
        }
        Info::Array(items) => {
            reply.array(items.len());
            for item in items {
                write_node(reply, item, false);
            }
        }
    }
}
