//! SORT beyond one connection's replies (those are in `tests/diff/sort.txt`): a SORT ... STORE
//! into a key that clients are blocked on serves them, SORT with BY patterns inside
//! MULTI/EXEC, and sorting while other clients write the keys its patterns read.

mod common;

use common::reply::{array, bulk, int, ok, status};
use common::{encode_command, Server};
use std::thread;
use std::time::{Duration, Instant};

/// Each scenario runs on vireo and on redis-server; the transcripts must be equal.
fn store_wakes_a_blocked_client(server: &Server) -> Vec<common::Reply> {
    let mut writer = server.raw();
    let mut waiter = server.raw();
    let mut seen = Vec::new();
    seen.push(writer.cmd(&["RPUSH", "src", "3", "1", "2"]));
    waiter
        .send(&encode_command(&["BLPOP", "dst", "0"]))
        .unwrap();
    // Wait until the waiter is blocked (vireo shows `cmd=blpop` as soon as BLPOP starts,
    // before it blocks).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = writer.cmd(&["CLIENT", "LIST"]);
        let list = String::from_utf8_lossy(list.bytes().expect("CLIENT LIST text"));
        if list
            .lines()
            .any(|l| l.contains(" flags=b ") && l.contains(" cmd=blpop "))
        {
            break;
        }
        assert!(Instant::now() < deadline, "never blocked: {list}");
        thread::sleep(Duration::from_millis(5));
    }
    seen.push(writer.cmd(&["SORT", "src", "STORE", "dst"]));
    seen.push(waiter.read_reply().unwrap());
    seen.push(writer.cmd(&["LRANGE", "dst", "0", "-1"]));
    seen
}

#[test]
fn sort_store_serves_blocked_clients_like_redis() {
    let vireo = store_wakes_a_blocked_client(&Server::vireo(&[]));
    let redis = store_wakes_a_blocked_client(&Server::redis(&[]));
    assert_eq!(vireo, redis);
    assert_eq!(vireo[2], array(vec![bulk("dst"), bulk("1")]));
    assert_eq!(vireo[3], array(vec![bulk("2"), bulk("3")]));
}

fn sort_in_multi(server: &Server) -> Vec<common::Reply> {
    let mut c = server.raw();
    let mut seen = vec![
        c.cmd(&["RPUSH", "ids", "1", "2", "3"]),
        c.cmd(&["MSET", "w_1", "3", "w_2", "1", "w_3", "2"]),
        c.cmd(&["MULTI"]),
        c.cmd(&["SORT", "ids", "BY", "w_*", "GET", "#", "GET", "w_*"]),
        c.cmd(&["SET", "w_1", "0"]),
        c.cmd(&["SORT", "ids", "BY", "w_*", "STORE", "out"]),
        c.cmd(&["EXEC"]),
    ];
    seen.push(c.cmd(&["LRANGE", "out", "0", "-1"]));
    seen
}

#[test]
fn sort_with_patterns_inside_multi_like_redis() {
    let vireo = sort_in_multi(&Server::vireo(&[]));
    assert_eq!(vireo, sort_in_multi(&Server::redis(&[])));
    assert_eq!(vireo[2], ok());
    assert_eq!(vireo[3], status("QUEUED"));
    assert_eq!(vireo[7], array(vec![bulk("1"), bulk("2"), bulk("3")]));
}

/// SORT BY reads keys its own key specs can't name while writers change them from other
/// threads: it must neither deadlock nor panic on a key it did not lock, and each SORT sees
/// the weights of one moment (the writer swaps two weights in one MSET).
#[test]
fn sort_by_patterns_under_concurrent_writes() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    assert_eq!(c.cmd(&["RPUSH", "{ids}", "a", "b"]), int(2));
    assert_eq!(c.cmd(&["MSET", "w_a", "1", "w_b", "2"]), ok());
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let mut w = server.raw();
            thread::spawn(move || {
                for i in 0..500 {
                    let (x, y) = if i % 2 == 0 { ("2", "1") } else { ("1", "2") };
                    assert_eq!(w.cmd(&["MSET", "w_a", x, "w_b", y]), ok());
                }
            })
        })
        .collect();
    for _ in 0..500 {
        let reply = c.cmd(&["SORT", "{ids}", "BY", "w_*", "GET", "w_*"]);
        // Whatever the order, the weights read are the pair 1 and 2, sorted.
        assert_eq!(reply, array(vec![bulk("1"), bulk("2")]));
    }
    for w in writers {
        w.join().unwrap();
    }
}
