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

/// Formats a double the way Redis 7.2 replies with one (its d2string): `nan`, `inf`,
/// `-inf`, `0`/`-0`; an integral value within ±2^62 as an integer; anything else as the
/// shortest digits that read back as the same double, laid out as Redis's fpconv does —
/// positional while that stays short (an integer part with at most 6 zeros appended; a
/// fraction when the exponent is above -7 or the scientific exponent below 4), otherwise
/// `d.ddde±x` with an unpadded exponent (`1e-7`, `1.5e+300`).
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
    // LLONG_MAX / 2, compared as a double (2^62), as Redis's double2ll does.
    const INTEGRAL_LIMIT: f64 = (i64::MAX / 2) as f64;
    if d.fract() == 0.0 && d.abs() <= INTEGRAL_LIMIT {
        return (d as i64).to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e-4".
    let sci = format!("{:e}", d.abs());
    let (mantissa, e) = sci.split_once('e').expect("exponent form");
    let e: i64 = e.parse().expect("exponent digits");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let ndigits = digits.len() as i64;
    // The value is digits × 10^k.
    let k = e - (ndigits - 1);
    let mut out = String::with_capacity(32);
    if d < 0.0 {
        out.push('-');
    }
    if k >= 0 && e.abs() < ndigits + 7 {
        out.push_str(&digits);
        out.push_str(&"0".repeat(k as usize));
    } else if k < 0 && (k > -7 || e.abs() < 4) {
        let point = ndigits + k;
        if point <= 0 {
            out.push_str("0.");
            out.push_str(&"0".repeat((-point) as usize));
            out.push_str(&digits);
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(mantissa);
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.abs().to_string());
    }
    out
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
        // Redis 7.2's layout (checked against Valkey 9, which keeps it).
        for (d, text) in [
            (1.5e-7, "1.5e-7"),
            (1e-7, "1e-7"),
            (1e-5, "0.00001"),
            (1e-6, "0.000001"),
            (1.5e-6, "1.5e-6"),
            (0.00012345, "1.2345e-4"),
            (1e-4, "0.0001"),
            (123456789012345678.0, "123456789012345680"),
            (1e15, "1000000000000000"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (12345678901234567890123.0, "12345678901234568000000"),
            (2e-308, "2e-308"),
            (5e-324, "5e-324"),
            (-1.5e-10, "-1.5e-10"),
            (1234567.125, "1234567.125"),
            (-0.0, "-0"),
            (1.1, "1.1"),
        ] {
            assert_eq!(format_double(d), text, "{d:e}");
        }
    }
}

