//! Key extraction against `COMMAND GETKEYSANDFLAGS` replies recorded from a real
//! Redis (testdata/getkeys.txt, filled by testdata/record.py).

use super::*;
use crate::tests::json_str;
use crate::{lookup, KeyRef};

/// Splits a case's command line: whitespace-separated words, `"..."` quoting.
fn split_args(line: &str) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
            continue;
        }
        let mut arg = String::new();
        if c == '"' {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                arg.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                arg.push(c);
                chars.next();
            }
        }
        args.push(arg.into_bytes());
    }
    args
}

/// Our answer in the canonical form of the recording.
fn render_getkeys(argv: &[Vec<u8>]) -> String {
    let mut keys = Vec::new();
    let mut out = String::new();
    match getkeys(argv, &mut keys) {
        Err(e) => {
            out.push('!');
            json_str(&format!("ERR {e}"), &mut out);
        }
        Ok(_) => {
            out.push('[');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                json_str(std::str::from_utf8(&argv[key.pos]).unwrap(), &mut out);
                out.push_str(",~[");
                let names: Vec<String> = key_flags::NAMES
                    .iter()
                    .filter(|(bit, _)| key.flags & bit != 0)
                    .map(|(_, name)| format!("\"{name}\""))
                    .collect();
                out.push_str(&names.join(","));
                out.push_str("]]");
            }
            out.push(']');
        }
    }
    out
}

#[test]
fn getkeys_matches_redis() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for line in include_str!("../../testdata/getkeys.txt").lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let (cmdline, expected) = match fields[..] {
            ["7.2", cmdline, expected] => (cmdline, expected),
            [cmdline, expected] => (cmdline, expected),
            _ => panic!("bad case line: {line}"),
        };
        cases += 1;
        let actual = render_getkeys(&split_args(cmdline));
        if actual != expected {
            failures.push(format!("{cmdline}\n  redis: {expected}\n  vireo: {actual}"));
        }
    }
    assert!(cases > 150, "{cases} cases");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn keys_of(argv: &[&str]) -> Result<Vec<usize>, KeyError> {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    let spec = crate::lookup_argv(&argv).expect("known command");
    let mut out = Vec::new();
    key_positions(spec, &argv, &mut out)?;
    Ok(out.iter().map(|k| k.pos).collect())
}

#[test]
fn hot_path_gives_no_error_for_keyless_commands() {
    assert_eq!(keys_of(&["ping"]), Ok(vec![]));
    assert_eq!(keys_of(&["config", "get", "x"]), Ok(vec![]));
    assert_eq!(keys_of(&["publish", "ch", "m"]), Ok(vec![]));
    assert_eq!(keys_of(&["eval", "s", "0"]), Ok(vec![]));
    assert_eq!(
        keys_of(&["zunionstore", "d", "0", "a"]),
        Err(KeyError::InvalidArguments)
    );
    // The hot path does not check arity: that is dispatch's job, before this.
    assert_eq!(keys_of(&["get"]), Err(KeyError::InvalidArguments));
    assert_eq!(keys_of(&["eval"]), Ok(vec![]));
    assert_eq!(keys_of(&["zunionstore"]), Err(KeyError::InvalidArguments));
    assert_eq!(keys_of(&["migrate"]), Err(KeyError::InvalidArguments));
    assert_eq!(keys_of(&["sort"]), Err(KeyError::InvalidArguments));
    assert_eq!(keys_of(&["set", "k"]), Ok(vec![1]));
    assert_eq!(
        keys_of(&["xread", "streams"]),
        Err(KeyError::InvalidArguments)
    );
}

#[test]
fn reuses_the_callers_buffer() {
    let spec = lookup(b"mset").unwrap();
    let mut out: Vec<KeyRef> = Vec::with_capacity(8);
    let argv: [&[u8]; 5] = [b"mset", b"a", b"1", b"b", b"2"];
    key_positions(spec, &argv, &mut out).unwrap();
    let capacity = out.capacity();
    key_positions(spec, &argv, &mut out).unwrap();
    assert_eq!(
        out,
        vec![
            KeyRef {
                pos: 1,
                flags: key_flags::OW | key_flags::UPDATE
            },
            KeyRef {
                pos: 3,
                flags: key_flags::OW | key_flags::UPDATE
            }
        ]
    );
    assert_eq!(out.capacity(), capacity);
}

