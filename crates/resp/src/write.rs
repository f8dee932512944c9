//! Reply writer for RESP2 and RESP3.
//!
//! Commands describe replies in RESP3 terms (map, set, double, null, push, boolean); the
//! writer lowers them to RESP2 for clients that have not said `HELLO 3`, exactly as Redis
//! does: maps become flat arrays, sets arrays, doubles bulk strings, booleans integers, and
//! the RESP3 null becomes `$-1` or `*-1` depending on what was asked for.

use bytes::{BufMut, BytesMut};

/// Replies for one connection, accumulated until the next write to the socket.
#[derive(Debug, Default)]
pub struct Reply {
    pub buf: BytesMut,
    resp3: bool,
}

impl Reply {
    pub fn new() -> Self {
        Reply {
            buf: BytesMut::with_capacity(16 * 1024),
            resp3: false,
        }
    }

    pub fn resp3(&self) -> bool {
        self.resp3
    }

    pub fn set_resp3(&mut self, on: bool) {
        self.resp3 = on;
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops everything written after `mark` (a previous `len()`), for CLIENT REPLY OFF/SKIP.
    pub fn truncate(&mut self, mark: usize) {
        self.buf.truncate(mark);
    }

    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// A status reply such as `+PONG`. Must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// An error reply; `msg` is the full text after `-`, e.g. `ERR syntax error`. Newlines are
    /// replaced with spaces as Redis does, so a message can never break the framing.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// [`Reply::error`] for a message that is not UTF-8 (it may quote a client's bytes).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.reserve(msg.len() + 3);
        self.buf.put_u8(b'-');
        for &b in msg {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.buf.reserve(data.len() + 16);
        self.header(b'$', data.len() as i64);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (e.g. GET of an int-encoded value).
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    /// The null of a missing string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.buf
            .put_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null of a missing aggregate: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        self.buf
            .put_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs; in RESP2 a flat array of `2 * len` elements.
    pub fn map(&mut self, len: usize) {
        if self.resp3 {
            self.header(b'%', len as i64);
        } else {
            self.header(b'*', 2 * len as i64);
        }
    }

    pub fn set(&mut self, len: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, len as i64);
    }

    /// An out-of-band push (pub/sub messages, invalidations); an array in RESP2.
    pub fn push(&mut self, len: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, len as i64);
    }

    pub fn double(&mut self, d: f64) {
        let s = format_double(d);
        if self.resp3 {
            self.buf.put_u8(b',');
            self.buf.put_slice(s.as_bytes());
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// RESP3 boolean; `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf.put_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// RESP3 verbatim string with a three-letter format (`txt`); a bulk string in RESP2.
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        if !self.resp3 {
            return self.bulk(text);
        }
        self.header(b'=', (text.len() + 4) as i64);
        self.buf.put_slice(format.as_bytes());
        self.buf.put_u8(b':');
        self.buf.put_slice(text);
        self.buf.put_slice(b"\r\n");
    }

    /// Bytes already in RESP form (e.g. a cached reply).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    fn header(&mut self, kind: u8, n: i64) {
        let mut b = itoa::Buffer::new();
        let digits = b.format(n).as_bytes();
        self.buf.reserve(digits.len() + 3);
        self.buf.put_u8(kind);
        self.buf.put_slice(digits);
        self.buf.put_slice(b"\r\n");
    }
}

/// Formats a double the way Redis 7.2 replies with one: the shortest text that reads back
/// as the same double, `inf`/`-inf`/`nan`, integers without a fraction, and `%g`-style
/// exponent notation for very large or small magnitudes.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let exp = d.abs().log10().floor() as i32;
    if (-5..21).contains(&exp) {
        // `{}` prints the shortest round-trip digits in positional notation.
        return format!("{d}");
    }
    // Shortest round-trip digits in exponent form, e.g. `1.5e+300`, `1e-07`.
    let s = format!("{d:e}");
    let (mantissa, e) = s.split_once('e').expect("exponent form");
    let e: i32 = e.parse().expect("exponent digits");
    let sign = if e < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", e.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(f: impl FnOnce(&mut Reply), resp3: bool) -> String {
        let mut r = Reply::new();
        r.set_resp3(resp3);
        f(&mut r);
        String::from_utf8(r.buf.to_vec()).unwrap()
    }

    #[test]
    fn resp2_lowering() {
        assert_eq!(out(|r| r.map(2), false), "*4\r\n");
        assert_eq!(out(|r| r.map(2), true), "%2\r\n");
        assert_eq!(out(|r| r.null(), false), "$-1\r\n");
        assert_eq!(out(|r| r.null_array(), false), "*-1\r\n");
        assert_eq!(out(|r| r.null(), true), "_\r\n");
        assert_eq!(out(|r| r.double(1.5), false), "$3\r\n1.5\r\n");
        assert_eq!(out(|r| r.double(1.5), true), ",1.5\r\n");
        assert_eq!(out(|r| r.boolean(true), false), ":1\r\n");
        assert_eq!(out(|r| r.verbatim("txt", b"hi"), true), "=6\r\ntxt:hi\r\n");
    }

    #[test]
    fn errors_cannot_break_framing() {
        assert_eq!(out(|r| r.error("ERR a\r\nb"), false), "-ERR a  b\r\n");
    }

    #[test]
    fn doubles() {
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(0.1), "0.1");
        assert_eq!(format_double(-2.5), "-2.5");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(1e300), "1e+300");
        assert_eq!(format_double(1.5e-7), "1.5e-07");
    }
}
