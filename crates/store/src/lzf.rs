//! LZF, the small LZ77 compressor Redis uses for quicklist nodes (`list-compress-depth`)
//! and for strings in RDB files. Only the stream format matters for compatibility: any
//! valid stream decompresses the same everywhere, so this compressor's choices of matches
//! need not equal liblzf's.
//!
//! The stream is a sequence of chunks, each starting with a control byte `c`:
//! - `c < 32`: a literal run; the next `c + 1` bytes are copied as they are.
//! - otherwise a back-reference: length `c >> 5` (if 7, add the next byte), offset
//!   `(c & 31) << 8 | next byte`; copy `length + 2` bytes starting `offset + 1` bytes
//!   back in the output (the copy may overlap what it writes, as in run-length cases).
//!
//! So references reach at most 8192 bytes back and copy 3 to 264 bytes.

/// Longest literal run one control byte can announce.
const MAX_LITERAL: usize = 32;
/// Farthest a back-reference can reach.
const MAX_OFFSET: usize = 1 << 13;
/// Longest match a back-reference can copy.
const MAX_MATCH: usize = 7 + 255 + 2;
const HASH_BITS: u32 = 14;

fn hash3(b: &[u8]) -> usize {
    let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
    (v.wrapping_mul(2654435761) >> (32 - HASH_BITS)) as usize
}

/// Compresses `input`; None when the result would be longer than `max_len` bytes (callers
/// pass the size below which compressing is worth it).
pub fn compress(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(max_len.min(input.len()));
    // Last position (+1, so that 0 means empty) where each 3-byte hash was seen.
    let mut table = vec![0u32; 1 << HASH_BITS];
    let mut literal_start = 0;
    let mut ip = 0;
    while ip + 2 < input.len() {
        let h = hash3(&input[ip..]);
        let candidate = table[h] as usize;
        table[h] = (ip + 1) as u32;
        if candidate > 0 {
            let candidate = candidate - 1;
            let offset = ip - candidate - 1;
            if offset < MAX_OFFSET && input[candidate..candidate + 3] == input[ip..ip + 3] {
                let limit = (input.len() - ip).min(MAX_MATCH);
                let mut len = 3;
                while len < limit && input[candidate + len] == input[ip + len] {
                    len += 1;
                }
                flush_literals(&input[literal_start..ip], &mut out);
                let encoded = len - 2;
                if encoded < 7 {
                    out.push(((encoded as u8) << 5) | (offset >> 8) as u8);
                } else {
                    out.push((7 << 5) | (offset >> 8) as u8);
                    out.push((encoded - 7) as u8);
                }
                out.push(offset as u8);
                if out.len() > max_len {
                    return None;
                }
                ip += len;
                literal_start = ip;
                continue;
            }
        }
        ip += 1;
    }
    flush_literals(&input[literal_start..], &mut out);
    (out.len() <= max_len).then_some(out)
}

fn flush_literals(mut run: &[u8], out: &mut Vec<u8>) {
    while !run.is_empty() {
        let n = run.len().min(MAX_LITERAL);
        out.push((n - 1) as u8);
        out.extend_from_slice(&run[..n]);
        run = &run[n..];
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

    proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000)) {
            if let Some(packed) = compress(&data, data.len() + data.len() / 32 + 2) {
                prop_assert_eq!(decompress(&packed, data.len()).unwrap(), data);
            }
        }
    }
}
