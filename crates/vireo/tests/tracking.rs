//! Client-side caching over TCP: CLIENT TRACKING in its default, OPTIN/OPTOUT, NOLOOP and
//! BCAST modes, invalidations as RESP3 pushes and as `__redis__:invalidate` messages to a
//! RESP2 redirect target, broken redirects, FLUSHDB/FLUSHALL, expiry, the table's key
//! limit, INFO and CLIENT LIST fields, cleanup on RESET and disconnect, and redis-py's
//! RESP3 push handling.
//!
//! Scenarios are functions of a `Server` returning a transcript of every frame read; each
//! runs against vireo and redis-server and the transcripts must be equal. Frames carrying
//! client ids (which differ between the two) are checked against the id instead.
//! Invalidations are read before the reply of a following PING, which is where both
//! servers put them. Reply shapes and errors on one connection are in
//! tests/diff/tracking.txt.

mod common;

use common::reply::{array, bulk, int, ok, status};
use common::transcript::{same_as_redis, same_as_redis_and_valkey, Log};
use common::{RawClient, Reply, Server};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

fn invalidate(keys: &[&str]) -> Reply {
    Reply::Push(vec![
        bulk("invalidate"),
        array(keys.iter().map(bulk).collect()),
    ])
}

fn invalidate_all() -> Reply {
    Reply::Push(vec![bulk("invalidate"), Reply::Null])
}

/// The message a RESP2 redirect target gets; `keys` None for a flush.
fn message(keys: Option<&[&str]>) -> Reply {
    let body = match keys {
        Some(keys) => array(keys.iter().map(bulk).collect()),
        None => Reply::Bulk(None),
    };
    array(vec![bulk("message"), bulk("__redis__:invalidate"), body])
}

fn resp3(s: &Server) -> RawClient {
    let mut c = s.raw();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    c
}

fn id_of(c: &mut RawClient) -> i64 {
    match c.cmd(&["CLIENT", "ID"]) {
        Reply::Integer(id) => id,
        other => panic!("CLIENT ID: {other}"),
    }
}

fn read(c: &mut RawClient) -> Reply {
    c.read_reply().expect("read a frame")
}

