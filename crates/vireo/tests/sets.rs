//! Set commands: what the differential tests cannot check against redis-server 7.0.
//!
//! Redis 7.0 has no listpack-encoded sets (7.2 added them, with `set-max-listpack-*`), so
//! the encodings and reply orders of small sets of strings are asserted here with the
//! replies of Redis 7.2 (checked by running this file against Valkey 9 with
//! `VIREO_TEST_BIN=/path/to/valkey-server`, except the test marked vireo-only). Random
//! replies (SPOP, SRANDMEMBER) are checked by their properties.

mod common;

use common::{RawClient, Reply, Server};
use std::collections::BTreeSet;

/// A reply as compact text: bulk strings bare, `:n` integers, `[a b]` arrays and sets,
/// `(nil)`, errors with their `-`.
fn text(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(Some(b)) | Reply::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        Reply::Bulk(None) | Reply::Null | Reply::Array(None) => "(nil)".into(),
        Reply::Integer(n) => format!(":{n}"),
        Reply::Error(e) => format!("-{}", String::from_utf8_lossy(e)),
        Reply::Array(Some(items)) | Reply::Set(items) => {
            let items: Vec<String> = items.iter().map(text).collect();
            format!("[{}]", items.join(" "))
        }
        other => format!("{other:?}"),
    }
}

/// Runs `args` and returns the reply as [`text`].
fn run(c: &mut RawClient, args: &[&str]) -> String {
    text(&c.cmd(args))
}

/// Runs each command of `steps` and asserts its reply text.
fn play(c: &mut RawClient, steps: &[(&str, &str)]) {
    for (line, expected) in steps {
        let args: Vec<&str> = line.split(' ').collect();
        assert_eq!(run(c, &args), *expected, "{line}");
    }
}

/// SADD key with the members `prefix{from..to}`.
fn sadd_range(c: &mut RawClient, key: &str, prefix: &str, from: usize, to: usize) {
    let members: Vec<String> = (from..to).map(|i| format!("{prefix}{i}")).collect();
    let mut args = vec!["SADD", key];
    args.extend(members.iter().map(|s| s.as_str()));
    assert_eq!(c.cmd(&args), Reply::Integer((to - from) as i64));
}

fn members(reply: &Reply) -> Vec<Vec<u8>> {
    reply
        .elements()
        .unwrap_or_else(|| panic!("not an array: {reply:?}"))
        .iter()
        .map(|r| r.bytes().expect("bulk member").to_vec())
        .collect()
}

#[test]
fn small_sets_of_strings_are_listpacks_in_insertion_order() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    play(
        &mut c,
        &[
            ("SADD s b a c a", ":3"),
            ("OBJECT ENCODING s", "listpack"),
            ("SMEMBERS s", "[b a c]"),
            ("SADD s 1", ":1"),
            ("SMEMBERS s", "[b a c 1]"),
            ("SREM s a", ":1"),
            ("SMEMBERS s", "[b c 1]"),
            ("SISMEMBER s 1", ":1"),
            ("SISMEMBER s 01", ":0"),
            ("SRANDMEMBER s 10", "[b c 1]"),
            ("SSCAN s 0 COUNT 1", "[0 [b c 1]]"),
            ("SSCAN s 0 MATCH [a-c]", "[0 [b c]]"),
            // Integers first: an intset (sorted) that becomes a listpack on a string.
            ("SADD n 3 1 2", ":3"),
            ("OBJECT ENCODING n", "intset"),
            ("SADD n a", ":1"),
            ("OBJECT ENCODING n", "listpack"),
            ("SMEMBERS n", "[1 2 3 a]"),
            ("SADD n 0", ":1"),
            ("SMEMBERS n", "[1 2 3 a 0]"),
            // Non-canonical integers are strings.
            ("SADD z 007", ":1"),
            ("OBJECT ENCODING z", "listpack"),
        ],
    );
}

