//! The listpack: the compact encoding of small lists, hashes, sets and sorted sets, a
//! sequence of entries in one contiguous allocation, in the byte format Redis documents for
//! its listpacks (so RDB and DUMP payloads can carry it as it is).
//!
//! Layout: a 4-byte little-endian total size, a 2-byte little-endian entry count (65535
//! means "count by walking"), the entries, and a terminating 0xFF byte. Each entry is an
//! encoding byte (with part of a length or an integer in it), the data, and a "backlen":
//! the size of encoding plus data in 1 to 5 bytes, written so that it reads from right to
//! left — which is how the listpack is walked backwards.
//!
//! | first byte | entry |
//! |---|---|
//! | `0xxxxxxx` | integer 0..=127 |
//! | `10xxxxxx` | string of up to 63 bytes |
//! | `110xxxxx` + 1 byte | 13-bit signed integer |
//! | `1110xxxx` + 1 byte | string of up to 4095 bytes |
//! | `11110000` + 4 bytes | string, 32-bit length |
//! | `11110001..=11110100` | 16-, 24-, 32-, 64-bit signed integer (little-endian) |
//!
//! A string that is a canonical decimal integer is stored as an integer, so lookups by
//! value compare integers with integers and strings with strings.
//!
//! Positions handed out by this API are byte offsets of entries; any insertion or deletion
//! invalidates positions after the point of change (the methods return the positions that
//! stay meaningful).

use crate::lpbuf::LpBuf;
use crate::num::parse_i64;

const HEADER: usize = 6;
const EOF: u8 = 0xFF;
/// The count field's value when the count no longer fits in it.
const COUNT_UNKNOWN: u16 = u16::MAX;

const ENC_STR_32: u8 = 0xF0;
const ENC_INT_16: u8 = 0xF1;
const ENC_INT_24: u8 = 0xF2;
const ENC_INT_32: u8 = 0xF3;
const ENC_INT_64: u8 = 0xF4;

/// An entry's value: a listpack keeps integers as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> LpValue<'a> {
    /// The value's bytes; `scratch` holds the digits of an integer.
    pub fn as_bytes<'b>(&'b self, scratch: &'b mut itoa::Buffer) -> &'b [u8] {
        match self {
            LpValue::Int(n) => scratch.format(*n).as_bytes(),
            LpValue::Str(s) => s,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.as_bytes(&mut itoa::Buffer::new()).to_vec()
    }

    /// The value as an integer: stored integers, and strings (never canonical integers,
    /// but e.g. "007" or "+5") are not converted.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            LpValue::Int(n) => Some(*n),
            LpValue::Str(_) => None,
        }
    }

    /// Whether the entry holds exactly these bytes.
    pub fn eq_bytes(&self, other: &[u8]) -> bool {
        match self {
            LpValue::Str(s) => *s == other,
            LpValue::Int(n) => itoa::Buffer::new().format(*n).as_bytes() == other,
        }
    }
}

/// What a value is stored as: the integer form of canonical integers.
#[derive(Clone, Copy)]
enum Encodable<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Encodable<'a> {
    fn of(v: &'a [u8]) -> Self {
        if v.len() <= 20 {
            if let Some(n) = parse_i64(v) {
                return Encodable::Int(n);
            }
        }
        Encodable::Str(v)
    }
}

/// The encoding bytes (and, for integers, the data) of one entry, built on the stack.
struct Header {
    bytes: [u8; 9],
    len: usize,
}

impl Header {
    fn of(value: Encodable<'_>) -> (Header, &[u8]) {
        let mut h = Header {
            bytes: [0; 9],
            len: 0,
        };
        match value {
            Encodable::Int(n) => {
                h.put_int(n);
                (h, &[])
            }
            Encodable::Str(s) => {
                let l = s.len();
                if l < 64 {
                    h.push(0x80 | l as u8);
                } else if l < 4096 {
                    h.push(0xE0 | (l >> 8) as u8);
                    h.push(l as u8);
                } else {
                    h.push(ENC_STR_32);
                    h.extend(&(l as u32).to_le_bytes());
                }
                (h, s)
            }
        }
    }

