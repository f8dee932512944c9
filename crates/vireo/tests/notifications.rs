//! Keyspace notification differential tests: each file in `tests/notify/*.txt` is played
//! against redis-server and vireo-server while a subscriber with `PSUBSCRIBE *` listens on
//! each, and the notifications the two publish are compared in order (channel and message,
//! exact bytes).
//!
//! A file is a script in the syntax of `tests/diff/` (redis-cli quoting, `#` comments),
//! usually starting with `CONFIG SET notify-keyspace-events ...`; `@sleep MS` sleeps;
//! `@reference valkey` (first) compares with Valkey 9 instead of redis-server 7.0, for
//! behaviour of Redis 7.2 and later (skipped if Valkey is absent).
//! Replies are not compared here (the files of `tests/diff/` do that), but an error reply
//! to `CONFIG SET` fails the test. After the script a marker message is published; the
//! subscriber reads until it arrives, so every notification of the script is seen.

mod common;

use common::valkey::Reference;
use common::{RawClient, Reply, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SCRIPT_DIR: &str = "tests/notify";
const MARKER: &str = "__vireo_test_end__";

#[test]
fn redis_vs_vireo_notifications() {
    let files = scripts();
    assert!(!files.is_empty(), "no scripts in {SCRIPT_DIR}");
    let mut failures = Vec::new();
    for file in &files {
        let script = std::fs::read_to_string(file).expect("read a script");
        let Some(reference) = reference_of(&script).start(&[]) else {
            continue;
        };
        let vireo = Server::vireo(&[]);
        let expected = play(&reference, file, &script);
        let got = play(&vireo, file, &script);
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

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .join(SCRIPT_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

/// The server a script is compared with (`@reference NAME`, redis-server by default).
fn reference_of(script: &str) -> Reference {
    script
        .lines()
        .find_map(|l| l.trim().strip_prefix("@reference "))
        .map_or(Reference::Redis, |name| {
            Reference::parse(name.trim()).expect("@reference redis|valkey")
        })
}

/// Runs the script on `server`; the (channel, message) of every notification, in order.
fn play(server: &Server, file: &Path, script: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut sub = RawClient::connect(&server.addr()).expect("connect the subscriber");
    sub.command(&["PSUBSCRIBE", "*"]).expect("psubscribe");
    let mut client = RawClient::connect(&server.addr()).expect("connect");
    for (n, line) in script.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("@reference ") {
            continue;
        }
        if let Some(ms) = line.strip_prefix("@sleep ") {
            std::thread::sleep(Duration::from_millis(ms.trim().parse().expect("@sleep MS")));
            continue;
        }
        let args = vireo_config::split_args(line.as_bytes())
            .unwrap_or_else(|| panic!("{}:{}: unbalanced quotes", file.display(), n + 1));
        let reply = client.command(&args).expect("a reply");
        let is_config = args[0].eq_ignore_ascii_case(b"config");
        if let (true, Reply::Error(e)) = (is_config, &reply) {
            panic!(
                "{}:{}: {:?} answered {}",
                file.display(),
                n + 1,
                server.kind(),
                String::from_utf8_lossy(e)
            );
        }
    }
    client
        .command(&["PUBLISH", MARKER, "end"])
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
