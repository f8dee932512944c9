//! Differential tests: every case file in `tests/diff/*.txt` is played against redis-server
//! and against vireo-server, and their replies are compared as parsed RESP trees (exact bytes
//! of every string and error).
//!
//! A case file has one command per line in redis-cli syntax (double quotes with `\n \r \t \b
//! \a \\ \" \xHH` escapes, single quotes with `\'`), `#` comment lines, blank lines, and
//! directives starting with `@`:
//!
//! | directive | effect |
//! |---|---|
//! | `@resp3` / `@resp2` | send `HELLO 3` / `HELLO 2` on both connections (reply must not be an error) |
//! | `@sleep MS` | sleep MS milliseconds (to let a short TTL pass) |
//! | `@sort` | next reply: sort the elements of the top-level array, set or map before comparing |
//! | `@scan` | next line is a SCAN/SSCAN/HSCAN/ZSCAN with cursor 0: iterate each side to cursor 0 and compare the sorted set of everything returned (cursors differ by design) |
//! | `@range MIN MAX` | next reply must be an integer in MIN..=MAX on each side (TTLs); the two are not compared with each other |
//! | `@ignore-values F1 F2 ...` | next reply is a map (or RESP2 flat key/value array): the values of these fields are compared by RESP type only; each field must be present |
//! | `@shape` | next reply: strings and numbers are compared by RESP type only, aggregates by length and element types (help texts) |
//!
//! There is deliberately no way to skip a line. Each file runs on fresh servers and starts
//! with FLUSHALL on both (a failing FLUSHALL is reported, and the file still runs). One test reports every failing line of every file before failing.
//!
//! Every file in `tests/diff/` must pass against vireo. Files in `tests/diff-next/` need
//! commands of an open issue (see the README there): they are compared with vireo only on
//! request (`cargo test -p vireo --test differential -- --ignored`). A third test plays all
//! files against two redis-servers, so a case that is not deterministic fails at once.

mod common;

