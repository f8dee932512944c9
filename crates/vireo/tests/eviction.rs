//! maxmemory and key eviction over TCP: each test sets a limit a little above the memory
//! the fresh server uses (`used_memory` + 2 MB), writes well past it, and checks what the
//! policy kept, what it refused and what it reported. Exact error strings are compared
//! with redis-server where the outcome is deterministic (a limit of 1 byte).

mod common;

use common::reply::{bulk, err, int, nil, ok};
use common::{encode_command, RawClient, Reply, Server};
use std::time::{Duration, Instant};

const MB: u64 = 1024 * 1024;
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// Bytes per value written: big enough that keys, not bookkeeping, fill the memory.
const VALUE_LEN: usize = 1000;

/// A numeric field of INFO.
fn info(c: &mut RawClient, section: &str, field: &str) -> u64 {
    c.info_number(section, field)
}

fn used_memory(c: &mut RawClient) -> u64 {
    info(c, "memory", "used_memory")
}

fn evicted_keys(c: &mut RawClient) -> u64 {
    info(c, "stats", "evicted_keys")
}

fn dbsize(c: &mut RawClient) -> u64 {
    match c.cmd(&["DBSIZE"]) {
        Reply::Integer(n) => n as u64,
        other => panic!("DBSIZE answered {other:?}"),
    }
}

/// (keys, keys with a TTL) of database 0, from INFO keyspace.
fn keyspace(c: &mut RawClient) -> (usize, usize) {
    let text = match c.cmd(&["INFO", "keyspace"]) {
        Reply::Bulk(Some(text)) => String::from_utf8(text).unwrap(),
        other => panic!("INFO answered {other:?}"),
    };
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("db0:")) else {
        return (0, 0);
    };
    let field = |name: &str| -> usize {
        line.split(',')
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    (field("keys"), field("expires"))
}

fn config_set(c: &mut RawClient, name: &str, value: &str) {
    assert_eq!(
        c.cmd(&["CONFIG", "SET", name, value]),
        ok(),
        "{name} {value}"
    );
}

/// A server with `policy`, the settings in `extra`, and a limit 2 MB above what it uses
/// now (set last, so nothing before is refused); the connection and the limit.
fn limited(policy: &str, extra: &[(&str, &str)]) -> (Server, RawClient, u64) {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    config_set(&mut c, "maxmemory-policy", policy);
    for (name, value) in extra {
        config_set(&mut c, name, value);
    }
    let limit = used_memory(&mut c) + 2 * MB;
    config_set(&mut c, "maxmemory", &limit.to_string());
    (server, c, limit)
}

/// SETs `{prefix}:{i}` for every i in `range` to a `VALUE_LEN`-byte value, with a TTL of
/// `ttl(i)` seconds when it gives one, pipelined in batches; the replies in order.
fn write(
    c: &mut RawClient,
    prefix: &str,
    range: std::ops::Range<usize>,
    ttl: impl Fn(usize) -> Option<u64>,
) -> Vec<Reply> {
    let value = "v".repeat(VALUE_LEN);
    let mut replies = Vec::with_capacity(range.len());
    let indices: Vec<usize> = range.collect();
    for batch in indices.chunks(50) {
        let mut out = Vec::new();
        for &i in batch {
            let key = format!("{prefix}:{i}");
            match ttl(i) {
                Some(secs) => out.extend(encode_command(&[
                    "SET",
                    &key,
                    &value,
                    "EX",
                    &secs.to_string(),
                ])),
                None => out.extend(encode_command(&["SET", &key, &value])),
            }
        }
        c.send(&out).unwrap();
        for _ in batch {
            replies.push(c.read_reply().unwrap());
        }
    }
    replies
}

fn exists(c: &mut RawClient, key: &str) -> bool {
    c.cmd(&["EXISTS", key]) == int(1)
}

