//! Blocking commands over TCP: clients blocked on keys, served by other clients' writes.
//!
//! Most scenarios are functions of a `Server` that return the transcript of every reply
//! they saw; each runs against vireo and against redis-server, and the transcripts must be
//! equal (they also assert the facts that matter on their own). The rest are vireo's
//! own guarantees: a client that disconnects while blocked loses nothing, timeouts, the
//! idle timeout sparing blocked clients, and a stress test proving that every element
//! pushed by many threads is delivered exactly once to many blocked poppers.

mod common;

use common::reply::{array, bulk, int, ok};
use common::transcript::{same_as_redis_and_valkey, Log};
use common::{encode_command, RawClient, Reply, Server};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Sends a command without waiting for its reply (it blocks).
fn send(c: &mut RawClient, args: &[&str]) {
    c.send(&encode_command(args)).expect("send");
}

fn read(c: &mut RawClient) -> Reply {
    c.read_reply().expect("read a reply")
}

fn info_field(c: &mut RawClient, field: &str) -> String {
    info_field_opt(c, field).unwrap_or_else(|| panic!("no {field} in INFO"))
}

/// An INFO clients field that older servers may lack (Redis 7.0 has no
/// `total_blocking_keys`).
fn info_field_opt(c: &mut RawClient, field: &str) -> Option<String> {
    let text = match c.cmd(&["INFO", "clients"]) {
        Reply::Bulk(Some(b)) | Reply::Verbatim(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO: {other}"),
    };
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().to_string())
}

/// Checks INFO `total_blocking_keys` where the server has it (Redis 7.2, not 7.0); not
/// part of the transcript, since only one side may report it.
fn check_blocking_keys(c: &mut RawClient, n: usize) {
    if let Some(v) = info_field_opt(c, "total_blocking_keys") {
        assert_eq!(v, n.to_string(), "total_blocking_keys");
    }
}

/// Waits until `n` clients are blocked (so the order of blocking is known).
fn wait_blocked(c: &mut RawClient, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(c, "blocked_clients") != n.to_string() {
        assert!(Instant::now() < deadline, "never saw {n} blocked clients");
        thread::sleep(Duration::from_millis(2));
    }
}

fn client_id(c: &mut RawClient) -> String {
    match c.cmd(&["CLIENT", "ID"]) {
        Reply::Integer(id) => id.to_string(),
        other => panic!("CLIENT ID: {other}"),
    }
}

fn key_elem(key: &str, elem: &str) -> Reply {
    array(vec![bulk(key), bulk(elem)])
}

// Scenarios compared with redis-server

fn served_in_fifo_order(s: &Server) -> Log {
    let mut log = Log::default();
    let mut w = s.raw();
    let mut waiters: Vec<RawClient> = (0..3).map(|_| s.raw()).collect();
    for (i, c) in waiters.iter_mut().enumerate() {
        send(c, &["BLPOP", "k", "0"]);
        wait_blocked(&mut w, i + 1);
    }
    // The pusher's reply counts every element; the waiters are served after it.
    log.check("rpush", w.cmd(&["RPUSH", "k", "a", "b", "c", "d"]), &int(4));
    for (c, elem) in waiters.iter_mut().zip(["a", "b", "c"]) {
        log.check("served", read(c), &key_elem("k", elem));
    }
    log.check(
        "left",
        w.cmd(&["LRANGE", "k", "0", "-1"]),
        &array(vec![bulk("d")]),
    );
    log.check("blocked", int_field(&mut w, "blocked_clients"), &int(0));
    log
}

fn int_field(c: &mut RawClient, field: &str) -> Reply {
    int(info_field(c, field).parse().expect("a number"))
}