use common::{RawClient, Reply, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Case files, relative to the workspace root.
const CASE_DIR: &str = "tests/diff";
/// Cases waiting for the commands of an open issue (see the README there).
const PENDING_DIR: &str = "tests/diff-next";

/// Upper bound on SCAN round trips for one `@scan` line, so a broken cursor cannot loop.
const MAX_SCAN_CALLS: usize = 100_000;

#[test]
fn redis_vs_vireo() {
    let bin = std::env::var("VIREO_TEST_BIN").unwrap_or_else(|_| "vireo-server".into());
    run_all(&bin, &case_files(CASE_DIR), || Server::vireo(&[]));
}

/// The cases in `tests/diff-next/` need commands of an open issue; see its README.
#[test]
#[ignore = "needs the commands of an open issue; see tests/diff-next/README.md"]
fn redis_vs_vireo_pending() {
    let bin = std::env::var("VIREO_TEST_BIN").unwrap_or_else(|_| "vireo-server".into());
    let files = case_files(PENDING_DIR);
    if files.is_empty() {
        // Run by hand to see progress; with nothing pending there is nothing to compare.
        eprintln!("no case files wait in {PENDING_DIR}");
        return;
    }
    run_all(&bin, &files, || Server::vireo(&[]));
}

/// Plays every case file (pending ones too) against two redis-servers: proves the runner
/// and the case files are sound (deterministic, parseable) independently of vireo.
#[test]
fn case_files_agree_redis_with_redis() {
    let mut files = case_files(CASE_DIR);
    files.extend(case_files(PENDING_DIR));
    run_all("a second redis-server", &files, || Server::redis(&[]));
}

/// Plays every case file against redis-server and `other` (reported as "vireo", described as
/// `label`) and panics with every failing line of every file.
fn run_all(label: &str, files: &[PathBuf], other: impl Fn() -> Server) {
    assert!(!files.is_empty(), "no case files");
    let mut report = String::new();
    let mut failures = 0;
    let mut lines = 0;
    for path in files {
        let redis = Server::redis(&[]);
        let vireo = other();
        let outcome = run_file(path, &redis, &vireo);
        lines += outcome.commands;
        for failure in &outcome.failures {
            failures += 1;
            report.push_str(&failure.to_string());
        }
    }
    if failures > 0 {
        panic!(
            "{failures} differential failure(s) in {lines} commands from {} case files \
             (redis = redis-server, vireo = {label}):\n\n{report}",
            files.len(),
        );
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn case_files(dir: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    files
}

/// One mismatch (or broken case line), with everything needed to reproduce it.
struct Failure {
    location: String,
    command: String,
    redis: String,
    vireo: String,
    note: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}: {}", self.location, self.command)?;
        if !self.note.is_empty() {
            writeln!(f, "    note:  {}", self.note)?;
        }
        writeln!(f, "    redis: {}", self.redis)?;
        writeln!(f, "    vireo: {}", self.vireo)?;
        writeln!(f)
    }
}

/// How the next reply is compared.
#[derive(Clone, Debug, Default, PartialEq)]
enum Compare {
    #[default]
    Exact,
    Sorted,
    Scan,
    Range(i64, i64),
    IgnoreValues(Vec<String>),
    Shape,
}

#[derive(Debug, PartialEq)]
enum Step {
    Command {
        args: Vec<Vec<u8>>,
        compare: Compare,
    },
    Hello(u8),
    Sleep(u64),
}

/// A step and where it came from.
struct Line {
    number: usize,
    text: String,
    step: Step,
}

/// Parses a case file; syntax errors come back as failures so that every problem in every
/// file is reported at once.
fn parse_case_file(name: &str, source: &str) -> (Vec<Line>, Vec<Failure>) {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut pending: Option<(usize, Compare)> = None;
    for (i, raw) in source.lines().enumerate() {
        let number = i + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let error = |msg: String| Failure {
            location: format!("{name}:{number}"),
            command: text.to_string(),
            redis: "-".into(),
            vireo: "-".into(),
            note: format!("bad case line: {msg}"),
        };
        let step = if let Some(directive) = text.strip_prefix('@') {
            match parse_directive(directive) {
                Ok(Directive::Modifier(compare)) => {
                    if pending.is_some() {
                        errors.push(error("two comparison directives for one command".into()));
                    }
                    pending = Some((number, compare));
                    continue;
                }
                Ok(Directive::Step(step)) => step,
                Err(msg) => {
                    errors.push(error(msg));
                    continue;
                }
            }
        } else {
            let compare = pending.take().map(|(_, c)| c).unwrap_or_default();
            match split_args(text) {
                Ok(args) => {
                    if compare == Compare::Scan {
                        if let Err(msg) = scan_cursor_index(&args) {
                            errors.push(error(msg));
                            continue;
                        }
                    }
                    Step::Command { args, compare }
                }
                Err(msg) => {
                    errors.push(error(msg));
                    continue;
                }
            }
        };
        if let (Some((at, _)), Step::Hello(_) | Step::Sleep(_)) = (&pending, &step) {
            errors.push(error(format!(
                "directive on line {at} must be followed by a command"
            )));
            pending = None;
        }
        lines.push(Line {
            number,
            text: text.to_string(),
            step,
        });
    }
    if let Some((at, _)) = pending {
        errors.push(Failure {
            location: format!("{name}:{at}"),
            command: String::new(),
            redis: "-".into(),
            vireo: "-".into(),
            note: "bad case line: directive at end of file".into(),
        });
    }
    (lines, errors)
}

enum Directive {
    Modifier(Compare),
    Step(Step),
}

fn parse_directive(text: &str) -> Result<Directive, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |s: &str| s.parse::<i64>().map_err(|_| format!("not a number: {s}"));
    let (name, rest) = words.split_first().ok_or("empty directive")?;
    let directive = match (*name, rest) {
        ("resp3", []) => Directive::Step(Step::Hello(3)),
        ("resp2", []) => Directive::Step(Step::Hello(2)),
        ("sleep", [ms]) => Directive::Step(Step::Sleep(number(ms)?.max(0) as u64)),
        ("sort", []) => Directive::Modifier(Compare::Sorted),
        ("scan", []) => Directive::Modifier(Compare::Scan),
        ("shape", []) => Directive::Modifier(Compare::Shape),
        ("range", [lo, hi]) => Directive::Modifier(Compare::Range(number(lo)?, number(hi)?)),
        ("ignore-values", fields) if !fields.is_empty() => Directive::Modifier(
            Compare::IgnoreValues(fields.iter().map(|f| f.to_string()).collect()),
        ),
        _ => return Err(format!("unknown directive or wrong arguments: @{text}")),
    };
    Ok(directive)
}

