//! CLIENT PAUSE / UNPAUSE over TCP: held commands wait (they are not refused) and run
//! once the pause ends or is lifted; WRITE holds only commands that may write (and EXEC of
//! a transaction holding one); a pause does not expire keys; CLIENT LIST and INFO show the
//! waiting clients. Waits for a pause's end use generous bounds only.

mod common;

use common::reply::{bulk, err, int, nil, ok};
use common::valkey::Pair;
use common::{RawClient, Reply, Server};
use std::time::{Duration, Instant};

fn pong() -> Reply {
    Reply::Simple(b"PONG".to_vec())
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(reply.bytes().expect("a string")).into_owned()
}

/// The CLIENT LIST line of client `id`, seen from `c`.
fn line_of(c: &mut RawClient, id: i64) -> String {
    text(&c.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]))
}

fn id(c: &mut RawClient) -> i64 {
    match c.cmd(&["CLIENT", "ID"]) {
        Reply::Integer(id) => id,
        other => panic!("{other}"),
    }
}

/// Waits until `c` sees client `id` flagged blocked (`b`), i.e. waiting in the pause.
fn wait_until_held(c: &mut RawClient, id: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = line_of(c, id);
        if line.contains("flags=b") || line.contains("flags=xb") {
            return;
        }
        assert!(Instant::now() < deadline, "never held: {line}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn write_pause_holds_writes_until_unpause() {
    let server = Server::vireo(&[]);
    let mut admin = server.raw();
    let mut writer = server.raw();
    let mut observer = server.raw();
    let writer_id = id(&mut writer);
    assert_eq!(writer.cmd(&["SET", "k", "before"]), ok());
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    // Reads run.
    assert_eq!(writer.cmd(&["GET", "k"]), bulk("before"));
    assert_eq!(observer.cmd(&["EXISTS", "k"]), int(1));
    // A write waits: no reply, shown blocked, with its arguments held.
    writer
        .send(&common::encode_command(&["SET", "k", "after"]))
        .unwrap();
    wait_until_held(&mut observer, writer_id);
    let line = line_of(&mut observer, writer_id);
    assert!(line.contains(" argv-mem=9 "), "{line}");
    assert!(line.contains(" cmd=set "), "{line}");
    let info = text(&observer.cmd(&["INFO", "clients"]));
    assert!(info.contains("blocked_clients:1\r\n"), "{info}");
    // PUBLISH may replicate: it waits too.
    let mut publisher = server.raw();
    let publisher_id = id(&mut publisher);
    publisher
        .send(&common::encode_command(&["PUBLISH", "ch", "m"]))
        .unwrap();
    wait_until_held(&mut observer, publisher_id);
    assert_eq!(observer.cmd(&["GET", "k"]), bulk("before"));
    // UNPAUSE lets them through, in full.
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(writer.read_reply().unwrap(), ok());
    assert_eq!(publisher.read_reply().unwrap(), int(0));
    assert_eq!(observer.cmd(&["GET", "k"]), bulk("after"));
    let info = text(&observer.cmd(&["INFO", "clients"]));
    assert!(info.contains("blocked_clients:0\r\n"), "{info}");
}

#[test]
fn write_pause_holds_queued_writes_and_exec_of_writes() {
    let server = Server::vireo(&[]);
    let mut admin = server.raw();
    let mut c = server.raw();
    let mut reader = server.raw();
    let mut observer = server.raw();
    let (cid, rid) = (id(&mut c), id(&mut reader));
    // A transaction of reads runs.
    assert_eq!(reader.cmd(&["MULTI"]), ok());
    assert_eq!(reader.cmd(&["GET", "k"]), Reply::Simple(b"QUEUED".to_vec()));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "1"]), Reply::Simple(b"QUEUED".to_vec()));
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    assert_eq!(reader.cmd(&["EXEC"]), Reply::Array(Some(vec![nil()])));
    // EXEC of a write waits, and so does queuing a write, as in Redis.
    c.send(&common::encode_command(&["EXEC"])).unwrap();
    wait_until_held(&mut observer, cid);
    assert_eq!(reader.cmd(&["MULTI"]), ok());
    reader
        .send(&common::encode_command(&["INCR", "k"]))
        .unwrap();
    wait_until_held(&mut observer, rid);
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(c.read_reply().unwrap(), Reply::Array(Some(vec![ok()])));
    assert_eq!(
        reader.read_reply().unwrap(),
        Reply::Simple(b"QUEUED".to_vec())
    );
    assert_eq!(reader.cmd(&["EXEC"]), Reply::Array(Some(vec![int(2)])));
}

