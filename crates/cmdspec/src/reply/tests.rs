//! COMMAND INFO and COMMAND DOCS against replies recorded from a real Redis 7.0
//! (testdata/record.py). Vireo implements 7.2, so the commands whose description
//! changed between 7.0 and 7.2 are listed, each with the reason, and checked to differ.

use super::*;
use crate::tests::render;
use crate::{lookup_fullname, Info};

const TIPS: &str = "7.2 added or changed command tips";
const SCRIPTABLE: &str = "7.2 lets blocking commands and WAIT run in scripts (no noscript)";
const NEW_SUBCOMMANDS: &str = "7.2 added subcommands (CLIENT NO-TOUCH/SETINFO, CLUSTER MYSHARDID)";
const LOADING: &str = "7.2 allows it while loading";
const GETKEYS_ARITY: &str = "7.2 accepts a command without arguments (arity -3)";
const WITHSCORE: &str = "7.2 added WITHSCORE (arity -3)";

/// Commands whose COMMAND INFO differs between Redis 7.0 and 7.2 (from the 7.2 specs).
const INFO_CHANGED_IN_72: &[(&str, &str)] = &[
    ("acl", TIPS),
    ("acl|deluser", TIPS),
    ("acl|save", TIPS),
    ("acl|setuser", TIPS),
    ("client|setname", TIPS),
    ("config", TIPS),
    ("config|resetstat", TIPS),
    ("config|rewrite", TIPS),
    ("latency", TIPS),
    ("latency|reset", TIPS),
    ("msetnx", TIPS),
    ("randomkey", TIPS),
    ("scan", TIPS),
    ("blmove", SCRIPTABLE),
    ("blpop", SCRIPTABLE),
    ("brpop", SCRIPTABLE),
    ("brpoplpush", SCRIPTABLE),
    ("bzpopmax", SCRIPTABLE),
    ("bzpopmin", SCRIPTABLE),
    ("wait", SCRIPTABLE),
    ("client", NEW_SUBCOMMANDS),
    ("cluster", NEW_SUBCOMMANDS),
    ("cluster|shards", LOADING),
    ("cluster|slots", LOADING),
    ("command", GETKEYS_ARITY),
    ("command|getkeys", GETKEYS_ARITY),
    ("command|getkeysandflags", GETKEYS_ARITY),
    ("zrank", WITHSCORE),
    ("zrevrank", WITHSCORE),
];

const ARGS: &str =
    "7.2 renamed or restructured arguments, or changed complexity, history or deprecation";

/// Commands whose COMMAND DOCS differs between Redis 7.0 and 7.2 (beyond display_text,
/// which 7.2 added to every non-container argument and which the comparison drops).
/// A container is listed when one of its subcommands changed.
const DOCS_CHANGED_IN_72: &[(&str, &str)] = &[
    ("acl", ARGS),
    ("acl|cat", ARGS),
    ("acl|log", ARGS),
    ("bitcount", ARGS),
    ("bitfield", ARGS),
    ("bitfield_ro", ARGS),
    ("bitop", ARGS),
    ("bitpos", ARGS),
    ("client", ARGS),
    ("client|kill", ARGS),
    ("client|list", ARGS),
    ("client|pause", ARGS),
    ("client|reply", ARGS),
    ("client|tracking", ARGS),
    ("client|unblock", ARGS),
    ("cluster", ARGS),
    ("cluster|addslotsrange", ARGS),
    ("cluster|delslotsrange", ARGS),
    ("cluster|getkeysinslot", ARGS),
    ("cluster|meet", ARGS),
    ("cluster|replicas", ARGS),
    ("cluster|reset", ARGS),
    ("cluster|setslot", ARGS),
    ("cluster|slaves", ARGS),
    ("command", ARGS),
    ("command|getkeys", ARGS),
    ("command|getkeysandflags", ARGS),
    ("config", ARGS),
    ("config|get", ARGS),
    ("config|set", ARGS),
    ("flushall", ARGS),
    ("flushdb", ARGS),
    ("function", ARGS),
    ("function|flush", ARGS),
    ("geoadd", ARGS),
    ("geodist", ARGS),
    ("geohash", ARGS),
    ("geopos", ARGS),
    ("georadius", ARGS),
    ("georadius_ro", ARGS),
    ("georadiusbymember", ARGS),
    ("georadiusbymember_ro", ARGS),
    ("geosearch", ARGS),
    ("geosearchstore", ARGS),
    ("hello", ARGS),
    ("hmset", ARGS),
    ("hscan", ARGS),
    ("hset", ARGS),
    ("latency", ARGS),
    ("latency|histogram", ARGS),
    ("lcs", ARGS),
    ("migrate", ARGS),
    ("module", ARGS),
    ("module|loadex", ARGS),
    ("mset", ARGS),
    ("msetnx", ARGS),
    ("pfmerge", ARGS),
    ("psetex", ARGS),
    ("psubscribe", ARGS),
    ("punsubscribe", ARGS),
    ("quit", ARGS),
    ("script", ARGS),
    ("script|flush", ARGS),
    ("setex", ARGS),
    ("setnx", ARGS),
    ("shutdown", ARGS),
    ("sort", ARGS),
    ("sort_ro", ARGS),
    ("sscan", ARGS),
    ("sunsubscribe", ARGS),
    ("unsubscribe", ARGS),
    ("xack", ARGS),
    ("xadd", ARGS),
    ("xclaim", ARGS),
    ("xdel", ARGS),
    ("xgroup", ARGS),
    ("xgroup|create", ARGS),
    ("xgroup|createconsumer", ARGS),
    ("xgroup|delconsumer", ARGS),
    ("xgroup|destroy", ARGS),
    ("xgroup|setid", ARGS),
    ("xinfo", ARGS),
    ("xinfo|consumers", ARGS),
    ("xinfo|stream", ARGS),
    ("xread", ARGS),
    ("xreadgroup", ARGS),
    ("xsetid", ARGS),
    ("zadd", ARGS),
    ("zrandmember", ARGS),
    ("zrange", ARGS),
    ("zrangebylex", ARGS),
    ("zrangebyscore", ARGS),
    ("zrangestore", ARGS),
    ("zrank", ARGS),
    ("zrevrangebylex", ARGS),
    ("zrevrangebyscore", ARGS),
    ("zrevrank", ARGS),
    ("zscan", ARGS),
];