/// Splits a line the way redis-cli does (sdssplitargs).
fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            return Ok(args);
        }
        let mut arg = Vec::new();
        let mut quote: Option<u8> = None;
        loop {
            let Some(&c) = bytes.get(i) else {
                if quote.is_some() {
                    return Err("unbalanced quotes".into());
                }
                break;
            };
            match quote {
                None if c.is_ascii_whitespace() => break,
                None if c == b'"' || c == b'\'' => quote = Some(c),
                None => arg.push(c),
                Some(b'"') if c == b'\\' && bytes.get(i + 1) == Some(&b'x') => {
                    let hex = bytes
                        .get(i + 2..i + 4)
                        .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
                    match hex {
                        Some(b) => {
                            arg.push(b);
                            i += 3;
                        }
                        None => arg.push(b'\\'),
                    }
                }
                Some(b'"') if c == b'\\' && i + 1 < bytes.len() => {
                    i += 1;
                    arg.push(match bytes[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                }
                Some(b'\'') if c == b'\\' && bytes.get(i + 1) == Some(&b'\'') => {
                    i += 1;
                    arg.push(b'\'');
                }
                Some(q) if c == q => {
                    if bytes.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                }
                Some(_) => arg.push(c),
            }
            i += 1;
        }
        args.push(arg);
    }
}

/// Position of the cursor argument of a SCAN-family command (which must be `0`).
fn scan_cursor_index(args: &[Vec<u8>]) -> Result<usize, String> {
    let name = args
        .first()
        .map(|a| a.to_ascii_uppercase())
        .unwrap_or_default();
    let index = match name.as_slice() {
        b"SCAN" => 1,
        b"SSCAN" | b"HSCAN" | b"ZSCAN" => 2,
        _ => return Err("@scan needs SCAN, SSCAN, HSCAN or ZSCAN".into()),
    };
    match args.get(index) {
        Some(cursor) if cursor == b"0" => Ok(index),
        _ => Err("@scan needs the command to start at cursor 0".into()),
    }
}

/// What one side said, or why it said nothing.
type Outcome = Result<Reply, String>;

fn show(outcome: &Outcome) -> String {
    match outcome {
        Ok(reply) => reply.to_string(),
        Err(e) => format!("<{e}>"),
    }
}

struct FileOutcome {
    commands: usize,
    failures: Vec<Failure>,
}

fn run_file(path: &Path, redis: &Server, vireo: &Server) -> FileOutcome {
    let name = path
        .strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string();
    let source =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let (lines, mut failures) = parse_case_file(&name, &source);
    let mut sides = [redis.raw(), vireo.raw()];
    let mut commands = 0;
    let flush: Vec<Vec<u8>> = vec![b"FLUSHALL".to_vec()];
    let replies = sides.each(|c| c.command(&flush).map_err(|e| e.to_string()));
    if replies
        != [
            Ok(Reply::Simple(b"OK".to_vec())),
            Ok(Reply::Simple(b"OK".to_vec())),
        ]
    {
        failures.push(Failure {
            location: format!("{name}:0"),
            command: "FLUSHALL".into(),
            redis: show(&replies[0]),
            vireo: show(&replies[1]),
            note: "setup FLUSHALL failed; running the file anyway (the servers are fresh)".into(),
        });
    }
    for (index, line) in lines.iter().enumerate() {
        commands += 1;
        let (replies, note) = match &line.step {
            Step::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                continue;
            }
            Step::Hello(version) => {
                let args = [b"HELLO".to_vec(), version.to_string().into_bytes()];
                let replies = sides.each(|c| c.command(&args).map_err(|e| e.to_string()));
                let ok = replies
                    .iter()
                    .all(|r| matches!(r, Ok(Reply::Map(_)) | Ok(Reply::Array(Some(_)))));
                (
                    replies,
                    (!ok).then(|| "HELLO must succeed on both".to_string()),
                )
            }
            Step::Command { args, compare } => run_command(&mut sides, args, compare),
        };
        let broken = replies.iter().any(|r| r.is_err());
        if let Some(note) = note {
            let note = if broken {
                format!(
                    "{note}; connection unusable, {} later line(s) not run",
                    lines.len() - index - 1
                )
            } else {
                note
            };
            failures.push(Failure {
                location: format!("{name}:{}", line.number),
                command: line.text.clone(),
                redis: show(&replies[0]),
                vireo: show(&replies[1]),
                note,
            });
        }
        if broken {
            break;
        }
    }
    FileOutcome { commands, failures }
}

