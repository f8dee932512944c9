//! Incremental request parser: multibulk (`*N\r\n$len\r\n...`) and inline commands.
//!
//! The parser keeps its position between reads, so a large argument arriving over many reads
//! is scanned once, and completed arguments are split off the read buffer as `Bytes` without
//! copying. Lengths from the wire are checked against the limits before anything is reserved,
//! so a client announcing a 4 GB bulk gets an error, not an allocation.
//!
//! Errors are the exact `Protocol error: ...` strings Redis sends; after one the connection
//! must reply and close, as Redis does.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Longest inline command, or longest unterminated `*N`/`$N` header line, Redis accepts (64 KB).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;
/// Before authentication Redis refuses multibulk counts above this...
pub const UNAUTH_MAX_MULTIBULK: i64 = 10;
/// ...and bulk lengths above this.
pub const UNAUTH_MAX_BULK: i64 = 16 * 1024;

/// Per-call limits, read from the config and the client's state.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: i64,
    /// False while the client still has to AUTH: tighter limits apply.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMbulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigBulkCount,
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Protocol error: ")?;
        match self {
            ProtocolError::TooBigInline => f.write_str("too big inline request"),
            ProtocolError::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            ProtocolError::TooBigMbulkCount => f.write_str("too big mbulk count string"),
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::UnauthenticatedMultibulkLength => {
                f.write_str("unauthenticated multibulk length")
            }
            ProtocolError::TooBigBulkCount => f.write_str("too big bulk count string"),
            ProtocolError::ExpectedDollar(c) => write!(f, "expected '$', got '{}'", *c as char),
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
        }
    }
}

impl std::error::Error for ProtocolError {}

impl ProtocolError {
    /// The error reply's text, `ERR Protocol error: ...`. Unlike `Display`, the byte of
    /// `expected '$', got 'c'` goes out raw even when it is not ASCII, as Redis sends it.
    pub fn reply_text(&self) -> Vec<u8> {
        match self {
            ProtocolError::ExpectedDollar(c) => {
                let mut text = b"ERR Protocol error: expected '$', got '".to_vec();
                text.extend_from_slice(&[*c, b'\'']);
                text
            }
            other => format!("ERR {other}").into_bytes(),
        }
    }
}

/// The most argument slots a parser keeps for reuse between commands.
const RECYCLED_ARGS_MAX: usize = 64;

/// Parser state carried between reads of one connection.
#[derive(Default, Debug)]
pub struct RequestParser {
    /// Arguments of the multibulk command still expected; 0 when between commands.
    multibulk_remaining: i64,
    /// Length of the bulk being read, or None while its `$len` header is still expected.
    bulk_len: Option<usize>,
    args: Vec<Bytes>,
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the next complete command from the front of `buf`, removing its bytes.
    ///
    /// Returns `Ok(Some(args))` for a command (never empty), `Ok(None)` when more bytes are
    /// needed, and the protocol error otherwise. Empty commands (`*0`, `*-1`, blank inline
    /// lines) are skipped as Redis skips them.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: Limits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.multibulk_remaining == 0 {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                if first != b'*' {
                    match parse_inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    }
                }
                let Some(header) = read_header(buf, ProtocolError::TooBigMbulkCount)? else {
                    return Ok(None);
                };
                let count = parse_int(&buf[1..header])
                    .filter(|&n| n <= i32::MAX as i64)
                    .ok_or(ProtocolError::InvalidMultibulkLength)?;
                if !limits.authenticated && count > UNAUTH_MAX_MULTIBULK {
                    return Err(ProtocolError::UnauthenticatedMultibulkLength);
                }
                buf.advance(header + 2);
                if count <= 0 {
                    continue;
                }
                self.multibulk_remaining = count;
                // Reserve for the argument slots, but never trust a huge count from the wire.
                // (The vector may be one handed back by `recycle`.)
                self.args.reserve(count.min(1024) as usize);
            }
            while self.multibulk_remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => {
                        let Some(header) = read_header(buf, ProtocolError::TooBigBulkCount)? else {
                            return Ok(None);
                        };
                        if buf[0] != b'$' {
                            return Err(ProtocolError::ExpectedDollar(buf[0]));
                        }
                        let len = parse_int(&buf[1..header])
                            .filter(|&n| n >= 0 && n <= limits.max_bulk_len)
                            .ok_or(ProtocolError::InvalidBulkLength)?;
                        if !limits.authenticated && len > UNAUTH_MAX_BULK {
                            return Err(ProtocolError::UnauthenticatedBulkLength);
                        }
                        buf.advance(header + 2);
                        self.bulk_len = Some(len as usize);
                        len as usize
                    }
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                // Like Redis, the two bytes after the payload are skipped, not checked.
                let arg = buf.split_to(len).freeze();
                buf.advance(2);
                self.args.push(arg);
                self.bulk_len = None;
                self.multibulk_remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }

    /// Hands back the argument vector of a command that has run, so that the next command
    /// reuses its allocation. Kept only if small: a connection holds on to at most
    /// `RECYCLED_ARGS_MAX` slots between commands.
    pub fn recycle(&mut self, mut args: Vec<Bytes>) {
        if self.multibulk_remaining == 0
            && self.args.capacity() == 0
            && args.capacity() <= RECYCLED_ARGS_MAX
        {
            args.clear();
            self.args = args;
        }
    }

    /// How many more bytes the command being parsed is known to need (0 when unknown);
    /// lets the reader size its next read for large arguments.
    pub fn bytes_wanted(&self, buffered: usize) -> usize {
        match self.bulk_len {
            Some(len) => (len + 2).saturating_sub(buffered),
            None => 0,
        }
    }

    /// True when part of a command has been consumed and the rest is awaited.
    pub fn in_progress(&self) -> bool {
        self.multibulk_remaining > 0
    }
}

