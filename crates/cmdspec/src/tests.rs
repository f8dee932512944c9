//! Table-wide checks, and helpers shared by the other test modules.

use super::*;
use crate::reply::Info;

/// Renders a reply tree in the canonical text form of `testdata/record.py`:
/// `"str"`, `12`, `null`, `[array]`, `~[set]`, `{"key":value}`.
pub(crate) fn render(info: &Info) -> String {
    let mut out = String::new();
    render_into(info, &mut out);
    out
}

fn render_into(info: &Info, out: &mut String) {
    match info {
        Info::Str(s) => json_str(s, out),
        Info::Int(n) => out.push_str(&n.to_string()),
        Info::Null => out.push_str("null"),
        Info::Array(items) | Info::Set(items) => {
            out.push_str(if matches!(info, Info::Set(_)) {
                "~["
            } else {
                "["
            });
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render_into(item, out);
            }
            out.push(']');
        }
        Info::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(key, out);
                out.push(':');
                render_into(value, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Python's `json.dumps` writes it (ASCII only).
pub(crate) fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(ch),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[test]
fn counts_match_redis() {
    // Redis 7.0: COMMAND COUNT 240, COMMAND LIST 366 names (126 subcommands).
    // Redis 7.2 adds WAITAOF, CLIENT NO-TOUCH, CLIENT SETINFO and CLUSTER MYSHARDID;
    // crates/cmdspec/specs/ adds Redis 7.4's nine hash-field expiration commands.
    assert_eq!(counts(Mode::Server), (250, 129));
    assert_eq!(all().count(), 250);
    assert_eq!(table().len(), 251);
    let (_, sentinel_subs) = counts(Mode::Sentinel);
    assert!(lookup_in(Mode::Sentinel, b"sentinel").is_some());
    assert_eq!(
        lookup_in(Mode::Sentinel, b"sentinel")
            .unwrap()
            .subcommands
            .len(),
        21
    );
    assert!(sentinel_subs >= 21);
}

#[test]
fn table_is_sorted_and_names_are_lowercase() {
    for pair in table().windows(2) {
        assert!(
            pair[0].name < pair[1].name,
            "{} before {}",
            pair[0].name,
            pair[1].name
        );
    }
    for spec in table() {
        assert_eq!(spec.name, spec.name.to_ascii_lowercase());
        assert!(spec.name.len() <= MAX_NAME);
        for pair in spec.subcommands.windows(2) {
            assert!(pair[0].name < pair[1].name);
        }
        for sub in spec.subcommands {
            assert_eq!(sub.container, Some(spec.name));
            assert_eq!(sub.name, format!("{}|{}", spec.name, sub.declared_name()));
            assert!(sub.declared_name().len() <= MAX_NAME);
        }
        assert!(!spec.summary.is_empty());
    }
}

#[test]
fn lookups_ignore_case() {
    assert_eq!(lookup(b"get").unwrap().name, "get");
    assert_eq!(lookup(b"GeT").unwrap().name, "get");
    assert_eq!(
        lookup(b"GEORADIUSBYMEMBER_RO").unwrap().name,
        "georadiusbymember_ro"
    );
    assert_eq!(lookup(b"restore-asking").unwrap().name, "restore-asking");
    assert!(lookup(b"nosuch").is_none());
    assert!(lookup(b"").is_none());
    assert!(lookup(&[b'a'; 100]).is_none());
    assert!(lookup(b"config|get").is_none());
    // Sentinel-only commands are not part of a data server.
    assert!(lookup(b"sentinel").is_none());
    assert!(lookup_in(Mode::Sentinel, b"SENTINEL").is_some());
    assert!(lookup_in(Mode::Sentinel, b"get").is_none());
    assert!(lookup_in(Mode::Sentinel, b"ping").is_some());

    let config = lookup(b"CONFIG").unwrap();
    assert!(config.is_container());
    assert_eq!(config.subcommand(b"get").unwrap().name, "config|get");
    assert_eq!(
        config.subcommand(b"ReSeTsTaT").unwrap().name,
        "config|resetstat"
    );
    assert!(config.subcommand(b"nosuch").is_none());
    assert_eq!(
        lookup(b"client")
            .unwrap()
            .subcommand(b"no-evict")
            .unwrap()
            .name,
        "client|no-evict"
    );

    assert_eq!(lookup_fullname(b"CONFIG|GET").unwrap().name, "config|get");
    assert_eq!(lookup_fullname(b"get").unwrap().name, "get");
    assert!(lookup_fullname(b"config|nosuch").is_none());
    assert!(lookup_fullname(b"get|x").is_none());

    let argv: [&[u8]; 3] = [b"config", b"GET", b"maxmemory"];
    assert_eq!(lookup_argv(&argv).unwrap().name, "config|get");
    assert_eq!(lookup_argv(&[b"config"]).unwrap().name, "config");
    assert!(lookup_argv(&[&b"config"[..], b"nosuch"]).is_none());
    assert_eq!(lookup_argv(&[&b"get"[..], b"config"]).unwrap().name, "get");
    assert!(lookup_argv::<&[u8]>(&[]).is_none());
    assert_eq!(
        lookup_argv(&[b"GET".to_vec(), b"k".to_vec()]).unwrap().name,
        "get"
    );
}

#[test]
fn arity() {
    let get = lookup(b"get").unwrap();
    assert_eq!(get.arity, 2);
    assert!(get.arity_ok(2) && !get.arity_ok(1) && !get.arity_ok(3));
    let set = lookup(b"set").unwrap();
    assert_eq!(set.arity, -3);
    assert!(!set.arity_ok(2) && set.arity_ok(3) && set.arity_ok(9));
    let cases: &[(&str, i32)] = &[
        ("ping", -1),
        ("mset", -3),
        ("eval", -3),
        ("xread", -4),
        ("migrate", -6),
        ("config", -2),
        ("config|get", -3),
        ("config|set", -4),
        ("command|getkeysandflags", -3),
        ("client|kill", -3),
        ("xinfo|stream", -3),
        ("object|encoding", 3),
        ("hset", -4),
        ("zadd", -4),
        ("exec", 1),
        ("waitaof", 4),
    ];
    for &(name, arity) in cases {
        assert_eq!(
            lookup_fullname(name.as_bytes()).unwrap().arity,
            arity,
            "{name}"
        );
    }
}

/// Command flags and ACL categories of a sample, as real `COMMAND INFO` prints them
/// (the full comparison is in reply/tests.rs).
#[test]
fn flags_and_categories() {
    let get = lookup(b"get").unwrap();
    assert_eq!(get.flags, flags::READONLY | flags::FAST);
    assert_eq!(get.acl_categories, acl::READ | acl::STRING | acl::FAST);

    let sort = lookup(b"sort").unwrap();
    assert!(sort.has(flags::WRITE | flags::DENYOOM | flags::MOVABLE_KEYS));
    assert_eq!(
        sort.acl_categories,
        acl::WRITE | acl::SET | acl::SORTEDSET | acl::LIST | acl::SLOW | acl::DANGEROUS
    );

    // Implicit categories: scripting commands are not @read even when read-only.
    let eval_ro = lookup(b"eval_ro").unwrap();
    assert!(eval_ro.has(flags::READONLY));
    assert!(!eval_ro.in_category(acl::READ));
    assert!(eval_ro.in_category(acl::SLOW));

    let blpop = lookup(b"blpop").unwrap();
    assert!(
        blpop.in_category(acl::BLOCKING)
            && blpop.in_category(acl::WRITE)
            && blpop.in_category(acl::SLOW)
    );

    // A container has no flags of its own and is only @slow.
    let config = lookup(b"config").unwrap();
    assert_eq!(config.acl_categories, acl::SLOW);
    let config_set = config.subcommand(b"set").unwrap();
    assert_eq!(
        config_set.acl_categories,
        acl::ADMIN | acl::SLOW | acl::DANGEROUS
    );

    assert!(lookup(b"subscribe").unwrap().in_category(acl::PUBSUB));
    assert!(lookup(b"auth").unwrap().has(flags::NO_AUTH));
    assert!(lookup(b"multi").unwrap().in_category(acl::TRANSACTION));

    assert_eq!(acl::by_name(b"SortedSet"), Some(acl::SORTEDSET));
    assert_eq!(acl::by_name(b"nosuch"), None);
    assert_eq!(acl::NAMES.len(), 21);
    for (i, &(bit, name)) in acl::NAMES.iter().enumerate() {
        assert_eq!(bit, 1 << i);
        assert_eq!(acl::AT_NAMES[i], format!("@{name}"));
    }
}

#[test]
fn legacy_key_range_and_movable_keys() {
    let cases: &[(&str, (i32, i32, i32), bool)] = &[
        ("get", (1, 1, 1), false),
        ("mset", (1, -1, 2), false),
        ("del", (1, -1, 1), false),
        ("rename", (1, 2, 1), false),
        ("sort", (1, 1, 1), true),
        ("migrate", (3, 3, 1), true),
        ("eval", (0, 0, 0), true),
        ("zunionstore", (1, 1, 1), true),
        ("xread", (0, 0, 0), true),
        ("ping", (0, 0, 0), false),
        ("object|encoding", (2, 2, 1), false),
        ("blpop", (1, -2, 1), false),
    ];
    for &(name, triple, movable) in cases {
        let spec = lookup_fullname(name.as_bytes()).unwrap();
        assert_eq!(
            (spec.first_key, spec.last_key, spec.key_step),
            triple,
            "{name}"
        );
        assert_eq!(spec.has(flags::MOVABLE_KEYS), movable, "{name}");
    }
}

#[test]
fn docs_fields() {
    let set = lookup(b"set").unwrap();
    assert_eq!(set.group, "string");
    assert_eq!(set.since, "1.0.0");
    assert_eq!(set.history.len(), 4);
    assert_eq!(set.arguments[0].name, "key");
    assert_eq!(set.arguments[0].kind, ArgType::Key);
    assert_eq!(set.arguments[0].key_spec_index, 0);
    assert_eq!(lookup(b"zadd").unwrap().group, "sorted-set");
    let getset = lookup(b"getset").unwrap();
    assert_eq!(getset.doc_flags, doc_flags::DEPRECATED);
    assert_eq!(getset.deprecated_since, Some("6.2.0"));
    assert!(getset.replaced_by.is_some());
    assert!(lookup(b"keys")
        .unwrap()
        .tips
        .contains(&"request_policy:all_shards"));
}
