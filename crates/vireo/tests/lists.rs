//! List commands over TCP, for what the differential cases (tests/diff/lists.txt, played
//! against redis-server 7.0) cannot show:
//!
//! - OBJECT ENCODING: Redis 7.0 reports every list as "quicklist"; small lists became
//!   "listpack" in 7.2. The expected encodings here are Redis 7.2's rules, checked against
//!   Valkey 9 (which keeps them): `VIREO_TEST_BIN=/path/to/valkey-server cargo nextest run
//!   -p vireo --test lists` plays this file against it.
//! - Errors that changed in 7.2 (LONG_MIN for LREM's count and LPOS's RANK).
//! - Big and compressed lists against a model, and counts far beyond a list's length.

mod common;

use common::reply::{array, bulk, err, int, nil, ok};
use common::{RawClient, Reply, Server};

fn encoding(c: &mut RawClient, key: &str) -> String {
    match c.cmd(&["OBJECT", "ENCODING", key]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("OBJECT ENCODING {key}: {other}"),
    }
}

fn set_fill(c: &mut RawClient, fill: i64) {
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-max-listpack-size", &fill.to_string()]),
        ok()
    );
}

fn cmd(c: &mut RawClient, parts: &[&[u8]]) -> Reply {
    c.command(parts).expect("reply")
}

#[test]
fn count_limit_converts_and_converts_back_at_half() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    set_fill(&mut c, 4);
    assert_eq!(c.cmd(&["RPUSH", "l", "1", "2", "3", "4"]), int(4));
    assert_eq!(encoding(&mut c, "l"), "listpack");
    assert_eq!(c.cmd(&["RPUSH", "l", "5"]), int(5));
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    // Nodes [1 2 3 4] [5]: one node left with 4 entries is more than half of 4.
    c.cmd(&["RPOP", "l"]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    c.cmd(&["RPOP", "l"]);
    assert_eq!(encoding(&mut c, "l"), "quicklist");
    c.cmd(&["RPOP", "l"]);
    assert_eq!(encoding(&mut c, "l"), "listpack");
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        array(vec![bulk("1"), bulk("2")])
    );

    // Ten at once: nodes [4] [4] [2]. Popping 7 leaves two nodes; one more pop leaves one.
    let ten: Vec<String> = (1..=10).map(|i| i.to_string()).collect();
    let mut push = vec!["RPUSH", "t"];
    push.extend(ten.iter().map(|s| s.as_str()));
    assert_eq!(c.cmd(&push), int(10));
    assert_eq!(encoding(&mut c, "t"), "quicklist");
    assert_eq!(c.cmd(&["LPOP", "t", "7"]).elements().unwrap().len(), 7);
    assert_eq!(encoding(&mut c, "t"), "quicklist");
    assert_eq!(c.cmd(&["LPOP", "t"]), bulk("8"));
    assert_eq!(encoding(&mut c, "t"), "listpack");

    // LREM and LTRIM shrink too: [1 2 3 4] [5 6].
    c.cmd(&["RPUSH", "r", "1", "2", "3", "4", "5", "6"]);
    assert_eq!(c.cmd(&["LREM", "r", "0", "1"]), int(1));
    assert_eq!(encoding(&mut c, "r"), "quicklist");
    assert_eq!(c.cmd(&["LTRIM", "r", "3", "-1"]), ok());
    assert_eq!(encoding(&mut c, "r"), "listpack");

    // Entry limit 0 means one entry per node, and a list never converts back.
    set_fill(&mut c, 0);
    c.cmd(&["RPUSH", "z", "a"]);
    assert_eq!(encoding(&mut c, "z"), "listpack");
    c.cmd(&["RPUSH", "z", "b"]);
    assert_eq!(encoding(&mut c, "z"), "quicklist");
    c.cmd(&["RPOP", "z"]);
    assert_eq!(encoding(&mut c, "z"), "quicklist");
}

