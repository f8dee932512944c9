//! COMMAND over TCP: COUNT, LIST and the bare COMMAND show exactly the implemented commands
//! (no declared-but-unimplemented one), INFO and DOCS answer like Redis (nil / left out for
//! unknown and unimplemented names, status strings for flags), and GETKEYS /
//! GETKEYSANDFLAGS extract keys with Redis's errors.

mod common;

use common::reply::{bulk, err, status};
use common::{RawClient, Reply, Server};
use std::collections::BTreeSet;

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(
        reply
            .bytes()
            .unwrap_or_else(|| panic!("not a string: {reply}")),
    )
    .into_owned()
}

fn strings(reply: &Reply) -> Vec<String> {
    reply
        .elements()
        .unwrap_or_else(|| panic!("not an array: {reply}"))
        .iter()
        .map(text)
        .collect()
}

fn cmd(c: &mut RawClient, args: &[&str]) -> Reply {
    c.cmd(args)
}

/// Is this the answer of a declared command that has no handler yet?
fn not_implemented(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(e) if String::from_utf8_lossy(e).contains("not implemented"))
}

#[test]
fn count_list_and_command_agree_on_the_implemented_commands() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let Reply::Integer(count) = cmd(&mut c, &["COMMAND", "COUNT"]) else {
        panic!("COMMAND COUNT")
    };
    let all = cmd(&mut c, &["COMMAND"]);
    let entries = all.elements().expect("array");
    assert_eq!(entries.len() as i64, count);
    let top: BTreeSet<String> = entries
        .iter()
        .map(|e| text(&e.elements().expect("entry")[0]))
        .collect();
    assert_eq!(top.len() as i64, count, "no duplicates");

    let listed: BTreeSet<String> = strings(&cmd(&mut c, &["COMMAND", "LIST"]))
        .into_iter()
        .collect();
    let listed_top: BTreeSet<String> = listed
        .iter()
        .filter(|n| !n.contains('|'))
        .cloned()
        .collect();
    assert_eq!(listed_top, top);

    // The commands this test is about are there; the ones not implemented yet are not.
    for name in [
        "command",
        "command|count",
        "client",
        "client|list",
        "client|kill",
        "client|unblock",
        "client|pause",
        "client|unpause",
        "monitor",
        "client|tracking",
        "client|caching",
        "reset",
        "get",
        "ping",
    ] {
        assert!(listed.contains(name), "{name} listed");
    }
    for name in ["cluster|info", "xadd"] {
        assert!(
            !listed.contains(name),
            "{name} is not implemented yet but listed"
        );
    }
}

/// Commands not to run with placeholder arguments: they stop the server, change the
/// connection or replication, or reach out to other hosts.
const DO_NOT_PROBE: &[&str] = &[
    "shutdown",
    "quit",
    "reset",
    "debug",
    "monitor",
    "sync",
    "psync",
    "replicaof",
    "slaveof",
    "failover",
    "client",
    "cluster",
    "sentinel",
    "module",
    "migrate",
];

/// Every command redis-server knows is either listed by COMMAND LIST and runs on vireo, or is
/// not listed and answers "not implemented": each is sent with placeholder arguments that
/// satisfy its arity (from redis-server's COMMAND INFO), so the arity check cannot hide a
/// missing handler.
#[test]
fn listed_means_implemented_for_every_redis_command() {
    let redis = Server::redis(&[]);
    let vireo = Server::vireo(&[]);
    let mut r = redis.raw();
    let mut v = vireo.raw();
    let listed: BTreeSet<String> = strings(&cmd(&mut v, &["COMMAND", "LIST"]))
        .into_iter()
        .collect();
    let mut arity = std::collections::BTreeMap::new();
    let all = cmd(&mut r, &["COMMAND"]);
    for entry in all.elements().unwrap() {
        let fields = entry.elements().unwrap();
        let Reply::Integer(n) = fields[1] else {
            panic!()
        };
        arity.insert(text(&fields[0]), n);
        for sub in fields[9].elements().unwrap_or(&[]) {
            let sub = sub.elements().unwrap();
            let Reply::Integer(n) = sub[1] else { panic!() };
            arity.insert(text(&sub[0]), n);
        }
    }
    let mut wrong = Vec::new();
    for (name, &n) in &arity {
        let mut args: Vec<&str> = name.split('|').collect();
        // A container is implemented when one of its subcommands is; those are probed.
        let container = arity.keys().any(|k| k.starts_with(&format!("{name}|")));
        if DO_NOT_PROBE.contains(&args[0]) || container {
            continue;
        }
        while (args.len() as i64) < n.abs() {
            args.push("__probe__");
        }
        let reply = vireo.raw().command(&args).expect("reply");
        if not_implemented(&reply) == listed.contains(name) {
            wrong.push(format!(
                "{name}: listed={} reply={reply}",
                listed.contains(name)
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn info_entry_shape_and_reply_types() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let reply = cmd(&mut c, &["COMMAND", "INFO", "get"]);
    let entries = reply.elements().unwrap();
    assert_eq!(entries.len(), 1);
    let get = entries[0].elements().unwrap();
    assert_eq!(get.len(), 10);
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], Reply::Integer(2));
    assert_eq!(
        get[2],
        Reply::Array(Some(vec![status("readonly"), status("fast")]))
    );
    assert_eq!(
        &get[3..6],
        &[Reply::Integer(1), Reply::Integer(1), Reply::Integer(1)]
    );
    assert_eq!(
        get[6],
        Reply::Array(Some(vec![
            status("@read"),
            status("@string"),
            status("@fast")
        ]))
    );
    assert_eq!(get[7], Reply::Array(Some(vec![])));
    let spec = get[8].elements().unwrap()[0].elements().unwrap();
    assert_eq!(spec[0], bulk("flags"));
    assert_eq!(
        spec[1],
        Reply::Array(Some(vec![status("RO"), status("access")]))
    );
    assert_eq!(get[9], Reply::Array(Some(vec![])));
}

#[test]
fn info_tips_are_bulk_strings_and_resp3_uses_sets_and_maps() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["HELLO", "3"]);
    let reply = cmd(&mut c, &["COMMAND", "INFO", "keys"]);
    let keys = reply.elements().unwrap()[0].elements().unwrap();
    assert_eq!(
        keys[7],
        Reply::Set(vec![
            bulk("request_policy:all_shards"),
            bulk("nondeterministic_output_order")
        ])
    );
    assert!(matches!(keys[2], Reply::Set(_)));
    let reply = cmd(&mut c, &["COMMAND", "INFO", "set"]);
    let set = reply.elements().unwrap()[0].elements().unwrap();
    let spec = &set[8].elements().unwrap()[0];
    assert!(matches!(spec, Reply::Map(_)), "{spec}");
    assert_eq!(
        cmd(&mut c, &["COMMAND", "INFO", "nosuch"]),
        Reply::Array(Some(vec![Reply::Null]))
    );
}