#[test]
fn listpack_thresholds() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    // 128 members fit, the 129th converts; 129 in one SADD are a hashtable at once.
    sadd_range(&mut c, "big", "m", 0, 128);
    play(&mut c, &[("OBJECT ENCODING big", "listpack")]);
    sadd_range(&mut c, "big", "m", 128, 129);
    play(&mut c, &[("OBJECT ENCODING big", "hashtable")]);
    sadd_range(&mut c, "big2", "m", 0, 129);
    play(&mut c, &[("OBJECT ENCODING big2", "hashtable")]);
    // An intset of 127 members takes a string as a listpack; of 128, as a hashtable.
    sadd_range(&mut c, "i127", "", 0, 127);
    sadd_range(&mut c, "i128", "", 0, 128);
    play(
        &mut c,
        &[
            ("SADD i127 x", ":1"),
            ("OBJECT ENCODING i127", "listpack"),
            ("SADD i128 x", ":1"),
            ("OBJECT ENCODING i128", "hashtable"),
        ],
    );
    // Member length: 64 bytes fit, 65 do not.
    let (v64, v65) = ("v".repeat(64), "w".repeat(65));
    assert_eq!(run(&mut c, &["SADD", "v", &v64]), ":1");
    assert_eq!(run(&mut c, &["OBJECT", "ENCODING", "v"]), "listpack");
    assert_eq!(run(&mut c, &["SADD", "v", &v65]), ":1");
    assert_eq!(run(&mut c, &["OBJECT", "ENCODING", "v"]), "hashtable");
    // The number of arguments alone converts, even when they are all duplicates.
    let mut dup = vec!["SADD", "dup"];
    dup.extend(std::iter::repeat_n("a", 129));
    play(&mut c, &[("SADD dup a", ":1")]);
    assert_eq!(run(&mut c, &dup), ":0");
    assert_eq!(run(&mut c, &["OBJECT", "ENCODING", "dup"]), "hashtable");
    // Thresholds set at run time.
    play(
        &mut c,
        &[
            ("CONFIG SET set-max-listpack-entries 3", "OK"),
            ("SADD c a b c", ":3"),
            ("OBJECT ENCODING c", "listpack"),
            ("SADD c d", ":1"),
            ("OBJECT ENCODING c", "hashtable"),
            ("CONFIG SET set-max-listpack-entries 128", "OK"),
            ("CONFIG SET set-max-listpack-value 3", "OK"),
            ("SADD d abc", ":1"),
            ("OBJECT ENCODING d", "listpack"),
            ("SADD d abcd", ":1"),
            ("OBJECT ENCODING d", "hashtable"),
            // The intset's widest integer must fit the value limit too.
            ("SADD e 1000", ":1"),
            ("SADD e a", ":1"),
            ("OBJECT ENCODING e", "hashtable"),
            ("SADD f 100", ":1"),
            ("SADD f a", ":1"),
            ("OBJECT ENCODING f", "listpack"),
            ("CONFIG SET set-max-listpack-value 64", "OK"),
            ("CONFIG SET set-max-intset-entries 2", "OK"),
            ("SADD g 1 2", ":2"),
            ("OBJECT ENCODING g", "intset"),
            ("SADD g 3", ":1"),
            ("OBJECT ENCODING g", "hashtable"),
            ("SADD h 1 2 3", ":3"),
            ("OBJECT ENCODING h", "listpack"),
            ("SMEMBERS h", "[1 2 3]"),
        ],
    );
}