#[test]
fn shard_channels_are_not_keys_unless_asked() {
    let spec = lookup(b"spublish").unwrap();
    let argv: [&[u8]; 3] = [b"spublish", b"ch", b"m"];
    let mut out = Vec::new();
    assert!(keys_from_specs(spec, &argv, KeySearch::default(), &mut out));
    assert!(out.is_empty());
    let search = KeySearch {
        include_not_keys: true,
        ..KeySearch::default()
    };
    assert!(keys_from_specs(spec, &argv, search, &mut out));
    assert_eq!(
        out,
        vec![KeyRef {
            pos: 1,
            flags: key_flags::NOT_KEY
        }]
    );
}

#[test]
fn partial_search_keeps_what_specs_can_say() {
    let spec = lookup(b"sort").unwrap();
    let argv: [&[u8]; 4] = [b"sort", b"k", b"store", b"d"];
    let mut out = Vec::new();
    assert!(!keys_from_specs(
        spec,
        &argv,
        KeySearch::default(),
        &mut out
    ));
    out.clear();
    let search = KeySearch {
        return_partial: true,
        ..KeySearch::default()
    };
    assert!(keys_from_specs(spec, &argv, search, &mut out));
    assert_eq!(out.iter().map(|k| k.pos).collect::<Vec<_>>(), vec![1]);
}

#[test]
fn string2ll_is_strict() {
    assert_eq!(string2ll(b"0"), Some(0));
    assert_eq!(string2ll(b"12"), Some(12));
    assert_eq!(string2ll(b"-3"), Some(-3));
    assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        &b""[..],
        b"-",
        b"-0",
        b"02",
        b"+1",
        b" 1",
        b"1 ",
        b"1a",
        b"9223372036854775808",
    ] {
        assert_eq!(string2ll(bad), None, "{:?}", std::str::from_utf8(bad));
    }
}

#[test]
fn atoi_is_lenient_like_c() {
    assert_eq!(atoi(b"12"), 12);
    assert_eq!(atoi(b"02"), 2);
    assert_eq!(atoi(b" +3x"), 3);
    assert_eq!(atoi(b"-4"), -4);
    assert_eq!(atoi(b"x"), 0);
    assert_eq!(atoi(b""), 0);
    assert_eq!(atoi(b"4294967297"), 1);
    assert_eq!(atoi(b"99999999999999999999"), -1);
}

/// `single_key_index` is a shortcut for `key_positions`: for every command (and
/// subcommand) it applies to, the two agree on every argument vector long enough to hold
/// the key, whatever the other arguments are (keywords that change a key's flags, such as
/// SET's GET or BITFIELD's SET, included).
#[test]
fn single_key_index_agrees_with_key_positions() {
    let mut specs: Vec<&CommandSpec> = crate::all().collect();
    let subs: Vec<&CommandSpec> = specs.iter().flat_map(|s| s.subcommands.iter()).collect();
    specs.extend(subs);
    let mut out = Vec::new();
    let mut covered = Vec::new();
    for spec in specs {
        let Some(index) = spec.single_key_index() else {
            continue;
        };
        covered.push(spec.name);
        let words = ["a", "get", "set", "incrby", "1", "store", "keys", "2"];
        for extra in 0..8 {
            for first in 0..words.len() {
                let argv: Vec<&str> = (0..=index + extra)
                    .map(|i| words[(first + i) % words.len()])
                    .collect();
                key_positions(spec, &argv, &mut out).unwrap();
                let positions: Vec<usize> = out.iter().map(|k| k.pos).collect();
                assert_eq!(positions, [index], "{} {argv:?}", spec.name);
            }
        }
    }
    for name in [
        "get",
        "set",
        "incr",
        "lpush",
        "sadd",
        "hset",
        "zadd",
        "xadd",
        "object|encoding",
    ] {
        assert!(covered.contains(&name), "{name} should take the shortcut");
    }
    for name in [
        "mset",
        "del",
        "eval",
        "lmove",
        "rename",
        "sort",
        "georadius",
    ] {
        assert!(
            !covered.contains(&name),
            "{name} must not take the shortcut"
        );
    }
}
