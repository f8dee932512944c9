//! Transactions over TCP with several clients: WATCH invalidated (or not) by another
//! client's commands, blocked clients served after EXEC, CLIENT LIST while queuing — each
//! scenario is a function of a `Server` run against vireo and redis-server, whose
//! transcripts must be equal — and vireo's atomicity under concurrency: WATCH/MULTI/EXEC
//! retry loops from many threads give exact counts, and no reader ever sees half of a
//! two-key transaction.

mod common;

use common::reply::{array, bulk, int, nil, ok};
use common::{encode_command, RawClient, Reply, Server};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn null_array() -> Reply {
    Reply::Array(None)
}

/// Runs `MULTI`, the commands, `EXEC` and returns EXEC's reply.
fn transaction(c: &mut RawClient, cmds: &[&[&str]]) -> Reply {
    assert_eq!(c.cmd(&["MULTI"]), ok());
    for cmd in cmds {
        assert_eq!(c.cmd(cmd), common::reply::status("QUEUED"));
    }
    c.cmd(&["EXEC"])
}

fn watch_scenario(s: &Server) -> Vec<Reply> {
    let mut a = s.raw();
    let mut b = s.raw();
    let mut seen = Vec::new();
    let get_k: &[&[&str]] = &[&["GET", "k"]];

    // Another client's write invalidates.
    b.cmd(&["SET", "k", "1"]);
    assert_eq!(a.cmd(&["WATCH", "k"]), ok());
    b.cmd(&["SET", "k", "2"]);
    let r = transaction(&mut a, get_k);
    assert_eq!(r, null_array());
    seen.push(r);

    // No-ops by another client do not: SET NX on an existing key, DEL of a missing one,
    // a write in another database, reads.
    a.cmd(&["WATCH", "k", "missing"]);
    seen.push(b.cmd(&["SET", "k", "3", "NX"]));
    seen.push(b.cmd(&["DEL", "missing"]));
    seen.push(b.cmd(&["GET", "k"]));
    b.cmd(&["SELECT", "1"]);
    b.cmd(&["SET", "k", "other-db"]);
    let r = transaction(&mut a, get_k);
    assert_eq!(r, array(vec![bulk("2")]));
    seen.push(r);

    // EXEC unwatched: a later write does not matter to the next transaction.
    b.cmd(&["SELECT", "0"]);
    b.cmd(&["SET", "k", "4"]);
    seen.push(transaction(&mut a, get_k));

    // FLUSHALL, SWAPDB, RENAME, EXPIRE, DEL by another client.
    for change in [
        &["FLUSHALL"][..],
        &["SWAPDB", "0", "1"],
        &["RENAME", "src", "k"],
        &["EXPIRE", "k", "100"],
        &["DEL", "k"],
    ] {
        b.cmd(&["SET", "k", "v"]);
        b.cmd(&["SET", "src", "s"]);
        a.cmd(&["WATCH", "k"]);
        seen.push(b.cmd(change));
        let r = transaction(&mut a, get_k);
        assert_eq!(r, null_array(), "{change:?} must invalidate the watch");
        seen.push(r);
    }
    b.cmd(&["FLUSHALL"]);

    // UNWATCH, DISCARD forget the watch.
    b.cmd(&["SET", "k", "v"]);
    a.cmd(&["WATCH", "k"]);
    a.cmd(&["UNWATCH"]);
    b.cmd(&["SET", "k", "w"]);
    seen.push(transaction(&mut a, get_k));
    a.cmd(&["WATCH", "k"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["DISCARD"]);
    b.cmd(&["SET", "k", "x"]);
    seen.push(transaction(&mut a, get_k));

    // A client blocked on a list is served after the transaction that pushed to it.
    let mut blocked = s.raw();
    blocked.send(&encode_command(&["BLPOP", "q", "0"])).unwrap();
    // Blocked (flags=b): vireo shows cmd=blpop as soon as BLPOP starts, before it blocks.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !b.cmd(&["CLIENT", "LIST"]).bytes().is_some_and(|l| {
        String::from_utf8_lossy(l)
            .lines()
            .any(|l| l.contains(" flags=b ") && l.contains(" cmd=blpop "))
    }) {
        assert!(Instant::now() < deadline, "BLPOP never blocked");
        thread::sleep(Duration::from_millis(5));
    }
    let r = transaction(
        &mut a,
        &[&["RPUSH", "q", "x"], &["RPUSH", "q", "y"], &["LLEN", "q"]],
    );
    assert_eq!(r, array(vec![int(1), int(2), int(2)]));
    seen.push(r);
    let served = blocked.read_reply().unwrap();
    assert_eq!(served, array(vec![bulk("q"), bulk("x")]));
    seen.push(served);
    seen.push(a.cmd(&["LRANGE", "q", "0", "-1"]));

    // CLIENT LIST shows the transaction being queued.
    a.cmd(&["CLIENT", "SETNAME", "queuer"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["SET", "m", "1"]);
    a.cmd(&["GET", "m"]);
    let list = b.cmd(&["CLIENT", "LIST"]);
    let text = String::from_utf8_lossy(list.bytes().unwrap()).to_string();
    let line = text.lines().find(|l| l.contains("name=queuer")).unwrap();
    assert!(line.contains(" flags=x "), "{line}");
    assert!(line.contains(" multi=2 "), "{line}");
    seen.push(a.cmd(&["EXEC"]));
    let list = b.cmd(&["CLIENT", "LIST"]);
    let text = String::from_utf8_lossy(list.bytes().unwrap()).to_string();
    let line = text.lines().find(|l| l.contains("name=queuer")).unwrap();
    assert!(
        line.contains(" flags=N ") && line.contains(" multi=-1 "),
        "{line}"
    );
    seen
}