    fn put_int(&mut self, n: i64) {
        if (0..=127).contains(&n) {
            self.push(n as u8);
        } else if (-4096..=4095).contains(&n) {
            let u = (n as u16) & 0x1FFF;
            self.push(0xC0 | (u >> 8) as u8);
            self.push(u as u8);
        } else if i16::try_from(n).is_ok() {
            self.push(ENC_INT_16);
            self.extend(&(n as i16).to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&n) {
            self.push(ENC_INT_24);
            self.extend(&(n as i32).to_le_bytes()[..3]);
        } else if i32::try_from(n).is_ok() {
            self.push(ENC_INT_32);
            self.extend(&(n as i32).to_le_bytes());
        } else {
            self.push(ENC_INT_64);
            self.extend(&n.to_le_bytes());
        }
    }

    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    fn extend(&mut self, b: &[u8]) {
        self.bytes[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Bytes the backlen of an entry of `len` bytes (encoding + data) takes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Writes the backlen of `len` into `out` (exactly `backlen_size(len)` bytes): the
/// rightmost byte holds the lowest seven bits, each byte but the leftmost has its high bit
/// set to say "more to the left".
fn write_backlen(len: usize, out: &mut [u8]) {
    let n = out.len();
    let mut v = len;
    for (i, b) in out.iter_mut().rev().enumerate() {
        *b = (v & 127) as u8;
        if i + 1 < n {
            *b |= 128;
        }
        v >>= 7;
    }
}

/// A listpack: one allocation behind a thin pointer (8 bytes; the size is the listpack's
/// own header). Cloning copies the allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    buf: LpBuf,
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        let mut scratch = itoa::Buffer::new();
        for v in self.iter() {
            list.entry(&String::from_utf8_lossy(v.as_bytes(&mut scratch)));
        }
        list.finish()
    }
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl Listpack {
    pub fn new() -> Self {
        let mut empty = [0u8; HEADER + 1];
        empty[0..4].copy_from_slice(&((HEADER + 1) as u32).to_le_bytes());
        empty[HEADER] = EOF;
        Listpack {
            buf: LpBuf::new(&empty),
        }
    }

    /// Takes a listpack as found in a file or payload, after checking every entry is
    /// well-formed and within bounds.
    pub fn from_bytes(buf: Vec<u8>) -> Result<Self, &'static str> {
        if buf.len() < HEADER + 1 {
            return Err("listpack too short");
        }
        let total = u32::from_le_bytes(buf[0..4].try_into().unwrap()) as usize;
        if total != buf.len() {
            return Err("listpack size header does not match its length");
        }
        if buf[buf.len() - 1] != EOF {
            return Err("listpack does not end with its terminator");
        }
        let lp = Listpack {
            buf: LpBuf::new(&buf),
        };
        let mut pos = HEADER;
        let mut count = 0usize;
        while lp.buf[pos] != EOF {
            let (enc, data) = lp
                .entry_size_checked(pos)
                .ok_or("listpack entry out of bounds")?;
            let len = enc + data;
            let back = backlen_size(len);
            let end = pos + len + back;
            if end >= lp.buf.len() {
                return Err("listpack entry out of bounds");
            }
            if lp.backlen_before(end) != Some(len) {
                return Err("listpack entry has a wrong back length");
            }
            pos = end;
            count += 1;
        }
        if pos != lp.buf.len() - 1 {
            return Err("listpack terminator before its end");
        }
        let header = lp.header_count();
        if header != COUNT_UNKNOWN && header as usize != count {
            return Err("listpack count header does not match its entries");
        }
        Ok(lp)
    }

    /// The listpack's bytes, as RDB and DUMP store them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..]
    }

    /// Encoded size in bytes (what `list-max-listpack-size` and friends measure).
    pub fn total_bytes(&self) -> usize {
        self.buf.len()
    }

    pub fn heap_size(&self) -> usize {
        self.buf.len()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self.header_count() {
            COUNT_UNKNOWN => self.iter_positions().count(),
            n => n as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.buf[HEADER] == EOF
    }

    pub fn first(&self) -> Option<usize> {
        (self.buf[HEADER] != EOF).then_some(HEADER)
    }

    pub fn last(&self) -> Option<usize> {
        let end = self.buf.len() - 1;
        (end != HEADER).then(|| self.prev_of_end(end))
    }

    pub fn next(&self, pos: usize) -> Option<usize> {
        let next = pos + self.entry_total(pos);
        (self.buf[next] != EOF).then_some(next)
    }

    pub fn prev(&self, pos: usize) -> Option<usize> {
        (pos != HEADER).then(|| self.prev_of_end(pos))
    }

    /// The entry at `index`; negative indexes count from the tail (-1 is the last).
    pub fn seek(&self, index: i64) -> Option<usize> {
        if index >= 0 {
            let mut pos = self.first()?;
            for _ in 0..index {
                pos = self.next(pos)?;
            }
            Some(pos)
        } else {
            let mut pos = self.last()?;
            for _ in 0..(-(index + 1)) {
                pos = self.prev(pos)?;
            }
            Some(pos)
        }
    }

    pub fn get(&self, pos: usize) -> LpValue<'_> {
        let b = &self.buf;
        let e = b[pos];
        let int_at = |n: usize| {
            let mut raw = [0u8; 8];
            raw[..n].copy_from_slice(&b[pos + 1..pos + 1 + n]);
            // Sign-extend from n bytes.
            let shift = 64 - 8 * n as u32;
            (i64::from_le_bytes(raw) << shift) >> shift
        };
        match e {
            0x00..=0x7F => LpValue::Int(e as i64),
            0x80..=0xBF => {
                let l = (e & 0x3F) as usize;
                LpValue::Str(&b[pos + 1..pos + 1 + l])
            }
            0xC0..=0xDF => {
                let u = (((e & 0x1F) as i64) << 8) | b[pos + 1] as i64;
                LpValue::Int(if u >= 4096 { u - 8192 } else { u })
            }
            0xE0..=0xEF => {
                let l = (((e & 0x0F) as usize) << 8) | b[pos + 1] as usize;
                LpValue::Str(&b[pos + 2..pos + 2 + l])
            }
            ENC_STR_32 => {
                let l = u32::from_le_bytes(b[pos + 1..pos + 5].try_into().unwrap()) as usize;
                LpValue::Str(&b[pos + 5..pos + 5 + l])
            }
            ENC_INT_16 => LpValue::Int(int_at(2)),
            ENC_INT_24 => LpValue::Int(int_at(3)),
            ENC_INT_32 => LpValue::Int(int_at(4)),
            ENC_INT_64 => LpValue::Int(int_at(8)),
            _ => unreachable!("invalid listpack encoding byte {e:#x} at {pos}"),
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            front: self.first(),
            back: self.last(),
        }
    }

    pub fn push_back(&mut self, v: &[u8]) {
        let end = self.buf.len() - 1;
        self.insert_encoded(end, Encodable::of(v));
    }

    pub fn push_back_int(&mut self, n: i64) {
        let end = self.buf.len() - 1;
        self.insert_encoded(end, Encodable::Int(n));
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_encoded(HEADER, Encodable::of(v));
    }

    /// Inserts `v` before the entry at `pos` (or at the end when `pos` is the terminator's
    /// offset, `total_bytes() - 1`); returns the position of the new entry.
    pub fn insert(&mut self, pos: usize, v: &[u8]) -> usize {
        self.insert_encoded(pos, Encodable::of(v))
    }

    /// Replaces the entry at `pos`; returns its position (unchanged).
    pub fn replace(&mut self, pos: usize, v: &[u8]) -> usize {
        let old = self.entry_total(pos);
        let (header, data) = Header::of(Encodable::of(v));
        let len = header.len + data.len();
        let back = backlen_size(len);
        self.splice_raw(pos, old, len + back, |out| {
            out[..header.len].copy_from_slice(header.as_slice());
            out[header.len..len].copy_from_slice(data);
            write_backlen(len, &mut out[len..]);
        });
        pos
    }

    /// Bytes the entry at `pos` occupies (encoding, data and backlen).
    pub fn entry_size(&self, pos: usize) -> usize {
        self.entry_total(pos)
    }

    /// Bytes an entry holding `v` would occupy (quicklist nodes measure a replacement with
    /// it before making it).
    pub fn encoded_size(v: &[u8]) -> usize {
        let (header, data) = Header::of(Encodable::of(v));
        let len = header.len + data.len();
        len + backlen_size(len)
    }

    /// Deletes the entry at `pos`; returns the position of the entry that followed it.
    pub fn delete(&mut self, pos: usize) -> Option<usize> {
        let size = self.entry_total(pos);
        self.splice_raw(pos, size, 0, |_| {});
        self.add_count(-1);
        (self.buf[pos] != EOF).then_some(pos)
    }

    /// Deletes `count` entries starting at `index` (fewer if the listpack ends first).
    pub fn delete_range(&mut self, index: usize, count: usize) {
        let Some(start) = self.seek(index as i64) else {
            return;
        };
        let mut end = start;
        let mut deleted = 0;
        while deleted < count && self.buf[end] != EOF {
            end += self.entry_total(end);
            deleted += 1;
        }
        self.splice_raw(start, end - start, 0, |_| {});
        self.add_count(-(deleted as i64));
    }

    /// The first entry equal to `v`, looking at every `skip + 1`-th entry from the first
    /// (`skip = 1` looks at the fields of a field/value listpack).
    pub fn find(&self, v: &[u8], skip: usize) -> Option<usize> {
        let wanted = Encodable::of(v);
        let mut pos = self.first()?;
        loop {
            let hit = match (wanted, self.get(pos)) {
                (Encodable::Int(a), LpValue::Int(b)) => a == b,
                (Encodable::Str(a), LpValue::Str(b)) => a == b,
                _ => false,
            };
            if hit {
                return Some(pos);
            }
            for _ in 0..=skip {
                pos = self.next(pos)?;
            }
        }
    }

    fn header_count(&self) -> u16 {
        u16::from_le_bytes([self.buf[4], self.buf[5]])
    }

    fn add_count(&mut self, delta: i64) {
        let current = self.header_count();
        let n = if current == COUNT_UNKNOWN {
            // Recount only once it may fit again.
            let real = self.iter_positions().count();
            if real < COUNT_UNKNOWN as usize {
                real as u16
            } else {
                COUNT_UNKNOWN
            }
        } else {
            let n = current as i64 + delta;
            if n >= COUNT_UNKNOWN as i64 {
                COUNT_UNKNOWN
            } else {
                n as u16
            }
        };
        self.buf.slice_mut(4..6).copy_from_slice(&n.to_le_bytes());
    }

    fn insert_encoded(&mut self, pos: usize, v: Encodable<'_>) -> usize {
        let (header, data) = Header::of(v);
        let len = header.len + data.len();
        let back = backlen_size(len);
        self.splice_raw(pos, 0, len + back, |out| {
            out[..header.len].copy_from_slice(header.as_slice());
            out[header.len..len].copy_from_slice(data);
            write_backlen(len, &mut out[len..]);
        });
        self.add_count(1);
        pos
    }

    /// Replaces `remove` bytes at `pos` with `insert` bytes that `fill` writes, keeping the
    /// allocation tight (a listpack grows by what it needs, as Redis's realloc does).
    fn splice_raw(
        &mut self,
        pos: usize,
        remove: usize,
        insert: usize,
        fill: impl FnOnce(&mut [u8]),
    ) {
        let old_len = self.buf.len();
        if insert > remove {
            self.buf.resize(old_len + insert - remove);
            self.buf.copy_within(pos + remove..old_len, pos + insert);
        } else if remove > insert {
            self.buf.copy_within(pos + remove..old_len, pos + insert);
            self.buf.resize(old_len - (remove - insert));
        }
        fill(self.buf.slice_mut(pos..pos + insert));
    }

    /// (encoding bytes, data bytes) of the entry at `pos`, within bounds of the buffer.
    fn entry_size_checked(&self, pos: usize) -> Option<(usize, usize)> {
        let b = &self.buf;
        let e = *b.get(pos)?;
        let sizes = match e {
            0x00..=0x7F => (1, 0),
            0x80..=0xBF => (1, (e & 0x3F) as usize),
            0xC0..=0xDF => (2, 0),
            0xE0..=0xEF => (2, (((e & 0x0F) as usize) << 8) | *b.get(pos + 1)? as usize),
            ENC_STR_32 => (
                5,
                u32::from_le_bytes(b.get(pos + 1..pos + 5)?.try_into().ok()?) as usize,
            ),
            ENC_INT_16 => (3, 0),
            ENC_INT_24 => (4, 0),
            ENC_INT_32 => (5, 0),
            ENC_INT_64 => (9, 0),
            _ => return None,
        };
        let end = pos.checked_add(sizes.0)?.checked_add(sizes.1)?;
        (end < b.len()).then_some(sizes)
    }

    /// Size of the entry at `pos` including its backlen.
    fn entry_total(&self, pos: usize) -> usize {
        let (enc, data) = self
            .entry_size_checked(pos)
            .expect("listpack position is an entry");
        let len = enc + data;
        len + backlen_size(len)
    }

    /// The backlen that ends just before `end`.
    fn backlen_before(&self, end: usize) -> Option<usize> {
        let mut v = 0usize;
        let mut shift = 0;
        let mut p = end;
        loop {
            p = p.checked_sub(1)?;
            if p < HEADER || shift > 28 {
                return None;
            }
            let b = self.buf[p];
            v |= ((b & 127) as usize) << shift;
            if b & 128 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }

    /// The entry that ends at `end` (an entry's position or the terminator's).
    fn prev_of_end(&self, end: usize) -> usize {
        let len = self.backlen_before(end).expect("listpack backlen");
        end - backlen_size(len) - len
    }

    fn iter_positions(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.first(), |&p| self.next(p))
    }
}

/// Iterates a listpack's values from either end.
pub struct Iter<'a> {
    lp: &'a Listpack,
    front: Option<usize>,
    back: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        let pos = self.front?;
        if Some(pos) == self.back {
            self.front = None;
            self.back = None;
        } else {
            self.front = self.lp.next(pos);
        }
        Some(self.lp.get(pos))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<LpValue<'a>> {
        let pos = self.back?;
        if Some(pos) == self.front {
            self.front = None;
            self.back = None;
        } else {
            self.back = self.lp.prev(pos);
        }
        Some(self.lp.get(pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_vec()).collect()
    }