fn lpush_then_serve(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a, mut b) = (s.raw(), s.raw(), s.raw());
    send(&mut a, &["BLPOP", "k", "0"]);
    wait_blocked(&mut w, 1);
    send(&mut b, &["BRPOP", "k", "0"]);
    wait_blocked(&mut w, 2);
    log.check("lpush", w.cmd(&["LPUSH", "k", "x", "y", "z"]), &int(3));
    log.check("blpop", read(&mut a), &key_elem("k", "z"));
    log.check("brpop", read(&mut b), &key_elem("k", "x"));
    log.check(
        "rest",
        w.cmd(&["LRANGE", "k", "0", "-1"]),
        &array(vec![bulk("y")]),
    );
    log
}

fn several_keys_served_once(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a) = (s.raw(), s.raw());
    send(&mut a, &["BLPOP", "k1", "k2", "k3", "0"]);
    wait_blocked(&mut w, 1);
    check_blocking_keys(&mut w, 3);
    log.check("rpush", w.cmd(&["RPUSH", "k2", "x"]), &int(1));
    log.check("served", read(&mut a), &key_elem("k2", "x"));
    log.check("rpush k1", w.cmd(&["RPUSH", "k1", "y"]), &int(1));
    log.check("rpush k3", w.cmd(&["RPUSH", "k3", "z"]), &int(1));
    log.check("k1 kept", w.cmd(&["LLEN", "k1"]), &int(1));
    log.check("k3 kept", w.cmd(&["LLEN", "k3"]), &int(1));
    check_blocking_keys(&mut w, 0);
    // The same key twice is waited on once.
    send(&mut a, &["BLPOP", "d", "d", "0"]);
    wait_blocked(&mut w, 1);
    check_blocking_keys(&mut w, 1);
    log.check("rpush d", w.cmd(&["RPUSH", "d", "1", "2"]), &int(2));
    log.check("served d", read(&mut a), &key_elem("d", "1"));
    log.check("d kept", w.cmd(&["LLEN", "d"]), &int(1));
    log
}

fn moves_and_chains(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a, mut b, mut c) = (s.raw(), s.raw(), s.raw(), s.raw());
    // a moves {t}src -> {t}mid, b moves mid -> dst (another shard), c pops dst.
    send(&mut a, &["BLMOVE", "src", "mid", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut w, 1);
    send(&mut b, &["BRPOPLPUSH", "mid", "dst", "0"]);
    wait_blocked(&mut w, 2);
    send(
        &mut c,
        &["BLMPOP", "0", "2", "other", "dst", "RIGHT", "COUNT", "5"],
    );
    wait_blocked(&mut w, 3);
    log.check("push", w.cmd(&["RPUSH", "src", "x"]), &int(1));
    log.check("blmove", read(&mut a), &bulk("x"));
    log.check("brpoplpush", read(&mut b), &bulk("x"));
    log.check(
        "blmpop",
        read(&mut c),
        &array(vec![bulk("dst"), array(vec![bulk("x")])]),
    );
    log.check("all gone", w.cmd(&["EXISTS", "src", "mid", "dst"]), &int(0));
    // A list rotated onto itself.
    w.cmd(&["DEL", "r"]);
    send(&mut a, &["BLMOVE", "r", "r", "RIGHT", "LEFT", "0"]);
    wait_blocked(&mut w, 1);
    log.check("push", w.cmd(&["RPUSH", "r", "1", "2", "3"]), &int(3));
    log.check("rotated", read(&mut a), &bulk("3"));
    log.check(
        "r",
        w.cmd(&["LRANGE", "r", "0", "-1"]),
        &array(vec![bulk("3"), bulk("1"), bulk("2")]),
    );
    // A move into a key with waiters serves them (RPOPLPUSH's destination).
    send(&mut a, &["BLPOP", "target", "0"]);
    wait_blocked(&mut w, 1);
    log.check(
        "rpoplpush",
        w.cmd(&["RPOPLPUSH", "r", "target"]),
        &bulk("2"),
    );
    log.check("served", read(&mut a), &key_elem("target", "2"));
    log.check("target", w.cmd(&["EXISTS", "target"]), &int(0));
    log
}