#[test]
fn watch_with_two_clients_matches_redis() {
    let vireo = watch_scenario(&Server::vireo(&[]));
    let redis = watch_scenario(&Server::redis(&[]));
    assert_eq!(vireo, redis);
}

/// A watched key that expires before EXEC fails it (Redis 7), whether or not anything
/// deleted it yet; one already expired when watched does not.
fn expiry_scenario(s: &Server) -> Vec<Reply> {
    let mut a = s.raw();
    let mut seen = Vec::new();
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    // The key must still live when WATCHed: a run where SET..WATCH took longer than the TTL
    // (a loaded machine) is done again with a longer one.
    let mut ttl = 30;
    loop {
        let start = Instant::now();
        a.cmd(&["SET", "k", "v", "PX", &ttl.to_string()]);
        a.cmd(&["WATCH", "k"]);
        if start.elapsed() < Duration::from_millis(ttl) {
            break;
        }
        a.cmd(&["UNWATCH"]);
        ttl *= 2;
    }
    thread::sleep(Duration::from_millis(ttl + 50));
    let r = transaction(&mut a, &[&["PING"]]);
    assert_eq!(r, null_array());
    seen.push(r);
    seen.push(a.cmd(&["EXISTS", "k"]));
    a.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    seen
}

#[test]
fn expired_watched_key_fails_exec_as_in_redis() {
    let vireo = expiry_scenario(&Server::vireo(&["--enable-debug-command", "yes"]));
    let redis = expiry_scenario(&Server::redis(&["--enable-debug-command", "yes"]));
    assert_eq!(vireo, redis);
}