fn recorded(text: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    text.lines()
        .map(|line| line.split_once('\t').expect("name TAB reply"))
}

/// What Redis 7.0 would show of a 7.2 docs tree: no display_text, hidden summaries.
fn as_70_docs(info: Info) -> Info {
    match info {
        Info::Map(entries) => Info::Map(
            entries
                .into_iter()
                .filter(|(key, _)| *key != "display_text")
                .map(|(key, value)| match key {
                    "summary" => (key, Info::Str("<summary>")),
                    _ => (key, as_70_docs(value)),
                })
                .collect(),
        ),
        Info::Array(items) => Info::Array(items.into_iter().map(as_70_docs).collect()),
        Info::Set(items) => Info::Set(items.into_iter().map(as_70_docs).collect()),
        other => other,
    }
}

fn compare(
    file: &'static str,
    changed: &[(&str, &str)],
    ours: impl Fn(&'static crate::CommandSpec) -> String,
) {
    let mut mismatches = Vec::new();
    let mut seen = 0;
    let mut dump = String::new();
    for (name, expected) in recorded(file) {
        let spec = lookup_fullname(name.as_bytes()).unwrap_or_else(|| panic!("{name} missing"));
        seen += 1;
        let actual = ours(spec);
        dump.push_str(&format!("{name}\t{actual}\n"));
        let known = changed.iter().any(|(n, _)| *n == name);
        if (actual == expected) == known {
            mismatches.push(format!(
                "{name}{}\n  redis 7.0: {expected}\n  vireo:     {actual}",
                if known {
                    " (listed as changed in 7.2, but equal)"
                } else {
                    ""
                }
            ));
        }
    }
    // Set VIREO_CMDSPEC_DUMP=dir to write Vireo's side for diffing with the recording.
    if let Ok(dir) = std::env::var("VIREO_CMDSPEC_DUMP") {
        let name = if file.contains(r#""group":"#) {
            "docs.txt"
        } else {
            "info.txt"
        };
        std::fs::write(std::path::Path::new(&dir).join(name), &dump).unwrap();
    }
    assert_eq!(seen, 366, "every command of Redis 7.0 is recorded");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn command_info_matches_redis_70() {
    compare(
        include_str!("../../testdata/redis-7.0-command-info.txt"),
        INFO_CHANGED_IN_72,
        |spec| render(&command_info(spec)),
    );
}

#[test]
fn command_docs_matches_redis_70() {
    compare(
        include_str!("../../testdata/redis-7.0-command-docs.txt"),
        DOCS_CHANGED_IN_72,
        |spec| render(&as_70_docs(docs_entry(spec))),
    );
}

#[test]
fn docs_of_72_arguments_have_display_text() {
    let Info::Map(docs) = docs_entry(
        crate::lookup(b"client")
            .unwrap()
            .subcommand(b"kill")
            .unwrap(),
    ) else {
        panic!("a map")
    };
    let (_, args) = docs.iter().find(|(k, _)| *k == "arguments").unwrap();
    let text = render(args);
    assert!(text.contains(r#"{"name":"old-format","type":"string","display_text":"ip:port","deprecated_since":"2.8.12"}"#), "{text}");
    assert!(
        text.contains(r#"{"name":"filter","type":"oneof","arguments":"#),
        "{text}"
    );
}