/// The value of an INFO field.
fn info_field(c: &mut RawClient, section: &str, field: &str) -> String {
    let text = match c.cmd(&["INFO", section]) {
        Reply::Bulk(Some(b)) | Reply::Verbatim(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO: {other}"),
    };
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .trim()
        .to_string()
}

/// `field=` of the caller's CLIENT INFO line.
fn client_field(c: &mut RawClient, field: &str) -> String {
    let line = match c.cmd(&["CLIENT", "INFO"]) {
        Reply::Bulk(Some(b)) | Reply::Verbatim(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("CLIENT INFO: {other}"),
    };
    let prefix = format!("{field}=");
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in {line}"))
        .to_string()
}

fn pong(log: &mut Log, what: &str, c: &mut RawClient) {
    log.check(what, c.cmd(&["PING"]), &status("PONG"));
}

// ---------------------------------------------------------------------------------------
// Scenarios compared with redis-server

/// Default mode in RESP3: a read key is invalidated once by the next change, whoever
/// makes it, in any database; the client's own change is announced after its reply.
fn default_mode(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = resp3(s);
    let mut b = s.raw();
    log.check("on", a.cmd(&["CLIENT", "TRACKING", "ON"]), &ok());
    b.cmd(&["SET", "k", "1"]);
    log.check("get", a.cmd(&["GET", "k"]), &bulk("1"));
    log.check("set by b", b.cmd(&["SET", "k", "2"]), &ok());
    log.check("pushed", read(&mut a), &invalidate(&["k"]));
    pong(&mut log, "ping", &mut a);
    // Forgotten once announced: a second change says nothing.
    b.cmd(&["SET", "k", "3"]);
    pong(&mut log, "once only", &mut a);
    // Several keys of one read; a missing key is tracked too; each change is its own push.
    log.check(
        "mget",
        a.cmd(&["MGET", "k", "j", "missing"]),
        &array(vec![bulk("3"), Reply::Null, Reply::Null]),
    );
    b.cmd(&["MSET", "j", "1", "k", "4"]);
    log.check("first", read(&mut a), &invalidate(&["j"]));
    log.check("second", read(&mut a), &invalidate(&["k"]));
    b.cmd(&["SET", "missing", "now"]);
    log.check("missing", read(&mut a), &invalidate(&["missing"]));
    pong(&mut log, "ping 2", &mut a);
    // The table ignores databases.
    a.cmd(&["GET", "k"]);
    b.cmd(&["SELECT", "5"]);
    b.cmd(&["SET", "k", "other db"]);
    log.check("other db", read(&mut a), &invalidate(&["k"]));
    // The client's own write: the reply, then the push.
    a.cmd(&["GET", "k"]);
    log.check("own set", a.cmd(&["SET", "k", "5"]), &ok());
    log.check("own push", read(&mut a), &invalidate(&["k"]));
    // Inside MULTI: the pushes follow EXEC's reply.
    a.cmd(&["GET", "k"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["GET", "k"]);
    a.cmd(&["DEL", "k"]);
    a.cmd(&["GET", "k"]);
    log.check(
        "exec",
        a.cmd(&["EXEC"]),
        &array(vec![bulk("5"), int(1), Reply::Null]),
    );
    log.check("after exec", read(&mut a), &invalidate(&["k"]));
    pong(&mut log, "ping 3", &mut a);
    // EXPIRE and other writes of a read key.
    a.cmd(&["GET", "k"]);
    b.cmd(&["SELECT", "0"]);
    b.cmd(&["SET", "k", "x"]);
    log.check("set", read(&mut a), &invalidate(&["k"]));
    a.cmd(&["GET", "k"]);
    b.cmd(&["EXPIRE", "k", "100"]);
    log.check("expire", read(&mut a), &invalidate(&["k"]));
    // Off: nothing more, though the key stays in the table.
    a.cmd(&["GET", "k"]);
    log.check("off", a.cmd(&["CLIENT", "TRACKING", "OFF"]), &ok());
    b.cmd(&["SET", "k", "y"]);
    pong(&mut log, "off ping", &mut a);
    log
}

#[test]
fn default_mode_matches_redis() {
    same_as_redis(default_mode);
}

/// NOLOOP: the client's own changes are not announced to it; others' are.
fn noloop(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = resp3(s);
    let mut b = s.raw();
    log.check("on", a.cmd(&["CLIENT", "TRACKING", "ON", "NOLOOP"]), &ok());
    a.cmd(&["GET", "k"]);
    log.check("own set", a.cmd(&["SET", "k", "1"]), &ok());
    pong(&mut log, "no push", &mut a);
    a.cmd(&["GET", "k"]);
    b.cmd(&["SET", "k", "2"]);
    log.check("other's set", read(&mut a), &invalidate(&["k"]));
    pong(&mut log, "ping", &mut a);
    log
}

#[test]
fn noloop_matches_redis() {
    same_as_redis(noloop);
}

/// RESTORE invalidates like any write: when it creates a read key, when it replaces one,
/// and when a TTL already past makes it delete one.
fn restore(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = resp3(s);
    let mut b = s.raw();
    b.cmd(&["SET", "src", "v"]);
    let payload = b.cmd(&["DUMP", "src"]).bytes().expect("a payload").to_vec();
    log.check("on", a.cmd(&["CLIENT", "TRACKING", "ON"]), &ok());
    for (what, extra) in [
        ("created", &[][..]),
        ("replaced", &[&b"REPLACE"[..]][..]),
        ("deleted", &[&b"ABSTTL"[..], b"REPLACE"][..]),
    ] {
        a.cmd(&["GET", "k"]);
        let ttl: &[u8] = if extra.len() == 2 { b"1" } else { b"0" };
        let mut args: Vec<&[u8]> = vec![b"RESTORE", b"k", ttl, &payload];
        args.extend_from_slice(extra);
        log.check(what, b.command(&args).unwrap(), &ok());
        log.check(what, read(&mut a), &invalidate(&["k"]));
    }
    pong(&mut log, "ping", &mut a);
    log
}

#[test]
fn restore_matches_redis() {
    same_as_redis(restore);
}

/// OPTIN remembers only reads after CLIENT CACHING YES (one command, or a transaction);
/// OPTOUT all but those after CLIENT CACHING NO.
fn optin_optout(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = resp3(s);
    let mut b = s.raw();
    log.check(
        "optin",
        a.cmd(&["CLIENT", "TRACKING", "ON", "OPTIN"]),
        &ok(),
    );
    a.cmd(&["GET", "o1"]);
    log.check("caching yes", a.cmd(&["CLIENT", "CACHING", "YES"]), &ok());
    // CLIENT commands keep the choice for the next command.
    log.note("trackinginfo", a.cmd(&["CLIENT", "TRACKINGINFO"]));
    a.cmd(&["GET", "o2"]);
    a.cmd(&["GET", "o3"]);
    a.cmd(&["CLIENT", "CACHING", "YES"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["GET", "o4"]);
    a.cmd(&["GET", "o5"]);
    log.note("exec", a.cmd(&["EXEC"]));
    a.cmd(&["GET", "o6"]);
    let keys = ["o1", "o2", "o3", "o4", "o5", "o6"];
    for key in keys {
        b.cmd(&["SET", key, "v"]);
    }
    for key in ["o2", "o4", "o5"] {
        log.check(key, read(&mut a), &invalidate(&[key]));
    }
    pong(&mut log, "optin done", &mut a);
    log.check(
        "switch",
        a.cmd(&["CLIENT", "TRACKING", "ON", "OPTOUT"]),
        &Reply::Error(b"ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".to_vec()),
    );
    a.cmd(&["CLIENT", "TRACKING", "OFF"]);
    log.check(
        "optout",
        a.cmd(&["CLIENT", "TRACKING", "ON", "OPTOUT"]),
        &ok(),
    );
    a.cmd(&["GET", "o1"]);
    log.check("caching no", a.cmd(&["CLIENT", "CACHING", "NO"]), &ok());
    a.cmd(&["GET", "o2"]);
    a.cmd(&["GET", "o3"]);
    for key in ["o1", "o2", "o3"] {
        b.cmd(&["SET", key, "w"]);
    }
    for key in ["o1", "o3"] {
        log.check(key, read(&mut a), &invalidate(&[key]));
    }
    pong(&mut log, "optout done", &mut a);
    log
}

#[test]
fn optin_optout_match_redis() {
    same_as_redis(optin_optout);
}

/// BCAST: every change under a prefix, nothing remembered per read; a command's keys
/// come as one sorted message per prefix; NOLOOP drops the client's own keys.
fn bcast(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = resp3(s);
    let mut n = resp3(s);
    let mut b = s.raw();
    log.check(
        "a on",
        a.cmd(&[
            "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "k", "PREFIX", "x",
        ]),
        &ok(),
    );
    log.check(
        "n on",
        n.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP", "PREFIX", "k"]),
        &ok(),
    );
    log.note("info", a.cmd(&["CLIENT", "TRACKINGINFO"]));
    b.cmd(&["MSET", "k2", "1", "k1", "2", "x1", "3", "y", "4"]);
    log.check("a k", read(&mut a), &invalidate(&["k1", "k2"]));
    log.check("a x", read(&mut a), &invalidate(&["x1"]));
    log.check("n k", read(&mut n), &invalidate(&["k1", "k2"]));
    pong(&mut log, "a ping", &mut a);
    pong(&mut log, "n ping", &mut n);
    // NOLOOP: n's own keys reach a, not n.
    log.check("n own", n.cmd(&["MSET", "k2", "1", "k3", "2"]), &ok());
    pong(&mut log, "n nothing", &mut n);
    log.check("a from n", read(&mut a), &invalidate(&["k2", "k3"]));
    // Reads are not remembered in BCAST mode.
    a.cmd(&["GET", "zz"]);
    b.cmd(&["SET", "zz", "1"]);
    pong(&mut log, "no read tracking", &mut a);
    log.check(
        "total keys",
        Reply::Bulk(Some(
            info_field(&mut a, "stats", "tracking_total_keys").into_bytes(),
        )),
        &bulk("0"),
    );
    log.check(
        "prefixes",
        Reply::Bulk(Some(
            info_field(&mut a, "stats", "tracking_total_prefixes").into_bytes(),
        )),
        &bulk("2"),
    );
    // FLUSHDB: the null invalidation to everyone, after anything collected before.
    log.check("flush", b.cmd(&["FLUSHDB"]), &ok());
    log.check("a flush", read(&mut a), &invalidate_all());
    log.check("n flush", read(&mut n), &invalidate_all());
    // BCAST can't be switched on the fly; more prefixes can be added.
    log.note("switch", a.cmd(&["CLIENT", "TRACKING", "ON"]));
    log.note(
        "more",
        a.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "q"]),
    );
    log.note("info 2", a.cmd(&["CLIENT", "TRACKINGINFO"]));
    log.note(
        "flags",
        Reply::Simple(client_field(&mut a, "flags").into_bytes()),
    );
    // Prefixes of a client that leaves are dropped.
    drop(n);
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut a, "clients", "tracking_clients") != "1" {
        assert!(Instant::now() < deadline, "n's tracking was not cleaned up");
        thread::sleep(Duration::from_millis(5));
    }
    log.note(
        "prefixes after close",
        Reply::Simple(info_field(&mut a, "stats", "tracking_total_prefixes").into_bytes()),
    );
    log
}

#[test]
fn bcast_matches_redis() {
    same_as_redis(bcast);
}

/// RESP2 with REDIRECT: messages on `__redis__:invalidate` to the subscribed target;
/// when the target has gone, the R flag and, in RESP3, a `tracking-redir-broken` push.
fn redirect_resp2(s: &Server) -> Log {
    let mut log = Log::default();
    let mut r = s.raw();
    let rid = id_of(&mut r);
    log.check(
        "subscribe",
        r.cmd(&["SUBSCRIBE", "__redis__:invalidate"]),
        &array(vec![
            bulk("subscribe"),
            bulk("__redis__:invalidate"),
            int(1),
        ]),
    );
    let mut a = s.raw();
    let mut b = s.raw();
    let on = ["CLIENT", "TRACKING", "ON", "REDIRECT", &rid.to_string()].map(String::from);
    log.check("on", a.command(&on).unwrap(), &ok());
    log.check_id("getredir", a.cmd(&["CLIENT", "GETREDIR"]), &int(rid));
    assert_eq!(client_field(&mut a, "redir"), rid.to_string());
    log.note(
        "flags",
        Reply::Simple(client_field(&mut a, "flags").into_bytes()),
    );
    b.cmd(&["SET", "k", "1"]);
    log.check("get", a.cmd(&["GET", "k"]), &bulk("1"));
    b.cmd(&["SET", "k", "2"]);
    log.check("message", read(&mut r), &message(Some(&["k"])));
    // The flush message carries the tracking client's own null ($-1 in RESP2).
    b.cmd(&["FLUSHALL"]);
    log.check("flush message", read(&mut r), &message(None));
    // The target leaves: the next invalidation finds it gone.
    drop(r);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let clients = b.cmd(&["CLIENT", "LIST", "ID", &rid.to_string()]);
        if clients == bulk("") {
            break;
        }
        assert!(Instant::now() < deadline, "the target never left");
        thread::sleep(Duration::from_millis(5));
    }
    a.cmd(&["GET", "k"]);
    b.cmd(&["SET", "k", "3"]);
    log.note(
        "flags broken",
        Reply::Simple(client_field(&mut a, "flags").into_bytes()),
    );
    let info = array(vec![
        bulk("flags"),
        array(vec![bulk("on"), bulk("broken_redirect")]),
        bulk("redirect"),
        int(rid),
        bulk("prefixes"),
        array(vec![]),
    ]);
    log.check_id("info broken", a.cmd(&["CLIENT", "TRACKINGINFO"]), &info);
    // In RESP3 the client itself is told, each time a message is due.
    assert!(matches!(a.cmd(&["HELLO", "3"]), Reply::Map(_)));
    a.cmd(&["GET", "k"]);
    b.cmd(&["SET", "k", "4"]);
    let broken = Reply::Push(vec![bulk("tracking-redir-broken"), int(rid)]);
    assert_eq!(read(&mut a), broken);
    pong(&mut log, "ping", &mut a);
    log
}

