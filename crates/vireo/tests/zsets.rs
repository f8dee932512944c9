//! Sorted-set commands over TCP, for what the differential cases (tests/diff/zsets*.txt,
//! played against redis-server 7.0) cannot show:
//!
//! - Redis 7.2 behaviour: ZRANK/ZREVRANK WITHSCORE (and their arity, -3 since 7.2),
//!   scores replied in their shortest round-trip form (7.0 printed 17 digits), ZADD
//!   sizing a new key by its pair count. Checked against Valkey 9, which keeps 7.2's
//!   behaviour: `VIREO_TEST_BIN=/path/to/valkey-server cargo nextest run -p vireo --test
//!   zsets` plays this file against it.
//! - Big sets against a model: ranks, ranges, ZSCAN covering every member, ZRANDMEMBER's
//!   distinct and repeated draws.

mod common;

use common::reply::{array, bulk, err, int, nil};
use common::{RawClient, Reply, Server};
use std::collections::{BTreeMap, HashSet};

fn encoding(c: &mut RawClient, key: &str) -> String {
    match c.cmd(&["OBJECT", "ENCODING", key]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("OBJECT ENCODING {key}: {other}"),
    }
}

fn double(text: &str) -> Reply {
    Reply::Double(text.as_bytes().to_vec())
}

fn strings(reply: &Reply) -> Vec<String> {
    reply
        .elements()
        .unwrap_or_else(|| panic!("not an array: {reply}"))
        .iter()
        .map(|r| String::from_utf8(r.bytes().expect("string").to_vec()).unwrap())
        .collect()
}

#[test]
fn zrank_withscore_is_redis_7_2() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["ZADD", "z", "1.5", "a", "2", "b", "3", "c"]);
    assert_eq!(
        c.cmd(&["ZRANK", "z", "b", "WITHSCORE"]),
        array(vec![int(1), bulk("2")])
    );
    assert_eq!(
        c.cmd(&["ZREVRANK", "z", "a", "withscore"]),
        array(vec![int(2), bulk("1.5")])
    );
    assert_eq!(c.cmd(&["ZRANK", "z", "x", "WITHSCORE"]), Reply::Array(None));
    assert_eq!(
        c.cmd(&["ZRANK", "nokey", "x", "WITHSCORE"]),
        Reply::Array(None)
    );
    assert_eq!(c.cmd(&["ZRANK", "z", "x"]), nil());
    assert_eq!(c.cmd(&["ZRANK", "z", "a", "foo"]), err("ERR syntax error"));
    assert_eq!(
        c.cmd(&["ZRANK", "z", "a", "WITHSCORE", "x"]),
        err("ERR wrong number of arguments for 'zrank' command")
    );
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["ZRANK", "z", "c", "WITHSCORE"]),
        array(vec![int(2), double("3")])
    );
    assert_eq!(c.cmd(&["ZREVRANK", "z", "x", "WITHSCORE"]), Reply::Null);
}

#[test]
fn scores_print_in_shortest_form() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&[
        "ZADD", "z", "1.1", "a", "0.1", "b", "1e-7", "c", "1.5e300", "d",
    ]);
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("1.1"));
    assert_eq!(
        c.cmd(&["ZINCRBY", "z", "0.2", "b"]),
        bulk("0.30000000000000004")
    );
    assert_eq!(
        strings(&c.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"])),
        [
            "c",
            "1e-7",
            "b",
            "0.30000000000000004",
            "a",
            "1.1",
            "d",
            "1.5e+300"
        ]
    );
    // ZSCAN sends scores as bulk strings in the same form, under RESP3 too.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), double("1.1"));
    let scan = c.cmd(&["ZSCAN", "z", "0", "MATCH", "a"]);
    assert_eq!(
        scan,
        array(vec![bulk("0"), array(vec![bulk("a"), bulk("1.1")])])
    );
}

#[test]
fn zadd_sizes_a_new_key_by_its_pairs() {
    // Redis 7.2 creates the key for the number of pairs given (zsetTypeCreate), so 200
    // pairs naming one member make a skiplist; 7.0 made a listpack.
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let mut args = vec!["ZADD".to_string(), "dup".to_string()];
    for i in 0..200 {
        args.push(i.to_string());
        args.push("same".to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&args), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "dup", "same"]), bulk("199"));
    assert_eq!(encoding(&mut c, "dup"), "skiplist");
    // 128 pairs fit a listpack; the 129th member converts.
    let mut args = vec!["ZADD".to_string(), "z".to_string()];
    for i in 0..128 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&args), int(128));
    assert_eq!(encoding(&mut c, "z"), "listpack");
    c.cmd(&["ZADD", "z", "1000", "m128"]);
    assert_eq!(encoding(&mut c, "z"), "skiplist");
    let long = "x".repeat(65);
    c.cmd(&["ZADD", "l", "1", &long]);
    assert_eq!(encoding(&mut c, "l"), "skiplist");
}