/// Writes 900 new keys (`new:*`), all accepted, enough to evict at least 100 of the
/// 1,200 `old:*` keys the LRU and LFU tests start with; returns how many were evicted.
fn write_past_the_limit(c: &mut RawClient) -> u64 {
    let replies = write(c, "new", 0..900, |_| None);
    assert!(replies.iter().all(|r| *r == ok()));
    let evicted = evicted_keys(c);
    assert!(evicted >= 100, "only {evicted} evicted");
    evicted
}

/// How many of `old:{i}` for `i` in `range` are gone.
fn lost(c: &mut RawClient, range: std::ops::Range<usize>) -> usize {
    range.filter(|i| !exists(c, &format!("old:{i}"))).count()
}

#[test]
fn allkeys_policies_stay_near_the_limit() {
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let (_server, mut c, limit) = limited(policy, &[]);
        // About three times the headroom.
        let replies = write(&mut c, "k", 0..6000, |_| None);
        assert!(
            replies.iter().all(|r| *r == ok()),
            "{policy}: a write was refused"
        );
        let used = used_memory(&mut c);
        assert!(
            used <= limit + MB / 2,
            "{policy}: used_memory {used} far over the limit {limit}"
        );
        assert!(
            used >= limit - MB,
            "{policy}: evicted far more than needed ({used} against {limit})"
        );
        assert_eq!(info(&mut c, "memory", "maxmemory"), limit);
        // No more evictions from here: CONFIG SET waits for a pass still running (the
        // background one may have evicted a key between two reads), so the counts below
        // are a still picture.
        config_set(&mut c, "maxmemory", "0");
        let evicted = evicted_keys(&mut c);
        assert!(evicted >= 2000, "{policy}: only {evicted} keys evicted");
        assert_eq!(dbsize(&mut c) + evicted, 6000, "{policy}");
        assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
        assert_eq!(
            evicted_keys(&mut c),
            0,
            "{policy}: RESETSTAT keeps evicted_keys"
        );
    }
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let (_server, mut c, _) = limited(policy, &[]);
        // Odd keys have a TTL. Writing goes on until the server refuses: then every key
        // with a TTL must be gone and every other one still there.
        let mut persistent = 0;
        let mut refused = None;
        for round in 0..40 {
            let range = round * 500..(round + 1) * 500;
            let replies = write(&mut c, "k", range.clone(), |i| {
                (i % 2 == 1).then_some(100_000)
            });
            for (i, reply) in range.zip(replies) {
                if reply == ok() {
                    persistent += usize::from(i % 2 == 0);
                } else {
                    assert_eq!(reply, err(OOM), "{policy}: key {i}");
                    refused.get_or_insert(i);
                }
            }
            if refused.is_some() {
                break;
            }
        }
        let first_refused = refused.unwrap_or_else(|| panic!("{policy}: never refused"));
        assert!(
            first_refused > 2000,
            "{policy}: refused too early ({first_refused})"
        );
        assert!(evicted_keys(&mut c) > 0, "{policy}");
        // Memory hovers at the limit once refusals begin (buffers come and go, a pass
        // may run out of time and let a write through), so write one key at a time until
        // the next refusal: at that moment no key with a TTL is left.
        let refused_again = (0..5000).find(|i| {
            let reply = c.cmd(&["SET", &format!("p:{i}"), "x"]);
            if reply == ok() {
                persistent += 1;
                return false;
            }
            assert_eq!(reply, err(OOM), "{policy}");
            true
        });
        assert!(refused_again.is_some(), "{policy}: never refused again");
        let (keys, expires) = keyspace(&mut c);
        assert_eq!(expires, 0, "{policy}: keys with a TTL left at a refusal");
        assert_eq!(
            keys, persistent,
            "{policy}: keys without a TTL were evicted"
        );
        // Reads and deletions still work; writes are refused.
        assert_eq!(c.cmd(&["GET", "k:0"]), bulk("v".repeat(VALUE_LEN)));
        assert_eq!(c.cmd(&["DEL", "k:0"]), int(1));
    }
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let (_server, mut c, limit) = limited("noeviction", &[]);
    let replies = write(&mut c, "k", 0..6000, |_| None);
    let first_refused = replies
        .iter()
        .position(|r| *r != ok())
        .expect("noeviction never refused a write");
    assert!(first_refused > 1000, "refused too early ({first_refused})");
    // Memory hovers at the limit (buffers come and go), so some more writes may pass.
    let accepted = replies.iter().filter(|r| **r == ok()).count();
    assert!(accepted < first_refused + 100, "{accepted} accepted");
    assert!(replies.iter().all(|r| *r == ok() || *r == err(OOM)));
    assert_eq!(evicted_keys(&mut c), 0);
    assert_eq!(dbsize(&mut c), accepted as u64);
    assert_eq!(c.cmd(&["GET", "k:1"]), bulk("v".repeat(VALUE_LEN)));
    // Buffers freed meanwhile may let a few writes in, but memory stays at the limit.
    let more = write(&mut c, "more", 0..100, |_| None);
    assert!(more.iter().filter(|r| **r == err(OOM)).count() >= 30);
    let used = used_memory(&mut c);
    assert!(
        used <= limit + MB / 4,
        "used_memory {used} over the limit {limit}"
    );
    assert!(info(&mut c, "stats", "current_eviction_exceeded_time") < 3_600_000);
    // Deleting makes room again.
    let keys: Vec<String> = (0..6000).map(|i| format!("k:{i}")).collect();
    let mut del = vec!["DEL".to_string()];
    del.extend(keys);
    assert_eq!(
        c.command(&del).unwrap(),
        int(accepted as i64),
        "DEL is never refused"
    );
    wait_for(
        || c.cmd(&["SET", "again", "x"]) == ok(),
        "a write after DEL",
    );
}