#[test]
fn redirect_resp2_matches_redis() {
    same_as_redis(redirect_resp2);
}

/// A client's own invalidations wait for the end of its command (of EXEC, for a
/// transaction) and go to its redirect as it is then: here the transaction moved the
/// redirect from the subscriber to the client itself, a RESP2 client, which cannot be told.
fn own_messages_follow_the_redirect_at_exec_end(s: &Server) -> Log {
    let mut log = Log::default();
    let mut r = s.raw();
    let rid = id_of(&mut r).to_string();
    r.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
    let mut a = s.raw();
    let aid = id_of(&mut a).to_string();
    log.check(
        "on",
        a.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &rid]),
        &ok(),
    );
    a.cmd(&["GET", "k"]);
    log.check("multi", a.cmd(&["MULTI"]), &ok());
    for args in [
        &["SET", "k", "1"][..],
        &["FLUSHALL"],
        &["CLIENT", "TRACKING", "ON", "REDIRECT", &aid],
    ] {
        log.check("queued", a.cmd(args), &status("QUEUED"));
    }
    log.check("exec", a.cmd(&["EXEC"]), &array(vec![ok(), ok(), ok()]));
    // Nothing reached the subscriber before its PING's reply.
    let pong = array(vec![bulk("pong"), bulk("")]);
    log.check("subscriber", r.cmd(&["PING"]), &pong);
    log
}

