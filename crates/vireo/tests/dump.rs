//! DUMP and RESTORE between Vireo and redis-server 7.0, both ways: every type in its
//! small and large encodings, with and without a TTL, dumped by one server and restored
//! into the other, must read back the same. DEBUG OBJECT's `serializedlength` must equal
//! Redis's wherever the payloads are the same bytes, and always be the payload's object
//! size.

mod common;

use common::reply::{err, int, ok};
use common::{RawClient, Reply, Server};

const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

fn words(n: usize, f: impl Fn(usize) -> String) -> Vec<String> {
    (0..n).map(f).collect()
}

/// The same keys on any server: every type, small and large, some with a TTL.
fn populate(c: &mut RawClient) {
    let mut run = |args: Vec<String>| {
        let r = c.command(&args).unwrap();
        assert!(!r.is_error(), "{args:?}: {r:?}");
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let with = |head: &[&str], tail: Vec<String>| {
        let mut v = s(head);
        v.extend(tail);
        v
    };
    run(s(&["SET", "str:small", "hello"]));
    run(s(&["SET", "str:int", "12345"]));
    run(s(&["SET", "str:neg", "-7"]));
    run(s(&["SET", "str:i64", "9223372036854775807"]));
    run(s(&["SET", "str:repeat", &"abc".repeat(500)]));
    run(s(&[
        "SET",
        "str:text",
        &words(300, |i| format!("w{}", i % 17)).join(" "),
    ]));
    run(s(&[
        "SET",
        "str:mixed",
        &words(30, |i| format!("{:x}", i * 2654435761u64 as usize)).concat(),
    ]));
    run(s(&["SET", "str:ttl", "expiring", "PX", "500000"]));
    run(with(
        &["RPUSH", "list:small"],
        s(&["a", "b", "1", "2", "-300"]),
    ));
    run(with(
        &["RPUSH", "list:big"],
        words(3000, |i| format!("item{i}")),
    ));
    run(with(
        &["RPUSH", "list:ints"],
        words(2000, |i| (i * 1000).to_string()),
    ));
    run(with(
        &["RPUSH", "list:long"],
        words(100, |i| format!("{i}{}", "L".repeat(150))),
    ));
    run(with(&["RPUSH", "list:ttl"], s(&["x", "y"])));
    run(s(&["PEXPIRE", "list:ttl", "500000"]));
    run(with(
        &["SADD", "set:ints"],
        s(&["1", "2", "3", "-40000", "5000000000"]),
    ));
    run(with(
        &["SADD", "set:intbig"],
        words(600, |i| (i * 3).to_string()),
    ));
    run(with(
        &["SADD", "set:str"],
        s(&["apple", "banana", "cherry", "7"]),
    ));
    run(with(
        &["SADD", "set:strbig"],
        words(300, |i| format!("member{i}")),
    ));
    run(with(&["SADD", "set:ttl"], s(&["1", "2"])));
    run(s(&["PEXPIRE", "set:ttl", "500000"]));
    run(with(
        &["ZADD", "zset:small"],
        s(&["1", "a", "2.5", "b", "-3", "c", "inf", "d"]),
    ));
    run(with(
        &["ZADD", "zset:big"],
        words(300, |i| format!("{} m{i}", i as f64 / 7.0))
            .iter()
            .flat_map(|p| p.split(' ').map(String::from).collect::<Vec<_>>())
            .collect(),
    ));
    run(s(&[
        "ZADD",
        "zset:long",
        "1",
        &"q".repeat(100),
        "2",
        "short",
    ]));
    run(s(&["ZADD", "zset:ttl", "1", "one"]));
    run(s(&["PEXPIRE", "zset:ttl", "500000"]));
    run(s(&[
        "HSET",
        "hash:small",
        "f",
        "v",
        "n",
        "7",
        "big",
        "5000000000",
    ]));
    run(with(
        &["HSET", "hash:big"],
        words(600, |i| format!("field{i} value{i}"))
            .iter()
            .flat_map(|p| p.split(' ').map(String::from).collect::<Vec<_>>())
            .collect(),
    ));
    run(s(&["HSET", "hash:long", "f", &"v".repeat(100)]));
    run(s(&["HSET", "hash:ttl", "f", "v"]));
    run(s(&["PEXPIRE", "hash:ttl", "500000"]));
}

const KEYS: &[&str] = &[
    "str:small",
    "str:int",
    "str:neg",
    "str:i64",
    "str:repeat",
    "str:text",
    "str:mixed",
    "str:ttl",
    "list:small",
    "list:big",
    "list:ints",
    "list:long",
    "list:ttl",
    "set:ints",
    "set:intbig",
    "set:str",
    "set:strbig",
    "set:ttl",
    "zset:small",
    "zset:big",
    "zset:long",
    "zset:ttl",
    "hash:small",
    "hash:big",
    "hash:long",
    "hash:ttl",
];

/// What a client sees of a key: its type, its contents (sets and hashes sorted) and
/// whether it has a TTL.
fn snapshot(c: &mut RawClient, key: &str) -> Vec<Reply> {
    let ty = c.cmd(&["TYPE", key]);
    let contents = match ty.bytes().unwrap_or_default() {
        b"string" => c.cmd(&["GET", key]),
        b"list" => c.cmd(&["LRANGE", key, "0", "-1"]),
        b"set" => c.cmd(&["SMEMBERS", key]).sorted(),
        b"zset" => scores_as_numbers(c.cmd(&["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        b"hash" => c.cmd(&["HGETALL", key]).sorted(),
        other => panic!("{key}: type {:?}", String::from_utf8_lossy(other)),
    };
    let pttl = match c.cmd(&["PTTL", key]) {
        Reply::Integer(t) if t > 400_000 => int(1),
        Reply::Integer(-1) => int(-1),
        other => panic!("{key}: PTTL {other:?}"),
    };
    vec![ty, contents, pttl]
}

/// Scores reparsed: Redis 7.0 replies 17 significant digits, Vireo (as Redis 7.2) the
/// shortest text that reads back as the same double.
fn scores_as_numbers(reply: Reply) -> Reply {
    let items = reply.elements().expect("an array").to_vec();
    let items = items
        .chunks(2)
        .flat_map(|pair| {
            let text = String::from_utf8_lossy(pair[1].bytes().unwrap()).to_string();
            let score: f64 = text.parse().unwrap();
            [pair[0].clone(), common::reply::bulk(score.to_string())]
        })
        .collect();
    Reply::Array(Some(items))
}

fn dump(c: &mut RawClient, key: &str) -> Vec<u8> {
    c.cmd(&["DUMP", key]).bytes().expect("a payload").to_vec()
}

/// Dumps every key from `from` and restores it (with its TTL) into `to`.
fn transfer(from: &mut RawClient, to: &mut RawClient) {
    assert_eq!(to.cmd(&["FLUSHALL"]), ok());
    for key in KEYS {
        let payload = dump(from, key);
        let ttl = match from.cmd(&["PTTL", key]) {
            Reply::Integer(t) if t > 0 => t.to_string(),
            _ => "0".to_string(),
        };
        let args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), &payload];
        assert_eq!(to.command(&args).unwrap(), ok(), "RESTORE {key}");
        let (before, after) = (snapshot(from, key), snapshot(to, key));
        assert!(before == after, "{key} differs after RESTORE");
    }
}

#[test]
fn redis_dumps_restore_into_vireo() {
    let redis = Server::redis(DEBUG);
    let vireo = Server::vireo(DEBUG);
    let (mut r, mut v) = (redis.raw(), vireo.raw());
    populate(&mut r);
    transfer(&mut r, &mut v);
}

#[test]
fn vireo_dumps_restore_into_redis() {
    let redis = Server::redis(DEBUG);
    let vireo = Server::vireo(DEBUG);
    let (mut r, mut v) = (redis.raw(), vireo.raw());
    populate(&mut v);
    transfer(&mut v, &mut r);
}

fn serialized_length(c: &mut RawClient, key: &str) -> usize {
    let line = c.cmd(&["DEBUG", "OBJECT", key]);
    let text = String::from_utf8_lossy(line.bytes().expect("a status line")).to_string();
    let field = text
        .split(' ')
        .find_map(|f| f.strip_prefix("serializedlength:"))
        .unwrap_or_else(|| panic!("{key}: {text}"));
    field.parse().unwrap()
}

#[test]
fn serialized_length_is_the_object_size_and_matches_redis() {
    let redis = Server::redis(DEBUG);
    let vireo = Server::vireo(DEBUG);
    let (mut r, mut v) = (redis.raw(), vireo.raw());
    populate(&mut r);
    populate(&mut v);
    let mut same = 0;
    for key in KEYS {
        let payload = dump(&mut v, key);
        // The payload is the type byte, the object, 2 bytes of version and 8 of CRC.
        assert_eq!(serialized_length(&mut v, key), payload.len() - 11, "{key}");
        if payload == dump(&mut r, key) {
            same += 1;
            assert_eq!(
                serialized_length(&mut v, key),
                serialized_length(&mut r, key),
                "{key}"
            );
        }
    }
    // Strings, lists, intsets, listpack hashes and sorted sets, skiplist sorted sets.
    assert!(same >= 18, "only {same} keys dumped the same bytes");
}

#[test]
fn hash_field_ttls_survive_dump_and_restore() {
    let vireo = Server::vireo(&[]);
    let mut v = vireo.raw();
    v.cmd(&["HSET", "h", "f", "v", "g", "w"]);
    assert_eq!(
        v.cmd(&["HEXPIRE", "h", "1000", "FIELDS", "1", "f"]),
        Reply::Array(Some(vec![int(1)]))
    );
    let payload = dump(&mut v, "h");
    let args: Vec<&[u8]> = vec![b"RESTORE", b"h2", b"0", &payload];
    assert_eq!(v.command(&args).unwrap(), ok());
    let Reply::Array(Some(ttl)) = v.cmd(&["HTTL", "h2", "FIELDS", "2", "f", "g"]) else {
        panic!("HTTL")
    };
    assert!(
        matches!(ttl[0], Reply::Integer(t) if (998..=1000).contains(&t)),
        "{ttl:?}"
    );
    assert_eq!(ttl[1], int(-1));
    assert_eq!(v.cmd(&["HGET", "h2", "g"]), common::reply::bulk("w"));
    // Redis 7.0 knows no field TTLs: the payload is RDB version 12, which it refuses.
    let redis = Server::redis(&[]);
    let args: Vec<&[u8]> = vec![b"RESTORE", b"h", b"0", &payload];
    assert_eq!(
        redis.raw().command(&args).unwrap(),
        err("ERR DUMP payload version or checksum are wrong")
    );
}

/// The `ql_*` fields of DEBUG OBJECT for a quicklist, as `name:value` strings.
fn quicklist_fields(c: &mut RawClient, key: &str) -> Vec<String> {
    let line = c.cmd(&["DEBUG", "OBJECT", key]);
    let text = String::from_utf8_lossy(line.bytes().expect("a status line")).to_string();
    text.split(' ')
        .filter(|f| f.starts_with("ql_"))
        .map(str::to_string)
        .collect()
}

/// A quicklist shows its nodes, average fill, node limit, compression and uncompressed
/// size as Redis does. (Redis 7.0 keeps every list as a quicklist; the cases are lists
/// that are quicklists in 7.2's rules too, with no element big enough for a plain node,
/// which 7.2 makes of smaller elements than 7.0.)
#[test]
fn debug_object_describes_a_quicklist_as_redis_does() {
    let redis = Server::redis(DEBUG);
    let vireo = Server::vireo(DEBUG);
    let (mut r, mut v) = (redis.raw(), vireo.raw());
    let numbers: Vec<String> = (1000..=1200).map(|i| i.to_string()).collect();
    let small: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    for c in [&mut r, &mut v] {
        for _ in 0..20 {
            let mut args = vec!["RPUSH", "big"];
            args.extend(numbers.iter().map(String::as_str));
            c.cmd(&args);
        }
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "list-max-listpack-size", "16"]),
            ok()
        );
        assert_eq!(c.cmd(&["CONFIG", "SET", "list-compress-depth", "1"]), ok());
        let mut args = vec!["RPUSH", "counted"];
        args.extend(small.iter().map(String::as_str));
        c.cmd(&args);
    }
    for key in ["big", "counted"] {
        let ours = quicklist_fields(&mut v, key);
        assert_eq!(ours.len(), 5, "{key}: {ours:?}");
        assert_eq!(ours, quicklist_fields(&mut r, key), "{key}");
    }
    // A listpack-encoded list has none.
    v.cmd(&["RPUSH", "short", "a"]);
    assert!(quicklist_fields(&mut v, "short").is_empty());
}
