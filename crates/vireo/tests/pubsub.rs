//! Pub/Sub between clients over TCP: delivery to channel, pattern and shard subscribers,
//! RESP3 pushes among other replies, ordering, disconnects, the idle timeout sparing
//! subscribers, and a subscriber that never reads being disconnected at its output buffer
//! limit while the server's memory stays bounded.
//!
//! Scenarios are functions of a `Server` returning a transcript; each runs against vireo
//! and redis-server and the transcripts must be equal. Reply shapes on one connection are
//! in tests/diff/pubsub.txt.

mod common;

use common::reply::{array, bulk, int, nil, ok, status};
use common::transcript::{same_as_redis, same_as_valkey, Log};
use common::{encode_command, RawClient, Reply, Server};
use std::thread;
use std::time::{Duration, Instant};

fn send(c: &mut RawClient, args: &[&str]) {
    c.send(&encode_command(args)).expect("send");
}

fn read(c: &mut RawClient) -> Reply {
    c.read_reply().expect("read a reply")
}

fn message(channel: &str, msg: &str) -> Reply {
    array(vec![bulk("message"), bulk(channel), bulk(msg)])
}

fn pmessage(pattern: &str, channel: &str, msg: &str) -> Reply {
    array(vec![
        bulk("pmessage"),
        bulk(pattern),
        bulk(channel),
        bulk(msg),
    ])
}

fn confirm(kind: &str, channel: &str, n: i64) -> Reply {
    array(vec![bulk(kind), bulk(channel), int(n)])
}

fn push(items: Vec<Reply>) -> Reply {
    Reply::Push(items)
}

fn info_field(c: &mut RawClient, section: &str, field: &str) -> Option<String> {
    let text = match c.cmd(&["INFO", section]) {
        Reply::Bulk(Some(b)) | Reply::Verbatim(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO: {other}"),
    };
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().to_string())
}