fn wrong_types(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a) = (s.raw(), s.raw());
    w.cmd(&["SET", "str", "v"]);
    w.cmd(&["RPUSH", "list", "a"]);
    for args in [
        &["BLPOP", "str", "0"][..],
        &["BLPOP", "nokey", "str", "list", "0"],
        &["BLMOVE", "list", "str", "LEFT", "LEFT", "0"],
        &["BLMPOP", "0", "1", "str", "LEFT"],
    ] {
        log.note(&args.join(" "), w.cmd(args));
    }
    log.check("list kept", w.cmd(&["LLEN", "list"]), &int(1));
    // Blocked, then the destination becomes a string: the served move fails.
    send(&mut a, &["BLMOVE", "empty", "dst", "LEFT", "LEFT", "0"]);
    wait_blocked(&mut w, 1);
    w.cmd(&["SET", "dst", "v"]);
    w.cmd(&["RPUSH", "empty", "e"]);
    log.note("served with a string destination", read(&mut a));
    log.note("source", w.cmd(&["LRANGE", "empty", "0", "-1"]));
    // A value of another type does not serve a list waiter.
    w.cmd(&["DEL", "empty", "dst"]);
    send(&mut a, &["BLPOP", "k", "0"]);
    wait_blocked(&mut w, 1);
    w.cmd(&["SET", "k", "v"]);
    log.check(
        "still blocked",
        int_field(&mut w, "blocked_clients"),
        &int(1),
    );
    w.cmd(&["DEL", "k"]);
    w.cmd(&["RPUSH", "k", "x"]);
    log.check("served", read(&mut a), &key_elem("k", "x"));
    log
}

fn timeouts_and_unblock(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a) = (s.raw(), s.raw());
    let start = Instant::now();
    log.check("blpop", a.cmd(&["BLPOP", "k", "0.05"]), &Reply::Array(None));
    assert!(start.elapsed() >= Duration::from_millis(50));
    for args in [
        &["BRPOP", "k", "0.01"][..],
        &["BLMOVE", "k", "d", "LEFT", "LEFT", "0.01"],
        &["BRPOPLPUSH", "k", "d", "0.01"],
        &["BLMPOP", "0.01", "1", "k", "LEFT"],
    ] {
        log.check(&args.join(" "), a.cmd(args), &Reply::Array(None));
    }
    let id = client_id(&mut a);
    send(&mut a, &["BLPOP", "k", "0"]);
    wait_blocked(&mut w, 1);
    let line = w.cmd(&["CLIENT", "LIST", "ID", &id]);
    let line = String::from_utf8_lossy(line.bytes().expect("a line")).into_owned();
    assert!(line.contains(" flags=b "), "{line}");
    assert!(line.contains(" cmd=blpop "), "{line}");
    log.check("unblock", w.cmd(&["CLIENT", "UNBLOCK", &id]), &int(1));
    log.check("timed out", read(&mut a), &Reply::Array(None));
    log.check("again", w.cmd(&["CLIENT", "UNBLOCK", &id]), &int(0));
    send(&mut a, &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    wait_blocked(&mut w, 1);
    log.check(
        "unblock",
        w.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]),
        &int(1),
    );
    log.note("error", read(&mut a));
    log.check("push", w.cmd(&["RPUSH", "k", "x"]), &int(1));
    log.check("nothing taken", w.cmd(&["LLEN", "k"]), &int(1));
    log.note("bad reason", w.cmd(&["CLIENT", "UNBLOCK", &id, "LATER"]));
    log.note("bad id", w.cmd(&["CLIENT", "UNBLOCK", "x"]));
    log
}

