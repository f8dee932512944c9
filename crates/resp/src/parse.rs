//! Incremental request parser: multibulk (`*N\r\n$len\r\n...`) and inline commands.
//!
//! The parser keeps its position between reads, so a large argument arriving over many reads
//! is scanned once, and completed arguments are split off the read buffer as `Bytes` without
//! copying. Lengths from the wire are checked against the limits before anything is reserved,
//! so a client announcing a 4 GB bulk gets an error, not an allocation.
//!
//! Errors are the exact `Protocol error: ...` strings Redis sends; after one the connection
//! must reply and close, as Redis does.

use bytes::{Bytes, BytesMut};
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
                let _ = buf.split_to(header + 2);
                if count <= 0 {
                    continue;
                }
                self.multibulk_remaining = count;
                // Reserve for the argument slots, but never trust a huge count from the wire.
                self.args = Vec::with_capacity(count.min(1024) as usize);
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
                        let _ = buf.split_to(header + 2);
                        self.bulk_len = Some(len as usize);
                        len as usize
                    }
                };
                if buf.len() < len + 2 {
                    return Ok(None);
                }
                // Like Redis, the two bytes after the payload are skipped, not checked.
                let arg = buf.split_to(len).freeze();
                let _ = buf.split_to(2);
                self.args.push(arg);
                self.bulk_len = None;
                self.multibulk_remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
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
    match memchr::memchr(b'\r', buf) {
        None if buf.len() > INLINE_MAX_SIZE => Err(too_big),
        None => Ok(None),
        Some(cr) if cr + 1 >= buf.len() => Ok(None),
        Some(cr) => Ok(Some(cr)),
    }
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
    let Some(nl) = memchr::memchr(b'\n', buf) else {
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
}