    #[test]
    fn empty_listpack_is_seven_bytes() {
        let lp = Listpack::new();
        assert_eq!(lp.as_bytes(), &[7, 0, 0, 0, 0, 0, 0xFF]);
        assert!(lp.is_empty());
        assert_eq!(lp.first(), None);
        assert_eq!(lp.last(), None);
    }

    #[test]
    fn encodings_are_redis_listpack_bytes() {
        // Entries as Redis lays them out: encoding, data, backlen. These are the bytes
        // inside the DUMP payload of `RPUSH l 5 -1 ab 1000` on redis-server 7.0.
        let mut lp = Listpack::new();
        lp.push_back(b"5"); // 7-bit uint
        lp.push_back(b"-1"); // 13-bit int: 0xDF 0xFF
        lp.push_back(b"ab"); // 6-bit string
        lp.push_back(b"1000"); // 13-bit int: 0xC3 0xE8
        assert_eq!(
            &lp.as_bytes()[HEADER..],
            &[5, 1, 0xDF, 0xFF, 2, 0x82, b'a', b'b', 3, 0xC3, 0xE8, 2, 0xFF]
        );
        assert_eq!(lp.len(), 4);
        assert_eq!(lp.total_bytes(), lp.as_bytes().len());
    }

    #[test]
    fn integers_of_every_width_round_trip() {
        let mut lp = Listpack::new();
        let ns = [
            0,
            127,
            128,
            -4096,
            4095,
            -4097,
            i16::MIN as i64,
            i16::MAX as i64 + 1,
            -(1 << 23),
            (1 << 23) - 1,
            1 << 23,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MIN,
            i64::MAX,
        ];
        for n in ns {
            lp.push_back(n.to_string().as_bytes());
        }
        let got: Vec<i64> = lp.iter().map(|v| v.as_int().unwrap()).collect();
        assert_eq!(got, ns);
        let back: Vec<i64> = lp.iter().rev().map(|v| v.as_int().unwrap()).collect();
        assert_eq!(back, ns.iter().rev().copied().collect::<Vec<_>>());
    }