#[test]
fn store_commands_choose_encodings_like_redis_7_2() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    play(
        &mut c,
        &[
            ("SADD lp b 3 a 1", ":4"),
            ("SADD lp2 3 1 a", ":3"),
            ("SMEMBERS lp2", "[1 3 a]"),
            ("SADD ints 5 1 3", ":3"),
            // SUNION builds from an empty intset, member by member.
            ("SUNION lp", "[b 3 a 1]"),
            ("SUNION lp2 nokey", "[1 3 a]"),
            ("SUNIONSTORE d lp ints", ":5"),
            ("OBJECT ENCODING d", "listpack"),
            ("SMEMBERS d", "[b 3 a 1 5]"),
            ("SDIFF lp ints", "[b a]"),
            ("SDIFFSTORE d lp lp2", ":1"),
            ("SMEMBERS d", "[b]"),
            ("OBJECT ENCODING d", "listpack"),
            // SINTER follows the smallest set; SINTERSTORE of integers is an intset.
            ("SINTER lp lp2", "[1 3 a]"),
            ("SINTER lp2 lp", "[1 3 a]"),
            ("SINTERSTORE d lp lp2", ":3"),
            ("OBJECT ENCODING d", "listpack"),
            ("SMEMBERS d", "[1 3 a]"),
            ("SREM lp2 a", ":1"),
            ("SINTERSTORE d lp lp2", ":2"),
            ("OBJECT ENCODING d", "intset"),
            // SMOVE creates the destination as SADD of the one member would.
            ("SMOVE lp new1 b", ":1"),
            ("OBJECT ENCODING new1", "listpack"),
            ("SMOVE lp new2 3", ":1"),
            ("OBJECT ENCODING new2", "intset"),
            // SPOP of the whole set answers as SUNION of it does.
            ("SADD p 3 1 a", ":3"),
            ("SPOP p 3", "[1 3 a]"),
            ("EXISTS p", ":0"),
            // A wrong type among the sources is an error even after a missing key (7.2).
            ("SET str x", "OK"),
            (
                "SINTER nokey str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SINTERCARD 2 nokey str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "SINTERSTORE d nokey str",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("EXISTS d", ":1"),
        ],
    );
    // A hashtable of strings cut down by SDIFF: copying then removing (the estimated
    // cheaper way here) leaves a hashtable, testing each member would give a listpack.
    sadd_range(&mut c, "h", "m", 0, 200);
    sadd_range(&mut c, "h190", "m", 0, 190);
    let mut args = vec!["SDIFFSTORE", "d", "h", "h190"];
    let tiny: Vec<String> = (0..8).map(|i| format!("t{i}")).collect();
    for t in &tiny {
        assert_eq!(run(&mut c, &["SADD", t, "x"]), ":1");
        args.push(t);
    }
    assert_eq!(run(&mut c, &args), ":10");
    assert_eq!(run(&mut c, &["OBJECT", "ENCODING", "d"]), "hashtable");
    assert_eq!(run(&mut c, &["SDIFFSTORE", "d", "h", "h190"]), ":10");
    assert_eq!(run(&mut c, &["OBJECT", "ENCODING", "d"]), "listpack");
    // SPOP leaving few members keeps them in a new, compact set.
    sadd_range(&mut c, "many", "m", 0, 300);
    let popped = members(&c.cmd(&["SPOP", "many", "290"]));
    assert_eq!(popped.len(), 290);
    assert_eq!(run(&mut c, &["OBJECT", "ENCODING", "many"]), "listpack");
    assert_eq!(run(&mut c, &["SCARD", "many"]), ":10");
}

/// Distinct members from the set for a positive count, the right number of members
/// from the set for a negative one, in every encoding.
#[test]
fn srandmember_and_spop_properties() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    sadd_range(&mut c, "intset", "", 0, 50);
    sadd_range(&mut c, "listpack", "m", 0, 50);
    sadd_range(&mut c, "hashtable", "m", 0, 400);
    for (key, size) in [("intset", 50usize), ("listpack", 50), ("hashtable", 400)] {
        let all: BTreeSet<Vec<u8>> = members(&c.cmd(&["SMEMBERS", key])).into_iter().collect();
        assert_eq!(all.len(), size);
        let order = members(&c.cmd(&["SMEMBERS", key]));
        for count in [1usize, 2, 10, 20, size - 1, size, size + 5] {
            let got = members(&c.cmd(&["SRANDMEMBER", key, &count.to_string()]));
            let distinct: BTreeSet<Vec<u8>> = got.iter().cloned().collect();
            assert_eq!(got.len(), count.min(size), "{key} {count}");
            assert_eq!(distinct.len(), got.len(), "{key} {count}: repeated members");
            assert!(distinct.is_subset(&all));
            if key == "listpack" {
                // A listpack's sample keeps the listpack's order, as in Redis.
                let positions: Vec<usize> = got
                    .iter()
                    .map(|m| order.iter().position(|o| o == m).unwrap())
                    .collect();
                assert!(positions.windows(2).all(|w| w[0] < w[1]), "{key} {count}");
            }
            let got = members(&c.cmd(&["SRANDMEMBER", key, &format!("-{count}")]));
            assert_eq!(got.len(), count);
            assert!(got.iter().all(|m| all.contains(m)));
        }
        // Random draws eventually cover a small set.
        let seen: BTreeSet<Vec<u8>> = members(&c.cmd(&["SRANDMEMBER", key, "-20000"]))
            .into_iter()
            .collect();
        assert_eq!(seen, all, "{key}");
    }
    for key in ["intset", "listpack", "hashtable"] {
        let all: BTreeSet<Vec<u8>> = members(&c.cmd(&["SMEMBERS", key])).into_iter().collect();
        let mut left = all.clone();
        for count in ["1", "3", "30"] {
            for m in members(&c.cmd(&["SPOP", key, count])) {
                assert!(left.remove(&m), "{key}: popped a non-member or twice");
            }
            let now: BTreeSet<Vec<u8>> = members(&c.cmd(&["SMEMBERS", key])).into_iter().collect();
            assert_eq!(now, left);
        }
        let single = c.cmd(&["SPOP", key]);
        assert!(left.remove(single.bytes().unwrap()));
        let rest = members(&c.cmd(&["SPOP", key, "100000"]));
        assert_eq!(rest.into_iter().collect::<BTreeSet<_>>(), left);
        assert_eq!(run(&mut c, &["EXISTS", key]), ":0");
    }
}

