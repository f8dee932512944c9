//! Hash behaviour newer than the Debian redis-server 7.0 that the differential cases
//! (`tests/diff/hashes.txt`) run against, compared with Valkey 9 (a Redis 7.2
//! descendant): HSCAN's NOVALUES (Redis 7.4) and HSET's up-front conversion of a listpack
//! when given more pairs than `hash-max-listpack-entries` (Redis 7.2).

mod common;

use common::reply::{array, bulk, err};
use common::valkey::Pair;
use common::Reply;

fn bulks(items: &[&str]) -> Reply {
    array(items.iter().map(bulk).collect())
}

#[test]
fn hscan_novalues() {
    let mut p = Pair::start();
    p.same(&["HSET", "h", "a", "1", "b", "2", "novalues", "3"]);
    assert_eq!(
        p.same(&["HSCAN", "h", "0", "NOVALUES"]),
        array(vec![bulk("0"), bulks(&["a", "b", "novalues"])])
    );
    assert_eq!(
        p.same(&["HSCAN", "h", "0", "MATCH", "b", "novalues"]),
        array(vec![bulk("0"), bulks(&["b"])])
    );
    // NOVALUES is a flag: after MATCH it is the pattern.
    assert_eq!(
        p.same(&["HSCAN", "h", "0", "NOVALUES", "MATCH", "novalues"]),
        array(vec![bulk("0"), bulks(&["novalues"])])
    );
    for args in [
        &["HSCAN", "h", "0", "NOVALUES", "x"][..],
        &["HSCAN", "h", "0", "NOVALUES", "COUNT"],
    ] {
        p.newer(args, err("ERR syntax error"));
    }
    // A hashtable, scanned to the end: every field once, no values.
    p.same(&["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
    let mut hset = vec!["HSET".to_string(), "t".into()];
    for i in 0..100 {
        hset.extend([format!("f{i}"), format!("v{i}")]);
    }
    let hset: Vec<&str> = hset.iter().map(String::as_str).collect();
    p.same(&hset);
    p.same(&["OBJECT", "ENCODING", "t"]);
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = p.vireo(&["HSCAN", "t", &cursor, "COUNT", "7", "NOVALUES"]);
        let [next, items] = reply.elements().unwrap() else {
            panic!("{reply:?}")
        };
        cursor = String::from_utf8(next.bytes().unwrap().to_vec()).unwrap();
        seen.extend(
            items
                .elements()
                .unwrap()
                .iter()
                .map(|f| f.bytes().unwrap().to_vec()),
        );
        if cursor == "0" {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    let mut want: Vec<Vec<u8>> = (0..100).map(|i| format!("f{i}").into_bytes()).collect();
    want.sort();
    assert_eq!(seen, want);
}

#[test]
fn hset_with_more_pairs_than_the_limit_converts_up_front() {
    let mut p = Pair::start();
    p.same(&["CONFIG", "SET", "hash-max-listpack-entries", "3"]);
    p.same(&["HSET", "h", "a", "1", "a", "2", "a", "3", "a", "4"]);
    assert_eq!(p.same(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    p.same(&["HSET", "m", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(p.same(&["OBJECT", "ENCODING", "m"]), bulk("listpack"));
    p.same(&["HMSET", "m", "a", "1", "a", "1", "a", "1", "a", "1"]);
    assert_eq!(p.same(&["OBJECT", "ENCODING", "m"]), bulk("hashtable"));
    // HSETNX sets one pair: no up-front conversion unless the limit is 0.
    p.same(&["HSETNX", "n", "a", "1"]);
    assert_eq!(p.same(&["OBJECT", "ENCODING", "n"]), bulk("listpack"));
}

#[test]
fn hrandfield_refuses_a_reply_past_512mb() {
    let server = common::Server::vireo(&[]);
    let mut c = server.raw();
    c.cmd(&["HSET", "h", "a", "1", "b", "2"]);
    // Redis would try to build this reply (about 9 GB); vireo refuses it, as it does for
    // SRANDMEMBER and ZRANDMEMBER.
    let too_big = err("ERR the count asks for a reply larger than 512MB; ask for fewer elements");
    assert_eq!(c.cmd(&["HRANDFIELD", "h", "-1000000000"]), too_big);
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "-100000000", "WITHVALUES"]),
        too_big
    );
    // Distinct picks are bounded by the hash itself.
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "1000000000"])
            .elements()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "-100000"])
            .elements()
            .unwrap()
            .len(),
        100_000
    );
}