#[test]
fn info_counts_watching_clients_and_watched_keys() {
    let s = Server::vireo(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let field = |c: &mut RawClient, name: &str| -> String {
        let info = c.cmd(&["INFO", "clients"]);
        let text = String::from_utf8_lossy(info.bytes().unwrap()).to_string();
        let prefix = format!("{name}:");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
            .unwrap()
    };
    a.cmd(&["WATCH", "x", "y"]);
    b.cmd(&["WATCH", "y", "z"]);
    assert_eq!(field(&mut a, "watching_clients"), "2");
    assert_eq!(field(&mut a, "total_watched_keys"), "3");
    b.cmd(&["UNWATCH"]);
    assert_eq!(field(&mut a, "watching_clients"), "1");
    assert_eq!(field(&mut a, "total_watched_keys"), "2");
    drop(a);
    // A client that disconnects drops its watches.
    let start = std::time::Instant::now();
    while field(&mut b, "total_watched_keys") != "0" {
        assert!(
            start.elapsed().as_secs() < 5,
            "watches of a closed client remain"
        );
        thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(field(&mut b, "watching_clients"), "0");
}

/// Optimistic increments: every thread retries WATCH/GET/MULTI/SET/EXEC until its EXEC
/// succeeds; the counters end exactly at the number of increments.
#[test]
fn watch_retry_loops_from_many_threads_count_exactly() {
    let s = Server::vireo(&[]);
    const THREADS: usize = 6;
    const PER_THREAD: usize = 150;
    let keys = ["counter:a", "counter:b"];
    let retries: usize = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let s = &s;
                scope.spawn(move || {
                    let mut c = s.raw();
                    let mut retries = 0;
                    for i in 0..PER_THREAD {
                        let key = keys[(t + i) % 2];
                        loop {
                            c.cmd(&["WATCH", key]);
                            let n = match c.cmd(&["GET", key]) {
                                Reply::Bulk(Some(v)) => {
                                    String::from_utf8(v).unwrap().parse::<i64>().unwrap()
                                }
                                _ => 0,
                            };
                            let next = (n + 1).to_string();
                            let r = transaction(&mut c, &[&["SET", key, &next]]);
                            if r == array(vec![ok()]) {
                                break;
                            }
                            assert_eq!(r, null_array());
                            retries += 1;
                        }
                    }
                    retries
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let mut c = s.raw();
    let total = THREADS * PER_THREAD;
    assert_eq!(
        c.cmd(&["MGET", keys[0], keys[1]]),
        array(vec![
            bulk((total / 2).to_string()),
            bulk((total / 2).to_string())
        ])
    );
    // Contention must actually have happened for the test to prove anything.
    assert!(
        retries > 0,
        "no EXEC ever failed: the threads did not overlap"
    );
}

/// Keys in different shards: a single-shard pair would prove nothing.
const ATOMIC_A: &str = "atomic:a";
const ATOMIC_B: &str = "atomic:b";

/// `writers` clients each EXEC `tx` `per_writer` times — its first command increments
/// `ATOMIC_A`, its last `ATOMIC_B` — while `readers` clients MGET both keys: no reader
/// may ever see one incremented without the other.
fn readers_see_whole_transactions(
    s: &Server,
    writers: usize,
    per_writer: usize,
    readers: usize,
    tx: &[&[&str]],
) {
    assert_ne!(shard_of(ATOMIC_A), shard_of(ATOMIC_B));
    let done = Arc::new(AtomicBool::new(false));
    thread::scope(|scope| {
        let readers: Vec<_> = (0..readers)
            .map(|_| {
                let done = done.clone();
                scope.spawn(move || {
                    let mut c = s.raw();
                    let mut reads = 0;
                    while !done.load(Ordering::Relaxed) {
                        let r = c.cmd(&["MGET", ATOMIC_A, ATOMIC_B]);
                        let v = r.elements().unwrap();
                        assert_eq!(v[0], v[1], "a reader saw half a transaction");
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let writers: Vec<_> = (0..writers)
            .map(|_| {
                scope.spawn(move || {
                    let mut c = s.raw();
                    for _ in 0..per_writer {
                        let r = transaction(&mut c, tx);
                        let v = r.elements().unwrap();
                        assert_eq!(v[0], v[v.len() - 1]);
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
}

/// MULTI/INCR a/INCR b/EXEC from many clients while readers MGET both keys (in
/// different shards): a reader never sees one incremented without the other.
#[test]
fn transactions_are_atomic_for_concurrent_readers() {
    let s = Server::vireo(&[]);
    let tx: &[&[&str]] = &[&["INCR", ATOMIC_A], &["INCR", ATOMIC_B]];
    readers_see_whole_transactions(&s, 4, 300, 2, tx);
    let total = (4 * 300).to_string();
    let mut c = s.raw();
    assert_eq!(
        c.cmd(&["MGET", ATOMIC_A, ATOMIC_B]),
        array(vec![bulk(&total), bulk(&total)])
    );
    assert_eq!(c.cmd(&["GET", "nothing"]), nil());
}

/// A transaction holding commands that lock for themselves (DBSIZE, KEYS) and SELECTs
/// can't lock its shards up front: it runs in exclusive mode, and still no reader sees
/// half of it.
#[test]
fn exclusive_transactions_are_atomic_too() {
    let s = Server::vireo(&["--enable-debug-command", "yes"]);
    let tx: &[&[&str]] = &[
        &["INCR", ATOMIC_A],
        &["DBSIZE"],
        &["SELECT", "1"],
        &["INCR", ATOMIC_A],
        &["SELECT", "0"],
        &["KEYS", "atomic:nothing*"],
        // Widens the window a reader would have to see.
        &["DEBUG", "SLEEP", "0.001"],
        &["INCR", ATOMIC_B],
    ];
    readers_see_whole_transactions(&s, 3, 100, 1, tx);
    let total = (3 * 100).to_string();
    let mut c = s.raw();
    assert_eq!(
        c.cmd(&["MGET", ATOMIC_A, ATOMIC_B]),
        array(vec![bulk(&total), bulk(&total)])
    );
    c.cmd(&["SELECT", "1"]);
    assert_eq!(c.cmd(&["GET", ATOMIC_A]), bulk(&total));
}

/// The shard of a key: its Cluster slot (CRC16/XMODEM, no hash tag here) mod 64 shards.
fn shard_of(key: &str) -> u16 {
    let mut crc: u16 = 0;
    for &byte in key.as_bytes() {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384 % 64
}

/// RESTORE is a write like any other: a client WATCHing the key sees its EXEC fail,
/// whether RESTORE creates the key or replaces it.
fn restore_watch_scenario(s: &Server) -> Vec<Reply> {
    let mut a = s.raw();
    let mut b = s.raw();
    let mut seen = Vec::new();
    b.cmd(&["SET", "src", "payload-source"]);
    let payload = b.cmd(&["DUMP", "src"]).bytes().expect("a payload").to_vec();
    for replace in [false, true] {
        assert_eq!(a.cmd(&["WATCH", "k"]), ok());
        let mut args: Vec<&[u8]> = vec![b"RESTORE", b"k", b"0", &payload];
        if replace {
            args.push(b"REPLACE");
        }
        seen.push(b.command(&args).unwrap());
        let r = transaction(&mut a, &[&["GET", "k"]]);
        assert_eq!(r, null_array(), "replace: {replace}");
        seen.push(r);
    }
    seen
}

#[test]
fn restore_invalidates_watch_as_in_redis() {
    let vireo = restore_watch_scenario(&Server::vireo(&[]));
    let redis = restore_watch_scenario(&Server::redis(&[]));
    assert_eq!(vireo, redis);
}