#[test]
fn sscan_visits_a_hashtable_whole() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    sadd_range(&mut c, "h", "m", 0, 1000);
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = c.cmd(&["SSCAN", "h", &cursor, "COUNT", "7"]);
        let parts = reply.elements().unwrap();
        cursor = String::from_utf8(parts[0].bytes().unwrap().to_vec()).unwrap();
        seen.extend(members(&parts[1]));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
}

/// Vireo's own bound (Redis has none and runs out of memory): a negative SRANDMEMBER
/// count whose reply would pass 512MB is refused before anything is built.
#[test]
fn huge_negative_srandmember_count_is_refused() {
    let server = Server::vireo(&[]);
    let mut c = server.raw();
    play(
        &mut c,
        &[
            ("SADD s a b", ":2"),
            (
                "SRANDMEMBER s -9223372036854775807",
                "-ERR the count asks for a reply larger than 512MB; ask for fewer elements",
            ),
            ("PING", "PONG"),
        ],
    );
}

/// SPOP pops random members, so its propagation cannot be compared with another server's:
/// it must be the SREM of exactly the members it replied with, in batches of at most 1024
/// (Redis 7.2), several batches forming one MULTI/EXEC unit, and never the SPOP itself.
#[test]
fn spop_propagates_the_members_it_popped() {
    use std::sync::Arc;
    use vireo_server::local::LocalClient;
    let server = Arc::new(vireo_server::Server::new(vireo_config::Config::default()));
    let stream = server.propagation.attach();
    let mut c = LocalClient::new(server.clone());
    let mut sadd: Vec<String> = vec!["SADD".into(), "s".into()];
    sadd.extend((0..3000).map(|i| format!("m{i}")));
    c.call(&sadd);
    let reply_members = |bytes: &[u8]| -> BTreeSet<Vec<u8>> {
        let (reply, _) = common::parse_reply(bytes).unwrap().expect("a whole reply");
        match reply {
            Reply::Bulk(Some(b)) => BTreeSet::from([b]),
            other => members(&other).into_iter().collect(),
        }
    };
    // Each SPOP: (count, number of SREMs expected); a single SPOP replies with a bulk.
    // 2500 of 3000 takes the path that keeps the remaining members instead.
    for (count, srems) in [(None, 1), (Some(10), 1), (Some(2500), 3), (Some(1024), 1)] {
        let _ = stream.try_iter().count();
        if count == Some(1024) {
            sadd.truncate(2);
            sadd.extend((0..2000).map(|i| format!("n{i}")));
            c.call(&sadd);
            let _ = stream.try_iter().count();
        }
        let mut args = vec!["SPOP".to_string(), "s".to_string()];
        args.extend(count.map(|n| n.to_string()));
        let popped = reply_members(&c.call(&args));
        assert_eq!(popped.len(), count.unwrap_or(1), "{args:?}");
        let units: Vec<_> = stream.try_iter().collect();
        assert_eq!(units.len(), 1, "{args:?}: one unit");
        let ops: Vec<Vec<Vec<u8>>> = units[0]
            .iter()
            .map(|op| op.argv.iter().map(|a| a.to_vec()).collect())
            .collect();
        let srem_ops = if srems > 1 {
            assert_eq!(ops.first().unwrap(), &[b"MULTI".to_vec()]);
            assert_eq!(ops.last().unwrap(), &[b"EXEC".to_vec()]);
            &ops[1..ops.len() - 1]
        } else {
            &ops[..]
        };
        assert_eq!(srem_ops.len(), srems, "{args:?}");
        let mut propagated = BTreeSet::new();
        for op in srem_ops {
            assert_eq!(&op[..2], &[b"SREM".to_vec(), b"s".to_vec()], "{args:?}");
            assert!(
                op.len() - 2 <= 1024,
                "{args:?}: a batch of {}",
                op.len() - 2
            );
            propagated.extend(op[2..].iter().cloned());
        }
        assert_eq!(propagated, popped, "{args:?}");
        // The popped members are gone, the others stay.
        for member in &popped {
            let r = c.call(&[&b"SISMEMBER"[..], b"s", member]);
            assert_eq!(&r[..], b":0\r\n");
        }
    }
}