#[test]
fn own_messages_follow_the_redirect_at_exec_end_like_redis() {
    same_as_redis(own_messages_follow_the_redirect_at_exec_end);
}

/// REDIRECT to a RESP3 client: pushes, whether or not it subscribed; a RESP2 tracking
/// client's flush null reaches it as `$-1`.
fn redirect_resp3(s: &Server) -> Log {
    let mut log = Log::default();
    let mut r = resp3(s);
    let rid = id_of(&mut r);
    let mut a = s.raw();
    let mut b = s.raw();
    let on = ["CLIENT", "TRACKING", "ON", "REDIRECT", &rid.to_string()].map(String::from);
    log.check("on", a.command(&on).unwrap(), &ok());
    a.cmd(&["GET", "k"]);
    a.cmd(&["SET", "k", "own"]);
    log.check("own change", read(&mut r), &invalidate(&["k"]));
    b.cmd(&["FLUSHDB"]);
    log.check(
        "flush",
        read(&mut r),
        &Reply::Push(vec![bulk("invalidate"), Reply::Bulk(None)]),
    );
    pong(&mut log, "ping", &mut r);
    pong(&mut log, "a ping", &mut a);
    log
}

#[test]
fn redirect_resp3_matches_redis() {
    same_as_redis(redirect_resp3);
}