/// Finds the `\r\n`-terminated header line at the front of `buf`. Returns the index of `\r`,
/// None when incomplete, or `too_big` when no `\r` shows up within the inline limit.
fn read_header(buf: &BytesMut, too_big: ProtocolError) -> Result<Option<usize>, ProtocolError> {
    match find_in_c_string(b'\r', buf) {
        None if buf.len() > INLINE_MAX_SIZE => Err(too_big),
        None => Ok(None),
        Some(cr) if cr + 1 >= buf.len() => Ok(None),
        Some(cr) => Ok(Some(cr)),
    }
}

/// Where `needle` first occurs in `buf` read as a C string: Redis looks for line ends with
/// `strchr`, which stops at a NUL byte, so a NUL before the terminator hides it and the
/// request waits for more bytes (until the 64 KB limit turns it into an error).
fn find_in_c_string(needle: u8, buf: &[u8]) -> Option<usize> {
    memchr::memchr2(needle, 0, buf).filter(|&at| buf[at] == needle)
}

/// Parses a signed decimal strictly as Redis's string2ll: no sign but a leading '-', no
/// leading zeros, no spaces, must fit in i64.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    if digits[0] == b'0' {
        return (digits.len() == 1 && !neg).then_some(0);
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses one inline command line, if a full line has arrived.
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(nl) = find_in_c_string(b'\n', buf) else {
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(None);
    };
    let line = buf.split_to(nl + 1);
    let mut line = &line[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let args = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(Some(args.into_iter().map(Bytes::from).collect()))
}