fn renamed_moved_swapped(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a) = (s.raw(), s.raw());
    // RENAME onto a waited key.
    send(&mut a, &["BLPOP", "dst", "0"]);
    wait_blocked(&mut w, 1);
    w.cmd(&["RPUSH", "src", "a", "b"]);
    log.check("rename", w.cmd(&["RENAME", "src", "dst"]), &ok());
    log.check("served", read(&mut a), &key_elem("dst", "a"));
    log.check(
        "rest",
        w.cmd(&["LRANGE", "dst", "0", "-1"]),
        &array(vec![bulk("b")]),
    );
    // MOVE into a database where a client waits.
    a.cmd(&["SELECT", "1"]);
    send(&mut a, &["BLPOP", "m", "0"]);
    wait_blocked(&mut w, 1);
    w.cmd(&["RPUSH", "m", "x"]);
    log.check("move", w.cmd(&["MOVE", "m", "1"]), &int(1));
    log.check("served", read(&mut a), &key_elem("m", "x"));
    // SWAPDB brings the key to the waiter's database.
    send(&mut a, &["BLPOP", "sw", "0"]);
    wait_blocked(&mut w, 1);
    w.cmd(&["RPUSH", "sw", "y"]);
    log.check("swapdb", w.cmd(&["SWAPDB", "0", "1"]), &ok());
    log.check("served", read(&mut a), &key_elem("sw", "y"));
    w.cmd(&["SWAPDB", "0", "1"]);
    // FLUSHALL keeps the waiters.
    send(&mut a, &["BLPOP", "f", "0"]);
    wait_blocked(&mut w, 1);
    log.check("flushall", w.cmd(&["FLUSHALL"]), &ok());
    log.check(
        "still blocked",
        int_field(&mut w, "blocked_clients"),
        &int(1),
    );
    w.cmd(&["SELECT", "1"]);
    log.check("push", w.cmd(&["RPUSH", "f", "z"]), &int(1));
    log.check("served", read(&mut a), &key_elem("f", "z"));
    log
}

fn pipelines_and_resp3(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a) = (s.raw(), s.raw());
    // Commands after a blocked one wait for it; those before it are answered at once.
    let mut pipeline = encode_command(&["PING"]);
    pipeline.extend(encode_command(&["BLPOP", "k", "0"]));
    pipeline.extend(encode_command(&["ECHO", "after"]));
    a.send(&pipeline).expect("send");
    log.check("before", read(&mut a), &Reply::Simple(b"PONG".to_vec()));
    wait_blocked(&mut w, 1);
    w.cmd(&["RPUSH", "k", "v"]);
    log.check("blpop", read(&mut a), &key_elem("k", "v"));
    log.check("after", read(&mut a), &bulk("after"));
    // A served reply is written in the waiter's protocol.
    a.cmd(&["HELLO", "3"]);
    log.check("timeout", a.cmd(&["BLPOP", "k", "0.01"]), &Reply::Null);
    send(&mut a, &["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"]);
    wait_blocked(&mut w, 1);
    w.cmd(&["RPUSH", "k", "1", "2", "3"]);
    log.check(
        "served",
        read(&mut a),
        &array(vec![bulk("k"), array(vec![bulk("1"), bulk("2")])]),
    );
    log
}