/// Runs a closure on both connections: redis first, then vireo.
trait Both {
    fn each<T>(&mut self, f: impl FnMut(&mut RawClient) -> T) -> [T; 2];
}

impl Both for [RawClient; 2] {
    fn each<T>(&mut self, mut f: impl FnMut(&mut RawClient) -> T) -> [T; 2] {
        let [redis, vireo] = self;
        [f(redis), f(vireo)]
    }
}

/// Sends one command to both sides and compares as `compare` says. Returns both replies
/// (as compared) and a note when they do not agree.
fn run_command(
    sides: &mut [RawClient; 2],
    args: &[Vec<u8>],
    compare: &Compare,
) -> ([Outcome; 2], Option<String>) {
    let replies = match compare {
        Compare::Scan => sides.each(|c| scan_all(c, args)),
        _ => sides.each(|c| c.command(args).map_err(|e| e.to_string())),
    };
    if replies.iter().any(|r| r.is_err()) {
        return (replies, Some("no reply".into()));
    }
    let [Ok(redis), Ok(vireo)] = &replies else {
        unreachable!("checked above")
    };
    match judge(compare, redis, vireo) {
        Ok(()) => (replies, None),
        Err(note) => (replies, Some(note)),
    }
}

/// Decides whether two replies agree under `compare`; the error says how they differ.
fn judge(compare: &Compare, redis: &Reply, vireo: &Reply) -> Result<(), String> {
    let same = |a: Reply, b: Reply, what: &str| {
        if a == b {
            Ok(())
        } else {
            Err(what.to_string())
        }
    };
    match compare {
        Compare::Exact | Compare::Scan => same(redis.clone(), vireo.clone(), "replies differ"),
        Compare::Sorted => same(redis.sorted(), vireo.sorted(), "replies differ (sorted)"),
        Compare::Shape => same(shape(redis), shape(vireo), "reply shapes differ"),
        Compare::Range(lo, hi) => {
            let in_range = |r: &Reply| matches!(r, Reply::Integer(i) if (*lo..=*hi).contains(i));
            match (in_range(redis), in_range(vireo)) {
                (true, true) => Ok(()),
                _ => Err(format!("expected an integer in {lo}..={hi} from both")),
            }
        }
        Compare::IgnoreValues(fields) => {
            let redis = ignore_values(redis, fields)?;
            let vireo = ignore_values(vireo, fields)?;
            same(
                redis,
                vireo,
                &format!("replies differ (ignoring {})", fields.join(" ")),
            )
        }
    }
}

/// Iterates a SCAN-family command from cursor 0 to cursor 0 and returns everything it
/// returned as one sorted array without duplicates (key/value pairs for HSCAN and ZSCAN).
/// An error reply on the first call is returned as is.
fn scan_all(client: &mut RawClient, args: &[Vec<u8>]) -> Outcome {
    let cursor_at = scan_cursor_index(args)?;
    let pairs = matches!(args[0].to_ascii_uppercase().as_slice(), b"HSCAN" | b"ZSCAN");
    let mut args = args.to_vec();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..MAX_SCAN_CALLS {
        let reply = client.command(&args).map_err(|e| e.to_string())?;
        if reply.is_error() && seen.is_empty() {
            return Ok(reply);
        }
        let Some([cursor, Reply::Array(Some(items))]) = reply.elements() else {
            return Err(format!("not a SCAN reply: {reply}"));
        };
        let Some(cursor) = cursor.bytes() else {
            return Err(format!("cursor is not a string: {reply}"));
        };
        if pairs {
            for pair in items.chunks(2) {
                seen.insert(Reply::Array(Some(pair.to_vec())));
            }
        } else {
            seen.extend(items.iter().cloned());
        }
        if cursor == b"0" {
            return Ok(Reply::Array(Some(seen.into_iter().collect())));
        }
        args[cursor_at] = cursor.to_vec();
    }
    Err(format!(
        "cursor did not return to 0 after {MAX_SCAN_CALLS} calls"
    ))
}