/// Splits a line into arguments with the quoting rules of redis-cli and inline commands:
/// `"double"` quotes understand `\n \r \t \b \a \\ \" \xHH`, `'single'` quotes only `\'`,
/// and a closing quote must be followed by a space or the end. None on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Redis splits a C string: a NUL byte ends the line.
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            let c = line.get(i).copied();
            if in_dq {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'x') && is_hex_pair(line, i + 2) => {
                        cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        cur.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if line.get(i + 1).is_some_and(|&c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else if in_sq {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                        cur.push(b'\'');
                        i += 1;
                    }
                    Some(b'\'') => {
                        if line.get(i + 1).is_some_and(|&c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else {
                match c {
                    None => break,
                    Some(b' ' | b'\n' | b'\r' | b'\t' | 0) => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

/// C's `isspace`: the separators between arguments.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_hex_pair(line: &[u8], at: usize) -> bool {
    line.len() > at + 1 && line[at].is_ascii_hexdigit() && line[at + 1].is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(args) = p.parse(&mut buf, Limits::default())? {
            out.push(args.iter().map(|a| a.to_vec()).collect());
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_pipeline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(
            cmds,
            vec![vec![b"GET".to_vec(), b"k".to_vec()], vec![b"PING".to_vec()]]
        );
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n";
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            while let Some(args) = p.parse(&mut buf, Limits::default()).unwrap() {
                got.push(args);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(&got[0][2][..], b"hello");
        assert_eq!(&got[1][0][..], b"PING");
    }

    #[test]
    fn inline_quoting() {
        let cmds = parse_all(b"set k \"a\\x41\\n\" 'it\\'s'\r\n\r\n").unwrap();
        assert_eq!(
            cmds,
            vec![vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"aA\n".to_vec(),
                b"it's".to_vec()
            ]]
        );
        assert_eq!(
            parse_all(b"set \"k\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            parse_all(b"set \"k\"x\n"),
            Err(ProtocolError::UnbalancedQuotes)
        );
        // A NUL ends the line, as in Redis's C-string splitter (this once looped forever).
        assert_eq!(split_args(b"a\0b c"), Some(vec![b"a".to_vec()]));
        assert_eq!(split_args(b"\x0b a"), Some(vec![b"a".to_vec()]));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_all(b"*x\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n+a\r\n"),
            Err(ProtocolError::ExpectedDollar(b'+'))
        );
        assert_eq!(
            parse_all(b"*1\r\n$-1\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*1\r\n$4294967296\r\n"),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*3000000000\r\n"),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(parse_all(b"*0\r\n*-1\r\n").unwrap().len(), 0);
        let long = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(parse_all(&long), Err(ProtocolError::TooBigInline));
        let mut long = b"*".to_vec();
        long.extend(vec![b'1'; INLINE_MAX_SIZE + 1]);
        assert_eq!(parse_all(&long), Err(ProtocolError::TooBigMbulkCount));
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = RequestParser::new();
        let limits = Limits {
            authenticated: false,
            ..Limits::default()
        };
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf, limits),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf, limits),
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        for bad in [&b"01"[..], b"+1", b" 1", b"-0", b"", b"-", b"1a"] {
            assert_eq!(parse_int(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn nul_hides_the_line_end_as_in_redis() {
        // Redis finds line ends with strchr: a NUL first means "no line end yet".
        for input in [
            &b"PING\0\r\nPING\r\n"[..],
            b"*1\0\r\n$4\r\nPING\r\n",
            b"*1\r\n$\x004\r\nPING\r\n",
        ] {
            assert_eq!(parse_all(input), Ok(vec![]), "{input:?}");
        }
        // ...until the 64 KB limit turns the wait into the usual error.
        let mut long = b"PING\0\n".to_vec();
        long.resize(INLINE_MAX_SIZE + 1, b'a');
        assert_eq!(parse_all(&long), Err(ProtocolError::TooBigInline));
        let mut long = b"*1\r\n$\0\r\n".to_vec();
        long.resize(INLINE_MAX_SIZE + 5, b'1');
        assert_eq!(parse_all(&long), Err(ProtocolError::TooBigBulkCount));
    }

    #[test]
    fn expected_dollar_quotes_the_raw_byte() {
        let err = parse_all(b"*1\r\n\xff\r\n").unwrap_err();
        assert_eq!(
            err.reply_text(),
            b"ERR Protocol error: expected '$', got '\xff'"
        );
        assert_eq!(
            ProtocolError::InvalidBulkLength.reply_text(),
            b"ERR Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn header_waits_for_the_byte_after_cr() {
        // A header ending in a bare `\r` is incomplete, whatever its length; the byte after
        // it is skipped unchecked, as Redis does.
        assert_eq!(parse_all(b"*1\r"), Ok(vec![]));
        assert_eq!(
            parse_all(b"*1\rX$4\rXPING\r\n"),
            Ok(vec![vec![b"PING".to_vec()]])
        );
    }

    #[test]
    fn huge_bulk_lengths_reserve_nothing() {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*1\r\n$536870912\r\nabc"[..]);
        assert_eq!(p.parse(&mut buf, Limits::default()), Ok(None));
        assert!(buf.capacity() < 1024);
        assert_eq!(p.bytes_wanted(buf.len()), 536870912 + 2 - 3);
        let mut buf = BytesMut::from(&b"*1\r\n$536870913\r\n"[..]);
        assert_eq!(
            RequestParser::new().parse(&mut buf, Limits::default()),
            Err(ProtocolError::InvalidBulkLength)
        );
    }
}

/// Property tests: round trips through the parser, and random input that must never make it
/// panic, loop or hold more than it may. The random-input case is the bounded, stable-Rust
/// counterpart of the cargo-fuzz target `resp_parse` (see fuzz/README.md).
#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// What feeding some input produced: the commands, then the error that stopped it, if any,
    /// and the bytes left unconsumed.
    #[derive(Debug, PartialEq)]
    struct Outcome {
        commands: Vec<Vec<Vec<u8>>>,
        error: Option<ProtocolError>,
        left: usize,
    }

    /// Feeds `input` in pieces of the given sizes (cycled), parsing after every piece as the
    /// connection loop does, and checks the parser's invariants along the way.
    fn feed(input: &[u8], pieces: &[usize], limits: Limits) -> Outcome {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut out = Outcome {
            commands: Vec::new(),
            error: None,
            left: 0,
        };
        let mut rest = input;
        let mut arg_bytes = 0;
        let mut sizes = pieces.iter().copied().cycle();
        'read: while !rest.is_empty() {
            let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            loop {
                match parser.parse(&mut buf, limits) {
                    Ok(Some(args)) => {
                        assert!(!args.is_empty(), "a command without arguments");
                        // Arguments are cut out of the consumed bytes, headers and all.
                        arg_bytes += args.iter().map(|a| a.len()).sum::<usize>();
                        let consumed = input.len() - rest.len() - buf.len();
                        assert!(arg_bytes < consumed);
                        out.commands.push(args.iter().map(|a| a.to_vec()).collect());
                        // As the connection does: the next command reuses the vector.
                        parser.recycle(args);
                    }
                    Ok(None) => {
                        check_waiting(&parser, &buf, limits);
                        // Asking again without new bytes changes nothing.
                        let len = buf.len();
                        assert_eq!(parser.parse(&mut buf, limits), Ok(None));
                        assert_eq!(buf.len(), len);
                        break;
                    }
                    Err(e) => {
                        out.error = Some(e);
                        break 'read;
                    }
                }
            }
        }
        out.left = buf.len() + rest.len();
        out
    }

    /// While waiting for bytes the parser holds only what it may: part of a bulk it has
    /// accepted the length of, or a line no longer than the inline limit (or one that ends
    /// in the `\r` whose `\n` is still to come).
    fn check_waiting(parser: &RequestParser, buf: &BytesMut, limits: Limits) {
        match parser.bulk_len {
            Some(len) => {
                assert!(len as i64 <= limits.max_bulk_len);
                assert!(buf.len() < len + 2);
            }
            None => assert!(
                buf.len() <= INLINE_MAX_SIZE || buf.last() == Some(&b'\r'),
                "waiting on {} bytes",
                buf.len()
            ),
        }
        if !limits.authenticated {
            assert!(parser.multibulk_remaining <= UNAUTH_MAX_MULTIBULK);
        }
    }

    fn encode(commands: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let mut out = Vec::new();
        for args in commands {
            out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for arg in args {
                out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
                out.extend_from_slice(arg);
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }

    /// One argument written for an inline command: bare when it can be, otherwise in double
    /// quotes with `\xHH`, `\"` and `\\` escapes, or in single quotes with `\'`.
    fn quote(arg: &[u8], style: u8, first: bool) -> Vec<u8> {
        let plain = |b: &u8| b.is_ascii_graphic() && !b"\"'\\".contains(b);
        if style == 0 && !arg.is_empty() && arg.iter().all(plain) && !(first && arg[0] == b'*') {
            return arg.to_vec();
        }
        // Single quotes cannot hold a trailing backslash (it would escape the closing quote).
        let single_ok =
            arg.iter().all(|b| b.is_ascii_graphic() || *b == b' ') && !arg.ends_with(b"\\");
        if style == 1 && single_ok {
            let mut out = b"'".to_vec();
            for &b in arg {
                if b == b'\'' {
                    out.extend_from_slice(b"\\'");
                } else {
                    out.push(b);
                }
            }
            out.push(b'\'');
            return out;
        }
        let mut out = b"\"".to_vec();
        for &b in arg {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b' '..=b'~' => out.push(b),
                _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        out.push(b'"');
        out
    }

    fn limits() -> impl Strategy<Value = Limits> {
        (
            prop_oneof![Just(512 * 1024 * 1024i64), 0i64..64],
            any::<bool>(),
        )
            .prop_map(|(max_bulk_len, authenticated)| Limits {
                max_bulk_len,
                authenticated,
            })
    }

    /// Bytes that look enough like RESP to reach every branch of the parser.
    fn protocolish() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(b"*".to_vec()),
            Just(b"$".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"-".to_vec()),
            Just(b"0".to_vec()),
            "[0-9]{1,3}".prop_map(String::into_bytes),
            Just(b"\"".to_vec()),
            Just(b"'".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\\x4".to_vec()),
            Just(b" ".to_vec()),
            Just(b"\t\x0b".to_vec()),
            Just(b"\0".to_vec()),
            Just(b"PING".to_vec()),
            any::<u8>().prop_map(|b| vec![b]),
        ];
        prop::collection::vec(token, 0..64).prop_map(|t| t.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn multibulk_round_trip(
            commands in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..6),
                1..10,
            ),
            pieces in prop::collection::vec(1usize..64, 1..8),
        ) {
            let out = feed(&encode(&commands), &pieces, Limits::default());
            prop_assert_eq!(out, Outcome { commands, error: None, left: 0 });
        }

        #[test]
        fn inline_round_trip(
            commands in prop::collection::vec(
                prop::collection::vec(
                    (prop::collection::vec(any::<u8>(), 0..20), 0u8..3),
                    1..6,
                ),
                1..6,
            ),
            crlf in any::<bool>(),
            pieces in prop::collection::vec(1usize..32, 1..8),
        ) {
            let mut input = Vec::new();
            for args in &commands {
                for (i, (arg, style)) in args.iter().enumerate() {
                    if i > 0 {
                        input.push(b' ');
                    }
                    input.extend_from_slice(&quote(arg, *style, i == 0));
                }
                input.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            let expected: Vec<Vec<Vec<u8>>> = commands
                .iter()
                .map(|args| args.iter().map(|(a, _)| a.clone()).collect())
                .collect();
            let out = feed(&input, &pieces, Limits::default());
            prop_assert_eq!(out, Outcome { commands: expected, error: None, left: 0 });
        }

        #[test]
        fn split_args_of_quoted_args(
            args in prop::collection::vec(("[ -~]{0,16}", 0u8..3), 0..8),
        ) {
            let line: Vec<u8> = args
                .iter()
                .map(|(a, style)| quote(a.as_bytes(), *style, false))
                .collect::<Vec<_>>()
                .join(&b' ');
            let expected: Vec<Vec<u8>> = args.iter().map(|(a, _)| a.clone().into_bytes()).collect();
            prop_assert_eq!(split_args(&line), Some(expected));
        }
    }

    proptest! {
        // The CI stand-in for fuzzing: many small random inputs, each in two chunkings.
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn random_input_never_breaks_the_parser(
            input in prop_oneof![protocolish(), prop::collection::vec(any::<u8>(), 0..256)],
            pieces in prop::collection::vec(1usize..16, 1..6),
            limits in limits(),
        ) {
            let whole = feed(&input, &[], limits);
            let chunked = feed(&input, &pieces, limits);
            // Where a line end falls relative to a read can decide between a command and the
            // 64 KB error, but these inputs are short: the chunking must not matter at all.
            prop_assert_eq!(whole, chunked);
        }

        #[test]
        fn split_args_never_panics(line in prop::collection::vec(any::<u8>(), 0..128)) {
            if let Some(args) = split_args(&line) {
                let total: usize = args.iter().map(Vec::len).sum();
                prop_assert!(total <= line.len());
            }
        }
    }
}
