//! String and bitmap commands over TCP: SET's option matrix, the GET family, in-place
//! edits and their size limit, the INCR family under concurrency, INCRBYFLOAT's long
//! double formatting and BITFIELD's overflow arithmetic (both against redis-server on
//! generated cases), LCS reply shapes in RESP2 and RESP3, encodings.

mod common;

use common::reply::{array, bulk, err, int, nil, ok};
use common::{RawClient, Reply, Server};
use std::thread;

/// Sends every command to both servers and asserts the replies are identical.
fn same_as_redis(vireo: &mut RawClient, redis: &mut RawClient, commands: &[Vec<Vec<u8>>]) {
    for cmd in commands {
        let v = vireo.command(cmd).expect("vireo reply");
        let r = redis.command(cmd).expect("redis reply");
        let shown: Vec<String> = cmd
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert!(v == r, "{shown:?}:\n  vireo: {v}\n  redis: {r}");
    }
}

fn args(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

#[test]
fn set_options_and_their_errors() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", "k", "v", "NX"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "w", "NX"]), nil());
    assert_eq!(c.cmd(&["SET", "k", "w", "XX", "GET"]), bulk(b"v"));
    assert_eq!(c.cmd(&["SET", "k", "x", "NX", "GET"]), bulk(b"w"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk(b"w"));
    assert_eq!(
        c.cmd(&["SET", "k", "v", "NX", "XX"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "1", "PX", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "KEEPTTL", "EX", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "PERSIST"]),
        err("ERR syntax error")
    );
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "10", "EX", "20"]), ok());
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "0"]),
        err("ERR invalid expire time in 'set' command")
    );
    assert_eq!(
        c.cmd(&["SETEX", "k", "-1", "v"]),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(
        c.cmd(&["PSETEX", "k", "0", "v"]),
        err("ERR invalid expire time in 'psetex' command")
    );
    assert_eq!(
        c.cmd(&["GETEX", "k", "EX", "0"]),
        err("ERR invalid expire time in 'getex' command")
    );
    // GETEX validates the expiry only for an existing key.
    assert_eq!(c.cmd(&["GETEX", "missing", "EX", "0"]), nil());
    assert_eq!(c.cmd(&["GETEX", "k", "NX"]), err("ERR syntax error"));
    // KEEPTTL keeps it, a plain SET drops it, GETSET drops it.
    assert_eq!(c.cmd(&["SET", "t", "v", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["SET", "t", "w", "KEEPTTL"]), ok());
    assert!(matches!(c.cmd(&["TTL", "t"]), Reply::Integer(90..=100)));
    assert_eq!(c.cmd(&["GETSET", "t", "x"]), bulk(b"w"));
    assert_eq!(c.cmd(&["TTL", "t"]), int(-1));
    // EXAT in the past: the key is gone.
    assert_eq!(c.cmd(&["SET", "p", "v", "EXAT", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "p"]), nil());
    assert_eq!(c.cmd(&["SET", "p", "v"]), ok());
    assert_eq!(c.cmd(&["GETEX", "p", "PXAT", "1"]), bulk(b"v"));
    assert_eq!(c.cmd(&["EXISTS", "p"]), int(0));
}

/// Every string and bitmap command on a key of another type.
#[test]
fn wrong_type_everywhere() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["RPUSH", "list", "a"]), int(1));
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["GET", "list"][..],
        &["SET", "list", "v", "GET"],
        &["GETSET", "list", "v"],
        &["GETDEL", "list"],
        &["GETEX", "list"],
        &["APPEND", "list", "x"],
        &["STRLEN", "list"],
        &["GETRANGE", "list", "0", "1"],
        &["SETRANGE", "list", "0", "x"],
        &["INCR", "list"],
        &["INCRBYFLOAT", "list", "1"],
        &["SETBIT", "list", "0", "1"],
        &["GETBIT", "list", "0"],
        &["BITCOUNT", "list"],
        &["BITPOS", "list", "1"],
        &["BITFIELD", "list", "GET", "u8", "0"],
        &["BITOP", "AND", "d", "list"],
    ] {
        assert_eq!(c.cmd(cmd), wrongtype, "{cmd:?}");
    }
    assert_eq!(
        c.cmd(&["LCS", "list", "x"]),
        err("ERR The specified keys must contain string values")
    );
    assert_eq!(c.cmd(&["MGET", "list"]), array(vec![nil()]));
}