#[test]
fn size_limits_of_every_level() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let element = vec![b'x'; 1000];
    // 1000-byte elements take 1004 bytes in a listpack of 7 header bytes; the check adds
    // the new element's length to the listpack's bytes.
    for (fill, converts_at) in [(-1, 5), (-2, 9), (-3, 17), (-4, 33), (-5, 66), (-6, 66)] {
        set_fill(&mut c, fill);
        let key = format!("l{fill}");
        let mut n = 0;
        loop {
            n += 1;
            cmd(&mut c, &[b"RPUSH", key.as_bytes(), &element]);
            if encoding(&mut c, &key) == "quicklist" {
                break;
            }
            assert!(n < 100, "fill {fill} never converted");
        }
        assert_eq!(n, converts_at, "fill {fill}");
    }
    // With an entry limit, nodes still stay within 8 KB.
    set_fill(&mut c, 100);
    for n in 1..=9 {
        cmd(&mut c, &[b"RPUSH", b"safe", &element]);
        let want = if n < 9 { "listpack" } else { "quicklist" };
        assert_eq!(encoding(&mut c, "safe"), want, "element {n}");
    }
    // The check counts argument lengths, not encoded sizes: 7 + 4089 fits 4096 exactly.
    set_fill(&mut c, -1);
    cmd(&mut c, &[b"RPUSH", b"edge", &[b'e'; 4089]]);
    assert_eq!(encoding(&mut c, "edge"), "listpack");
    cmd(&mut c, &[b"RPUSH", b"edge2", &[b'e'; 4090]]);
    assert_eq!(encoding(&mut c, "edge2"), "quicklist");
    // Shrinking converts back within half the size limit: [4 x 1004 B] [1004 B].
    for _ in 0..5 {
        cmd(&mut c, &[b"RPUSH", b"half", &element]);
    }
    assert_eq!(encoding(&mut c, "half"), "quicklist");
    c.cmd(&["RPOP", "half"]);
    c.cmd(&["RPOP", "half"]);
    assert_eq!(encoding(&mut c, "half"), "quicklist", "3019 bytes > 2048");
    c.cmd(&["RPOP", "half"]);
    assert_eq!(encoding(&mut c, "half"), "listpack", "2015 bytes <= 2048");
}

#[test]
fn large_elements_inserts_and_sets() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    set_fill(&mut c, -1);
    let big = vec![b'B'; 5000];
    // A large element lives alone in a plain node.
    cmd(&mut c, &[b"RPUSH", b"p", &big]);
    assert_eq!(encoding(&mut c, "p"), "quicklist");
    c.cmd(&["LPUSH", "p", "a"]);
    assert_eq!(c.cmd(&["RPOP", "p"]), bulk(&big));
    assert_eq!(encoding(&mut c, "p"), "listpack");

    // LSET a large value, then a small one over it.
    c.cmd(&["RPUSH", "s", "a", "b"]);
    cmd(&mut c, &[b"LSET", b"s", b"0", &big]);
    assert_eq!(encoding(&mut c, "s"), "quicklist");
    assert_eq!(c.cmd(&["LINDEX", "s", "0"]), bulk(&big));
    assert_eq!(c.cmd(&["LSET", "s", "0", "a"]), ok());
    assert_eq!(encoding(&mut c, "s"), "listpack");
    assert_eq!(
        c.cmd(&["LRANGE", "s", "0", "-1"]),
        array(vec![bulk("a"), bulk("b")])
    );

    // LINSERT converts for the new element even when the pivot is missing, as Redis does.
    set_fill(&mut c, 4);
    c.cmd(&["RPUSH", "i", "a", "b", "c", "d"]);
    assert_eq!(c.cmd(&["LINSERT", "i", "BEFORE", "zzz", "x"]), int(-1));
    assert_eq!(encoding(&mut c, "i"), "quicklist");
    assert_eq!(c.cmd(&["LLEN", "i"]), int(4));

    // A configuration change applies to later conversions.
    set_fill(&mut c, 2);
    c.cmd(&["RPUSH", "cfg", "a", "b"]);
    assert_eq!(encoding(&mut c, "cfg"), "listpack");
    set_fill(&mut c, 1);
    c.cmd(&["RPUSH", "cfg2", "a"]);
    c.cmd(&["RPUSH", "cfg", "c"]);
    assert_eq!(encoding(&mut c, "cfg"), "quicklist");
}

