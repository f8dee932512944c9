//! Differential tests of the request protocol: the same malformed, odd or oversized byte
//! sequences go over raw TCP to vireo-server and to redis-server, and what comes back must be
//! byte-identical, including whether the server then closes the connection, keeps serving,
//! or keeps waiting for more bytes.
//!
//! Each case states how Redis ends it ([`End`]), so the table doubles as a record of Redis's
//! behaviour; both servers must agree with it and with each other. A case that should leave
//! the connection open is followed by a sentinel ECHO, so "open" is proven by a reply rather
//! than guessed from a timeout.

mod common;

use common::{encode_command, Server};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long a case that leaves the server waiting is watched for unexpected output.
const WAIT: Duration = Duration::from_millis(300);
/// Upper bound for a reply or a close that should come.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between the chunks of a case sent in several writes, so they arrive as several reads.
const CHUNK_PAUSE: Duration = Duration::from_millis(3);

const SENTINEL: &[u8] = b"*2\r\n$4\r\nECHO\r\n$15\r\nvireo-sentinel!\r\n";
const SENTINEL_REPLY: &[u8] = b"$15\r\nvireo-sentinel!\r\n";

/// How the server leaves a connection after a case's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Still serving: the sentinel ECHO sent after the case was answered.
    Open,
    /// The server closed the connection.
    Closed,
    /// Neither: the server is waiting for the rest of a request.
    Waiting,
}

/// Everything the server sent back for a case, and how the connection ended.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    replies: Vec<u8>,
    end: End,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = String::from_utf8_lossy(&self.replies);
        let shown: String = text.chars().take(300).collect();
        write!(
            f,
            "{:?} ({} bytes) then {:?}",
            shown,
            self.replies.len(),
            self.end
        )
    }
}

/// Sends `chunks` (pausing between them) on a fresh connection to `addr` and records what
/// comes back. `expect` only decides whether to send the sentinel and how long to watch.
fn play(addr: &str, chunks: &[&[u8]], expect: End) -> Outcome {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_nodelay(true).unwrap();
    stream.set_write_timeout(Some(REPLY_TIMEOUT)).unwrap();
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(CHUNK_PAUSE);
        }
        // A server that has closed may refuse the rest; what it sent is still readable.
        if stream.write_all(chunk).is_err() {
            break;
        }
    }
    if expect == End::Open {
        let _ = stream.write_all(SENTINEL);
    }
    read_until_end(&mut stream, expect)
}

fn read_until_end(stream: &mut TcpStream, expect: End) -> Outcome {
    let deadline = Instant::now()
        + if expect == End::Waiting {
            WAIT
        } else {
            REPLY_TIMEOUT
        };
    let mut replies = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break End::Waiting;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => break End::Closed,
            Ok(n) => {
                replies.extend_from_slice(&chunk[..n]);
                if expect == End::Open && replies.ends_with(SENTINEL_REPLY) {
                    replies.truncate(replies.len() - SENTINEL_REPLY.len());
                    break End::Open;
                }
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break End::Closed,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break End::Waiting
            }
            Err(e) => panic!("read: {e}"),
        }
    };
    Outcome { replies, end }
}

/// One case: a name, the bytes (in one or more writes), and how Redis ends it.
struct Case {
    name: String,
    chunks: Vec<Vec<u8>>,
    end: End,
}

fn case(name: &str, bytes: &[u8], end: End) -> Case {
    Case {
        name: name.to_string(),
        chunks: vec![bytes.to_vec()],
        end,
    }
}