fn sorted_sets(s: &Server) -> Log {
    let mut log = Log::default();
    let (mut w, mut a, mut b, mut c) = (s.raw(), s.raw(), s.raw(), s.raw());
    c.cmd(&["HELLO", "3"]);
    send(&mut a, &["BZPOPMIN", "z1", "z2", "0"]);
    wait_blocked(&mut w, 1);
    send(&mut b, &["BZPOPMAX", "z2", "0"]);
    wait_blocked(&mut w, 2);
    send(&mut c, &["BZMPOP", "0", "1", "z2", "MIN", "COUNT", "2"]);
    wait_blocked(&mut w, 3);
    let zadd = [
        "ZADD", "z2", "1", "a", "2.5", "b", "3", "c", "inf", "d", "5", "e",
    ];
    log.check("zadd", w.cmd(&zadd), &int(5));
    log.check(
        "bzpopmin",
        read(&mut a),
        &array(vec![bulk("z2"), bulk("a"), bulk("1")]),
    );
    log.check(
        "bzpopmax",
        read(&mut b),
        &array(vec![bulk("z2"), bulk("d"), bulk("inf")]),
    );
    log.note("bzmpop (RESP3)", read(&mut c));
    log.check("left", w.cmd(&["ZCARD", "z2"]), &int(1));
    // A list waiter and a sorted-set waiter on one key: each type serves its own.
    send(&mut a, &["BLPOP", "k", "0"]);
    wait_blocked(&mut w, 1);
    send(&mut b, &["BZPOPMIN", "k", "0"]);
    wait_blocked(&mut w, 2);
    log.check("zadd k", w.cmd(&["ZADD", "k", "7", "m"]), &int(1));
    log.check(
        "bzpopmin k",
        read(&mut b),
        &array(vec![bulk("k"), bulk("m"), bulk("7")]),
    );
    log.check(
        "list waiter left",
        int_field(&mut w, "blocked_clients"),
        &int(1),
    );
    log.check("rpush k", w.cmd(&["RPUSH", "k", "x"]), &int(1));
    log.check("blpop k", read(&mut a), &key_elem("k", "x"));
    // A store into a waited key serves it too.
    send(
        &mut a,
        &["BZMPOP", "0", "2", "none", "u", "MAX", "COUNT", "10"],
    );
    wait_blocked(&mut w, 1);
    w.cmd(&["ZADD", "z1", "1", "p", "2", "q"]);
    let store = ["ZRANGESTORE", "u", "z1", "0", "-1"];
    log.check("zrangestore", w.cmd(&store), &int(2));
    log.note("bzmpop (RESP2)", read(&mut a));
    log.check("u gone", w.cmd(&["EXISTS", "u"]), &int(0));
    log
}

#[test]
fn sorted_sets_like_redis() {
    same_as_redis_and_valkey(sorted_sets);
}

#[test]
fn fifo_order_matches_redis() {
    same_as_redis_and_valkey(served_in_fifo_order);
}

#[test]
fn pushes_serve_after_replying_like_redis() {
    same_as_redis_and_valkey(lpush_then_serve);
}

#[test]
fn several_keys_are_served_once_like_redis() {
    same_as_redis_and_valkey(several_keys_served_once);
}

#[test]
fn moves_and_chains_like_redis() {
    same_as_redis_and_valkey(moves_and_chains);
}

#[test]
fn wrong_types_like_redis() {
    same_as_redis_and_valkey(wrong_types);
}

#[test]
fn timeouts_and_client_unblock_like_redis() {
    same_as_redis_and_valkey(timeouts_and_unblock);
}

#[test]
fn renamed_moved_swapped_flushed_like_redis() {
    same_as_redis_and_valkey(renamed_moved_swapped);
}

#[test]
fn pipelines_and_resp3_like_redis() {
    same_as_redis_and_valkey(pipelines_and_resp3);
}

// ---------------------------------------------------------------------------------------
// Vireo's own guarantees

/// Redis 7.2 refuses a timeout whose deadline overflows ("out of range"); 7.0 said
/// "negative". Checked against Valkey (7.2 behaviour) when it is installed.
#[test]
fn timeout_errors_are_redis_7_2s() {
    let check = |s: &Server| {
        let mut c = s.raw();
        let e = |msg: &str| Reply::Error(msg.as_bytes().to_vec());
        for (timeout, expected) in [
            ("inf", "ERR timeout is out of range"),
            ("1e20", "ERR timeout is out of range"),
            ("9223372036854775", "ERR timeout is out of range"),
            ("-1", "ERR timeout is negative"),
            ("-inf", "ERR timeout is negative"),
            ("x", "ERR timeout is not a float or out of range"),
            ("nan", "ERR timeout is not a float or out of range"),
        ] {
            assert_eq!(c.cmd(&["BLPOP", "k", timeout]), e(expected), "{timeout}");
            assert_eq!(c.cmd(&["BLMPOP", timeout, "1", "k", "LEFT"]), e(expected));
            assert_eq!(c.cmd(&["BZPOPMAX", "k", timeout]), e(expected));
        }
    };
    check(&Server::vireo(&[]));
    if let Some(valkey) = common::valkey::server(&[]) {
        check(&valkey);
    }
}