/// A flush tells the tracking clients in connection order, the client that flushed last
/// (Redis defers its message to after the command): several RESP2 clients redirecting to
/// a RESP3 one, which flushes while tracking itself, get their nulls first, in their
/// protocol's form, then its own.
fn flush_order(s: &Server) -> Log {
    let mut log = Log::default();
    let mut r = resp3(s);
    let rid = id_of(&mut r).to_string();
    let mut others: Vec<RawClient> = (0..6).map(|_| s.raw()).collect();
    for (i, c) in others.iter_mut().enumerate() {
        let mut on = vec!["CLIENT", "TRACKING", "ON"];
        if i % 2 == 0 {
            on.extend(["REDIRECT", &rid]);
        }
        log.check("on", c.cmd(&on), &ok());
    }
    log.check("own on", r.cmd(&["CLIENT", "TRACKING", "ON"]), &ok());
    // Redis 7.0 writes the others' messages before the reply, 7.2 after it: only the
    // order of the messages is compared.
    r.send(&common::encode_command(&["FLUSHALL"])).unwrap();
    let mut pushes = Vec::new();
    while pushes.len() < 4 {
        match read(&mut r) {
            Reply::Simple(s) if s == b"OK" => {}
            push => pushes.push(push),
        }
    }
    let redirected = Reply::Push(vec![bulk("invalidate"), Reply::Bulk(None)]);
    for push in pushes.drain(..3) {
        log.check("redirected", push, &redirected);
    }
    log.check("own", pushes.remove(0), &invalidate_all());
    pong(&mut log, "ping", &mut r);
    log
}

#[test]
fn flush_order_matches_redis() {
    same_as_redis_and_valkey(flush_order);
}

/// A RESP2 client without a redirect gets nothing (there is no way to push), but its
/// keys are still forgotten; RESET turns tracking off.
fn resp2_and_reset(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = s.raw();
    let mut b = s.raw();
    log.check("on", a.cmd(&["CLIENT", "TRACKING", "ON"]), &ok());
    a.cmd(&["GET", "k"]);
    log.note(
        "keys",
        Reply::Simple(info_field(&mut b, "stats", "tracking_total_keys").into_bytes()),
    );
    b.cmd(&["SET", "k", "1"]);
    pong(&mut log, "nothing", &mut a);
    log.note(
        "keys after",
        Reply::Simple(info_field(&mut b, "stats", "tracking_total_keys").into_bytes()),
    );
    log.check("reset", a.cmd(&["RESET"]), &status("RESET"));
    log.check("getredir", a.cmd(&["CLIENT", "GETREDIR"]), &int(-1));
    log.note("info", a.cmd(&["CLIENT", "TRACKINGINFO"]));
    log.note(
        "clients",
        Reply::Simple(info_field(&mut b, "clients", "tracking_clients").into_bytes()),
    );
    log
}

