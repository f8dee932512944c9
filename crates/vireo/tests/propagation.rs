//! Propagation differential tests: what a command sequence writes to the AOF of
//! redis-server (`appendonly yes`, `appendfsync always`) against what vireo feeds to its
//! propagation stream for the same sequence, encoded as an AOF is (SELECT when the
//! database changes, MULTI/EXEC around units).
//!
//! Each file in `tests/propagation/*.txt` is a script in the syntax of `tests/diff/`
//! (redis-cli quoting, `#` comments) with the directives of `common::script` (`@sleep`,
//! `@client`, `@nowait`, `@reference`).
//!
//! Vireo runs in-process (`vireo_server::local::LocalClient`), with a consumer attached to
//! its stream; redis-server runs as a process in a private directory. Absolute times (the
//! PEXPIREAT that EXPIRE becomes, SET's PXAT) differ between the two runs: an integer
//! within ten minutes of the current time, in milliseconds or seconds, is compared as
//! `<ms>` / `<s>`. There is no active expiry in the in-process server (no cron), and it is
//! turned off in the reference server (DEBUG SET-ACTIVE-EXPIRE 0), so a script observes
//! expiry by access.

mod common;

use common::script::{scripts, Script, Step};
use common::RawClient;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vireo_server::local::LocalClient;
use vireo_server::propagate::{target, Encoder};

const SCRIPT_DIR: &str = "tests/propagation";

#[test]
fn redis_aof_vs_vireo_stream() {
    let mut failures = Vec::new();
    let files = scripts(SCRIPT_DIR);
    assert!(!files.is_empty(), "no scripts in {SCRIPT_DIR}");
    for file in &files {
        let script = Script::load(file);
        let Some(expected) = run_reference(&script) else {
            continue;
        };
        let got = run_vireo(&script);
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

/// The commands the reference server appended to its AOF while running the script (None
/// if that server is not available).
fn run_reference(script: &Script) -> Option<Vec<Vec<Vec<u8>>>> {
    let server = script.reference.start(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-timestamp-enabled",
        "no",
        "--enable-debug-command",
        "yes",
    ])?;
    // The in-process vireo has no active expiry: keys expire on access only, on both sides.
    let mut setup = RawClient::connect(&server.addr()).expect("connect");
    setup
        .command(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"])
        .expect("turn active expiry off");
    script.play(&server, |_, _, _| {});
    let incr = aof_incr_file(server.dir());
    Some(parse_commands(
        &std::fs::read(&incr).expect("read the incr AOF"),
    ))
}

/// The incr file the AOF manifest names.
fn aof_incr_file(dir: &Path) -> PathBuf {
    let aof_dir = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest"))
        .expect("read the AOF manifest");
    let line = manifest
        .lines()
        .find(|l| l.ends_with("type i"))
        .expect("an incr file in the manifest");
    let name = line.split_whitespace().nth(1).expect("file name");
    aof_dir.join(name)
}

/// What vireo fed to its propagation stream while running the script.
fn run_vireo(script: &Script) -> Vec<Vec<Vec<u8>>> {
    let server = Arc::new(vireo_server::Server::new(vireo_config::Config::default()));
    let stream = server.propagation.attach();
    let mut clients: BTreeMap<String, LocalClient> = BTreeMap::new();
    for step in &script.steps {
        match step {
            Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Step::Command { client, args, .. } => {
                let c = clients
                    .entry(client.clone())
                    .or_insert_with(|| LocalClient::new(server.clone()));
                c.call(args);
            }
        }
    }
    let mut encoder = Encoder::default();
    let mut aof = bytes::BytesMut::new();
    for unit in stream.try_iter() {
        for op in unit.iter() {
            encoder.encode(op, target::AOF, &mut aof);
        }
    }
    parse_commands(&aof)
}

/// Splits AOF bytes into commands, replacing absolute times by `<ms>` / `<s>`.
fn parse_commands(mut bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    fn line<'a>(bytes: &mut &'a [u8]) -> &'a [u8] {
        let end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a CRLF-terminated line");
        let l = &bytes[..end];
        *bytes = &bytes[end + 2..];
        l
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970")
        .as_millis() as i64;
    let window_ms = 600_000;
    let mut commands = Vec::new();
    while !bytes.is_empty() {
        let header = line(&mut bytes);
        assert_eq!(header[0], b'*', "AOF entries are arrays");
        let n: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
        let mut argv = Vec::with_capacity(n);
        for _ in 0..n {
            let len_line = line(&mut bytes);
            let len: usize = std::str::from_utf8(&len_line[1..])
                .unwrap()
                .parse()
                .unwrap();
            let arg = bytes[..len].to_vec();
            bytes = &bytes[len + 2..];
            let as_int = std::str::from_utf8(&arg)
                .ok()
                .and_then(|s| s.parse::<i64>().ok());
            let arg = match as_int {
                Some(v) if (v - now_ms).abs() < window_ms => b"<ms>".to_vec(),
                Some(v) if (v - now_ms / 1000).abs() < window_ms / 1000 => b"<s>".to_vec(),
                _ => arg,
            };
            argv.push(arg);
        }
        commands.push(argv);
    }
    commands
}

fn show(cmd: &[Vec<u8>]) -> String {
    cmd.iter()
        .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe_difference(expected: &[Vec<Vec<u8>>], got: &[Vec<Vec<u8>>]) -> String {
    let first = expected
        .iter()
        .zip(got)
        .position(|(e, g)| e != g)
        .unwrap_or(expected.len().min(got.len()));
    let context = |cmds: &[Vec<Vec<u8>>]| {
        cmds.iter()
            .enumerate()
            .skip(first.saturating_sub(2))
            .take(8)
            .map(|(i, c)| format!("    {i}: {}", show(c)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "  first difference at command {first} (the reference wrote {}, vireo fed {})\n  reference:\n{}\n  vireo:\n{}",
        expected.len(),
        got.len(),
        context(expected),
        context(got)
    )
}