/// A sorted set of `n` members built through the server, with its model.
fn build(c: &mut RawClient, key: &str, n: usize) -> BTreeMap<String, i64> {
    let mut model = BTreeMap::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut args = vec!["ZADD".to_string(), key.to_string()];
        for &i in chunk {
            let score = (i as i64 * 7919) % 1000;
            args.push(score.to_string());
            args.push(format!("member:{i}"));
            model.insert(format!("member:{i}"), score);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.cmd(&args), int(chunk.len() as i64));
    }
    model
}

fn ordered(model: &BTreeMap<String, i64>) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
    v.sort();
    v
}

#[test]
fn a_big_set_matches_its_model() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    let mut model = build(&mut c, "big", 20_000);
    assert_eq!(encoding(&mut c, "big"), "skiplist");
    assert_eq!(c.cmd(&["ZCARD", "big"]), int(20_000));
    let order = ordered(&model);
    for rank in [0, 1, 63, 64, 4095, 4096, 10_000, 19_999] {
        let (score, member) = &order[rank];
        assert_eq!(c.cmd(&["ZRANK", "big", member]), int(rank as i64));
        assert_eq!(
            c.cmd(&["ZREVRANK", "big", member]),
            int((19_999 - rank) as i64)
        );
        assert_eq!(c.cmd(&["ZSCORE", "big", member]), bulk(score.to_string()));
    }
    let page = strings(&c.cmd(&["ZRANGE", "big", "5000", "5009"]));
    let want: Vec<String> = order[5000..5010].iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(page, want);
    let by_score = strings(&c.cmd(&[
        "ZRANGE", "big", "(500", "-inf", "BYSCORE", "REV", "LIMIT", "3", "4",
    ]));
    let want: Vec<String> = order
        .iter()
        .rev()
        .filter(|(s, _)| *s < 500)
        .skip(3)
        .take(4)
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(by_score, want);
    let in_range = order
        .iter()
        .filter(|(s, _)| (100..=200).contains(s))
        .count();
    assert_eq!(
        c.cmd(&["ZCOUNT", "big", "100", "200"]),
        int(in_range as i64)
    );

    // Remove a score band and a rank band, then compare everything.
    let removed = c.cmd(&["ZREMRANGEBYSCORE", "big", "100", "(300"]);
    let band: Vec<String> = order
        .iter()
        .filter(|(s, _)| (100..300).contains(s))
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(removed, int(band.len() as i64));
    for m in &band {
        model.remove(m);
    }
    let order = ordered(&model);
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "big", "10", "5009"]), int(5000));
    for (_, m) in &order[10..5010] {
        model.remove(m);
    }
    let order = ordered(&model);
    let all = c.cmd(&["ZRANGE", "big", "0", "-1", "WITHSCORES"]);
    let want: Vec<String> = order
        .iter()
        .flat_map(|(s, m)| [m.clone(), s.to_string()])
        .collect();
    assert_eq!(strings(&all), want);

    // ZSCAN returns every member (perhaps more than once) with its score.
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = c.cmd(&["ZSCAN", "big", &cursor, "COUNT", "100"]);
        let parts = reply.elements().expect("scan reply").to_vec();
        cursor = String::from_utf8(parts[0].bytes().unwrap().to_vec()).unwrap();
        let items = strings(&parts[1]);
        for pair in items.chunks(2) {
            assert_eq!(pair[1], model[&pair[0]].to_string());
            seen.insert(pair[0].clone());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), model.len());

    // Pops take from the ends.
    let popped = strings(&c.cmd(&["ZPOPMAX", "big", "3"]));
    let want: Vec<String> = order
        .iter()
        .rev()
        .take(3)
        .flat_map(|(s, m)| [m.clone(), s.to_string()])
        .collect();
    assert_eq!(popped, want);
}

#[test]
fn zrandmember_draws() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    for (key, n) in [("small", 100), ("big", 3000)] {
        let model = build(&mut c, key, n);
        // Distinct members, for each of the strategies (whole set, copy and thin out,
        // draw until enough).
        for count in [n + 5, n, n / 2, n / 10, 1] {
            let reply = c.cmd(&["ZRANDMEMBER", key, &count.to_string(), "WITHSCORES"]);
            let items = strings(&reply);
            assert_eq!(items.len(), 2 * count.min(n), "{key} {count}");
            let mut distinct = HashSet::new();
            for pair in items.chunks(2) {
                assert_eq!(pair[1], model[&pair[0]].to_string());
                assert!(
                    distinct.insert(pair[0].clone()),
                    "{key} {count}: repeated {}",
                    pair[0]
                );
            }
        }
        // Repetitions allowed: exactly |count| draws, each a member.
        let reply = c.cmd(&["ZRANDMEMBER", key, "-5000"]);
        let items = strings(&reply);
        assert_eq!(items.len(), 5000);
        assert!(items.iter().all(|m| model.contains_key(m)));
        // A reply past 512 MB is refused rather than built (Vireo's limit, as SRANDMEMBER).
        assert_eq!(
            c.cmd(&["ZRANDMEMBER", key, "-9223372036854775807"]),
            err("ERR the count asks for a reply larger than 512MB; ask for fewer elements")
        );
        let one = c.cmd(&["ZRANDMEMBER", key]);
        assert!(model.contains_key(std::str::from_utf8(one.bytes().unwrap()).unwrap()));
    }
}
