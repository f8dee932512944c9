//! Generic keyspace commands over TCP: the SCAN guarantee under concurrent writes, whole-
//! database commands racing each other without deadlock, RANDOMKEY and KEYS around expired
//! keys, TTLs carried by RENAME / MOVE / COPY, lazy flushing.

mod common;

use common::Server;
use redis::{Commands, Connection, RedisResult};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn cmd(con: &mut Connection, args: &[&str]) -> RedisResult<redis::Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

/// Sets `keys` (value = key) in pipelined batches.
fn fill(con: &mut Connection, keys: impl Iterator<Item = String>) {
    let keys: Vec<String> = keys.collect();
    for chunk in keys.chunks(1000) {
        let mut pipe = redis::pipe();
        for k in chunk {
            pipe.cmd("SET").arg(k).arg(k).ignore();
        }
        let () = pipe.query(con).unwrap();
    }
}

fn scan_page(con: &mut Connection, cursor: u64, count: usize) -> (u64, Vec<String>) {
    redis::cmd("SCAN")
        .arg(cursor)
        .arg("COUNT")
        .arg(count)
        .query(con)
        .unwrap()
}

#[test]
fn del_exists_unlink_type_touch() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    fill(&mut con, ["a", "b", "c"].iter().map(|s| s.to_string()));
    let n: i64 = redis::cmd("EXISTS")
        .arg(&["a", "a", "b", "missing"])
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 3);
    let n: i64 = redis::cmd("DEL")
        .arg(&["a", "a", "x"])
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    let n: i64 = redis::cmd("UNLINK")
        .arg(&["b", "c", "b"])
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 2);
    let () = con.set("s", "v").unwrap();
    let t: String = redis::cmd("TYPE").arg("s").query(&mut con).unwrap();
    assert_eq!(t, "string");
    let t: String = redis::cmd("TYPE").arg("nope").query(&mut con).unwrap();
    assert_eq!(t, "none");
    let n: i64 = redis::cmd("TOUCH")
        .arg(&["s", "s", "nope"])
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 2);
}