#[test]
fn resp2_and_reset_match_redis() {
    same_as_redis(resp2_and_reset);
}

/// A key that expires is invalidated, by lazy expiry (another client's read) or the
/// active cycle, whichever comes first.
fn expiry(s: &Server) -> Log {
    // The read must find the key before its TTL ends: a run where SET..GET took longer
    // (a loaded machine) is done again, with new clients and a longer TTL.
    let mut ttl = 50;
    loop {
        let mut log = Log::default();
        let mut a = resp3(s);
        let mut b = s.raw();
        a.cmd(&["CLIENT", "TRACKING", "ON"]);
        let start = Instant::now();
        b.cmd(&["SET", "k", "v", "PX", &ttl.to_string()]);
        let got = a.cmd(&["GET", "k"]);
        if start.elapsed() >= Duration::from_millis(ttl) {
            ttl *= 2;
            continue;
        }
        log.check("get", got, &bulk("v"));
        thread::sleep(Duration::from_millis(ttl + 70));
        log.check("read by b", b.cmd(&["GET", "k"]), &Reply::Bulk(None));
        log.check("expired", read(&mut a), &invalidate(&["k"]));
        pong(&mut log, "ping", &mut a);
        return log;
    }
}

#[test]
fn expiry_matches_redis() {
    same_as_redis(expiry);
}

/// The INFO fields count clients, keys, (key, client) pairs and prefixes.
fn info_counts(s: &Server) -> Log {
    let mut log = Log::default();
    let mut a = resp3(s);
    let mut c = resp3(s);
    let mut w = s.raw();
    a.cmd(&["CLIENT", "TRACKING", "ON"]);
    c.cmd(&["CLIENT", "TRACKING", "ON"]);
    a.cmd(&["MGET", "a", "b", "c"]);
    c.cmd(&["GET", "a"]);
    let fields = |w: &mut RawClient| {
        [
            info_field(w, "clients", "tracking_clients"),
            info_field(w, "stats", "tracking_total_keys"),
            info_field(w, "stats", "tracking_total_items"),
            info_field(w, "stats", "tracking_total_prefixes"),
        ]
        .join(",")
    };
    log.check(
        "counts",
        Reply::Simple(fields(&mut w).into_bytes()),
        &status("2,3,4,0"),
    );
    w.cmd(&["SET", "a", "1"]);
    log.check(
        "after set",
        Reply::Simple(fields(&mut w).into_bytes()),
        &status("2,2,2,0"),
    );
    w.cmd(&["FLUSHALL"]);
    log.check(
        "after flush",
        Reply::Simple(fields(&mut w).into_bytes()),
        &status("2,0,0,0"),
    );
    log
}

#[test]
fn info_counts_match_redis() {
    same_as_redis(info_counts);
}

// ---------------------------------------------------------------------------------------
// Checks where the two servers may legitimately differ (random choices)

/// tracking-table-max-keys: past the limit, keys picked at random are evicted from the
/// table and invalidated before the next command's reply.
fn max_keys(s: &Server) {
    let mut a = resp3(s);
    a.cmd(&["CLIENT", "TRACKING", "ON"]);
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "2"]),
        ok()
    );
    a.cmd(&["MGET", "a", "b", "c"]);
    // The next command evicts one key: its push comes before the reply.
    let first = read_after_ping(&mut a);
    assert_eq!(first.len(), 1, "{first:?}");
    let evicted = match &first[0] {
        Reply::Push(items) => items[1].elements().unwrap()[0].clone(),
        other => panic!("not a push: {other}"),
    };
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&evicted));
    assert_eq!(info_field(&mut a, "stats", "tracking_total_keys"), "2");
    assert!(read_after_ping(&mut a).is_empty());
    // No limit: nothing evicted.
    a.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "0"]);
    a.cmd(&["MGET", "d", "e", "f"]);
    assert!(read_after_ping(&mut a).is_empty());
    assert_eq!(info_field(&mut a, "stats", "tracking_total_keys"), "5");
}

