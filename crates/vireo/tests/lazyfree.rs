//! The lazyfree directives for deletions the server makes by itself, checked through INFO's
//! `lazyfreed_objects` on vireo-server and redis-server alike:
//! - `lazyfree-lazy-server-del`: a key a command overwrites (SET) or deletes to make room
//!   (RENAME, COPY REPLACE, a store command with an empty result);
//! - `lazyfree-lazy-expire`: a key that expired.
//!
//! A value is freed in the background only when freeing it is worth a hand-over, as in
//! Redis: here a hash of 1,000 fields (past `hash-max-listpack-entries`, so a hashtable
//! that is freed field by field).

mod common;

use common::reply::{int, ok};
use common::{RawClient, Server};
use std::time::{Duration, Instant};

fn both() -> [Server; 2] {
    [Server::vireo(&[]), Server::redis(&[])]
}

fn lazyfreed(c: &mut RawClient) -> u64 {
    c.info_number("memory", "lazyfreed_objects")
}

/// Waits for the background thread to have freed `n` objects in all; fails after 10 s.
fn wait_lazyfreed(c: &mut RawClient, n: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while lazyfreed(c) < n {
        assert!(
            Instant::now() < deadline,
            "{what}: nothing freed in the background"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(lazyfreed(c), n, "{what}");
}

/// A hash of 1,000 fields in `key` (replacing what was there): a hashtable, 1,000
/// allocations to free.
fn big_hash(c: &mut RawClient, key: &str) {
    c.cmd(&["DEL", key]);
    let mut args = vec!["HSET".to_string(), key.to_string()];
    for i in 0..1000 {
        args.push(format!("field:{i}"));
        args.push(format!("value:{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&args), int(1000));
}

#[test]
fn server_deletions_free_in_the_background_with_lazyfree_lazy_server_del() {
    for s in both() {
        let kind = s.kind();
        let mut c = s.raw();
        // Off (the default): freed in place.
        big_hash(&mut c, "h");
        assert_eq!(c.cmd(&["SET", "h", "x"]), ok());
        assert_eq!(lazyfreed(&mut c), 0, "{kind:?}");
        let set = ["CONFIG", "SET", "lazyfree-lazy-server-del", "yes"];
        assert_eq!(c.cmd(&set), ok());
        // SET over a big value.
        big_hash(&mut c, "h");
        assert_eq!(c.cmd(&["SET", "h", "x"]), ok());
        wait_lazyfreed(&mut c, 1, &format!("{kind:?} SET"));
        // RENAME over a big value.
        big_hash(&mut c, "dst");
        assert_eq!(c.cmd(&["RENAME", "h", "dst"]), ok());
        wait_lazyfreed(&mut c, 2, &format!("{kind:?} RENAME"));
        // COPY REPLACE over a big value.
        big_hash(&mut c, "h");
        assert_eq!(c.cmd(&["COPY", "dst", "h", "REPLACE"]), int(1));
        wait_lazyfreed(&mut c, 3, &format!("{kind:?} COPY"));
        // A store command whose result is empty deletes its destination.
        big_hash(&mut c, "h");
        assert_eq!(c.cmd(&["SINTERSTORE", "h", "none", "nothing"]), int(0));
        wait_lazyfreed(&mut c, 4, &format!("{kind:?} SINTERSTORE"));
        // A small value is freed in place whatever the setting.
        assert_eq!(c.cmd(&["SET", "h", "y"]), ok());
        assert_eq!(c.cmd(&["SET", "h", "z"]), ok());
        assert_eq!(lazyfreed(&mut c), 4, "{kind:?}");
    }
}

#[test]
fn expired_keys_free_in_the_background_with_lazyfree_lazy_expire() {
    for s in both() {
        let kind = s.kind();
        let mut c = s.raw();
        // Off (the default).
        big_hash(&mut c, "h");
        assert_eq!(c.cmd(&["PEXPIRE", "h", "1"]), int(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.cmd(&["EXISTS", "h"]), int(0));
        assert_eq!(lazyfreed(&mut c), 0, "{kind:?}");
        let set = ["CONFIG", "SET", "lazyfree-lazy-expire", "yes"];
        assert_eq!(c.cmd(&set), ok());
        // Expired on access.
        big_hash(&mut c, "h");
        assert_eq!(c.cmd(&["PEXPIRE", "h", "1"]), int(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.cmd(&["EXISTS", "h"]), int(0));
        wait_lazyfreed(&mut c, 1, &format!("{kind:?} lazy expiry"));
        // Expired by the active cycle, never touched.
        big_hash(&mut c, "h");
        assert_eq!(c.cmd(&["PEXPIRE", "h", "1"]), int(1));
        wait_lazyfreed(&mut c, 2, &format!("{kind:?} active expiry"));
        assert_eq!(c.cmd(&["DBSIZE"]), int(0), "{kind:?}");
    }
}
