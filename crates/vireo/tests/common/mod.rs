//! Test support shared by the integration tests in `crates/vireo/tests/`.
//!
//! [`Server`] spawns a server binary (`vireo-server`, or `redis-server` for differential and
//! interop tests) on a free loopback port with persistence off and a private working
//! directory, waits until it answers PING, and kills it by PID when dropped.
//! [`RawClient`] speaks RESP over a plain TCP socket for byte-exact assertions; [`Reply`] is
//! the parsed reply tree it returns, keeping every string and error as the exact bytes sent.
//!
//! `VIREO_TEST_BIN=/path/to/binary` makes [`Server::vireo`] start that binary instead of the
//! one Cargo built; `VIREO_TEST_BIN=$(which redis-server)` checks the tests themselves
//! against the reference implementation.
//!
//! Each test binary uses a different part of this module, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod random;
pub mod script;
pub mod transcript;
pub mod valkey;

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first PING.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits for one reply before giving up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts with a fresh port when a server exits early (e.g. the port was taken meanwhile).
const SPAWN_ATTEMPTS: usize = 3;

/// Why a server did not come up; each variant holds a message with the server's output.
#[derive(Debug)]
pub enum StartError {
    /// The process exited (bad arguments, or the port was taken meanwhile: retried).
    Exited(String),
    /// The process runs but did not answer PING in time.
    NoAnswer(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Exited(msg) | StartError::NoAnswer(msg) => f.write_str(msg),
        }
    }
}

/// Which implementation a [`Server`] runs; decides the few arguments only one side accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Vireo,
    Redis,
}

/// A server process on 127.0.0.1, killed (and reaped) on drop.
pub struct Server {
    child: Child,
    port: u16,
    kind: Kind,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts `vireo-server` (or `$VIREO_TEST_BIN`) with `args` after the test defaults.
    pub fn vireo(args: &[&str]) -> Server {
        Server::start(Kind::Vireo, &vireo_bin(), args)
    }

    /// Starts `redis-server` from PATH with `args` after the test defaults.
    pub fn redis(args: &[&str]) -> Server {
        Server::start(Kind::Redis, Path::new("redis-server"), args)
    }