/// The reply with strings and numbers reduced to their RESP type.
fn shape(reply: &Reply) -> Reply {
    let all = |items: &[Reply]| items.iter().map(shape).collect::<Vec<_>>();
    let pairs = |pairs: &[(Reply, Reply)]| {
        pairs
            .iter()
            .map(|(k, v)| (shape(k), shape(v)))
            .collect::<Vec<_>>()
    };
    match reply {
        Reply::Simple(_) => Reply::Simple(Vec::new()),
        Reply::Bulk(Some(_)) => Reply::Bulk(Some(Vec::new())),
        Reply::Integer(_) => Reply::Integer(0),
        Reply::Double(_) => Reply::Double(Vec::new()),
        Reply::BigNumber(_) => Reply::BigNumber(Vec::new()),
        Reply::Verbatim(_) => Reply::Verbatim(Vec::new()),
        Reply::Array(Some(items)) => Reply::Array(Some(all(items))),
        Reply::Set(items) => Reply::Set(all(items)),
        Reply::Push(items) => Reply::Push(all(items)),
        Reply::Map(p) => Reply::Map(pairs(p)),
        Reply::Attribute(p, r) => Reply::Attribute(pairs(p), Box::new(shape(r))),
        other => other.clone(),
    }
}

/// The reply with the values of `fields` reduced to their RESP type. The reply must be a
/// map or a flat key/value array holding every field.
fn ignore_values(reply: &Reply, fields: &[String]) -> Result<Reply, String> {
    let is_field = |key: &Reply| {
        key.bytes()
            .is_some_and(|k| fields.iter().any(|f| f.as_bytes() == k))
    };
    let (reply, keys): (Reply, Vec<&Reply>) = match reply {
        Reply::Map(pairs) => (
            Reply::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), if is_field(k) { shape(v) } else { v.clone() }))
                    .collect(),
            ),
            pairs.iter().map(|(k, _)| k).collect(),
        ),
        Reply::Array(Some(items)) if items.len() % 2 == 0 => {
            let mut masked = items.clone();
            for i in (0..items.len()).step_by(2) {
                if is_field(&items[i]) {
                    masked[i + 1] = shape(&items[i + 1]);
                }
            }
            (
                Reply::Array(Some(masked)),
                items.iter().step_by(2).collect(),
            )
        }
        other => return Err(format!("@ignore-values needs a map reply, got {other}")),
    };
    for field in fields {
        if !keys.iter().any(|k| k.bytes() == Some(field.as_bytes())) {
            return Err(format!(
                "@ignore-values field {field:?} missing from a reply"
            ));
        }
    }
    Ok(reply)
}