/// Sends PING and returns the frames read before its PONG.
fn read_after_ping(c: &mut RawClient) -> Vec<Reply> {
    c.send(&common::encode_command(&["PING"])).unwrap();
    let mut frames = Vec::new();
    loop {
        match read(c) {
            Reply::Simple(s) if s == b"PONG" => return frames,
            other => frames.push(other),
        }
    }
}

#[test]
fn max_keys_evicts_like_redis() {
    max_keys(&Server::vireo(&[]));
    max_keys(&Server::redis(&[]));
}

/// Clients reading and writing the same keys from several threads: every client that
/// read a key before another client's change of it hears of the change, so no cached
/// value outlives a write. Each reader caches what it reads and drops what it is told;
/// once the writers stop, every value still cached must be the server's.
#[test]
fn concurrent_readers_never_keep_a_stale_value() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let server = Server::vireo(&[]);
    let keys: Vec<String> = (0..16).map(|i| format!("key:{i}")).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let mut c = server.raw();
            let keys = keys.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let key = &keys[(n * 7 + w) % keys.len()];
                    c.cmd(&["SET", key, &format!("{w}-{n}")]);
                    n += 1;
                }
            })
        })
        .collect();
    type Cache = HashMap<Vec<u8>, Reply>;
    let forget = |cache: &mut Cache, push: &Reply| {
        let Reply::Push(items) = push else {
            panic!("not a push: {push}")
        };
        for k in items[1].elements().expect("keys") {
            cache.remove(k.bytes().unwrap());
        }
    };
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let mut c = resp3(&server);
            let keys = keys.clone();
            thread::spawn(move || {
                c.cmd(&["CLIENT", "TRACKING", "ON"]);
                let mut cache = Cache::new();
                for round in 0..500 {
                    let key = &keys[(round * 5 + r) % keys.len()];
                    c.send(&common::encode_command(&["GET", key])).unwrap();
                    // Pushes before the reply drop cached keys; then the reply is cached.
                    loop {
                        match read(&mut c) {
                            push @ Reply::Push(_) => forget(&mut cache, &push),
                            reply => {
                                cache.insert(key.as_bytes().to_vec(), reply);
                                break;
                            }
                        }
                    }
                }
                (c, cache)
            })
        })
        .collect();
    let readers: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let mut check = server.raw();
    for (mut c, mut cache) in readers {
        for push in read_after_ping(&mut c) {
            forget(&mut cache, &push);
        }
        for (key, cached) in &cache {
            let now = check.command(&[b"GET".as_slice(), key.as_slice()]).unwrap();
            assert_eq!(
                &now,
                cached,
                "stale cache of {}",
                String::from_utf8_lossy(key)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// redis-py

/// redis-py's RESP3 connection hands invalidation pushes to its handler while it reads
/// replies: a cache built on it sees each change of a key it read, and the flush.
#[test]
fn redis_py_receives_invalidations() {
    let version = Command::new("python3")
        .args(["-c", "import redis; print(redis.__version__)"])
        .output();
    let major = version.ok().filter(|o| o.status.success()).and_then(|o| {
        String::from_utf8_lossy(&o.stdout)
            .split('.')
            .next()?
            .trim()
            .parse::<u32>()
            .ok()
    });
    if major.is_none_or(|m| m < 5) {
        println!("skipped: redis-py 5 or later is not installed (pip install redis)");
        return;
    }
    let server = Server::vireo(&[]);
    let script = r#"
import sys, redis
port = int(sys.argv[1])
r = redis.Redis(port=port, protocol=3, single_connection_client=True)
pushes = []
r.connection._parser.set_invalidation_push_handler(pushes.append)
w = redis.Redis(port=port)
assert r.execute_command("CLIENT", "TRACKING", "ON") == b"OK"
w.set("foo", "1")
assert r.get("foo") == b"1"
w.set("foo", "2")
assert r.ping() is True
assert pushes == [[b"invalidate", [b"foo"]]], pushes
assert r.get("foo") == b"2"
w.flushdb()
assert r.ping() is True
assert pushes[1:] == [[b"invalidate", None]], pushes
print("ok")
"#;
    let out = Command::new("python3")
        .args(["-c", script, &server.port().to_string()])
        .output()
        .expect("run python3");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "redis-py failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