/// Polls PUBSUB NUMSUB until `channel` has `n` subscribers.
fn wait_numsub(c: &mut RawClient, channel: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = c.cmd(&["PUBSUB", "NUMSUB", channel]);
        if reply == array(vec![bulk(channel), int(n)]) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{channel} never had {n} subscribers"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios compared with redis-server

fn channels_and_patterns(s: &Server) -> Log {
    let mut log = Log::default();
    let mut p = s.raw();
    let mut a = s.raw();
    let mut b = s.raw();
    log.check(
        "sub",
        a.cmd(&["SUBSCRIBE", "news"]),
        &confirm("subscribe", "news", 1),
    );
    log.check(
        "psub",
        a.cmd(&["PSUBSCRIBE", "n*"]),
        &confirm("psubscribe", "n*", 2),
    );
    log.check(
        "psub b",
        b.cmd(&["PSUBSCRIBE", "*s"]),
        &confirm("psubscribe", "*s", 1),
    );
    log.check("publish", p.cmd(&["PUBLISH", "news", "hi"]), &int(3));
    log.check("a message", read(&mut a), &message("news", "hi"));
    log.check("a pmessage", read(&mut a), &pmessage("n*", "news", "hi"));
    log.check("b pmessage", read(&mut b), &pmessage("*s", "news", "hi"));
    log.check("publish n", p.cmd(&["PUBLISH", "nothing", "x"]), &int(1));
    log.check(
        "a pmessage 2",
        read(&mut a),
        &pmessage("n*", "nothing", "x"),
    );
    log.check("publish none", p.cmd(&["PUBLISH", "other", "x"]), &int(0));
    log.check("numpat", p.cmd(&["PUBSUB", "NUMPAT"]), &int(2));
    log.check(
        "numsub",
        p.cmd(&["PUBSUB", "NUMSUB", "news", "n*"]),
        &array(vec![bulk("news"), int(1), bulk("n*"), int(0)]),
    );
    // Binary-safe payloads.
    log.check("binary", p.cmd(&["PUBLISH", "news", "a\r\nb\0c"]), &int(3));
    log.check("a bin", read(&mut a), &message("news", "a\r\nb\0c"));
    log.check("a pbin", read(&mut a), &pmessage("n*", "news", "a\r\nb\0c"));
    log.check("b pbin", read(&mut b), &pmessage("*s", "news", "a\r\nb\0c"));
    // Unsubscribing stops delivery; a closed connection drops its subscriptions.
    log.check(
        "unsub",
        a.cmd(&["UNSUBSCRIBE", "news"]),
        &confirm("unsubscribe", "news", 1),
    );
    log.check("publish after", p.cmd(&["PUBLISH", "news", "y"]), &int(2));
    log.check("a only pattern", read(&mut a), &pmessage("n*", "news", "y"));
    log.check("b after", read(&mut b), &pmessage("*s", "news", "y"));
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.cmd(&["PUBSUB", "NUMPAT"]) != int(1) {
        assert!(
            Instant::now() < deadline,
            "the closed client kept its pattern"
        );
        thread::sleep(Duration::from_millis(5));
    }
    log.check("after close", p.cmd(&["PUBLISH", "news", "z"]), &int(1));
    log.check("a z", read(&mut a), &pmessage("n*", "news", "z"));
    log
}

fn shard_channels(s: &Server) -> Log {
    let mut log = Log::default();
    let mut p = s.raw();
    let mut a = s.raw();
    log.check(
        "ssub",
        a.cmd(&["SSUBSCRIBE", "s1"]),
        &confirm("ssubscribe", "s1", 1),
    );
    log.check(
        "sub",
        a.cmd(&["SUBSCRIBE", "s1"]),
        &confirm("subscribe", "s1", 1),
    );
    log.check("spublish", p.cmd(&["SPUBLISH", "s1", "m"]), &int(1));
    log.check(
        "smessage",
        read(&mut a),
        &array(vec![bulk("smessage"), bulk("s1"), bulk("m")]),
    );
    log.check("publish", p.cmd(&["PUBLISH", "s1", "n"]), &int(1));
    log.check("message", read(&mut a), &message("s1", "n"));
    log.check(
        "shardnumsub",
        p.cmd(&["PUBSUB", "SHARDNUMSUB", "s1", "s2"]),
        &array(vec![bulk("s1"), int(1), bulk("s2"), int(0)]),
    );
    log.check(
        "shardchannels",
        p.cmd(&["PUBSUB", "SHARDCHANNELS"]),
        &array(vec![bulk("s1")]),
    );
    log.check(
        "sunsub",
        a.cmd(&["SUNSUBSCRIBE"]),
        &confirm("sunsubscribe", "s1", 0),
    );
    log.check("spublish none", p.cmd(&["SPUBLISH", "s1", "m"]), &int(0));
    log
}

/// A RESP3 subscriber runs other commands; messages arrive as pushes between replies.
fn resp3_pushes(s: &Server) -> Log {
    let mut log = Log::default();
    let mut p = s.raw();
    let mut a = s.raw();
    assert!(!a.cmd(&["HELLO", "3"]).is_error());
    log.check(
        "sub",
        a.cmd(&["SUBSCRIBE", "c"]),
        &push(vec![bulk("subscribe"), bulk("c"), int(1)]),
    );
    log.check("set", a.cmd(&["SET", "k", "v"]), &ok());
    log.check("publish", p.cmd(&["PUBLISH", "c", "one"]), &int(1));
    log.check(
        "push",
        read(&mut a),
        &push(vec![bulk("message"), bulk("c"), bulk("one")]),
    );
    log.check("get", a.cmd(&["GET", "k"]), &bulk("v"));
    log.check("get missing", a.cmd(&["GET", "nokey"]), &Reply::Null);
    log
}

/// The pushes a RESP3 client's own command causes for itself come after that command's
/// reply, in the order they were caused: a message it publishes to itself, the keyspace
/// notification of its own write, then its own tracking invalidation. Redis 7.2 changed
/// this (7.0 sent a self-published message before the reply), so Valkey is the reference.
fn own_pushes_follow_the_reply(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = s.raw();
    assert!(!a.cmd(&["HELLO", "3"]).is_error());
    log.check(
        "config",
        a.cmd(&["CONFIG", "SET", "notify-keyspace-events", "K$"]),
        &ok(),
    );
    send(&mut a, &["SUBSCRIBE", "c", "__keyspace@0__:k"]);
    log.check(
        "sub c",
        read(&mut a),
        &push(vec![bulk("subscribe"), bulk("c"), int(1)]),
    );
    log.check(
        "sub k",
        read(&mut a),
        &push(vec![bulk("subscribe"), bulk("__keyspace@0__:k"), int(2)]),
    );
    send(&mut a, &["PUBLISH", "c", "self"]);
    log.check("publish reply", read(&mut a), &int(1));
    log.check(
        "publish push",
        read(&mut a),
        &push(vec![bulk("message"), bulk("c"), bulk("self")]),
    );
    let set_event = push(vec![bulk("message"), bulk("__keyspace@0__:k"), bulk("set")]);
    send(&mut a, &["SET", "k", "v"]);
    log.check("set reply", read(&mut a), &ok());
    log.check("set push", read(&mut a), &set_event);
    log.check("tracking", a.cmd(&["CLIENT", "TRACKING", "on"]), &ok());
    log.check("get", a.cmd(&["GET", "k"]), &bulk("v"));
    send(&mut a, &["SET", "k", "w"]);
    log.check("tracked set reply", read(&mut a), &ok());
    log.check("tracked set push", read(&mut a), &set_event);
    log.check(
        "invalidation",
        read(&mut a),
        &push(vec![bulk("invalidate"), array(vec![bulk("k")])]),
    );
    log.check("ping", a.cmd(&["PING"]), &status("PONG"));
    log
}

/// Disconnecting, RESET and the nil-channel reply of UNSUBSCRIBE with nothing subscribed.
fn reset_drops_subscriptions(s: &Server) -> Log {
    let mut log = Log::default();
    let mut p = s.raw();
    let mut a = s.raw();
    log.check(
        "sub",
        a.cmd(&["SUBSCRIBE", "r"]),
        &confirm("subscribe", "r", 1),
    );
    log.check(
        "reset",
        a.cmd(&["RESET"]),
        &Reply::Simple(b"RESET".to_vec()),
    );
    log.check("publish", p.cmd(&["PUBLISH", "r", "x"]), &int(0));
    log.check("get", a.cmd(&["GET", "r"]), &nil());
    log.check(
        "unsub none",
        a.cmd(&["UNSUBSCRIBE"]),
        &array(vec![bulk("unsubscribe"), nil(), int(0)]),
    );
    log
}

#[test]
fn channels_and_patterns_like_redis() {
    same_as_redis(channels_and_patterns);
}

#[test]
fn shard_channels_like_redis() {
    same_as_redis(shard_channels);
}

#[test]
fn resp3_pushes_between_replies_like_redis() {
    same_as_redis(resp3_pushes);
}

#[test]
fn own_pushes_follow_the_reply_like_redis_7_2() {
    same_as_valkey(own_pushes_follow_the_reply);
}

#[test]
fn reset_drops_subscriptions_like_redis() {
    same_as_redis(reset_drops_subscriptions);
}

// ---------------------------------------------------------------------------------------
// Vireo's own guarantees

/// Every message of every publisher arrives, in each publisher's order, at every
/// subscriber (RESP2 and RESP3 alike).
/// Pushes a transaction causes for its own RESP3 client (a message it publishes to
/// itself, the invalidation of a FLUSHDB it runs while tracking) come after the EXEC reply,
/// never inside it, as in Redis 7.2 (Valkey).
#[test]
fn own_pushes_inside_exec_follow_its_reply() {
    let s = Server::vireo(&[]);
    let mut a = s.raw();
    assert!(!a.cmd(&["HELLO", "3"]).is_error());
    assert_eq!(a.cmd(&["CLIENT", "TRACKING", "ON"]), ok());
    assert_eq!(
        a.cmd(&["SUBSCRIBE", "x"]),
        push(vec![bulk("subscribe"), bulk("x"), int(1)])
    );
    for args in [
        &["MULTI"][..],
        &["FLUSHDB"],
        &["PUBLISH", "x", "1"],
        &["PING"],
    ] {
        send(&mut a, args);
    }
    send(&mut a, &["EXEC"]);
    for expected in [ok(), status("QUEUED"), status("QUEUED"), status("QUEUED")] {
        assert_eq!(read(&mut a), expected);
    }
    assert_eq!(read(&mut a), array(vec![ok(), int(1), status("PONG")]));
    // The message was sent during EXEC; the invalidation for the client's own flush waits
    // for the end of EXEC (Redis and Valkey: this order too).
    assert_eq!(
        read(&mut a),
        push(vec![bulk("message"), bulk("x"), bulk("1")])
    );
    assert_eq!(read(&mut a), push(vec![bulk("invalidate"), Reply::Null]));
}

#[test]
fn many_messages_keep_each_publishers_order() {
    const PUBLISHERS: usize = 4;
    const MESSAGES: usize = 5_000;
    let s = Server::vireo(&[]);
    let mut subs: Vec<RawClient> = (0..3).map(|_| s.raw()).collect();
    assert!(!subs[2].cmd(&["HELLO", "3"]).is_error());
    for sub in &mut subs {
        assert!(!sub.cmd(&["SUBSCRIBE", "flood"]).is_error());
    }
    let addr = s.addr();
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|id| {
            let addr = addr.clone();
            thread::spawn(move || {
                let mut c = RawClient::connect(&addr).expect("connect");
                let mut batch = Vec::new();
                for i in 0..MESSAGES {
                    batch.extend(encode_command(&["PUBLISH", "flood", &format!("{id}:{i}")]));
                    if i % 100 == 99 {
                        c.send(&batch).expect("send");
                        batch.clear();
                        for _ in 0..100 {
                            assert_eq!(c.read_reply().expect("reply"), int(3));
                        }
                    }
                }
            })
        })
        .collect();
    for sub in &mut subs {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * MESSAGES {
            let reply = read(sub);
            let items = reply.elements().expect("a message");
            assert_eq!(items[0], bulk("message"));
            let text = String::from_utf8(items[2].bytes().unwrap().to_vec()).unwrap();
            let (id, i) = text.split_once(':').unwrap();
            let (id, i): (usize, usize) = (id.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[id], "publisher {id}'s messages out of order");
            next[id] += 1;
        }
    }
    for t in publishers {
        t.join().expect("publisher");
    }
}

