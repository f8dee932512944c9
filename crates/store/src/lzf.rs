//! LZF, the small LZ77 compressor Redis uses for quicklist nodes (`list-compress-depth`)
//! and for strings in RDB files and DUMP payloads.
//!
//! The stream is a sequence of chunks, each starting with a control byte `c`:
//! - `c < 32`: a literal run; the next `c + 1` bytes are copied as they are.
//! - otherwise a back-reference: length `c >> 5` (if 7, add the next byte), offset
//!   `(c & 31) << 8 | next byte`; copy `length + 2` bytes starting `offset + 1` bytes
//!   back in the output (the copy may overlap what it writes, as in run-length cases).
//!
//! So references reach at most 8192 bytes back and copy 3 to 264 bytes.
//!
//! Any valid stream decompresses the same everywhere, but DUMP payloads (and which
//! quicklist nodes end up compressed) must be byte for byte what Redis produces, so the
//! compressor makes exactly the choices of the liblzf build Redis ships: a 65536-slot
//! table remembers, for each hash of three bytes, the last position where they were seen.
//! At each position the table's previous occupant is a match candidate if it lies within
//! 8192 bytes behind, is not the first byte of the input, and really starts with the same
//! three bytes; the match then runs as far as it goes, up to 264 bytes and never into the
//! last two bytes of the input. After a match, only its last two positions are entered in
//! the table. Literal runs hold up to 32 bytes. The output budget is checked at the same
//! points and with the same slack as liblzf checks it, so both give up on the same inputs.

use std::cell::RefCell;

const HASH_LOG: u32 = 16;
const MAX_LITERAL: usize = 32;
const MAX_OFFSET: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// The table slot of the three bytes ending at `v`'s low 24 bits.
fn slot(v: u32) -> usize {
    let h = (v >> (24 - HASH_LOG)).wrapping_sub(v.wrapping_mul(5));
    (h & ((1 << HASH_LOG) - 1)) as usize
}

/// Compresses `input` into at most `max_len` bytes; None when it does not fit (or
/// either is empty), as liblzf returns 0. Callers pass the budget Redis passes, since
/// liblzf's slack makes the outcome depend on it.
pub fn compress(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    if input.is_empty() || max_len == 0 || input.len() >= (u32::MAX / 2) as usize {
        return None;
    }
    TABLE.with_borrow_mut(|(table, base)| {
        // Entries are `base + position + 1` of the call that wrote them: anything at or
        // below this call's base is an earlier call's and reads as "never seen". So the
        // 256 KB table is cleared only when the base would wrap, not on every call (a
        // DUMP of many short strings would otherwise spend its time zeroing it).
        if table.is_empty() || u64::from(*base) + input.len() as u64 + 2 > u64::from(u32::MAX) {
            table.clear();
            table.resize(1 << HASH_LOG, 0);
            *base = 0;
        }
        let out = compress_with(input, max_len, table, *base);
        *base += input.len() as u32 + 1;
        out
    })
}

thread_local! {
    /// The hash table, kept between calls, and the base its current entries are above.
    static TABLE: RefCell<(Vec<u32>, u32)> = const { RefCell::new((Vec::new(), 0)) };
}

fn compress_with(input: &[u8], max_len: usize, table: &mut [u32], base: u32) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out: Vec<u8> = Vec::with_capacity(max_len.min(n + n / 16 + 8));
    // `out` always ends with the control byte reserved for the current literal run.
    out.push(0);
    let mut lit = 0usize;
    let mut ip = 0usize;
    let byte = |i: usize| -> u32 { input.get(i).copied().unwrap_or(0) as u32 };
    let mut hval = byte(0) << 8 | byte(1);
    while ip + 2 < n {
        hval = hval << 8 | byte(ip + 2);
        let s = slot(hval);
        // Position + 1 of the slot's previous occupant in this call, 0 if none (position 0
        // never matches anyway).
        let candidate = table[s].saturating_sub(base) as usize;
        table[s] = base + (ip + 1) as u32;
        let matched = candidate > 1 && {
            let r = candidate - 1;
            ip - r - 1 < MAX_OFFSET && input[r..r + 3] == input[ip..ip + 3]
        };
        if !matched {
            if out.len() >= max_len {
                return None;
            }
            push_literal(&mut out, &mut lit, input[ip]);
            ip += 1;
            continue;
        }
        let r = candidate - 1;
        let off = ip - r - 1;
        // liblzf's two-step budget check, with its slack.
        if out.len() + 4 >= max_len && out.len() - usize::from(lit == 0) + 4 >= max_len {
            return None;
        }
        if lit > 0 {
            close_run(&mut out, lit);
        } else {
            out.pop();
        }
        let len = match_len(input, r, ip);
        let encoded = len - 2;
        if encoded < 7 {
            out.push(((off >> 8) + (encoded << 5)) as u8);
        } else {
            out.push(((off >> 8) + (7 << 5)) as u8);
            out.push((encoded - 7) as u8);
        }
        out.push(off as u8);
        lit = 0;
        out.push(0);
        ip += len;
        if ip + 2 >= n {
            break;
        }
        // Enter the match's last two positions.
        ip -= 2;
        hval = byte(ip) << 8 | byte(ip + 1);
        for _ in 0..2 {
            hval = hval << 8 | byte(ip + 2);
            table[slot(hval)] = base + (ip + 1) as u32;
            ip += 1;
        }
    }
    // At most three bytes can still come: liblzf checks once for all of them.
    if out.len() + 3 > max_len {
        return None;
    }
    for &byte in &input[ip..] {
        push_literal(&mut out, &mut lit, byte);
    }
    if lit > 0 {
        close_run(&mut out, lit);
    } else {
        out.pop();
    }
    Some(out)
}

