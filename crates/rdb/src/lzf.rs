//! The LZF compressor whose output Redis writes: DUMP must be byte for byte what Redis 7
//! writes, so this compressor makes exactly the choices of the liblzf build Redis ships
//! (the stream format itself is described in `vireo_store::lzf`, which also decompresses).
//!
//! Those choices: a 65536-slot table remembers, for each hash of three bytes, the last
//! position where they were seen. At each position the table's previous occupant is a
//! match candidate if it lies within 8192 bytes behind, is not the first byte of the
//! input, and really starts with the same three bytes; the match then runs as far as it
//! goes, up to 264 bytes and never into the last two bytes of the input. After a match,
//! only its last two positions are entered in the table. Literal runs hold up to 32
//! bytes. The output budget is checked at the same points and with the same slack as
//! liblzf checks it, so both give up on the same inputs.

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
/// either is empty), as liblzf returns 0.
pub fn compress(input: &[u8], max_len: usize) -> Option<Vec<u8>> {
    if input.is_empty() || max_len == 0 {
        return None;
    }
    let n = input.len();
    // Positions + 1, so that 0 means "never seen" (position 0 never matches anyway).
    let mut table = vec![0u32; 1 << HASH_LOG];
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
        let candidate = table[s] as usize;
        table[s] = (ip + 1) as u32;
        let matched = candidate > 1 && {
            let r = candidate - 1;
            ip - r - 1 < MAX_OFFSET && input[r..r + 3] == input[ip..ip + 3]
        };
        if !matched {
            if out.len() >= max_len {
                return None;
            }
            lit += 1;
            out.push(input[ip]);
            ip += 1;
            if lit == MAX_LITERAL {
                close_run(&mut out, lit);
                lit = 0;
                out.push(0);
            }
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
            table[slot(hval)] = (ip + 1) as u32;
            ip += 1;
        }
    }
    // At most three bytes can still come: liblzf checks once for all of them.
    if out.len() + 3 > max_len {
        return None;
    }
    while ip < n {
        lit += 1;
        out.push(input[ip]);
        ip += 1;
        if lit == MAX_LITERAL {
            close_run(&mut out, lit);
            lit = 0;
            out.push(0);
        }
    }
    if lit > 0 {
        close_run(&mut out, lit);
    } else {
        out.pop();
    }
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeats_compress() {
        let input = vec![b'a'; 100];
        let packed = compress(&input, 96).expect("compressible");
        assert!(packed.len() < 10);
        assert_eq!(vireo_store::lzf::decompress(&packed, 100).unwrap(), input);
    }

    #[test]
    fn incompressible_input_gives_up() {
        let input: Vec<u8> = (0..=255u8).collect();
        assert_eq!(compress(&input, 252), None);
    }

    proptest! {
        #[test]
        fn round_trips(input in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 1..3000)) {
            if let Some(packed) = compress(&input, input.len() + 64) {
                prop_assert_eq!(vireo_store::lzf::decompress(&packed, input.len()).unwrap(), input);
            }
        }
    }
}
