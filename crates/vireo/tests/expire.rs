//! Expiry over TCP: TTL precision and rounding, past times deleting, lazy expiry on access,
//! and the active cycle reclaiming keys nobody reads.

mod common;

use common::Server;
use redis::{Commands, Connection};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn int(con: &mut Connection, args: &[&str]) -> i64 {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn ttl_precision_and_rounding() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    let () = con.set("k", "v").unwrap();
    assert_eq!(int(&mut con, &["PEXPIRE", "k", "1500"]), 1);
    let pttl = int(&mut con, &["PTTL", "k"]);
    assert!((1400..=1500).contains(&pttl), "pttl {pttl}");
    // TTL rounds to the nearest second: 1.5 s left reads 2 (or 1 once below 1.5 s).
    let ttl = int(&mut con, &["TTL", "k"]);
    assert!((1..=2).contains(&ttl), "ttl {ttl}");

    // Absolute times come back exactly; EXPIRETIME rounds to the nearest second.
    let at = now_ms() + 100_000_499;
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", &at.to_string()]), 1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), at);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), (at + 500) / 1000);

    // Relative times are taken from the command's clock.
    let before = now_ms();
    assert_eq!(int(&mut con, &["EXPIRE", "k", "1000"]), 1);
    let after = now_ms();
    let at = int(&mut con, &["PEXPIRETIME", "k"]);
    assert!(
        (before + 1_000_000..=after + 1_000_000).contains(&at),
        "{at} not in {before}+1e6..{after}+1e6"
    );

    assert_eq!(int(&mut con, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    assert_eq!(int(&mut con, &["PTTL", "missing"]), -2);
}

#[test]
fn past_times_delete_the_key_and_answer_one() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    for (i, args) in [
        ["EXPIRE", "k", "0"],
        ["PEXPIRE", "k", "-5"],
        ["EXPIREAT", "k", "1"],
        ["PEXPIREAT", "k", "0"],
    ]
    .iter()
    .enumerate()
    {
        let () = con.set("k", i).unwrap();
        assert_eq!(int(&mut con, args), 1, "{args:?}");
        assert_eq!(int(&mut con, &["EXISTS", "k"]), 0, "{args:?}");
    }
}

#[test]
fn expired_keys_are_gone_on_access() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    let () = con.set("k", "v").unwrap();
    assert_eq!(int(&mut con, &["PEXPIRE", "k", "50"]), 1);
    thread::sleep(Duration::from_millis(80));
    let v: Option<String> = con.get("k").unwrap();
    assert_eq!(v, None);
    assert_eq!(int(&mut con, &["TTL", "k"]), -2);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100"]), 0);
}

/// Keys with a TTL that nobody reads are reclaimed by the active expiry cycle: DBSIZE (which
/// counts expired keys not yet reclaimed) falls to the keys without a TTL.
#[test]
fn active_expiry_reclaims_unread_keys() {
    let server = Server::vireo(&[]);
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..5000 {
        pipe.cmd("SET").arg(format!("t{i}")).arg("v").ignore();
        // Long enough for the whole pipeline to be in before any key expires, even on a
        // loaded machine (the DBSIZE below must see every key).
        pipe.cmd("PEXPIRE").arg(format!("t{i}")).arg(1000).ignore();
    }
    for i in 0..100 {
        pipe.cmd("SET").arg(format!("p{i}")).arg("v").ignore();
    }
    let () = pipe.query(&mut con).unwrap();
    assert_eq!(int(&mut con, &["DBSIZE"]), 5100);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = int(&mut con, &["DBSIZE"]);
        if n == 100 {
            break;
        }
        assert!(Instant::now() < deadline, "{n} keys left after 10 s");
        thread::sleep(Duration::from_millis(50));
    }
}

/// SCAN deletes the expired keys it meets and does not return them.
#[test]
fn scan_does_not_return_expired_keys() {
    let server = Server::vireo(&["--hz", "1"]);
    let mut con = server.client();
    for i in 0..100 {
        let () = con.set(format!("e{i}"), "v").unwrap();
        let _: i64 = redis::cmd("PEXPIRE")
            .arg(format!("e{i}"))
            .arg(20)
            .query(&mut con)
            .unwrap();
    }
    let () = con.set("live", "v").unwrap();
    thread::sleep(Duration::from_millis(50));
    let mut cursor = 0u64;
    let mut seen = Vec::new();
    loop {
        let (next, keys): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).query(&mut con).unwrap();
        seen.extend(keys);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen, vec!["live".to_string()]);
}

/// INFO stats on the active cycle: once it has deleted every expired key, it has taken
/// some time, and the stale estimate is a percentage with two decimals. Read from
/// vireo-server and redis-server alike.
#[test]
fn info_reports_the_active_cycle_like_redis() {
    for s in [Server::vireo(&[]), Server::redis(&[])] {
        let kind = s.kind();
        let mut raw = s.raw();
        let mut con = s.client();
        for i in 0..2000 {
            let key = format!("k{i}");
            let _: () = con.set(&key, "v").unwrap();
            assert_eq!(int(&mut con, &["PEXPIRE", &key, "1"]), 1);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while int(&mut con, &["DBSIZE"]) > 0 {
            assert!(Instant::now() < deadline, "{kind:?}: keys not reclaimed");
            thread::sleep(Duration::from_millis(20));
        }
        let text = match raw.cmd(&["INFO", "stats"]) {
            common::Reply::Bulk(Some(t)) => String::from_utf8(t).unwrap(),
            other => panic!("{other:?}"),
        };
        let field = |name: &str| -> String {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .unwrap_or_else(|| panic!("{kind:?}: no {name}"))
                .trim()
                .to_string()
        };
        let stale = field("expired_stale_perc");
        let (whole, decimals) = stale.split_once('.').expect("two decimals");
        assert!(
            whole.parse::<u32>().unwrap() <= 100 && decimals.len() == 2,
            "{stale}"
        );
        field("expired_time_cap_reached_count")
            .parse::<u64>()
            .unwrap();
        field("expire_cycle_cpu_milliseconds")
            .parse::<u64>()
            .unwrap();
        // Each round trip is one read and one write for the server.
        let reads = raw.info_number("stats", "total_reads_processed");
        let writes = raw.info_number("stats", "total_writes_processed");
        for _ in 0..5 {
            raw.cmd(&["PING"]);
        }
        assert!(
            raw.info_number("stats", "total_reads_processed") >= reads + 6,
            "{kind:?}"
        );
        assert!(
            raw.info_number("stats", "total_writes_processed") >= writes + 6,
            "{kind:?}"
        );
        assert_eq!(raw.cmd(&["CONFIG", "RESETSTAT"]), common::reply::ok());
        assert_eq!(raw.info_number("stats", "expire_cycle_cpu_milliseconds"), 0);
    }
}