#[test]
fn in_place_edits_respect_proto_max_bulk_len() {
    let server = Server::vireo(&["--proto-max-bulk-len", "1048576"]);
    let mut c = server.raw();
    let too_long = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    assert_eq!(c.cmd(&["SETRANGE", "k", "1048576", "x"]), too_long);
    assert_eq!(c.cmd(&["SETRANGE", "k", "1048575", "x"]), int(1048576));
    assert_eq!(c.cmd(&["APPEND", "k", "y"]), too_long);
    assert_eq!(c.cmd(&["SETRANGE", "k", "5000000", ""]), int(1048576));
    let bad_offset = err("ERR bit offset is not an integer or out of range");
    assert_eq!(c.cmd(&["SETBIT", "b", "8388608", "1"]), bad_offset);
    assert_eq!(c.cmd(&["SETBIT", "b", "8388607", "1"]), int(0));
    assert_eq!(
        c.cmd(&["BITFIELD", "b", "GET", "u8", "#1048576"]),
        bad_offset
    );
    assert_eq!(
        c.cmd(&["SETRANGE", "k", "-1", "x"]),
        err("ERR offset is out of range")
    );
    // LCS refuses a table (4 bytes per cell) larger than proto-max-bulk-len.
    let a = "a".repeat(600);
    assert_eq!(c.cmd(&["MSET", "la", &a, "lb", &a[..400]]), ok());
    assert_eq!(c.cmd(&["LCS", "la", "lb", "LEN"]), int(400));
    assert_eq!(c.cmd(&["SET", "lb", &a[..500]]), ok());
    assert_eq!(
        c.cmd(&["LCS", "la", "lb", "LEN"]),
        err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    );
}