#[test]
fn client_list_and_info_show_subscriptions() {
    let s = Server::vireo(&[]);
    let mut a = s.raw();
    let mut c = s.raw();
    a.cmd(&["SUBSCRIBE", "x", "y"]);
    read(&mut a);
    a.cmd(&["PSUBSCRIBE", "p*"]);
    a.cmd(&["SSUBSCRIBE", "s"]);
    let list = match c.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("CLIENT LIST: {other}"),
    };
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains(" flags=P "), "{list}");
    assert!(list.contains(" sub=2 psub=1 ssub=1 "), "{list}");
    assert_eq!(info_field(&mut c, "stats", "pubsub_channels").unwrap(), "2");
    assert_eq!(info_field(&mut c, "stats", "pubsub_patterns").unwrap(), "1");
    assert_eq!(
        info_field(&mut c, "stats", "pubsubshard_channels").unwrap(),
        "1"
    );
    assert_eq!(
        info_field(&mut c, "clients", "pubsub_clients").unwrap(),
        "1"
    );
    drop(a);
    wait_numsub(&mut c, "x", 0);
    assert_eq!(
        info_field(&mut c, "clients", "pubsub_clients").unwrap(),
        "0"
    );
    assert_eq!(info_field(&mut c, "stats", "pubsub_patterns").unwrap(), "0");
}