/// Appends one literal byte to the open run of `lit` bytes, closing it (and opening the
/// next) when it reaches the longest run a control byte can announce.
fn push_literal(out: &mut Vec<u8>, lit: &mut usize, byte: u8) {
    *lit += 1;
    out.push(byte);
    if *lit == MAX_LITERAL {
        close_run(out, *lit);
        *lit = 0;
        out.push(0);
    }
}

/// Writes the control byte of the literal run of `lit` bytes that ends `out`.
fn close_run(out: &mut [u8], lit: usize) {
    let at = out.len() - lit - 1;
    out[at] = (lit - 1) as u8;
}

/// How many bytes match at `r` and `ip` (at least the three already compared), as liblzf
/// counts them: up to `MAX_REF`, and not into the last two bytes of the input, except
/// that its unrolled first step of sixteen bytes may reach them.
fn match_len(input: &[u8], r: usize, ip: usize) -> usize {
    let max = (input.len() - ip - 2).min(MAX_REF);
    let mut len = 2;
    if max > 16 {
        for _ in 0..16 {
            len += 1;
            if input[r + len] != input[ip + len] {
                return len;
            }
        }
    }
    loop {
        len += 1;
        if !(len < max && input[r + len] == input[ip + len]) {
            return len;
        }
    }
}

/// Decompresses a stream that must expand to exactly `len` bytes; None for a malformed
/// stream (a reference before the start, a run past the end, a different length).
pub fn decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1)?;
            if out.len() + run.len() > len {
                return None;
            }
            out.extend_from_slice(run);
            ip += ctrl + 1;
            continue;
        }
        let mut n = ctrl >> 5;
        if n == 7 {
            n += *input.get(ip)? as usize;
            ip += 1;
        }
        let offset = ((ctrl & 31) << 8 | *input.get(ip)? as usize) + 1;
        ip += 1;
        n += 2;
        if offset > out.len() || out.len() + n > len {
            return None;
        }
        let from = out.len() - offset;
        if offset >= n {
            out.extend_from_within(from..from + n);
        } else {
            for i in 0..n {
                out.push(out[from + i]);
            }
        }
    }
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeats_compress() {
        let input = vec![b'a'; 100];
        let packed = compress(&input, 96).expect("compressible");
        assert!(packed.len() < 10);
        assert_eq!(decompress(&packed, 100).unwrap(), input);
    }

    #[test]
    fn incompressible_input_gives_up() {
        let input: Vec<u8> = (0..=255u8).collect();
        assert_eq!(compress(&input, 252), None);
    }

    #[test]
    fn repetitive_data_shrinks_and_round_trips() {
        let data: Vec<u8> = b"hello world, "
            .iter()
            .copied()
            .cycle()
            .take(5000)
            .collect();
        let packed = compress(&data, data.len()).expect("compressible");
        assert!(packed.len() < 200, "{} bytes", packed.len());
        assert_eq!(decompress(&packed, data.len()).unwrap(), data);
        let zeros = vec![0u8; 10_000];
        let packed = compress(&zeros, zeros.len()).unwrap();
        assert_eq!(decompress(&packed, zeros.len()).unwrap(), zeros);
    }

    #[test]
    fn incompressible_data_is_refused_within_the_budget() {
        let mut x = 0x1234_5678u32;
        let data: Vec<u8> = (0..4000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        assert_eq!(compress(&data, data.len() - 8), None);
    }

    /// A stream written by Redis itself: the LZF string in the DUMP payload of
    /// `SET k <"abcdefghij" x 10>` from redis-server 7.0 (rdbcompression on).
    #[test]
    fn decodes_a_stream_written_by_redis() {
        let stream: &[u8] = &[
            0x0a, b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', b'i', b'j', b'a', 0xe0, 0x4e,
            0x09, 0x01, b'i', b'j',
        ];
        let expected: Vec<u8> = b"abcdefghij".repeat(10);
        assert_eq!(decompress(stream, 100).unwrap(), expected);
    }

    #[test]
    fn malformed_streams_are_refused() {
        assert_eq!(decompress(&[0x20, 0x00], 3), None); // reference before the start
        assert_eq!(decompress(&[0x05, b'a'], 6), None); // run past the end of input
        assert_eq!(decompress(&[0x00, b'a'], 2), None); // wrong length
        assert_eq!(decompress(&[0x01, b'a', b'b'], 1), None); // longer than announced
    }

    /// Byte for byte what Redis 7.0 writes for `SET k <"abcdefghij" x 10>` (the stream of
    /// `decodes_a_stream_written_by_redis`), with the budget Redis passes (length - 4).
    #[test]
    fn compresses_as_redis_does() {
        let expected: &[u8] = &[
            0x0a, b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', b'i', b'j', b'a', 0xe0, 0x4e,
            0x09, 0x01, b'i', b'j',
        ];
        let input = b"abcdefghij".repeat(10);
        assert_eq!(compress(&input, input.len() - 4).unwrap(), expected);
    }

    /// The table is kept between calls: what one call leaves in it never changes what
    /// another produces.
    #[test]
    fn output_does_not_depend_on_earlier_calls() {
        let a: Vec<u8> = b"abcdefghij".repeat(10);
        let b: Vec<u8> = b"jihgfedcba0123".repeat(40);
        let first = compress(&a, a.len()).unwrap();
        compress(&b, b.len()).unwrap();
        compress(&a[..57], 57);
        assert_eq!(compress(&a, a.len()).unwrap(), first);
    }

    proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000)) {
            if let Some(packed) = compress(&data, data.len() + data.len() / 32 + 2) {
                prop_assert_eq!(decompress(&packed, data.len()).unwrap(), data);
            }
        }
    }
}