    #[test]
    fn non_canonical_integers_stay_strings() {
        let mut lp = Listpack::new();
        for s in ["007", "+5", "-0", " 1", "99999999999999999999"] {
            lp.push_back(s.as_bytes());
        }
        assert!(lp.iter().all(|v| matches!(v, LpValue::Str(_))));
        assert_eq!(lp.find(b"007", 0), lp.first());
        assert_eq!(lp.find(b"7", 0), None);
    }

    #[test]
    fn long_strings_use_wider_lengths_and_backlens() {
        let mut lp = Listpack::new();
        let s4000 = vec![b'x'; 4000];
        let s70000 = vec![b'y'; 70000];
        lp.push_back(&s4000);
        lp.push_back(&s70000);
        lp.push_front(b"head");
        assert_eq!(
            values(&lp),
            vec![b"head".to_vec(), s4000.clone(), s70000.clone()]
        );
        let back: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
        assert_eq!(back, vec![s70000, s4000, b"head".to_vec()]);
        assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
    }

    #[test]
    fn entry_sizes_match_the_bytes() {
        let mut lp = Listpack::new();
        for v in [
            &b"5"[..],
            b"-1",
            b"ab",
            b"1000",
            &[b'x'; 70][..],
            &[b'y'; 5000][..],
        ] {
            let before = lp.total_bytes();
            let pos = lp.insert(lp.total_bytes() - 1, v);
            assert_eq!(lp.total_bytes() - before, Listpack::encoded_size(v));
            assert_eq!(lp.entry_size(pos), Listpack::encoded_size(v));
        }
    }