/// `timeout` closes idle clients but not subscribers, as in Redis.
#[test]
fn idle_timeout_spares_subscribers() {
    let s = Server::vireo(&["--timeout", "1"]);
    let mut sub = s.raw();
    let mut idle = s.raw();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    sub.cmd(&["SUBSCRIBE", "t"]);
    thread::sleep(Duration::from_millis(2500));
    assert!(idle.is_closed(), "an idle client outlived the timeout");
    let mut p = s.raw();
    assert_eq!(p.cmd(&["PUBLISH", "t", "still here"]), int(1));
    assert_eq!(read(&mut sub), message("t", "still here"));
}

fn vm_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// Floods a subscriber that never reads with up to `total_bytes`. Returns whether the
/// subscriber was dropped, the server's peak RSS (kB) and the bytes published.
fn flood_unread_subscriber(s: &Server, total_bytes: usize) -> (bool, u64, usize) {
    let mut sub = s.raw();
    assert!(!sub.cmd(&["SUBSCRIBE", "slow"]).is_error());
    let mut p = s.raw();
    let payload = "x".repeat(16 * 1024);
    let one = encode_command(&["PUBLISH", "slow", &payload]);
    let mut batch = Vec::new();
    for _ in 0..64 {
        batch.extend_from_slice(&one);
    }
    let mut peak = vm_rss_kb(s.pid());
    let mut sent = 0;
    let mut dropped = false;
    while sent < total_bytes {
        p.send(&batch).expect("send");
        let mut receivers = 0;
        for _ in 0..64 {
            match p.read_reply().expect("reply") {
                Reply::Integer(n) => receivers += n,
                other => panic!("PUBLISH: {other}"),
            }
        }
        sent += 64 * payload.len();
        peak = peak.max(vm_rss_kb(s.pid()));
        if receivers == 0 {
            dropped = true;
            break;
        }
    }
    (dropped, peak, sent)
}