/// A client that goes away while blocked takes nothing with it.
#[test]
fn disconnecting_while_blocked_loses_nothing() {
    let s = Server::vireo(&[]);
    let mut w = s.raw();
    for args in [
        &["BLPOP", "k", "0"][..],
        &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"],
        &["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "3"],
    ] {
        let mut a = s.raw();
        send(&mut a, args);
        wait_blocked(&mut w, 1);
        drop(a);
        wait_blocked(&mut w, 0);
        assert_eq!(info_field(&mut w, "total_blocking_keys"), "0");
        assert_eq!(w.cmd(&["RPUSH", "k", "x"]), int(1));
        assert_eq!(w.cmd(&["LPOP", "k"]), bulk("x"), "{args:?}");
    }
    // Killed while blocked: the same.
    let mut a = s.raw();
    let id = client_id(&mut a);
    send(&mut a, &["BLPOP", "k", "0"]);
    wait_blocked(&mut w, 1);
    assert_eq!(w.cmd(&["CLIENT", "KILL", "ID", &id]), int(1));
    assert!(a.is_closed());
    wait_blocked(&mut w, 0);
    assert_eq!(w.cmd(&["RPUSH", "k", "y"]), int(1));
    assert_eq!(w.cmd(&["LRANGE", "k", "0", "-1"]), array(vec![bulk("y")]));
}

/// A blocked client is not an idle one: `timeout` spares it.
#[test]
fn idle_timeout_spares_blocked_clients() {
    let s = Server::vireo(&["--timeout", "1"]);
    let mut a = s.raw();
    send(&mut a, &["BLPOP", "k", "0"]);
    thread::sleep(Duration::from_millis(2500));
    let mut w = s.raw();
    assert_eq!(w.cmd(&["RPUSH", "k", "v"]), int(1));
    assert_eq!(read(&mut a), key_elem("k", "v"));
    // And a client blocking longer than `timeout` gets its timeout reply.
    assert_eq!(a.cmd(&["BLPOP", "k", "1.5"]), Reply::Array(None));
}

/// A float timeout is honoured to the millisecond (within scheduling noise).
#[test]
fn float_timeouts() {
    let s = Server::vireo(&[]);
    let mut c = s.raw();
    for (timeout, ms) in [("0.2", 200), ("0.05", 50), ("0.001", 1)] {
        let start = Instant::now();
        assert_eq!(c.cmd(&["BRPOP", "k", timeout]), Reply::Array(None));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(ms), "{timeout}: {took:?}");
        assert!(
            took < Duration::from_millis(ms + 500),
            "{timeout}: {took:?}"
        );
    }
    assert_eq!(info_field(&mut c, "clients_in_timeout_table"), "0");
}