    #[test]
    fn find_with_skip_looks_at_fields_only() {
        let mut lp = Listpack::new();
        for s in ["f1", "v", "v", "f2", "f3", "10"] {
            lp.push_back(s.as_bytes());
        }
        let pos = lp.find(b"v", 1).unwrap();
        assert_eq!(lp.get(pos), LpValue::Str(b"v"));
        assert_eq!(lp.find(b"10", 1), None);
        assert_eq!(lp.find(b"10", 0), lp.last());
        let f3 = lp.find(b"f3", 1).unwrap();
        assert_eq!(lp.get(lp.next(f3).unwrap()), LpValue::Int(10));
    }

    #[test]
    fn corrupt_bytes_are_refused() {
        let mut lp = Listpack::new();
        lp.push_back(b"hello");
        lp.push_back(b"12345");
        let good = lp.as_bytes().to_vec();
        assert!(Listpack::from_bytes(good.clone()).is_ok());
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            // Must not panic; most flips are detected.
            let _ = Listpack::from_bytes(bad);
        }
        let mut short = good.clone();
        short.pop();
        assert!(Listpack::from_bytes(short).is_err());
        let mut wrong_count = good;
        wrong_count[4] = 3;
        assert!(Listpack::from_bytes(wrong_count).is_err());
    }

    #[derive(Debug, Clone)]
    enum Op {
        PushBack(Vec<u8>),
        PushFront(Vec<u8>),
        Insert(usize, Vec<u8>),
        Replace(usize, Vec<u8>),
        Delete(usize),
        DeleteRange(usize, usize),
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            (-5000i64..5000).prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..80),
            (0usize..3).prop_map(|k| vec![b'z'; [100, 5000, 20000][k]]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            value().prop_map(Op::PushBack),
            value().prop_map(Op::PushFront),
            (any::<usize>(), value()).prop_map(|(i, v)| Op::Insert(i, v)),
            (any::<usize>(), value()).prop_map(|(i, v)| Op::Replace(i, v)),
            any::<usize>().prop_map(Op::Delete),
            (any::<usize>(), 0usize..4).prop_map(|(i, n)| Op::DeleteRange(i, n)),
        ]
    }

    proptest! {
        /// Random edits agree with a Vec model, in both directions, and the bytes stay a
        /// valid listpack.
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec(op(), 0..60)) {
            let mut lp = Listpack::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for op in ops {
                match op {
                    Op::PushBack(v) => { lp.push_back(&v); model.push(v); }
                    Op::PushFront(v) => { lp.push_front(&v); model.insert(0, v); }
                    Op::Insert(i, v) => {
                        let i = i % (model.len() + 1);
                        let pos = lp.seek(i as i64).unwrap_or(lp.total_bytes() - 1);
                        let at = lp.insert(pos, &v);
                        prop_assert!(lp.get(at).eq_bytes(&v));
                        model.insert(i, v);
                    }
                    Op::Replace(i, v) if !model.is_empty() => {
                        let i = i % model.len();
                        let pos = lp.seek(i as i64).unwrap();
                        lp.replace(pos, &v);
                        model[i] = v;
                    }
                    Op::Delete(i) if !model.is_empty() => {
                        let i = i % model.len();
                        let pos = lp.seek(-(model.len() as i64) + i as i64).unwrap();
                        lp.delete(pos);
                        model.remove(i);
                    }
                    Op::DeleteRange(i, n) if !model.is_empty() => {
                        let i = i % model.len();
                        lp.delete_range(i, n);
                        let end = (i + n).min(model.len());
                        model.drain(i..end);
                    }
                    _ => {}
                }
                prop_assert_eq!(lp.len(), model.len());
            }
            prop_assert_eq!(values(&lp), model.clone());
            let back: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_vec()).collect();
            let mut rev = model.clone();
            rev.reverse();
            prop_assert_eq!(back, rev);
            for (i, v) in model.iter().enumerate() {
                prop_assert!(lp.get(lp.seek(i as i64).unwrap()).eq_bytes(v));
            }
            let copy = Listpack::from_bytes(lp.as_bytes().to_vec());
            prop_assert!(copy.is_ok());
        }

        /// Arbitrary bytes never make the validator panic.
        #[test]
        fn validator_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Listpack::from_bytes(bytes);
        }
    }
}