#[cfg(test)]
mod runner_tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        split_args(line)
            .unwrap()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn splits_like_redis_cli() {
        assert_eq!(args("SET  k v"), ["SET", "k", "v"]);
        assert_eq!(args(r#"SET "a b" 'c d'"#), ["SET", "a b", "c d"]);
        assert_eq!(args(r#"SET "\x41\n\"" 'it\'s'"#), ["SET", "A\n\"", "it's"]);
        assert_eq!(args(r#"SET "" ''"#), ["SET", "", ""]);
        assert_eq!(args(r#"SET a"b c" x"#), ["SET", "ab c", "x"]);
        assert_eq!(split_args(r#"SET "\xff""#).unwrap()[1], vec![0xff]);
        assert!(split_args(r#"SET "abc"#).is_err());
        assert!(split_args(r#"SET "a"b"#).is_err());
        assert!(split_args("").unwrap().is_empty());
    }

    #[test]
    fn parses_directives_and_reports_bad_lines() {
        let src = "# c\n@sort\nKEYS *\n@resp3\n@range 1 x\n@bogus\nGET \"x\n@shape\n";
        let (lines, errors) = parse_case_file("t.txt", src);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].number, 3);
        assert!(matches!(
            &lines[0].step,
            Step::Command {
                compare: Compare::Sorted,
                ..
            }
        ));
        assert_eq!(lines[1].step, Step::Hello(3));
        let locations: Vec<_> = errors.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(locations, ["t.txt:5", "t.txt:6", "t.txt:7", "t.txt:8"]);
        let (_, errors) = parse_case_file("t.txt", "@scan\nGET k\n@sort\n@resp3\nPING\n");
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn parses_resp_frames_exactly() {
        let input = b"*3\r\n$3\r\nfoo\r\n:-12\r\n%1\r\n+k\r\n,1.5\r\n";
        let (reply, len) = common::parse_reply(input).unwrap().unwrap();
        assert_eq!(len, input.len());
        assert_eq!(reply.to_string(), r#"["foo", :-12, %{+k: ,1.5}]"#);
        assert!(common::parse_reply(b"$5\r\nab").unwrap().is_none());
        assert!(common::parse_reply(b"*2\r\n:1\r\n").unwrap().is_none());
        assert!(common::parse_reply(b"?\r\n").is_err());
        let (nulls, _) = common::parse_reply(b"*3\r\n$-1\r\n*-1\r\n_\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(nulls.to_string(), "[(nil bulk), (nil array), (null)]");
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Some(s.as_bytes().to_vec()))
    }

    #[test]
    fn judges_replies() {
        let ab = Reply::Array(Some(vec![bulk("a"), bulk("b")]));
        let ba = Reply::Array(Some(vec![bulk("b"), bulk("a")]));
        assert!(judge(&Compare::Exact, &ab, &ba).is_err());
        assert!(judge(&Compare::Sorted, &ab, &ba).is_ok());
        assert!(judge(&Compare::Shape, &ab, &ba).is_ok());
        assert!(judge(&Compare::Shape, &ab, &Reply::Array(Some(vec![bulk("a")]))).is_err());
        assert!(judge(
            &Compare::Range(1, 10),
            &Reply::Integer(5),
            &Reply::Integer(9)
        )
        .is_ok());
        assert!(judge(
            &Compare::Range(1, 10),
            &Reply::Integer(5),
            &Reply::Integer(-1)
        )
        .is_err());
        assert!(judge(&Compare::Range(1, 10), &Reply::Integer(5), &bulk("5")).is_err());

        let hello = |version: &str, proto: i64| {
            Reply::Map(vec![
                (bulk("version"), bulk(version)),
                (bulk("proto"), Reply::Integer(proto)),
            ])
        };
        let version = Compare::IgnoreValues(vec!["version".into()]);
        assert!(judge(&version, &hello("7.0.15", 3), &hello("7.2.4", 3)).is_ok());
        assert!(judge(&version, &hello("7.0.15", 3), &hello("7.0.15", 2)).is_err());
        let missing = Compare::IgnoreValues(vec!["id".into()]);
        assert!(judge(&missing, &hello("1", 3), &hello("1", 3)).is_err());
        let flat = Reply::Array(Some(vec![bulk("version"), bulk("7.0.15")]));
        let other = Reply::Array(Some(vec![bulk("version"), bulk("8")]));
        assert!(judge(&version, &flat, &other).is_ok());
        assert!(judge(
            &version,
            &flat,
            &Reply::Array(Some(vec![bulk("version"), Reply::Integer(8)]))
        )
        .is_err());
    }

    #[test]
    fn refused_start_reports_the_server_output() {
        let redis = std::path::Path::new("redis-server");
        let error = Server::try_start(common::Kind::Redis, redis, &["--no-such-directive", "1"])
            .err()
            .expect("redis-server must refuse an unknown directive");
        assert!(matches!(error, common::StartError::Exited(_)), "{error}");
        assert!(error.to_string().contains("no-such-directive"), "{error}");
    }

    #[test]
    fn raw_client_reads_exact_frames() {
        let server = Server::redis(&[]);
        let mut raw = server.raw();
        raw.send(b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
            .unwrap();
        assert_eq!(raw.read_frame().unwrap(), b"+PONG\r\n");
        assert_eq!(raw.read_reply().unwrap(), bulk("hi"));
        let mut conn = server.client();
        let pong: String = redis::cmd("PING").query(&mut conn).unwrap();
        assert_eq!(pong, "PONG");
        let with_password = Server::redis(&["--requirepass", "secret"]);
        let reply = with_password.raw().cmd(&["GET", "k"]);
        assert!(reply.bytes().unwrap().starts_with(b"NOAUTH"), "{reply}");
    }
}