/// Many threads push distinct elements to a few keys while many others pop them with
/// BLPOP/BRPOP/BLMPOP or move them with BLMOVE to a second stage that is popped in turn:
/// every element arrives exactly once.
#[test]
fn stress_every_element_delivered_exactly_once() {
    const PRODUCERS: usize = 4;
    const PER_PRODUCER: usize = 3000;
    const POPPERS: usize = 4;
    const MOVERS: usize = 2;
    const TOTAL: usize = PRODUCERS * PER_PRODUCER;
    let keys = ["q1", "q2", "{q1}x", "q3"];
    let stage = ["s1", "s2"];

    let s = Server::vireo(&[]);
    let addr = s.addr();
    let delivered = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(PRODUCERS + POPPERS + MOVERS));
    let mut handles = Vec::new();
    for p in 0..PRODUCERS {
        let (addr, start) = (addr.clone(), start.clone());
        handles.push(thread::spawn(move || {
            let mut c = RawClient::connect(&addr).expect("connect");
            start.wait();
            for i in 0..PER_PRODUCER {
                let key = keys[(p + i) % keys.len()];
                let value = format!("{p}:{i}");
                let cmd = if i % 2 == 0 { "RPUSH" } else { "LPUSH" };
                assert!(matches!(c.cmd(&[cmd, key, &value]), Reply::Integer(_)));
            }
            Vec::new()
        }));
    }
    // Movers take from the queues into the stage lists (other shards), poppers take from
    // both queues and stage: an element moved is counted once, when popped.
    for m in 0..MOVERS {
        let (addr, start, delivered) = (addr.clone(), start.clone(), delivered.clone());
        handles.push(thread::spawn(move || {
            let mut c = RawClient::connect(&addr).expect("connect");
            start.wait();
            while delivered.load(Ordering::SeqCst) < TOTAL {
                let src = keys[m % keys.len()];
                match c.cmd(&["BLMOVE", src, stage[m], "LEFT", "RIGHT", "0.05"]) {
                    Reply::Bulk(Some(_)) | Reply::Array(None) => {}
                    other => panic!("BLMOVE: {other}"),
                }
            }
            Vec::new()
        }));
    }
    for p in 0..POPPERS {
        let (addr, start, delivered) = (addr.clone(), start.clone(), delivered.clone());
        handles.push(thread::spawn(move || {
            let mut c = RawClient::connect(&addr).expect("connect");
            start.wait();
            let mut got: Vec<String> = Vec::new();
            let mut all: Vec<&str> = keys.to_vec();
            all.extend(stage);
            let all_keys: Vec<&str> = all
                .iter()
                .cycle()
                .skip(p)
                .take(all.len())
                .copied()
                .collect();
            let numkeys = all_keys.len().to_string();
            let mut round = 0usize;
            while delivered.load(Ordering::SeqCst) < TOTAL {
                round += 1;
                let mut args: Vec<&str> = Vec::new();
                let reply = match round % 3 {
                    0 => {
                        args.extend(["BLMPOP", "0.05", &numkeys]);
                        args.extend(&all_keys);
                        args.extend(["LEFT", "COUNT", "3"]);
                        c.cmd(&args)
                    }
                    1 => {
                        args.push("BLPOP");
                        args.extend(&all_keys);
                        args.push("0.05");
                        c.cmd(&args)
                    }
                    _ => {
                        args.push("BRPOP");
                        args.extend(&all_keys);
                        args.push("0.05");
                        c.cmd(&args)
                    }
                };
                let elements: Vec<String> = match reply {
                    Reply::Array(None) => continue,
                    Reply::Array(Some(items)) => match &items[1] {
                        Reply::Array(Some(many)) => many.iter().map(text).collect(),
                        one => vec![text(one)],
                    },
                    other => panic!("pop: {other}"),
                };
                delivered.fetch_add(elements.len(), Ordering::SeqCst);
                got.extend(elements);
            }
            got
        }));
    }
    let started = Instant::now();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for h in handles {
        for v in h.join().expect("a thread panicked") {
            *seen.entry(v).or_default() += 1;
        }
    }
    let dup: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(dup.is_empty(), "delivered twice: {dup:?}");
    assert_eq!(seen.len(), TOTAL, "elements lost");
    for p in 0..PRODUCERS {
        for i in 0..PER_PRODUCER {
            assert!(seen.contains_key(&format!("{p}:{i}")));
        }
    }
    let mut c = s.raw();
    let mut exists = vec!["EXISTS"];
    exists.extend(keys);
    exists.extend(stage);
    assert_eq!(c.cmd(&exists), int(0));
    wait_blocked(&mut c, 0);
    eprintln!("{TOTAL} elements delivered once in {:?}", started.elapsed());
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(r.bytes().unwrap_or_else(|| panic!("not a string: {r}"))).into_owned()
}