#[test]
fn info_unknown_and_unimplemented_are_nil() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let reply = cmd(
        &mut c,
        &[
            "COMMAND",
            "INFO",
            "nosuch",
            "cluster|info",
            "CLIENT|LIST",
            "nosuch|x",
            "GET",
        ],
    );
    let entries = reply.elements().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0], Reply::Bulk(None));
    assert_eq!(entries[1], Reply::Bulk(None));
    assert_eq!(entries[2].elements().unwrap()[0], bulk("client|list"));
    assert_eq!(entries[3], Reply::Bulk(None));
    assert_eq!(entries[4].elements().unwrap()[0], bulk("get"));
}

#[test]
fn info_of_a_container_lists_only_implemented_subcommands() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let reply = cmd(&mut c, &["COMMAND", "INFO", "client"]);
    let client = reply.elements().unwrap()[0].elements().unwrap();
    let subs: BTreeSet<String> = client[9]
        .elements()
        .unwrap()
        .iter()
        .map(|e| text(&e.elements().unwrap()[0]))
        .collect();
    assert!(
        subs.contains("client|list") && subs.contains("client|kill"),
        "{subs:?}"
    );
    assert!(
        subs.contains("client|pause")
            && subs.contains("client|unpause")
            && subs.contains("client|tracking"),
        "{subs:?}"
    );
    let listed: BTreeSet<String> = strings(&cmd(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*"],
    ))
    .into_iter()
    .collect();
    assert_eq!(subs, listed);

    // COMMAND DOCS nests the same subcommands.
    let docs = cmd(&mut c, &["COMMAND", "DOCS", "client"]);
    let pairs = docs.elements().unwrap();
    assert_eq!(pairs[0], bulk("client"));
    let fields = pairs[1].elements().unwrap();
    let at = fields
        .iter()
        .position(|f| *f == bulk("subcommands"))
        .unwrap();
    let documented: BTreeSet<String> = fields[at + 1]
        .elements()
        .unwrap()
        .iter()
        .step_by(2)
        .map(text)
        .collect();
    assert_eq!(documented, subs);
}

#[test]
fn docs() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(
        cmd(&mut c, &["COMMAND", "DOCS", "nosuch", "cluster|info"]),
        Reply::Array(Some(vec![]))
    );
    let reply = cmd(&mut c, &["COMMAND", "DOCS", "get", "nosuch"]);
    let items = reply.elements().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], bulk("get"));
    let fields = items[1].elements().unwrap();
    assert_eq!(fields[2], bulk("since"));
    assert_eq!(fields[3], bulk("1.0.0"));
    assert_eq!(fields[4], bulk("group"));
    assert_eq!(fields[5], bulk("string"));

    // Flags in docs are status strings.
    c.cmd(&["HELLO", "3"]);
    let reply = cmd(&mut c, &["COMMAND", "DOCS", "getset"]);
    let Reply::Map(entries) = &reply else {
        panic!("{reply}")
    };
    let Reply::Map(fields) = &entries[0].1 else {
        panic!("{reply}")
    };
    let flags = fields
        .iter()
        .find(|(k, _)| *k == bulk("doc_flags"))
        .unwrap();
    assert_eq!(flags.1, Reply::Set(vec![status("deprecated")]));

    // Without names: every implemented command.
    let Reply::Integer(count) = cmd(&mut c, &["COMMAND", "COUNT"]) else {
        panic!()
    };
    let Reply::Map(all) = cmd(&mut c, &["COMMAND", "DOCS"]) else {
        panic!()
    };
    assert_eq!(all.len() as i64, count);
}