#[test]
fn move_between_encodings() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    set_fill(&mut c, 2);
    c.cmd(&["RPUSH", "src", "1", "2", "3"]);
    c.cmd(&["RPUSH", "dst", "a", "b"]);
    assert_eq!(encoding(&mut c, "src"), "quicklist");
    assert_eq!(encoding(&mut c, "dst"), "listpack");
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "RIGHT", "LEFT"]), bulk("3"));
    assert_eq!(encoding(&mut c, "dst"), "quicklist");
    // src: [1 2] in one node, count 2 > 1 (half of 2): still a quicklist.
    assert_eq!(encoding(&mut c, "src"), "quicklist");
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "RIGHT", "LEFT"]), bulk("2"));
    assert_eq!(encoding(&mut c, "src"), "listpack");
    assert_eq!(
        c.cmd(&["LRANGE", "dst", "0", "-1"]),
        array(vec![bulk("2"), bulk("3"), bulk("a"), bulk("b")])
    );
}

/// Redis 7.2 refuses LONG_MIN where negating it would overflow (7.0 accepted it).
#[test]
fn long_min_counts_are_refused() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let range = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
        err(range)
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "-9223372036854775807"]),
        nil()
    );
    assert_eq!(c.cmd(&["LLEN", "l"]), int(2));
}

#[test]
fn counts_beyond_the_length() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(
        c.cmd(&["RPOP", "l", "9223372036854775807"]),
        array(vec![bulk("c"), bulk("b"), bulk("a")])
    );
    c.cmd(&["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(
        c.cmd(&["LMPOP", "1", "l", "LEFT", "COUNT", "9223372036854775807"]),
        array(vec![
            bulk("l"),
            array(vec![bulk("a"), bulk("b"), bulk("c")])
        ])
    );
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    c.cmd(&["RPUSH", "l", "a", "b", "a"]);
    assert_eq!(c.cmd(&["LREM", "l", "9223372036854775807", "a"]), int(2));
    assert_eq!(
        c.cmd(&[
            "LPOS",
            "l",
            "b",
            "COUNT",
            "9223372036854775807",
            "MAXLEN",
            "9223372036854775807"
        ]),
        array(vec![int(0)])
    );
}

/// A deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn strings(reply: Reply) -> Vec<Vec<u8>> {
    match reply {
        Reply::Array(Some(items)) => items
            .into_iter()
            .map(|r| match r {
                Reply::Bulk(Some(b)) => b,
                other => panic!("not a bulk string: {other}"),
            })
            .collect(),
        other => panic!("not an array: {other}"),
    }
}