/// Runs `check` until it holds, for up to ten seconds.
fn wait_for(mut check: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn allkeys_lru_keeps_recently_used_keys() {
    let (_server, mut c, _) = limited("allkeys-lru", &[]);
    // 1200 keys (about 1.3 MB) fit under the limit.
    let replies = write(&mut c, "old", 0..1200, |_| None);
    assert!(replies.iter().all(|r| *r == ok()));
    assert_eq!(evicted_keys(&mut c), 0, "the first keys must fit");
    // The LRU clock counts seconds: wait until the keys are idle for a while...
    wait_for(
        || matches!(c.cmd(&["OBJECT", "IDLETIME", "old:0"]), Reply::Integer(n) if n >= 2),
        "the keys to become idle",
    );
    // ...then use a hot set, and write enough new keys to evict a few hundred.
    for i in 0..200 {
        assert_ne!(c.cmd(&["GET", &format!("old:{i}")]), nil());
    }
    let evicted = write_past_the_limit(&mut c);
    let hot_lost = lost(&mut c, 0..200);
    let cold_lost = lost(&mut c, 200..1200);
    // Sampling is approximate, but idle keys are by far the first victims.
    assert!(
        hot_lost * 10 <= evicted as usize,
        "{hot_lost} hot keys lost of {evicted} evicted"
    );
    assert!(
        cold_lost * 10 >= evicted as usize * 8,
        "{cold_lost} cold of {evicted}"
    );
}

#[test]
fn allkeys_lfu_keeps_frequently_used_keys() {
    // Log factor 0 makes every access count, and no decay: the counters are exact.
    let (_server, mut c, _) = limited(
        "allkeys-lfu",
        &[("lfu-log-factor", "0"), ("lfu-decay-time", "0")],
    );
    let replies = write(&mut c, "old", 0..1200, |_| None);
    assert!(replies.iter().all(|r| *r == ok()));
    assert_eq!(evicted_keys(&mut c), 0, "the first keys must fit");
    for i in 0..200 {
        for _ in 0..10 {
            assert_ne!(c.cmd(&["GET", &format!("old:{i}")]), nil());
        }
    }
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "old:0"]), int(15));
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "old:999"]), int(5));
    let evicted = write_past_the_limit(&mut c);
    let hot_lost = lost(&mut c, 0..200);
    assert!(
        hot_lost * 10 <= evicted as usize,
        "{hot_lost} frequently used keys lost of {evicted} evicted"
    );
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let (_server, mut c, _) = limited("volatile-ttl", &[]);
    // 1000 keys with TTLs growing with their number, then keys without a TTL.
    let replies = write(&mut c, "t", 0..1000, |i| Some(10_000 + 10 * i as u64));
    assert!(replies.iter().all(|r| *r == ok()));
    let replies = write(&mut c, "p", 0..1300, |_| None);
    assert!(replies.iter().all(|r| *r == ok()));
    let evicted = evicted_keys(&mut c) as usize;
    assert!(evicted >= 100, "only {evicted} evicted");
    let near_lost = (0..500)
        .filter(|i| !exists(&mut c, &format!("t:{i}")))
        .count();
    // Approximate: most victims come from the half that expires first.
    assert!(near_lost * 10 >= evicted * 8, "{near_lost} of {evicted}");
}

