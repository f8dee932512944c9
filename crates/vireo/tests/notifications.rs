//! Keyspace notification differential tests: each file in `tests/notify/*.txt` is played
//! against redis-server and vireo-server while a subscriber with `PSUBSCRIBE *` listens on
//! each, and the notifications the two publish are compared in order (channel and message,
//! exact bytes).
//!
//! A file is a script in the syntax of `tests/diff/` (redis-cli quoting, `#` comments),
//! usually starting with `CONFIG SET notify-keyspace-events ...`, with the directives of
//! `common::script`: `@sleep MS`, `@client NAME` and `@nowait` (blocked clients),
//! `@reference valkey` (compare with Valkey 9 instead of redis-server 7.0, for behaviour
//! of Redis 7.2 and later; skipped if Valkey is absent).
//! Replies are not compared here (the files of `tests/diff/` do that), but an error reply
//! to `CONFIG SET` fails the test. After the script a marker message is published; the
//! subscriber reads until it arrives, so every notification of the script is seen.

mod common;

use common::script::{scripts, Script};
use common::{RawClient, Reply, Server};

const SCRIPT_DIR: &str = "tests/notify";
const MARKER: &str = "__vireo_test_end__";

#[test]
fn redis_vs_vireo_notifications() {
    let files = scripts(SCRIPT_DIR);
    assert!(!files.is_empty(), "no scripts in {SCRIPT_DIR}");
    let mut failures = Vec::new();
    for file in &files {
        let script = Script::load(file);
        let Some(reference) = script.reference.start(&[]) else {
            continue;
        };
        let vireo = Server::vireo(&[]);
        let expected = play(&reference, &script);
        let got = play(&vireo, &script);
        if expected != got {
            failures.push(format!(
                "{}:\n{}",
                file.display(),
                describe_difference(&expected, &got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs the script on `server`; the (channel, message) of every notification, in order.
fn play(server: &Server, script: &Script) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut sub = RawClient::connect(&server.addr()).expect("connect the subscriber");
    sub.command(&["PSUBSCRIBE", "*"]).expect("psubscribe");
    let mut clients = script.play(server, |at, args, reply| {
        let is_config = args[0].eq_ignore_ascii_case(b"config");
        if let (true, Reply::Error(e)) = (is_config, reply) {
            panic!(
                "{at}: {:?} answered {}",
                server.kind(),
                String::from_utf8_lossy(e)
            );
        }
    });
    let main = clients
        .entry("main".to_string())
        .or_insert_with(|| RawClient::connect(&server.addr()).expect("connect"));
    main.command(&["PUBLISH", MARKER, "end"])
        .expect("publish the marker");
    let mut seen = Vec::new();
    loop {
        let reply = sub.read_reply().expect("a message before the marker");
        let Reply::Array(Some(parts)) = reply else {
            panic!("unexpected frame {reply:?}");
        };
        let bulk = |r: &Reply| match r {
            Reply::Bulk(Some(b)) => b.clone(),
            other => panic!("unexpected element {other:?}"),
        };
        // pmessage, pattern, channel, message
        let (channel, message) = (bulk(&parts[2]), bulk(&parts[3]));
        if channel == MARKER.as_bytes() {
            return seen;
        }
        seen.push((channel, message));
    }
}

fn describe_difference(expected: &[(Vec<u8>, Vec<u8>)], got: &[(Vec<u8>, Vec<u8>)]) -> String {
    let first = expected
        .iter()
        .zip(got)
        .position(|(e, g)| e != g)
        .unwrap_or(expected.len().min(got.len()));
    let context = |msgs: &[(Vec<u8>, Vec<u8>)]| {
        msgs.iter()
            .enumerate()
            .skip(first.saturating_sub(2))
            .take(8)
            .map(|(i, (c, m))| {
                format!(
                    "    {i}: {} -> {}",
                    String::from_utf8_lossy(c),
                    String::from_utf8_lossy(m)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "  first difference at message {first} (the reference sent {}, vireo sent {})\n  reference:\n{}\n  vireo:\n{}",
        expected.len(),
        got.len(),
        context(expected),
        context(got)
    )
}