/// Property test: random reply trees written in RESP2 and RESP3 read back (with a small
/// reply parser written for this test) as the same tree, after RESP2 lowering.
#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// What a command asks the writer for.
    #[derive(Clone, Debug)]
    enum Tree {
        Ok,
        Simple(String),
        Error(Vec<u8>),
        Int(i64),
        Bulk(Vec<u8>),
        BulkInt(i64),
        Null,
        NullArray,
        Double(f64),
        Boolean(bool),
        Verbatim(Vec<u8>),
        Array(Vec<Tree>),
        Map(Vec<(Tree, Tree)>),
        Set(Vec<Tree>),
        Push(Vec<Tree>),
    }

    /// What goes over the wire, parsed.
    #[derive(Clone, Debug, PartialEq)]
    enum Frame {
        Simple(Vec<u8>),
        Error(Vec<u8>),
        Int(i64),
        Bulk(Option<Vec<u8>>),
        Array(Option<Vec<Frame>>),
        Null,
        Double(Vec<u8>),
        Boolean(bool),
        Verbatim(Vec<u8>),
        Map(Vec<(Frame, Frame)>),
        Set(Vec<Frame>),
        Push(Vec<Frame>),
    }

    fn write(tree: &Tree, r: &mut Reply) {
        match tree {
            Tree::Ok => r.ok(),
            Tree::Simple(s) => r.simple(s),
            Tree::Error(e) => r.error_bytes(e),
            Tree::Int(n) => r.int(*n),
            Tree::Bulk(b) => r.bulk(b),
            Tree::BulkInt(n) => r.bulk_int(*n),
            Tree::Null => r.null(),
            Tree::NullArray => r.null_array(),
            Tree::Double(d) => r.double(*d),
            Tree::Boolean(b) => r.boolean(*b),
            Tree::Verbatim(t) => r.verbatim("txt", t),
            Tree::Array(items) => {
                r.array(items.len());
                items.iter().for_each(|t| write(t, r));
            }
            Tree::Set(items) => {
                r.set(items.len());
                items.iter().for_each(|t| write(t, r));
            }
            Tree::Push(items) => {
                r.push(items.len());
                items.iter().for_each(|t| write(t, r));
            }
            Tree::Map(pairs) => {
                r.map(pairs.len());
                for (k, v) in pairs {
                    write(k, r);
                    write(v, r);
                }
            }
        }
    }

    /// The frame a client must see for `tree`.
    fn expected(tree: &Tree, resp3: bool) -> Frame {
        let all = |items: &[Tree]| items.iter().map(|t| expected(t, resp3)).collect();
        match tree {
            Tree::Ok => Frame::Simple(b"OK".to_vec()),
            Tree::Simple(s) => Frame::Simple(s.clone().into_bytes()),
            Tree::Error(e) => Frame::Error(
                e.iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                    .collect(),
            ),
            Tree::Int(n) => Frame::Int(*n),
            Tree::Bulk(b) => Frame::Bulk(Some(b.clone())),
            Tree::BulkInt(n) => Frame::Bulk(Some(n.to_string().into_bytes())),
            Tree::Null | Tree::NullArray if resp3 => Frame::Null,
            Tree::Null => Frame::Bulk(None),
            Tree::NullArray => Frame::Array(None),
            Tree::Double(d) if resp3 => Frame::Double(format_double(*d).into_bytes()),
            Tree::Double(d) => Frame::Bulk(Some(format_double(*d).into_bytes())),
            Tree::Boolean(b) if resp3 => Frame::Boolean(*b),
            Tree::Boolean(b) => Frame::Int(*b as i64),
            Tree::Verbatim(t) if resp3 => Frame::Verbatim([b"txt:", &t[..]].concat()),
            Tree::Verbatim(t) => Frame::Bulk(Some(t.clone())),
            Tree::Array(items) => Frame::Array(Some(all(items))),
            Tree::Set(items) if resp3 => Frame::Set(all(items)),
            Tree::Push(items) if resp3 => Frame::Push(all(items)),
            Tree::Set(items) | Tree::Push(items) => Frame::Array(Some(all(items))),
            Tree::Map(pairs) if resp3 => Frame::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (expected(k, resp3), expected(v, resp3)))
                    .collect(),
            ),
            Tree::Map(pairs) => Frame::Array(Some(
                pairs
                    .iter()
                    .flat_map(|(k, v)| [expected(k, resp3), expected(v, resp3)])
                    .collect(),
            )),
        }
    }

    /// Reads one frame at `*pos`, strictly: every line must end in CRLF, every bulk must have
    /// exactly its announced length. Panics on anything else.
    fn read(buf: &[u8], pos: &mut usize) -> Frame {
        let kind = buf[*pos];
        let start = *pos + 1;
        let end = start + buf[start..].windows(2).position(|w| w == b"\r\n").unwrap();
        let line = &buf[start..end];
        *pos = end + 2;
        let number = |line: &[u8]| -> i64 { std::str::from_utf8(line).unwrap().parse().unwrap() };
        let blob = |len: i64, pos: &mut usize| -> Vec<u8> {
            let len = len as usize;
            let data = buf[*pos..*pos + len].to_vec();
            assert_eq!(&buf[*pos + len..*pos + len + 2], b"\r\n");
            *pos += len + 2;
            data
        };
        let items =
            |n: i64, pos: &mut usize| -> Vec<Frame> { (0..n).map(|_| read(buf, pos)).collect() };
        match kind {
            b'+' => Frame::Simple(line.to_vec()),
            b'-' => Frame::Error(line.to_vec()),
            b':' => Frame::Int(number(line)),
            b'_' => {
                assert!(line.is_empty());
                Frame::Null
            }
            b',' => Frame::Double(line.to_vec()),
            b'#' => Frame::Boolean(match line {
                b"t" => true,
                b"f" => false,
                _ => panic!("bad boolean {line:?}"),
            }),
            b'$' if line == b"-1" => Frame::Bulk(None),
            b'$' => Frame::Bulk(Some(blob(number(line), pos))),
            b'=' => Frame::Verbatim(blob(number(line), pos)),
            b'*' if line == b"-1" => Frame::Array(None),
            b'*' => Frame::Array(Some(items(number(line), pos))),
            b'~' => Frame::Set(items(number(line), pos)),
            b'>' => Frame::Push(items(number(line), pos)),
            b'%' => {
                let flat = items(2 * number(line), pos);
                Frame::Map(
                    flat.chunks(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect(),
                )
            }
            other => panic!("unknown type byte {other:?}"),
        }
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            Just(Tree::Ok),
            "[ -~]{0,12}".prop_map(Tree::Simple),
            prop::collection::vec(any::<u8>(), 0..12).prop_map(Tree::Error),
            any::<i64>().prop_map(Tree::Int),
            prop::collection::vec(any::<u8>(), 0..24).prop_map(Tree::Bulk),
            any::<i64>().prop_map(Tree::BulkInt),
            Just(Tree::Null),
            Just(Tree::NullArray),
            any::<f64>().prop_map(Tree::Double),
            any::<bool>().prop_map(Tree::Boolean),
            prop::collection::vec(any::<u8>(), 0..24).prop_map(Tree::Verbatim),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Array),
                prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Set),
                prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Push),
                prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Tree::Map),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn replies_read_back(trees in prop::collection::vec(tree(), 1..4), resp3 in any::<bool>()) {
            let mut r = Reply::new();
            r.set_resp3(resp3);
            trees.iter().for_each(|t| write(t, &mut r));
            let mut pos = 0;
            for t in &trees {
                prop_assert_eq!(read(&r.buf, &mut pos), expected(t, resp3));
            }
            prop_assert_eq!(pos, r.buf.len(), "bytes after the last reply");
        }

        #[test]
        fn doubles_read_back_exactly(d in any::<f64>()) {
            let text = format_double(d);
            let back: f64 = text.parse().unwrap();
            prop_assert!(back == d || (back.is_nan() && d.is_nan()), "{} -> {}", d, text);
            if !d.is_nan() {
                prop_assert_eq!(back.is_sign_negative(), d.is_sign_negative(), "{}", text);
            }
        }
    }
}
