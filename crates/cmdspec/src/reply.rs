//! The data of `COMMAND INFO` and `COMMAND DOCS` replies, as Redis 7.2 builds them
//! (server.c: addReplyCommandInfo, addReplyCommandDocs), in a small neutral tree.
//!
//! The tree says what RESP3 would send; over RESP2 a `Map` is sent as a flat array of
//! key, value, key, value… and a `Set` as an array, which is what Redis does. Redis
//! replies with sets where one might expect arrays (tips, key specs, history, an empty
//! subcommand list); the tree keeps those types, checked against Redis 7.0.

use crate::{
    acl, arg_flags, doc_flags, flags, key_flags, Arg, ArgType, BeginSearch, CommandSpec, FindKeys,
    KeySpec,
};

/// One reply value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Info {
    /// A bulk string.
    Str(&'static str),
    Int(i64),
    Array(Vec<Info>),
    Map(Vec<(&'static str, Info)>),
    Set(Vec<Info>),
    Null,
}

/// One element of the `COMMAND INFO` reply (also the shape of each `COMMAND` element):
/// name, arity, flags, first key, last key, step, ACL categories, tips, key specs,
/// subcommands.
pub fn command_info(spec: &CommandSpec) -> Info {
    Info::Array(vec![
        Info::Str(spec.name),
        Info::Int(spec.arity as i64),
        flag_set(spec.flags, flags::NAMES),
        Info::Int(spec.first_key as i64),
        Info::Int(spec.last_key as i64),
        Info::Int(spec.key_step as i64),
        Info::Set(
            acl::NAMES
                .iter()
                .zip(acl::AT_NAMES)
                .filter(|((bit, _), _)| spec.acl_categories & bit != 0)
                .map(|(_, at_name)| Info::Str(at_name))
                .collect(),
        ),
        Info::Set(spec.tips.iter().map(|&tip| Info::Str(tip)).collect()),
        Info::Set(spec.key_specs.iter().map(key_spec).collect()),
        if spec.subcommands.is_empty() {
            Info::Set(Vec::new())
        } else {
            Info::Array(spec.subcommands.iter().map(command_info).collect())
        },
    ])
}

/// The `COMMAND DOCS` reply for `specs`: a map of full name to [`docs_entry`].
pub fn command_docs<'a>(specs: impl IntoIterator<Item = &'a CommandSpec>) -> Info {
    Info::Map(
        specs
            .into_iter()
            .map(|spec| (spec.name, docs_entry(spec)))
            .collect(),
    )
}

/// The documentation map of one command: summary, since, group, complexity,
/// doc_flags, deprecated_since, replaced_by, history, arguments, subcommands — each
/// only when present, except group.
pub fn docs_entry(spec: &CommandSpec) -> Info {
    let mut map = Vec::with_capacity(10);
    map.push(("summary", Info::Str(spec.summary)));
    map.push(("since", Info::Str(spec.since)));
    map.push(("group", Info::Str(spec.group)));
    if let Some(complexity) = spec.complexity {
        map.push(("complexity", Info::Str(complexity)));
    }
    if spec.doc_flags != 0 {
        map.push(("doc_flags", flag_set(spec.doc_flags, doc_flags::NAMES)));
    }
    if let Some(version) = spec.deprecated_since {
        map.push(("deprecated_since", Info::Str(version)));
    }
    if let Some(replacement) = spec.replaced_by {
        map.push(("replaced_by", Info::Str(replacement)));
    }
    if !spec.history.is_empty() {
        let history = spec
            .history
            .iter()
            .map(|&(version, change)| Info::Array(vec![Info::Str(version), Info::Str(change)]))
            .collect();
        map.push(("history", Info::Set(history)));
    }
    if !spec.arguments.is_empty() {
        map.push(("arguments", arg_list(spec.arguments)));
    }
    if !spec.subcommands.is_empty() {
        map.push(("subcommands", command_docs(spec.subcommands)));
    }
    Info::Map(map)
}

fn flag_set(bits: u32, names: &[(u32, &'static str)]) -> Info {
    Info::Set(
        names
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|&(_, name)| Info::Str(name))
            .collect(),
    )
}

fn key_spec(ks: &KeySpec) -> Info {
    let mut map = Vec::with_capacity(4);
    if let Some(notes) = ks.notes {
        map.push(("notes", Info::Str(notes)));
    }
    map.push(("flags", flag_set(ks.flags, key_flags::NAMES)));
    let (kind, spec) = match ks.begin_search {
        BeginSearch::Index(pos) => ("index", vec![("index", Info::Int(pos as i64))]),
        BeginSearch::Keyword { keyword, startfrom } => (
            "keyword",
            vec![
                ("keyword", Info::Str(keyword)),
                ("startfrom", Info::Int(startfrom as i64)),
            ],
        ),
        BeginSearch::Unknown => ("unknown", vec![]),
    };
    map.push(("begin_search", typed(kind, spec)));
    let (kind, spec) = match ks.find_keys {
        FindKeys::Range {
            lastkey,
            step,
            limit,
        } => (
            "range",
            vec![
                ("lastkey", Info::Int(lastkey as i64)),
                ("keystep", Info::Int(step as i64)),
                ("limit", Info::Int(limit as i64)),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            step,
        } => (
            "keynum",
            vec![
                ("keynumidx", Info::Int(keynumidx as i64)),
                ("firstkey", Info::Int(firstkey as i64)),
                ("keystep", Info::Int(step as i64)),
            ],
        ),
        FindKeys::Unknown => ("unknown", vec![]),
    };
    map.push(("find_keys", typed(kind, spec)));
    Info::Map(map)
}

fn typed(kind: &'static str, spec: Vec<(&'static str, Info)>) -> Info {
    Info::Map(vec![("type", Info::Str(kind)), ("spec", Info::Map(spec))])
}

fn arg_list(args: &[Arg]) -> Info {
    Info::Array(args.iter().map(arg).collect())
}

fn arg(arg: &Arg) -> Info {
    let nested = matches!(arg.kind, ArgType::OneOf | ArgType::Block);
    let mut map = Vec::with_capacity(8);
    map.push(("name", Info::Str(arg.name)));
    map.push(("type", Info::Str(arg.kind.as_str())));
    if !nested {
        map.push((
            "display_text",
            Info::Str(arg.display_text.unwrap_or(arg.name)),
        ));
    }
    if arg.key_spec_index >= 0 {
        map.push(("key_spec_index", Info::Int(arg.key_spec_index as i64)));
    }
    if let Some(token) = arg.token {
        map.push(("token", Info::Str(token)));
    }
    if let Some(summary) = arg.summary {
        map.push(("summary", Info::Str(summary)));
    }
    if let Some(since) = arg.since {
        map.push(("since", Info::Str(since)));
    }
    if let Some(version) = arg.deprecated_since {
        map.push(("deprecated_since", Info::Str(version)));
    }
    if arg.flags != 0 {
        map.push(("flags", flag_set(arg.flags, arg_flags::NAMES)));
    }
    if nested {
        map.push(("arguments", arg_list(arg.arguments)));
    }
    Info::Map(map)
}

#[cfg(test)]
mod tests;