/// Every key present for the whole scan is returned, while other keys are added (growing
/// and rehashing the shards' tables) and removed (shrinking them) between and during calls.
#[test]
fn scan_returns_every_stable_key_under_churn() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    const STABLE: usize = 100_000;
    fill(&mut con, (0..STABLE).map(|i| format!("stable:{i}")));
    fill(&mut con, (0..20_000).map(|i| format!("doomed:{i}")));

    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        let mut con = server.client();
        thread::spawn(move || {
            let mut round = 0usize;
            while !stop.load(Ordering::Relaxed) {
                // Grow: new keys; shrink: delete the doomed ones batch by batch.
                fill(&mut con, (0..500).map(|i| format!("new:{round}:{i}")));
                if round < 40 {
                    let doomed: Vec<String> = (round * 500..round * 500 + 500)
                        .map(|i| format!("doomed:{i}"))
                        .collect();
                    let _: i64 = con.del(doomed).unwrap();
                }
                round += 1;
            }
            round
        })
    };

    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        let (next, keys) = scan_page(&mut con, cursor, 100);
        seen.extend(keys);
        calls += 1;
        assert!(calls < 1_000_000, "scan does not terminate");
        if next == 0 {
            break;
        }
        cursor = next;
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = churn.join().unwrap();
    assert!(rounds > 0, "the churn thread did nothing during the scan");
    let missing: Vec<usize> = (0..STABLE)
        .filter(|i| !seen.contains(&format!("stable:{i}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} stable keys never returned, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn scan_options_and_cursor_errors() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    fill(&mut con, (0..300).map(|i| format!("k{i}")));
    let () = con.set("other", "x").unwrap();
    let mut all = HashSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("k1*")
            .arg("TYPE")
            .arg("STRING")
            .query(&mut con)
            .unwrap();
        all.extend(keys);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let expected: HashSet<String> = (0..300)
        .map(|i| format!("k{i}"))
        .filter(|k| k.starts_with("k1"))
        .collect();
    assert_eq!(all, expected);
    let (_, keys): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("TYPE")
        .arg("list")
        .arg("COUNT")
        .arg(10_000)
        .query(&mut con)
        .unwrap();
    assert!(keys.is_empty());
    let err = cmd(&mut con, &["SCAN", "x"]).unwrap_err();
    assert_eq!(err.detail(), Some("invalid cursor"));
    let err = cmd(&mut con, &["SCAN", "0", "COUNT", "0"]).unwrap_err();
    assert_eq!(err.detail(), Some("syntax error"));
}

/// RENAME, MOVE, COPY, SWAPDB and FLUSHALL from several clients at once, on keys spread
/// over shards and databases: no deadlock (every call answers within the client timeout),
/// and the server still answers afterwards.
#[test]
fn cross_shard_and_cross_db_commands_never_deadlock() {
    let server = Server::vireo(&[]);
    let deadline = Instant::now() + Duration::from_secs(5);
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let client = redis::Client::open(server.url()).unwrap();
            thread::spawn(move || {
                let mut con = client.get_connection().unwrap();
                con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut ops = 0u64;
                let mut rng = w as u64 * 7919 + 1;
                let mut next = move |n: u64| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng % n
                };
                while Instant::now() < deadline {
                    let a = format!("key{}", next(50));
                    let b = format!("key{}", next(50));
                    let db = next(4).to_string();
                    let result = match next(12) {
                        0 => cmd(&mut con, &["SWAPDB", &db, &next(4).to_string()]),
                        1 if next(20) == 0 => cmd(&mut con, &["FLUSHALL"]),
                        2 => cmd(&mut con, &["MOVE", &a, &db]),
                        3 => cmd(&mut con, &["COPY", &a, &b, "DB", &db, "REPLACE"]),
                        4 => cmd(&mut con, &["COPY", &a, &b]),
                        5 => cmd(&mut con, &["RENAMENX", &a, &b]),
                        6 => cmd(&mut con, &["SELECT", &db]),
                        7 => cmd(&mut con, &["FLUSHDB", "ASYNC"]),
                        8 => cmd(&mut con, &["DBSIZE"]),
                        9 => cmd(&mut con, &["RANDOMKEY"]),
                        _ => cmd(&mut con, &["SET", &a, "v"])
                            .and_then(|_| cmd(&mut con, &["RENAME", &a, &b])),
                    };
                    if let Err(e) = result {
                        // RENAME of a key another client moved away is a normal outcome;
                        // a timeout or a dropped connection is not.
                        assert!(
                            e.detail() == Some("no such key")
                                || e.detail()
                                    == Some("source and destination objects are the same"),
                            "worker {w}: {e}"
                        );
                    }
                    ops += 1;
                }
                ops
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(total > 100, "only {total} operations in 5 seconds");
    let mut con = server.client();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let _: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
}

#[test]
fn randomkey_and_keys_skip_expired_keys() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    for i in 0..200 {
        let () = redis::cmd("SET")
            .arg(format!("gone{i}"))
            .arg("v")
            .query(&mut con)
            .unwrap();
        let _: i64 = redis::cmd("PEXPIRE")
            .arg(format!("gone{i}"))
            .arg(1)
            .query(&mut con)
            .unwrap();
    }
    let () = con.set("stays", "v").unwrap();
    thread::sleep(Duration::from_millis(20));
    let keys: Vec<String> = con.keys("*").unwrap();
    assert_eq!(keys, vec!["stays".to_string()]);
    for _ in 0..20 {
        let k: String = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
        assert_eq!(k, "stays");
    }
    let () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    let k: Option<String> = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
    assert_eq!(k, None);
}

/// Keys spread over every shard: RANDOMKEY returns each of them sometimes.
#[test]
fn randomkey_reaches_every_shard() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    fill(&mut con, (0..20).map(|i| format!("r{i}")));
    let mut seen = HashSet::new();
    for _ in 0..2000 {
        let k: String = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
        seen.insert(k);
    }
    assert_eq!(seen.len(), 20);
}

#[test]
fn rename_move_copy_keep_the_ttl() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    let () = con.set("a", "v").unwrap();
    let _: i64 = redis::cmd("PEXPIRE")
        .arg("a")
        .arg(100_000)
        .query(&mut con)
        .unwrap();
    let at: i64 = redis::cmd("PEXPIRETIME").arg("a").query(&mut con).unwrap();
    let () = redis::cmd("RENAME")
        .arg("a")
        .arg("b")
        .query(&mut con)
        .unwrap();
    let n: i64 = redis::cmd("COPY")
        .arg("b")
        .arg("c")
        .arg("DB")
        .arg(3)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    let n: i64 = redis::cmd("MOVE").arg("b").arg(2).query(&mut con).unwrap();
    assert_eq!(n, 1);
    for (db, key) in [(2, "b"), (3, "c")] {
        let () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
        let got: i64 = redis::cmd("PEXPIRETIME").arg(key).query(&mut con).unwrap();
        assert_eq!(got, at, "db {db} key {key}");
    }
}

#[test]
fn swapdb_is_seen_by_other_clients() {
    let server = Server::vireo(&[]);
    let mut a = server.client();
    let mut b = server.client();
    let () = redis::cmd("SELECT").arg(1).query(&mut b).unwrap();
    let () = a.set("in0", "x").unwrap();
    let () = redis::cmd("SWAPDB").arg(0).arg(1).query(&mut a).unwrap();
    let v: Option<String> = b.get("in0").unwrap();
    assert_eq!(v.as_deref(), Some("x"));
    let v: Option<String> = a.get("in0").unwrap();
    assert_eq!(v, None);
}

#[test]
fn flushall_async_of_a_big_keyspace() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    fill(&mut con, (0..50_000).map(|i| format!("f{i}")));
    let () = redis::cmd("SELECT").arg(5).query(&mut con).unwrap();
    fill(&mut con, (0..1000).map(|i| format!("g{i}")));
    let () = redis::cmd("FLUSHALL").arg("ASYNC").query(&mut con).unwrap();
    for db in [0, 5] {
        let () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
        let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(n, 0);
    }
    // The keyspace works as before.
    fill(&mut con, (0..10).map(|i| format!("h{i}")));
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 10);
}

#[test]
fn object_introspection_leaves_the_clock_alone() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    let () = con.set("k", "hello").unwrap();
    thread::sleep(Duration::from_millis(2100));
    for _ in 0..3 {
        let _: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg("k")
            .query(&mut con)
            .unwrap();
    }
    let idle: i64 = redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg("k")
        .query(&mut con)
        .unwrap();
    assert!(idle >= 2, "idle {idle}");
    let _: Option<String> = con.get("k").unwrap();
    let idle: i64 = redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg("k")
        .query(&mut con)
        .unwrap();
    assert!(idle <= 1, "idle {idle}");
}