#[test]
fn evictions_are_notified() {
    let (server, mut c, _) = limited("allkeys-random", &[("notify-keyspace-events", "Ee")]);
    let mut sub = server.raw();
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
    write(&mut c, "k", 0..4000, |_| None);
    assert!(evicted_keys(&mut c) > 0);
    let message = sub.read_reply().unwrap();
    let Reply::Array(Some(parts)) = message else {
        panic!("not a message: {message:?}");
    };
    assert_eq!(parts[0], bulk("message"));
    assert_eq!(parts[1], bulk("__keyevent@0__:evicted"));
    let key = String::from_utf8(parts[2].bytes().unwrap().to_vec()).unwrap();
    assert!(key.starts_with("k:"), "{key}");
    assert!(
        !exists(&mut c, &key),
        "{key} was notified as evicted but exists"
    );
}

#[test]
fn evicting_a_watched_key_fails_the_transaction() {
    let (server, mut c, _) = limited("volatile-ttl", &[]);
    // The watched key is the only one with a TTL: the only candidate.
    assert_eq!(c.cmd(&["SET", "w", "1", "EX", "100000"]), ok());
    assert_eq!(c.cmd(&["WATCH", "w"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["GET", "w"]), Reply::Simple(b"QUEUED".to_vec()));
    let mut writer = server.raw();
    let replies = write(&mut writer, "p", 0..6000, |_| None);
    assert!(replies.contains(&err(OOM)), "memory never ran out");
    assert_eq!(evicted_keys(&mut writer), 1);
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(None));
}

#[test]
fn evicting_a_cached_key_invalidates_it() {
    let (server, mut c, _) = limited("volatile-ttl", &[]);
    let mut tracker = server.raw();
    tracker.cmd(&["HELLO", "3"]);
    assert_eq!(tracker.cmd(&["CLIENT", "TRACKING", "ON"]), ok());
    // The cached key is the only one with a TTL: the only candidate.
    assert_eq!(c.cmd(&["SET", "cached", "1", "EX", "100000"]), ok());
    assert_eq!(tracker.cmd(&["GET", "cached"]), bulk("1"));
    let replies = write(&mut c, "p", 0..6000, |_| None);
    assert!(replies.contains(&err(OOM)), "memory never ran out");
    assert_eq!(
        tracker.read_reply().unwrap(),
        Reply::Push(vec![
            bulk("invalidate"),
            Reply::Array(Some(vec![bulk("cached")]))
        ])
    );
}

/// Deviation: redis-server 7.0 fails this test (VIREO_TEST_BIN): it counts values queued
/// for the lazyfree thread as used memory, evicts every key while the thread catches up,
/// and answers OOM. Vireo leaves them out of the figure it compares with the limit.
#[test]
fn lazy_eviction_frees_big_values_in_the_background() {
    let (_server, mut c, limit) = limited("allkeys-random", &[("lazyfree-lazy-eviction", "yes")]);
    // Hashes of 600 fields are real hash tables (past hash-max-listpack-entries):
    // freeing one is hundreds of allocations.
    for h in 0..200 {
        let mut cmd = vec!["HSET".to_string(), format!("h:{h}")];
        for f in 0..600 {
            cmd.push(format!("field:{f}"));
            cmd.push(format!("value:{f}"));
        }
        assert_eq!(c.command(&cmd).unwrap(), int(600));
    }
    assert!(evicted_keys(&mut c) > 0);
    wait_for(
        || info(&mut c, "memory", "lazyfreed_objects") > 0,
        "the lazyfree thread to free evicted hashes",
    );
    wait_for(
        || used_memory(&mut c) <= limit + MB / 2,
        "memory to come back near the limit",
    );
}