/// A subscriber that never reads is disconnected at the pubsub output buffer limit, and
/// the server's memory does not grow with what is published to it.
#[test]
fn unread_subscriber_is_disconnected_and_memory_stays_bounded() {
    let s = Server::vireo(&["--client-output-buffer-limit", "pubsub 4mb 1mb 60"]);
    let base = vm_rss_kb(s.pid());
    // 400 MB published: far beyond the limit plus what the kernel's socket buffers hold.
    let (dropped, peak, sent) = flood_unread_subscriber(&s, 400 << 20);
    assert!(dropped, "the subscriber was never disconnected");
    // The limit, plus what the sockets' kernel buffers took.
    assert!(sent < 64 << 20, "dropped only after {sent} bytes");
    assert!(
        peak < base + 64 * 1024,
        "RSS grew from {base} kB to {peak} kB"
    );
    let mut c = s.raw();
    assert_eq!(
        info_field(&mut c, "stats", "client_output_buffer_limit_disconnections").unwrap(),
        "1"
    );
    wait_numsub(&mut c, "slow", 0);
    assert!(
        s.output()
            .contains("scheduled to be closed ASAP for overcoming of output buffer limits."),
        "the disconnection was not logged"
    );
}

/// The soft limit: above it for longer than its seconds, the subscriber is dropped.
#[test]
fn soft_limit_disconnects_after_its_seconds() {
    let s = Server::vireo(&["--client-output-buffer-limit", "pubsub 0 1mb 1"]);
    let mut sub = s.raw();
    sub.cmd(&["SUBSCRIBE", "soft"]);
    let mut p = s.raw();
    let payload = "y".repeat(64 * 1024);
    let start = Instant::now();
    let mut dropped = false;
    while start.elapsed() < Duration::from_secs(20) {
        if p.cmd(&["PUBLISH", "soft", &payload]) == int(0) {
            dropped = true;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        dropped,
        "the subscriber above the soft limit was never dropped"
    );
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "dropped before the soft seconds"
    );
}

/// Redis disconnects the same unread subscriber (the test's premise holds for Redis).
#[test]
fn redis_also_disconnects_the_unread_subscriber() {
    let s = Server::redis(&["--client-output-buffer-limit", "pubsub 4mb 1mb 60"]);
    let (dropped, _, _) = flood_unread_subscriber(&s, 400 << 20);
    assert!(dropped);
}