/// Plays every case on both servers (concurrently) and fails with every disagreement.
fn check_cases(redis: &Server, vireo: &Server, cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let chunks: Vec<&[u8]> = case.chunks.iter().map(Vec::as_slice).collect();
        let (from_redis, from_vireo) = std::thread::scope(|s| {
            let r = s.spawn(|| play(&redis.addr(), &chunks, case.end));
            let v = play(&vireo.addr(), &chunks, case.end);
            (r.join().unwrap(), v)
        });
        if from_redis.end != case.end {
            failures.push(format!(
                "{}: redis-server itself did not end {:?}: {from_redis}",
                case.name, case.end
            ));
        }
        if from_redis != from_vireo {
            failures.push(format!(
                "{}:\n  redis: {from_redis}\n  vireo: {from_vireo}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn repeat(byte: u8, n: usize) -> Vec<u8> {
    vec![byte; n]
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn malformed_requests_match_redis() {
    use End::*;
    let redis = Server::redis(&[]);
    let vireo = Server::vireo(&[]);
    let cases = vec![
        // Multibulk counts.
        case("non-numeric count", b"*abc\r\n", Closed),
        case(
            "negative count is an empty command",
            b"*-5\r\nPING\r\n",
            Open,
        ),
        case("zero count is an empty command", b"*0\r\nPING\r\n", Open),
        case("count -1", b"*-1\r\nPING\r\n", Open),
        case("count i64::MIN", b"*-9223372036854775808\r\nPING\r\n", Open),
        case("count above INT_MAX", b"*3000000000\r\n", Closed),
        case("count INT_MAX+1", b"*2147483648\r\n", Closed),
        case("count INT_MAX waits", b"*2147483647\r\n", Waiting),
        case("count beyond i64", b"*99999999999999999999\r\n", Closed),
        case("count with plus sign", b"*+1\r\n", Closed),
        case("count with leading zero", b"*01\r\n$4\r\nPING\r\n", Closed),
        case("count with trailing space", b"*1 \r\n", Closed),
        case("empty count", b"*\r\n", Closed),
        case("count line still open", b"*1\r", Waiting),
        case("byte after CR not checked", b"*1\rX$4\rXPING\r\n", Open),
        // Bulk headers.
        case("missing dollar", b"*1\r\nx\r\n", Closed),
        case("missing dollar, plus", b"*1\r\n+PING\r\n", Closed),
        case("missing dollar, CR", b"*1\r\n\r\r\n", Closed),
        case("missing dollar, LF", b"*1\r\n\n\r\n", Closed),
        case("missing dollar, high byte", b"*1\r\n\xff\r\n", Closed),
        case("negative bulk length", b"*1\r\n$-1\r\n", Closed),
        case("non-numeric bulk length", b"*1\r\n$abc\r\n", Closed),
        case("bulk length with plus", b"*1\r\n$+4\r\nPING\r\n", Closed),
        case(
            "bulk length with leading zero",
            b"*1\r\n$04\r\nPING\r\n",
            Closed,
        ),
        case("empty bulk length", b"*1\r\n$\r\n", Closed),
        case("bulk length above 512mb", b"*1\r\n$536870913\r\n", Closed),
        case("4 GB bulk length", b"*1\r\n$4294967296\r\n", Closed),
        case("2 GB bulk length", b"*1\r\n$2147483647\r\nabc", Closed),
        case(
            "512mb bulk length waits",
            b"*1\r\n$536870912\r\nabc",
            Waiting,
        ),
        case(
            "bytes after a bulk not checked",
            b"*1\r\n$4\r\nPINGxxPING\r\n",
            Open,
        ),
        case(
            "empty bulk argument",
            b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
            Open,
        ),
        case(
            "bulk payload still arriving",
            b"*2\r\n$4\r\nECHO\r\n$10\r\nabc",
            Waiting,
        ),
        // Oversized header lines and inline requests (64 KB without a line end).
        case("too big inline request", &repeat(b'x', 70_000), Closed),
        case(
            "long inline below the limit waits",
            &repeat(b'x', 60_000),
            Waiting,
        ),
        case(
            "too big mbulk count string",
            &cat(&[b"*", &repeat(b'1', 70_000)]),
            Closed,
        ),
        case(
            "too big bulk count string",
            &cat(&[b"*1\r\n$", &repeat(b'1', 70_000)]),
            Closed,
        ),
        case(
            "long bulk count below the limit waits",
            &cat(&[b"*1\r\n$", &repeat(b'1', 60_000)]),
            Waiting,
        ),
        case(
            "long inline request with a line end",
            &cat(&[b"ECHO ", &repeat(b'y', 50_000), b"\r\n"]),
            Open,
        ),
        // NUL before a line end: Redis's strchr does not see the line end.
        case("NUL in an inline line", b"PING\0\r\nPING\r\n", Waiting),
        case("NUL in a count", b"*1\0\r\n$4\r\nPING\r\n", Waiting),
        case("NUL in a bulk length", b"*1\r\n$\x004\r\nPING\r\n", Waiting),
        case(
            "NUL in an inline line, past the limit",
            &cat(&[b"PING\0\r\n", &repeat(b'z', 70_000)]),
            Closed,
        ),
        // Inline commands: quoting, escapes, separators, empty lines, bare LF.
        case("unbalanced double quote", b"ECHO \"a\r\n", Closed),
        case("unbalanced single quote", b"ECHO 'a\r\n", Closed),
        case("text after a closing quote", b"ECHO \"a\"b\r\n", Closed),
        case(
            "text after a closing single quote",
            b"ECHO 'a'b\r\n",
            Closed,
        ),
        case("escaped quote at the end", b"ECHO \"a\\\"\r\n", Closed),
        case(
            "double-quote escapes",
            b"ECHO \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\\q\\xzz\"\r\n",
            Open,
        ),
        case(
            "single-quote escapes",
            b"ECHO 'it\\'s \\n \\\\ x'\r\n",
            Open,
        ),
        case(
            "backslash before the closing single quote",
            b"ECHO 'a\\'\r\n",
            Closed,
        ),
        case("quotes inside a bare word", b"ECHO a\"b c\"d\r\n", Closed),
        case("quote opening mid-word", b"ECHO a\"b c\"\r\n", Open),
        case("empty quoted argument", b"ECHO \"\"\r\n", Open),
        case("empty single-quoted argument", b"ECHO ''\r\n", Open),
        case(
            "vertical tab and form feed inside words",
            b"ECHO a\x0bb\r\nECHO a\x0cb\r\n",
            Open,
        ),
        case(
            "vertical tab as a separator",
            b"ECHO \x0ba\r\nECHO \"a\"\x0b\r\n",
            Open,
        ),
        case("tabs between arguments", b"ECHO\t\tx\t\r\n", Open),
        case("backslash at the end of a bare word", b"ECHO a\\\r\n", Open),
        case(
            "empty lines are skipped",
            b"\r\n\r\n  \r\n\n\t\nPING\r\n",
            Open,
        ),
        case("bare LF line ends", b"PING\nECHO a\nPING\n", Open),
        case("CR CR LF", b"PING\r\r\n", Open),
        case(
            "inline after multibulk",
            b"*1\r\n$4\r\nPING\r\nPING\r\n",
            Open,
        ),
        case("wrong arity inline", b"ECHO\r\nECHO a b\r\n", Open),
        case("inline star is a multibulk", b"*PING\r\n", Closed),
        // After a protocol error Redis replies, closes, and runs nothing that follows.
        case(
            "commands before an error run, after it do not",
            b"PING\r\n*x\r\nPING\r\nECHO never\r\n",
            Closed,
        ),
        case(
            "error inside a pipeline",
            b"*1\r\n$4\r\nPING\r\n*1\r\n$-3\r\n*1\r\n$4\r\nPING\r\n",
            Closed,
        ),
    ];
    check_cases(&redis, &vireo, &cases);
}

#[test]
fn proto_max_bulk_len_is_enforced() {
    use End::*;
    let args = ["--proto-max-bulk-len", "1mb"];
    let redis = Server::redis(&args);
    let vireo = Server::vireo(&args);
    let at_limit = cat(&[
        b"*2\r\n$4\r\nECHO\r\n$1048576\r\n",
        &repeat(b'a', 1_048_576),
        b"\r\n",
    ]);
    let cases = vec![
        case("one byte over", b"*2\r\n$4\r\nECHO\r\n$1048577\r\n", Closed),
        case("at the limit", &at_limit, Open),
    ];
    check_cases(&redis, &vireo, &cases);
}

#[test]
fn unauthenticated_limits_match_redis() {
    use End::*;
    let args = ["--requirepass", "secret"];
    let redis = Server::redis(&args);
    let vireo = Server::vireo(&args);
    let cases = vec![
        case("11 arguments before AUTH", b"*11\r\n", Closed),
        case("10 arguments before AUTH", b"*10\r\n", Waiting),
        case("bulk over 16 KB before AUTH", b"*1\r\n$16385\r\n", Closed),
        case("bulk of 16 KB before AUTH", b"*1\r\n$16384\r\n", Waiting),
        case(
            "commands refused before AUTH",
            b"PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\nAUTH secret\r\n",
            Open,
        ),
        case(
            "limits lifted after AUTH",
            b"AUTH secret\r\n*12\r\n$4\r\nECHO\r\n$16385\r\n",
            Waiting,
        ),
        case(
            "wrong password keeps the limits",
            b"AUTH nope\r\n*11\r\n",
            Closed,
        ),
    ];
    check_cases(&redis, &vireo, &cases);
}

/// Commands both servers answer deterministically, for pipelines and split writes.
fn script() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(encode_command(&["SET", "split:k", "v\r\nv"]));
    out.extend_from_slice(b"GET split:k\r\n");
    out.extend(encode_command(&[&b"ECHO"[..], b"\x00\xff\r\n"]));
    out.extend_from_slice(b"ECHO \"q\\x41\" 'x'\n");
    out.extend_from_slice(b"*0\r\n\r\nPING\n");
    out.extend(encode_command(&["SET", "split:k", "w"]));
    out.extend_from_slice(b"GET   split:k  \r\n");
    out
}

#[test]
fn pipelines_and_split_writes_match_redis() {
    use End::*;
    let redis = Server::redis(&[]);
    let vireo = Server::vireo(&[]);
    let mut pipeline = Vec::new();
    for i in 0..10_000 {
        let key = format!("pipe:{}", i % 100);
        match i % 5 {
            0 => pipeline.extend(encode_command(&["SET", &key, &i.to_string()])),
            1 => pipeline.extend(encode_command(&["GET", &key])),
            2 => pipeline.extend_from_slice(format!("ECHO {i}\r\n").as_bytes()),
            3 => pipeline.extend_from_slice(b"PING\r\n"),
            _ => pipeline.extend(encode_command(&["GET", "pipe:missing"])),
        }
    }
    let script = script();
    let mut cases = vec![
        case("10k commands in one write", &pipeline, Open),
        case("script in one write", &script, Open),
        Case {
            name: "script one byte per write".into(),
            chunks: script.iter().map(|&b| vec![b]).collect(),
            end: Open,
        },
    ];
    for at in 1..script.len() {
        cases.push(Case {
            name: format!("script split at byte {at}"),
            chunks: vec![script[..at].to_vec(), script[at..].to_vec()],
            end: Open,
        });
    }
    check_cases(&redis, &vireo, &cases);
}

#[test]
fn query_buffer_limit_closes_the_connection() {
    use End::*;
    let args = ["--client-query-buffer-limit", "1mb"];
    let redis = Server::redis(&args);
    let vireo = Server::vireo(&args);
    let mut unfinished = vec![b"*2\r\n$4\r\nECHO\r\n$2000000\r\n".to_vec()];
    unfinished.extend((0..32).map(|_| repeat(b'x', 64 * 1024)));
    let fits = cat(&[
        b"*2\r\n$4\r\nECHO\r\n$900000\r\n",
        &repeat(b'y', 900_000),
        b"\r\n",
    ]);
    let cases = vec![
        Case {
            name: "2 MB of an unfinished bulk".into(),
            chunks: unfinished,
            end: Closed,
        },
        case("900 KB argument fits", &fits, Open),
    ];
    check_cases(&redis, &vireo, &cases);
    // Neither replies; both say why in the log (Redis at warning level).
    for server in [&redis, &vireo] {
        let log = server.output();
        assert!(
            log.contains("Closing client that reached max query buffer length"),
            "{:?} log: {log}",
            server.kind()
        );
    }
}

/// Resident memory of a process in KB, from /proc.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn announced_bulk_lengths_allocate_nothing() {
    let vireo = Server::vireo(&["--proto-max-bulk-len", "4gb"]);
    let before = rss_kb(vireo.pid());
    let mut streams = Vec::new();
    for len in ["2147483647", "4000000000", "536870912"]
        .iter()
        .cycle()
        .take(6)
    {
        let mut s = TcpStream::connect(vireo.addr()).unwrap();
        s.write_all(format!("*2\r\n$4\r\nECHO\r\n${len}\r\nsome bytes").as_bytes())
            .unwrap();
        streams.push(s);
    }
    // The server is still serving, and has read the headers by the time it answers.
    let mut client = vireo.raw();
    assert_eq!(client.cmd(&["PING"]).to_string(), "+PONG");
    std::thread::sleep(Duration::from_millis(200));
    let after = rss_kb(vireo.pid());
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} KB to {after} KB after 6 huge bulk headers"
    );
    // Each of those connections is still waiting, not refused.
    for mut s in streams {
        assert_eq!(read_until_end(&mut s, End::Waiting).end, End::Waiting);
    }
}