    /// Starts `bin` on a free port. A first argument not starting with `--` is a config file
    /// path and stays first, as redis-server requires; the test defaults come next, then the
    /// rest of `args`, so a test can override any default.
    pub fn start(kind: Kind, bin: &Path, args: &[&str]) -> Server {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match Server::try_start(kind, bin, args) {
                Ok(server) => return server,
                Err(StartError::Exited(_)) if attempts < SPAWN_ATTEMPTS => continue,
                Err(failure) => panic!("{failure}"),
            }
        }
    }

    /// One attempt to start `bin`; the error carries everything the server printed. For
    /// tests that expect a server to refuse to start (e.g. an unknown config directive).
    pub fn try_start(kind: Kind, bin: &Path, args: &[&str]) -> Result<Server, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("vireo-test-")
            .tempdir()
            .expect("create a temporary directory");
        let port = free_port();
        let (config_file, rest) = match args.first() {
            Some(first) if !first.starts_with("--") => (Some(*first), &args[1..]),
            _ => (None, args),
        };
        let mut cmd = Command::new(bin);
        cmd.args(config_file);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
        cmd.args(["--save", "", "--appendonly", "no"]);
        cmd.arg("--dir").arg(dir.path());
        if kind == Kind::Redis {
            cmd.args(["--daemonize", "no"]);
        }
        cmd.args(rest);
        let stdout = std::fs::File::create(dir.path().join("stdout.log")).expect("stdout log");
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr log");
        cmd.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Server {
            child,
            port,
            kind,
            bin: bin.to_path_buf(),
            dir,
        };
        server.wait_until_ready()?;
        Ok(server)
    }

    /// Polls with PING until any reply frame arrives (`-NOAUTH` counts: the server is up).
    fn wait_until_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server process") {
                let failure = self.failure(&format!("exited early with {status}"));
                return Err(StartError::Exited(failure));
            }
            if self.answers_ping() {
                // Another test's server may have taken the port between `free_port` and
                // our bind (ours then exits, perhaps not yet): its answer does not count.
                if listener_of(self.port, self.child.id()) == Some(false) {
                    let failure = self.failure("lost its port to another process");
                    return Err(StartError::Exited(failure));
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                let failure =
                    self.failure(&format!("did not answer PING within {STARTUP_TIMEOUT:?}"));
                return Err(StartError::NoAnswer(failure));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(stream) = TcpStream::connect(self.addr()) else {
            return false;
        };
        let mut client = RawClient::from_stream(stream, Duration::from_secs(1));
        client.send(b"*1\r\n$4\r\nPING\r\n").is_ok() && client.read_reply().is_ok()
    }

    /// A panic message with everything the server printed.
    fn failure(&self, what: &str) -> String {
        let log =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "{} on port {} {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.bin.display(),
            self.port,
            log("stdout.log"),
            log("stderr.log"),
        )
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:<port>/`; add credentials yourself when the test sets a password.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr())
    }

    /// The server's working directory (`--dir`), removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh connection through the `redis` crate.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// A fresh raw RESP connection.
    pub fn raw(&self) -> RawClient {
        RawClient::connect(&self.addr())
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// What the server printed so far on stdout and stderr (its log, by default).
    pub fn output(&self) -> String {
        self.failure("output")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this child's PID only; wait reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vireo_bin() -> PathBuf {
    match std::env::var_os("VIREO_TEST_BIN") {
        Some(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_vireo-server")),
    }
}

/// A port that was free a moment ago: bind port 0, note the port, release it.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Does process `pid` own the socket listening on TCP `port`? Linux: the LISTEN entries
/// of /proc/net/tcp and tcp6 for the port, against the sockets among /proc/PID/fd. None
/// when /proc cannot tell.
pub fn listener_of(port: u16, pid: u32) -> Option<bool> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(&"0A"), Some(inode)) = (cols.get(1), cols.get(3), cols.get(9))
            else {
                continue;
            };
            let listens_on_port = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                == Some(port);
            if listens_on_port {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    let owned = fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
    });
    Some(owned)
}

/// One RESP reply, parsed. Strings, errors, doubles and big numbers keep their exact bytes,
/// so comparing two trees compares what went over the wire, modulo framing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    /// `+...`
    Simple(Vec<u8>),
    /// `-...`
    Error(Vec<u8>),
    /// `:...`
    Integer(i64),
    /// `$n` ...; `None` is RESP2's null bulk string `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*n` ...; `None` is RESP2's null array `*-1`.
    Array(Option<Vec<Reply>>),
    /// RESP3 `_`
    Null,
    /// RESP3 `,` with the text as sent (`inf`, `1.5`, `3`).
    Double(Vec<u8>),
    /// RESP3 `#t` / `#f`
    Boolean(bool),
    /// RESP3 `(` with the digits as sent.
    BigNumber(Vec<u8>),
    /// RESP3 `!`
    BulkError(Vec<u8>),
    /// RESP3 `=`, including the three-letter format and the colon.
    Verbatim(Vec<u8>),
    /// RESP3 `%`
    Map(Vec<(Reply, Reply)>),
    /// RESP3 `~`
    Set(Vec<Reply>),
    /// RESP3 `>`
    Push(Vec<Reply>),
    /// RESP3 `|` attributes followed by the reply they annotate.
    Attribute(Vec<(Reply, Reply)>, Box<Reply>),
}

impl Reply {
    /// The reply's elements when it is an array, set or push.
    pub fn elements(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(items)) | Reply::Set(items) | Reply::Push(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_) | Reply::BulkError(_))
    }

    /// The bytes of a simple, bulk or verbatim string, or of an error.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Simple(b)
            | Reply::Error(b)
            | Reply::Bulk(Some(b))
            | Reply::Double(b)
            | Reply::BigNumber(b)
            | Reply::BulkError(b)
            | Reply::Verbatim(b) => Some(b),
            _ => None,
        }
    }

    /// The same tree with the elements of a top-level array or set sorted.
    pub fn sorted(&self) -> Reply {
        match self {
            Reply::Array(Some(items)) => {
                let mut items = items.clone();
                items.sort();
                Reply::Array(Some(items))
            }
            Reply::Set(items) => {
                let mut items = items.clone();
                items.sort();
                Reply::Set(items)
            }
            Reply::Map(pairs) => {
                let mut pairs = pairs.clone();
                pairs.sort();
                Reply::Map(pairs)
            }
            other => other.clone(),
        }
    }
}

/// Writes bytes as a quoted string with redis-cli's escapes.
fn write_quoted(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("\"")?;
    for &b in bytes {
        match b {
            b'"' => f.write_str("\\\"")?,
            b'\\' => f.write_str("\\\\")?,
            b'\n' => f.write_str("\\n")?,
            b'\r' => f.write_str("\\r")?,
            b'\t' => f.write_str("\\t")?,
            0x20..=0x7e => write!(f, "{}", b as char)?,
            _ => write!(f, "\\x{b:02x}")?,
        }
    }
    f.write_str("\"")
}