#[test]
fn list_filters() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let list = |c: &mut RawClient, args: &[&str]| -> BTreeSet<String> {
        let mut cmd = vec!["COMMAND", "LIST"];
        cmd.extend_from_slice(args);
        strings(&c.cmd(&cmd)).into_iter().collect()
    };
    let all = list(&mut c, &[]);
    let pattern = list(&mut c, &["FILTERBY", "PATTERN", "CLIENT*"]);
    assert!(
        pattern.contains("client") && pattern.contains("client|id"),
        "{pattern:?}"
    );
    assert!(pattern.iter().all(|n| n.starts_with("client")));
    assert_eq!(
        pattern,
        all.iter()
            .filter(|n| n.starts_with("client"))
            .cloned()
            .collect()
    );
    let connection = list(&mut c, &["filterby", "aclcat", "CONNECTION"]);
    for name in ["ping", "client|id", "command", "reset", "hello"] {
        assert!(connection.contains(name), "{name} in {connection:?}");
    }
    assert!(!connection.contains("get"));
    assert!(connection.is_subset(&all));
    assert!(list(&mut c, &["FILTERBY", "ACLCAT", "nosuch"]).is_empty());
    assert!(list(&mut c, &["FILTERBY", "MODULE", "m"]).is_empty());
    for bad in [
        &["COMMAND", "LIST", "FILTERBY"][..],
        &["COMMAND", "LIST", "foo"],
        &["COMMAND", "LIST", "FILTERBY", "foo", "bar"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
    ] {
        assert_eq!(c.cmd(bad), err("ERR syntax error"), "{bad:?}");
    }
}

#[test]
fn getkeys() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let keys = |c: &mut RawClient, args: &[&str]| -> Reply {
        let mut cmd = vec!["COMMAND", "GETKEYS"];
        cmd.extend_from_slice(args);
        c.cmd(&cmd)
    };
    assert_eq!(strings(&keys(&mut c, &["SET", "a", "b"])), ["a"]);
    assert_eq!(
        strings(&keys(&mut c, &["mset", "a", "1", "b", "2"])),
        ["a", "b"]
    );
    assert_eq!(
        strings(&keys(&mut c, &["zunionstore", "d", "2", "a", "b"])),
        ["d", "a", "b"]
    );
    assert_eq!(
        strings(&keys(&mut c, &["sort", "k", "store", "d"])),
        ["k", "d"]
    );
    assert_eq!(strings(&keys(&mut c, &["memory", "usage", "k"])), ["k"]);
    assert_eq!(
        strings(&keys(&mut c, &["eval", "s", "0"])),
        Vec::<String>::new()
    );
    assert_eq!(
        strings(&keys(&mut c, &["eval", "s", "2", "x", "y", "arg"])),
        ["x", "y"]
    );
    assert_eq!(
        keys(&mut c, &["nosuch", "a"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        keys(&mut c, &["config", "nosuch"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        keys(&mut c, &["get", "a", "b"]),
        err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        keys(&mut c, &["zunionstore", "d", "0", "a"]),
        err("ERR Invalid arguments specified for command")
    );
    assert_eq!(
        keys(&mut c, &["ping"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        keys(&mut c, &["config", "get", "x"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS"]),
        err("ERR wrong number of arguments for 'command|getkeys' command")
    );
}

#[test]
fn getkeysandflags() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(
        c.cmd(&[
            "COMMAND",
            "GETKEYSANDFLAGS",
            "lmove",
            "a",
            "b",
            "left",
            "right"
        ]),
        Reply::Array(Some(vec![
            Reply::Array(Some(vec![
                bulk("a"),
                Reply::Array(Some(vec![status("RW"), status("access"), status("delete")]))
            ])),
            Reply::Array(Some(vec![
                bulk("b"),
                Reply::Array(Some(vec![status("RW"), status("insert")]))
            ])),
        ]))
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "nosuch"]),
        err("ERR Invalid command specified")
    );
}

#[test]
fn help_and_unknown_subcommand() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let lines = strings(&c.cmd(&["COMMAND", "HELP"]));
    assert!(lines[0].starts_with("COMMAND <subcommand>"), "{lines:?}");
    for sub in [
        "COUNT",
        "LIST",
        "INFO",
        "DOCS",
        "GETKEYS",
        "GETKEYSANDFLAGS",
        "HELP",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(sub)),
            "{sub} in {lines:?}"
        );
    }
    assert_eq!(
        c.cmd(&["COMMAND", "foo"]),
        err("ERR unknown subcommand 'foo'. Try COMMAND HELP.")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "COUNT", "x"]),
        err("ERR wrong number of arguments for 'command|count' command")
    );
}