#[test]
fn lfu_counts_accesses() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    config_set(&mut c, "maxmemory-policy", "allkeys-lfu");
    config_set(&mut c, "lfu-decay-time", "0");
    assert_eq!(c.cmd(&["SET", "k", "abc"]), ok());
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), int(5));
    // Up to the initial value every access counts; beyond, fewer and fewer do.
    c.cmd(&["GET", "k"]);
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), int(6));
    for _ in 0..2000 {
        c.cmd(&["GET", "k"]);
    }
    let Reply::Integer(freq) = c.cmd(&["OBJECT", "FREQ", "k"]) else {
        panic!("OBJECT FREQ");
    };
    assert!((10..=40).contains(&freq), "{freq}");
    // An overwrite keeps the frequency, as Redis does.
    assert_eq!(c.cmd(&["SET", "k", "def"]), ok());
    let Reply::Integer(after) = c.cmd(&["OBJECT", "FREQ", "k"]) else {
        panic!("OBJECT FREQ");
    };
    assert!(after >= freq, "{after} < {freq}");
    for (name, value) in [
        ("maxmemory-samples", "10"),
        ("maxmemory-eviction-tenacity", "50"),
        ("lfu-log-factor", "1"),
    ] {
        config_set(&mut c, name, value);
        assert_eq!(
            c.cmd(&["CONFIG", "GET", name]),
            Reply::Array(Some(vec![bulk(name), bulk(value)]))
        );
    }
}

/// The OOM refusals, byte for byte as redis-server sends them, with a limit no server
/// can be under: writes, queuing in MULTI, and an EXEC whose queued write would now be
/// refused (the transaction is discarded).
#[test]
fn oom_errors_match_redis() {
    let redis = Server::redis(&[]);
    let vireo = Server::vireo(&[]);
    let transcript = |server: &Server| -> Vec<Vec<u8>> {
        let mut c = server.raw();
        let mut admin = server.raw();
        let mut frames = Vec::new();
        let mut run = |c: &mut RawClient, args: &[&str]| {
            c.send(&encode_command(args)).unwrap();
            frames.push(c.read_frame().unwrap());
        };
        run(&mut c, &["SET", "a", "hello"]);
        run(&mut c, &["MULTI"]);
        run(&mut c, &["SET", "b", "x"]);
        run(&mut c, &["GET", "a"]);
        run(&mut admin, &["CONFIG", "SET", "maxmemory", "1"]);
        run(&mut c, &["EXEC"]);
        run(&mut c, &["EXEC"]);
        run(&mut c, &["SET", "b", "world"]);
        run(&mut c, &["APPEND", "a", "x"]);
        run(&mut c, &["GET", "a"]);
        run(&mut c, &["PING"]);
        run(&mut c, &["MULTI"]);
        run(&mut c, &["GET", "a"]);
        run(&mut c, &["DISCARD"]);
        run(&mut c, &["MULTI"]);
        run(&mut c, &["PING"]);
        run(&mut c, &["EXEC"]);
        run(&mut c, &["DEL", "a"]);
        run(&mut c, &["EXISTS", "a"]);
        run(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]);
        run(&mut c, &["SET", "b", "world"]);
        frames
    };
    let expected = transcript(&redis);
    let got = transcript(&vireo);
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(
            String::from_utf8_lossy(g),
            String::from_utf8_lossy(e),
            "reply {i}"
        );
    }
    assert_eq!(expected.len(), got.len());
}
