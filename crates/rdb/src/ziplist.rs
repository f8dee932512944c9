//! Readers for the two compact encodings that RDB files before version 10 carry: the
//! ziplist (lists, hashes and sorted sets up to Redis 6.2) and the zipmap (hashes up to
//! Redis 2.4). Vireo never writes them; loading converts their entries to its own
//! encodings. Every length is checked against the blob, so a corrupt blob is refused,
//! never read past.
//!
//! Ziplist: a 4-byte total size, a 4-byte offset of the last entry, a 2-byte count
//! (little-endian), the entries, and a 0xFF terminator. An entry is the previous entry's
//! size (1 byte below 254, else 0xFE and 4 bytes), an encoding, and its data:
//!
//! | encoding | entry |
//! |---|---|
//! | `00xxxxxx` | string of up to 63 bytes |
//! | `01xxxxxx` + 1 byte | string, 14-bit big-endian length |
//! | `10000000` + 4 bytes | string, 32-bit big-endian length |
//! | `11000000`, `11010000`, `11100000` | 16-, 32-, 64-bit integer |
//! | `11110000`, `11111110` | 24-bit, 8-bit integer |
//! | `1111xxxx` (xxxx 1..=13) | the integer xxxx - 1 |
//!
//! Zipmap: a 1-byte count, then field and value each as a length (1 byte below 254, else
//! 0xFE and 4 little-endian bytes) and the bytes, the value's length followed by a byte
//! of free space to skip after it; a 0xFF terminator.

/// One ziplist entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Entry<'_> {
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Entry::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            Entry::Str(s) => s.to_vec(),
        }
    }
}

const ZIPLIST_HEADER: usize = 10;
const END: u8 = 0xFF;

fn take<'a>(blob: &'a [u8], pos: &mut usize, n: usize) -> Option<&'a [u8]> {
    let end = pos.checked_add(n)?;
    let bytes = blob.get(*pos..end)?;
    *pos = end;
    Some(bytes)
}

/// The entries of a ziplist; None if it is malformed.
pub fn ziplist_entries(blob: &[u8]) -> Option<Vec<Entry<'_>>> {
    if blob.len() < ZIPLIST_HEADER + 1 {
        return None;
    }
    let total = u32::from_le_bytes(blob[0..4].try_into().ok()?) as usize;
    let tail = u32::from_le_bytes(blob[4..8].try_into().ok()?) as usize;
    let count = u16::from_le_bytes(blob[8..10].try_into().ok()?) as usize;
    if total != blob.len() || blob[blob.len() - 1] != END {
        return None;
    }
    let mut pos = ZIPLIST_HEADER;
    let mut prev_size = 0usize;
    let mut last_start = ZIPLIST_HEADER;
    let mut entries = Vec::new();
    while *blob.get(pos)? != END {
        let start = pos;
        let prevlen = match take(blob, &mut pos, 1)?[0] {
            254 => u32::from_le_bytes(take(blob, &mut pos, 4)?.try_into().ok()?) as usize,
            b => b as usize,
        };
        if prevlen != prev_size {
            return None;
        }
        let enc = take(blob, &mut pos, 1)?[0];
        let entry = match enc >> 6 {
            0 => Entry::Str(take(blob, &mut pos, (enc & 0x3F) as usize)?),
            1 => {
                let low = take(blob, &mut pos, 1)?[0] as usize;
                Entry::Str(take(blob, &mut pos, ((enc & 0x3F) as usize) << 8 | low)?)
            }
            2 if enc == 0x80 => {
                let len = u32::from_be_bytes(take(blob, &mut pos, 4)?.try_into().ok()?);
                Entry::Str(take(blob, &mut pos, len as usize)?)
            }
            2 => return None,
            _ => Entry::Int(read_int(blob, &mut pos, enc)?),
        };
        entries.push(entry);
        last_start = start;
        prev_size = pos - start;
    }
    if pos != blob.len() - 1 {
        return None;
    }
    if !entries.is_empty() && tail != last_start {
        return None;
    }
    if count != u16::MAX as usize && count != entries.len() {
        return None;
    }
    Some(entries)
}

fn read_int(blob: &[u8], pos: &mut usize, enc: u8) -> Option<i64> {
    Some(match enc {
        0xC0 => i16::from_le_bytes(take(blob, pos, 2)?.try_into().ok()?) as i64,
        0xD0 => i32::from_le_bytes(take(blob, pos, 4)?.try_into().ok()?) as i64,
        0xE0 => i64::from_le_bytes(take(blob, pos, 8)?.try_into().ok()?),
        0xF0 => {
            let b = take(blob, pos, 3)?;
            (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as i64
        }
        0xFE => take(blob, pos, 1)?[0] as i8 as i64,
        0xF1..=0xFD => (enc & 0x0F) as i64 - 1,
        _ => return None,
    })
}

/// The (field, value) pairs of a zipmap; None if it is malformed.
pub fn zipmap_pairs(blob: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut pos = 1;
    let mut pairs = Vec::new();
    loop {
        let field_len = match zipmap_len(blob, &mut pos)? {
            None => break,
            Some(len) => len,
        };
        let field = take(blob, &mut pos, field_len)?;
        let value_len = zipmap_len(blob, &mut pos)??;
        let free = take(blob, &mut pos, 1)?[0] as usize;
        let value = take(blob, &mut pos, value_len)?;
        take(blob, &mut pos, free)?;
        pairs.push((field, value));
    }
    (pos == blob.len()).then_some(pairs)
}

/// A zipmap length; Some(None) at the terminator.
fn zipmap_len(blob: &[u8], pos: &mut usize) -> Option<Option<usize>> {
    match take(blob, pos, 1)?[0] {
        END => Some(None),
        254 => {
            let len = u32::from_le_bytes(take(blob, pos, 4)?.try_into().ok()?);
            Some(Some(len as usize))
        }
        b => Some(Some(b as usize)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist as Redis 6 writes it for RPUSH l a 1 1000 (by the format above).
    fn sample() -> Vec<u8> {
        let entries: Vec<Vec<u8>> = vec![vec![0x01, b'a'], vec![0xF2], vec![0xC0, 0xE8, 0x03]];
        let mut body = Vec::new();
        let mut prev = 0;
        let mut last = 0;
        for e in &entries {
            last = ZIPLIST_HEADER + body.len();
            body.push(prev as u8);
            body.extend_from_slice(e);
            prev = e.len() + 1;
        }
        let total = ZIPLIST_HEADER + body.len() + 1;
        let mut blob = Vec::new();
        blob.extend_from_slice(&(total as u32).to_le_bytes());
        blob.extend_from_slice(&(last as u32).to_le_bytes());
        blob.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        blob.extend_from_slice(&body);
        blob.push(END);
        blob
    }

    #[test]
    fn reads_a_ziplist() {
        let blob = sample();
        assert_eq!(
            ziplist_entries(&blob).unwrap(),
            vec![Entry::Str(b"a"), Entry::Int(1), Entry::Int(1000)]
        );
        for cut in 0..blob.len() {
            assert!(ziplist_entries(&blob[..cut]).is_none());
        }
    }

    #[test]
    fn reads_a_zipmap() {
        let blob = [
            2, 3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', 0, 1, b'x', 1, 0, b'y', END,
        ];
        assert_eq!(
            zipmap_pairs(&blob).unwrap(),
            vec![(&b"foo"[..], &b"bar"[..]), (&b"x"[..], &b"y"[..])]
        );
        assert!(zipmap_pairs(&blob[..blob.len() - 1]).is_none());
    }
}