fn write_list(f: &mut fmt::Formatter<'_>, open: &str, items: &[Reply], close: &str) -> fmt::Result {
    f.write_str(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    f.write_str(close)
}

fn write_pairs(f: &mut fmt::Formatter<'_>, pairs: &[(Reply, Reply)]) -> fmt::Result {
    f.write_str("{")?;
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{k}: {v}")?;
    }
    f.write_str("}")
}

/// One line per reply: `+OK`, `-ERR ...`, `:5`, `"bulk"`, `(nil)`, `[a, b]`, `{k: v}`.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Simple(s) => write!(f, "+{}", String::from_utf8_lossy(s)),
            Reply::Error(s) => write!(f, "-{}", String::from_utf8_lossy(s)),
            Reply::Integer(i) => write!(f, ":{i}"),
            Reply::Bulk(Some(b)) => write_quoted(f, b),
            Reply::Bulk(None) => f.write_str("(nil bulk)"),
            Reply::Array(None) => f.write_str("(nil array)"),
            Reply::Array(Some(items)) => write_list(f, "[", items, "]"),
            Reply::Null => f.write_str("(null)"),
            Reply::Double(d) => write!(f, ",{}", String::from_utf8_lossy(d)),
            Reply::Boolean(b) => f.write_str(if *b { "#t" } else { "#f" }),
            Reply::BigNumber(n) => write!(f, "({}", String::from_utf8_lossy(n)),
            Reply::BulkError(s) => {
                f.write_str("!")?;
                write_quoted(f, s)
            }
            Reply::Verbatim(s) => {
                f.write_str("=")?;
                write_quoted(f, s)
            }
            Reply::Map(pairs) => {
                f.write_str("%")?;
                write_pairs(f, pairs)
            }
            Reply::Set(items) => write_list(f, "~{", items, "}"),
            Reply::Push(items) => write_list(f, ">[", items, "]"),
            Reply::Attribute(attrs, reply) => {
                f.write_str("|")?;
                write_pairs(f, attrs)?;
                write!(f, " {reply}")
            }
        }
    }
}