/// A long list with small, compressed nodes, edited in the middle and at the ends,
/// compared with a model after every step.
#[test]
fn compressed_quicklist_matches_a_model() {
    let server = Server::vireo(&[
        "--list-max-listpack-size",
        "16",
        "--list-compress-depth",
        "2",
    ]);
    let mut c = server.raw();
    let mut model: std::collections::VecDeque<Vec<u8>> = Default::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let value = |i: u64| format!("value-{:06}-{}", i % 5000, "pad".repeat((i % 7) as usize));
    for i in 0..3000 {
        let v = value(i).into_bytes();
        if i % 3 == 0 {
            cmd(&mut c, &[b"LPUSH", b"q", &v]);
            model.push_front(v);
        } else {
            cmd(&mut c, &[b"RPUSH", b"q", &v]);
            model.push_back(v);
        }
    }
    assert_eq!(encoding(&mut c, "q"), "quicklist");
    for step in 0..300 {
        let len = model.len() as u64;
        let at = rng.below(len) as usize;
        match step % 6 {
            0 => {
                let v = format!("set-{step}").into_bytes();
                assert_eq!(
                    cmd(&mut c, &[b"LSET", b"q", at.to_string().as_bytes(), &v]),
                    ok()
                );
                model[at] = v;
            }
            1 => {
                let pivot = model[at].clone();
                let first = model.iter().position(|x| *x == pivot).unwrap();
                let v = format!("ins-{step}").into_bytes();
                let reply = cmd(&mut c, &[b"LINSERT", b"q", b"AFTER", &pivot, &v]);
                model.insert(first + 1, v);
                assert_eq!(reply, int(model.len() as i64));
            }
            2 => {
                // Removes the last occurrence only.
                let v = model[at].clone();
                assert_eq!(cmd(&mut c, &[b"LREM", b"q", b"-1", &v]), int(1));
                let last = model.iter().rposition(|x| *x == v).unwrap();
                model.remove(last);
            }
            3 => {
                let reply = c.cmd(&["LINDEX", "q", &at.to_string()]);
                assert_eq!(reply, bulk(&model[at]));
            }
            4 => {
                let v = model[at].clone();
                let want = model.iter().position(|x| *x == v).unwrap();
                assert_eq!(cmd(&mut c, &[b"LPOS", b"q", &v]), int(want as i64));
            }
            _ => {
                let got = strings(c.cmd(&["LPOP", "q", "3"]));
                let want: Vec<Vec<u8>> = (0..3).filter_map(|_| model.pop_front()).collect();
                assert_eq!(got, want);
                let got = strings(c.cmd(&["RPOP", "q", "2"]));
                let want: Vec<Vec<u8>> = (0..2).filter_map(|_| model.pop_back()).collect();
                assert_eq!(got, want);
            }
        }
    }
    let all = strings(c.cmd(&["LRANGE", "q", "0", "-1"]));
    assert_eq!(all, model.iter().cloned().collect::<Vec<_>>());
    let middle = strings(c.cmd(&["LRANGE", "q", "1000", "1099"]));
    assert_eq!(
        middle,
        model
            .iter()
            .skip(1000)
            .take(100)
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(c.cmd(&["LTRIM", "q", "500", "-500"]), ok());
    let kept: Vec<Vec<u8>> = model
        .iter()
        .skip(500)
        .take(model.len() - 999)
        .cloned()
        .collect();
    assert_eq!(strings(c.cmd(&["LRANGE", "q", "0", "-1"])), kept);
}

/// 200,000 elements pushed in a pipeline, read back whole, trimmed and popped in bulk:
/// nothing here may be quadratic.
#[test]
fn a_big_list() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let mut batch = Vec::new();
    for chunk in 0..200 {
        let mut parts: Vec<Vec<u8>> = vec![b"RPUSH".to_vec(), b"big".to_vec()];
        parts.extend((0..1000).map(|i| (chunk * 1000 + i).to_string().into_bytes()));
        batch.extend(common::encode_command(&parts));
    }
    c.send(&batch).unwrap();
    for chunk in 0..200 {
        assert_eq!(c.read_reply().unwrap(), int((chunk + 1) * 1000));
    }
    let all = strings(c.cmd(&["LRANGE", "big", "0", "-1"]));
    assert_eq!(all.len(), 200_000);
    assert_eq!(all[123_456], b"123456");
    assert_eq!(c.cmd(&["LINDEX", "big", "100000"]), bulk("100000"));
    assert_eq!(c.cmd(&["LPOS", "big", "199999"]), int(199_999));
    assert_eq!(c.cmd(&["LTRIM", "big", "1000", "-1001"]), ok());
    assert_eq!(c.cmd(&["LLEN", "big"]), int(198_000));
    assert_eq!(strings(c.cmd(&["LPOP", "big", "100000"])).len(), 100_000);
    assert_eq!(c.cmd(&["LINDEX", "big", "0"]), bulk("101000"));
    assert_eq!(c.cmd(&["LREM", "big", "0", "150000"]), int(1));
    assert_eq!(c.cmd(&["LLEN", "big"]), int(97_999));
}