#[test]
fn increments_are_atomic_across_clients() {
    let server = Server::vireo(&[]);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut c = server.raw();
            thread::spawn(move || {
                for _ in 0..500 {
                    assert!(matches!(c.cmd(&["INCR", "counter"]), Reply::Integer(_)));
                    assert!(matches!(
                        c.cmd(&["MSET", "{a}x", "1", "{b}y", "2"]),
                        Reply::Simple(_)
                    ));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut c = server.raw();
    assert_eq!(c.cmd(&["GET", "counter"]), bulk(b"2000"));
    assert_eq!(
        c.cmd(&["INCRBY", "counter", "9223372036854775807"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        c.cmd(&["DECRBY", "counter", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
}

#[test]
fn lcs_reply_shapes() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["MSET", "a", "ohmytext", "b", "mynewtext"]), ok());
    assert_eq!(c.cmd(&["LCS", "a", "b"]), bulk(b"mytext"));
    assert_eq!(c.cmd(&["LCS", "a", "b", "LEN"]), int(6));
    let range = |x: i64, y: i64| array(vec![int(x), int(y)]);
    assert_eq!(
        c.cmd(&["LCS", "a", "b", "IDX", "WITHMATCHLEN"]),
        array(vec![
            bulk(b"matches"),
            array(vec![
                array(vec![range(4, 7), range(5, 8), int(4)]),
                array(vec![range(2, 3), range(0, 1), int(2)]),
            ]),
            bulk(b"len"),
            int(6),
        ])
    );
    assert!(!c.cmd(&["HELLO", "3"]).is_error());
    assert_eq!(
        c.cmd(&["LCS", "a", "b", "IDX", "MINMATCHLEN", "3"]),
        Reply::Map(vec![
            (
                bulk(b"matches"),
                array(vec![array(vec![range(4, 7), range(5, 8)])])
            ),
            (bulk(b"len"), int(6)),
        ])
    );
}

#[test]
fn string_commands_match_redis() {
    let vireo = Server::vireo(&[]);
    let redis = Server::redis(&[]);
    let (mut v, mut r) = (vireo.raw(), redis.raw());
    let script: Vec<Vec<Vec<u8>>> = [
        &["SET", "i", "12345"][..],
        &["OBJECT", "ENCODING", "i"],
        &["APPEND", "i", "6"],
        &["OBJECT", "ENCODING", "i"],
        &["SET", "e", "abc"],
        &["SETBIT", "e", "1", "1"],
        &["OBJECT", "ENCODING", "e"],
        &["SET", "n", "5"],
        &["SETRANGE", "n", "0", ""],
        &["OBJECT", "ENCODING", "n"],
        &["INCRBYFLOAT", "f", "3"],
        &["OBJECT", "ENCODING", "f"],
        &["INCR", "f"],
        &["OBJECT", "ENCODING", "f"],
        &[
            "SET",
            "long",
            "123456789012345678901234567890123456789012345",
        ],
        &["OBJECT", "ENCODING", "long"],
        &["BITOP", "OR", "dst", "e"],
        &["OBJECT", "ENCODING", "dst"],
        &["BITFIELD", "bf", "SET", "u8", "0", "1"],
        &["OBJECT", "ENCODING", "bf"],
        &["SETEX", "x", "100", "-0"],
        &["OBJECT", "ENCODING", "x"],
    ]
    .iter()
    .map(|c| args(c))
    .collect();
    same_as_redis(&mut v, &mut r, &script);
}

/// Generated INCRBYFLOAT cases (decimal fractions, exponents, large and tiny magnitudes,
/// sign changes) must print exactly as Redis's long double arithmetic does.
#[test]
fn incrbyfloat_matches_redis_on_generated_cases() {
    let vireo = Server::vireo(&[]);
    let redis = Server::redis(&[]);
    let (mut v, mut r) = (vireo.raw(), redis.raw());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut script = Vec::new();
    for i in 0..400 {
        let key = format!("f{}", i % 23);
        let mantissa = match rng.below(4) {
            0 => format!("{}", rng.below(1000)),
            1 => format!("{}.{}", rng.below(100), rng.below(1000)),
            2 => format!(
                "0.{:0>width$}",
                rng.below(100),
                width = rng.below(12) as usize + 1
            ),
            _ => format!("{}.{}", rng.next() % 1_000_000_000_000, rng.below(10)),
        };
        let sign = rng.pick(&["", "-", "+"]);
        let exponent = match rng.below(5) {
            0 => format!("e{}", rng.below(30) as i64 - 15),
            1 => format!("E+{}", rng.below(5)),
            _ => String::new(),
        };
        let incr = format!("{sign}{mantissa}{exponent}");
        if rng.below(10) == 0 {
            script.push(args(&[
                "SET",
                &key,
                rng.pick(&["1.5", "0", "-7", "10.50", "3e2", "abc"]),
            ]));
        }
        script.push(args(&["INCRBYFLOAT", &key, &incr]));
        if rng.below(5) == 0 {
            script.push(args(&["GET", &key]));
        }
    }
    script.push(args(&["INCRBYFLOAT", "z", "1e400"]));
    script.push(args(&["INCRBYFLOAT", "z", "1e-400"]));
    script.push(args(&["INCRBYFLOAT", "z", "0x1p3"]));
    script.push(args(&["INCRBYFLOAT", "z", "infinity"]));
    script.push(args(&["INCRBYFLOAT", "z", "nan"]));
    same_as_redis(&mut v, &mut r, &script);
}

/// Generated BITFIELD operation lists on shared keys: every type width, offsets on and
/// off byte boundaries, `#` offsets, every overflow policy, values far out of range.
#[test]
fn bitfield_matches_redis_on_generated_cases() {
    let vireo = Server::vireo(&[]);
    let redis = Server::redis(&[]);
    let (mut v, mut r) = (vireo.raw(), redis.raw());
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let values = [
        "0",
        "1",
        "-1",
        "127",
        "128",
        "-128",
        "255",
        "256",
        "1000",
        "-1000",
        "9223372036854775807",
        "-9223372036854775808",
        "4611686018427387904",
    ];
    let mut script = Vec::new();
    for i in 0..300 {
        let key = format!("bf{}", i % 7);
        let mut cmd = vec!["BITFIELD".to_string(), key.clone()];
        for _ in 0..=rng.below(4) {
            if rng.below(4) == 0 {
                cmd.push("OVERFLOW".into());
                cmd.push(
                    rng.pick(&["WRAP", "SAT", "FAIL", "wrap", "sat", "fail"])
                        .into(),
                );
            }
            let signed = rng.below(2) == 0;
            let bits = 1 + rng.below(if signed { 64 } else { 63 });
            let ty = format!("{}{}", if signed { "i" } else { "u" }, bits);
            let offset = if rng.below(4) == 0 {
                format!("#{}", rng.below(8))
            } else {
                rng.below(100).to_string()
            };
            let value = if rng.below(3) == 0 {
                rng.pick(&values).to_string()
            } else {
                (rng.next() as i64 >> rng.below(64)).to_string()
            };
            match rng.below(3) {
                0 => cmd.extend(["GET".into(), ty, offset]),
                1 => cmd.extend(["SET".into(), ty, offset, value]),
                _ => cmd.extend(["INCRBY".into(), ty, offset, value]),
            }
        }
        script.push(cmd.iter().map(|a| a.as_bytes().to_vec()).collect());
        if rng.below(6) == 0 {
            script.push(args(&["GET", &key]));
            script.push(args(&[
                "BITFIELD_RO",
                &key,
                "GET",
                "i64",
                "0",
                "GET",
                "u63",
                "#1",
            ]));
        }
    }
    same_as_redis(&mut v, &mut r, &script);
}

/// Generated BITCOUNT / BITPOS ranges in both units on a few bitmaps.
#[test]
fn bit_ranges_match_redis_on_generated_cases() {
    let vireo = Server::vireo(&[]);
    let redis = Server::redis(&[]);
    let (mut v, mut r) = (vireo.raw(), redis.raw());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut script = vec![
        args(&["SET", "ones", "\u{7f}\u{7f}\u{7f}"]),
        args(&["SET", "zeros", "\0\0\0\0"]),
        args(&["SET", "mixed", "\x0f\x10\x00\x7f\x01"]),
        args(&["SET", "empty", ""]),
    ];
    for _ in 0..400 {
        let key = rng.pick(&["ones", "zeros", "mixed", "empty", "missing"]);
        let start = (rng.below(60) as i64 - 30).to_string();
        let end = (rng.below(60) as i64 - 30).to_string();
        let unit = rng.pick(&["BYTE", "BIT"]);
        let bit = rng.pick(&["0", "1"]);
        script.push(match rng.below(5) {
            0 => args(&["BITCOUNT", key, &start, &end, unit]),
            1 => args(&["BITPOS", key, bit, &start, &end, unit]),
            2 => args(&["BITPOS", key, bit, &start, &end]),
            3 => args(&["BITPOS", key, bit, &start]),
            _ => args(&["BITPOS", key, bit]),
        });
    }
    same_as_redis(&mut v, &mut r, &script);
}