#[test]
fn all_pause_holds_every_command_until_it_ends() {
    let server = Server::vireo(&[]);
    let mut admin = server.raw();
    let mut other = server.raw();
    // A monitor is never paused: it watches (CLIENT LIST is not shown to monitors).
    let mut monitor = server.raw();
    assert_eq!(monitor.cmd(&["MONITOR"]), ok());
    let (other_id, admin_id) = (id(&mut other), id(&mut admin));
    let started = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "800"]), ok());
    other.send(&common::encode_command(&["PING"])).unwrap();
    // The pauser itself waits too, even to unpause.
    admin
        .send(&common::encode_command(&["CLIENT", "UNPAUSE"]))
        .unwrap();
    wait_until_held(&mut monitor, other_id);
    wait_until_held(&mut monitor, admin_id);
    assert_eq!(other.read_reply().unwrap(), pong());
    assert_eq!(admin.read_reply().unwrap(), ok());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(750), "{waited:?}");
}

#[test]
fn a_later_pause_extends_and_all_overrides_write() {
    let server = Server::vireo(&[]);
    let mut admin = server.raw();
    let mut c = server.raw();
    let started = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "300", "WRITE"]), ok());
    // A shorter pause does not shorten it; a longer one extends it.
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "10", "WRITE"]), ok());
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "800", "WRITE"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert!(started.elapsed() >= Duration::from_millis(750));
    // A WRITE pause over an ALL pause keeps it ALL (until its end).
    let started = Instant::now();
    let mut monitor = server.raw();
    assert_eq!(monitor.cmd(&["MONITOR"]), ok());
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "500", "ALL"]), ok());
    // Monitors run while all is paused: it may pause too.
    assert_eq!(monitor.cmd(&["CLIENT", "PAUSE", "100", "WRITE"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert!(started.elapsed() >= Duration::from_millis(450));
}

#[test]
fn a_paused_client_can_be_killed_and_can_leave() {
    let server = Server::vireo(&[]);
    let mut admin = server.raw();
    let mut victim = server.raw();
    let mut leaver = server.raw();
    let mut observer = server.raw();
    let (vid, lid) = (id(&mut victim), id(&mut leaver));
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    victim
        .send(&common::encode_command(&["SET", "a", "1"]))
        .unwrap();
    leaver
        .send(&common::encode_command(&["SET", "b", "1"]))
        .unwrap();
    wait_until_held(&mut observer, vid);
    wait_until_held(&mut observer, lid);
    assert_eq!(
        observer.cmd(&["CLIENT", "KILL", "ID", &vid.to_string()]),
        int(1)
    );
    assert!(victim.is_closed());
    drop(leaver);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&observer.cmd(&["INFO", "clients"])).contains("blocked_clients:0\r\n") {
        assert!(Instant::now() < deadline, "waiting clients never left");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(observer.cmd(&["EXISTS", "a", "b"]), int(0));
}

#[test]
fn keys_do_not_expire_during_a_pause() {
    // The pause must start before the keys' TTL ends: a run where SET..PAUSE took longer
    // (a loaded machine) is done again, on a new server, with a longer TTL.
    let mut ttl = 100;
    let (_server, mut admin, mut c) = loop {
        let server = Server::vireo(&["--hz", "100"]);
        let mut admin = server.raw();
        let mut c = server.raw();
        let start = Instant::now();
        assert_eq!(c.cmd(&["SET", "k", "v", "PX", &ttl.to_string()]), ok());
        assert_eq!(c.cmd(&["SET", "k2", "v", "PX", &ttl.to_string()]), ok());
        assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
        if start.elapsed() < Duration::from_millis(ttl) {
            break (server, admin, c);
        }
        ttl *= 2;
    };
    std::thread::sleep(Duration::from_millis(ttl + 300));
    // Reads see the key missing, but neither they nor the active cycle delete it.
    assert_eq!(c.cmd(&["GET", "k"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["DBSIZE"]), int(2));
    let stats = text(&c.cmd(&["INFO", "stats"]));
    assert!(stats.contains("expired_keys:0\r\n"), "{stats}");
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), nil());
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.cmd(&["DBSIZE"]) != int(0) {
        assert!(Instant::now() < deadline, "the keys never expired");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn pause_timeouts_past_the_clock_are_out_of_range() {
    let mut pair = Pair::start();
    pair.same(&["CLIENT", "PAUSE", "9223372036854775807"]);
    pair.same(&["CLIENT", "PAUSE", "9223372036854775000", "WRITE"]);
    pair.same(&["CLIENT", "PAUSE", "-1"]);
    pair.same(&["CLIENT", "PAUSE", "0", "WRITE"]);
    pair.same(&["CLIENT", "UNPAUSE"]);
    assert_eq!(
        pair.vireo(&["CLIENT", "PAUSE", "9223372036854775807"]),
        err("ERR timeout is out of range")
    );
}