/// Parses one complete frame at the start of `buf`: `Ok(Some((reply, length)))`, or
/// `Ok(None)` when more bytes are needed, or an error for bytes that are not RESP.
pub fn parse_reply(buf: &[u8]) -> io::Result<Option<(Reply, usize)>> {
    let mut parser = Parser { buf, pos: 0 };
    Ok(parser.frame()?.map(|reply| (reply, parser.pos)))
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

impl Parser<'_> {
    /// The bytes up to the next CRLF, consumed with it.
    fn line(&mut self) -> Option<&[u8]> {
        let rest = &self.buf[self.pos..];
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        self.pos += end + 2;
        Some(&rest[..end])
    }

    fn number(line: &[u8]) -> io::Result<i64> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad number {:?}", String::from_utf8_lossy(line))))
    }

    /// `len` bytes followed by CRLF.
    fn blob(&mut self, len: i64) -> io::Result<Option<Vec<u8>>> {
        let len = usize::try_from(len).map_err(|_| bad("negative length"))?;
        if self.buf.len() < self.pos + len + 2 {
            return Ok(None);
        }
        let data = self.buf[self.pos..self.pos + len].to_vec();
        if &self.buf[self.pos + len..self.pos + len + 2] != b"\r\n" {
            return Err(bad("bulk data not followed by CRLF"));
        }
        self.pos += len + 2;
        Ok(Some(data))
    }

    fn items(&mut self, count: i64) -> io::Result<Option<Vec<Reply>>> {
        let mut items = Vec::new();
        for _ in 0..count {
            match self.frame()? {
                Some(item) => items.push(item),
                None => return Ok(None),
            }
        }
        Ok(Some(items))
    }

    fn pairs(&mut self, count: i64) -> io::Result<Option<Vec<(Reply, Reply)>>> {
        Ok(self.items(count.saturating_mul(2))?.map(|items| {
            let mut it = items.into_iter();
            std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect()
        }))
    }

    fn frame(&mut self) -> io::Result<Option<Reply>> {
        let Some(&kind) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let Some(line) = self.line() else {
            return Ok(None);
        };
        let line = line.to_vec();
        let reply = match kind {
            b'+' => Reply::Simple(line),
            b'-' => Reply::Error(line),
            b':' => Reply::Integer(Self::number(&line)?),
            b',' => Reply::Double(line),
            b'(' => Reply::BigNumber(line),
            b'_' => Reply::Null,
            b'#' => match line.as_slice() {
                b"t" => Reply::Boolean(true),
                b"f" => Reply::Boolean(false),
                _ => return Err(bad("bad boolean")),
            },
            b'$' | b'!' | b'=' => {
                let len = Self::number(&line)?;
                if len < 0 && kind == b'$' {
                    Reply::Bulk(None)
                } else {
                    let Some(data) = self.blob(len)? else {
                        return Ok(None);
                    };
                    match kind {
                        b'$' => Reply::Bulk(Some(data)),
                        b'!' => Reply::BulkError(data),
                        _ => Reply::Verbatim(data),
                    }
                }
            }
            b'*' | b'~' | b'>' => {
                let count = Self::number(&line)?;
                if count < 0 && kind == b'*' {
                    Reply::Array(None)
                } else {
                    let Some(items) = self.items(count)? else {
                        return Ok(None);
                    };
                    match kind {
                        b'*' => Reply::Array(Some(items)),
                        b'~' => Reply::Set(items),
                        _ => Reply::Push(items),
                    }
                }
            }
            b'%' | b'|' => {
                let Some(pairs) = self.pairs(Self::number(&line)?)? else {
                    return Ok(None);
                };
                if kind == b'%' {
                    Reply::Map(pairs)
                } else {
                    let Some(reply) = self.frame()? else {
                        return Ok(None);
                    };
                    Reply::Attribute(pairs, Box::new(reply))
                }
            }
            other => return Err(bad(format!("unknown RESP type byte {:?}", other as char))),
        };
        Ok(Some(reply))
    }
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A RESP client over a plain TCP socket: send any bytes, read one reply frame at a time,
/// either as the exact bytes received or parsed into a [`Reply`].
pub struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    pub fn connect(addr: &str) -> io::Result<RawClient> {
        Ok(RawClient::from_stream(
            TcpStream::connect(addr)?,
            REPLY_TIMEOUT,
        ))
    }

    fn from_stream(stream: TcpStream, timeout: Duration) -> RawClient {
        let _ = stream.set_read_timeout(Some(timeout));
        let _ = stream.set_write_timeout(Some(timeout));
        let _ = stream.set_nodelay(true);
        RawClient {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends raw bytes: inline commands, pipelines, malformed input.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends one command as a RESP array and reads its reply.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Reply> {
        self.send(&encode_command(args))?;
        self.read_reply()
    }

    /// A numeric field of `INFO section`; panics if it is missing or not a number.
    pub fn info_number(&mut self, section: &str, field: &str) -> u64 {
        let text = match self.cmd(&["INFO", section]) {
            Reply::Bulk(Some(text)) => String::from_utf8(text).expect("INFO is text"),
            other => panic!("INFO answered {other:?}"),
        };
        let prefix = format!("{field}:");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{field}: {e}"))
    }

    /// Like [`RawClient::command`], panicking on I/O errors.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        self.command(args)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Reads one reply frame, returning its exact bytes.
    pub fn read_frame(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some((_, len)) = parse_reply(&self.buf)? {
                return Ok(self.buf.drain(..len).collect());
            }
            self.fill()?;
        }
    }

    /// Reads one reply frame, parsed.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        loop {
            if let Some((reply, len)) = parse_reply(&self.buf)? {
                self.buf.drain(..len);
                return Ok(reply);
            }
            self.fill()?;
        }
    }

    /// True when the server has closed the connection (after any unread replies are
    /// discarded); waits up to the read timeout.
    pub fn is_closed(&mut self) -> bool {
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => return e.kind() == io::ErrorKind::ConnectionReset,
            }
        }
    }

    /// Half-closes the write side, as a client does before it leaves.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed by the server",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// Reply constructors for assertions: `assert_eq!(c.cmd(&["GET", "k"]), bulk("v"))`.
pub mod reply {
    use super::Reply;

    pub fn ok() -> Reply {
        status("OK")
    }

    pub fn status(text: &str) -> Reply {
        Reply::Simple(text.as_bytes().to_vec())
    }

    pub fn err(text: &str) -> Reply {
        Reply::Error(text.as_bytes().to_vec())
    }

    pub fn bulk(bytes: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(Some(bytes.as_ref().to_vec()))
    }

    pub fn nil() -> Reply {
        Reply::Bulk(None)
    }

    pub fn int(n: i64) -> Reply {
        Reply::Integer(n)
    }

    pub fn array(items: Vec<Reply>) -> Reply {
        Reply::Array(Some(items))
    }
}
