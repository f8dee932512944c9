//! Bit operations on string values (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD),
//! free of any protocol.
//!
//! A string is a bitmap read most-significant bit first: bit 0 is the high bit of byte 0.
//! Bits past the end of the string read as 0; writers grow the string with zero bytes
//! first. BITFIELD reads and writes integers of 1 to 64 bits at any bit offset, with
//! Redis's overflow policies (WRAP, SAT, FAIL) applied to SET and INCRBY.

/// Whether `offset` is counted in bytes or in bits (the BYTE|BIT option of BITCOUNT and
/// BITPOS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Byte,
    Bit,
}

pub fn get_bit(s: &[u8], offset: u64) -> bool {
    let Some(&byte) = s.get((offset >> 3) as usize) else {
        return false;
    };
    byte & (0x80 >> (offset & 7)) != 0
}

/// Sets or clears bit `offset` and returns its previous value. The string must already
/// hold the bit (see [`grow_for_bit`]).
pub fn set_bit(buf: &mut [u8], offset: u64, on: bool) -> bool {
    let byte = &mut buf[(offset >> 3) as usize];
    let mask = 0x80 >> (offset & 7);
    let old = *byte & mask != 0;
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    old
}

/// Grows `buf` with zero bytes so that it holds bit `bit`; true if it grew.
pub fn grow_for_bit(buf: &mut Vec<u8>, bit: u64) -> bool {
    let needed = (bit >> 3) as usize + 1;
    if buf.len() >= needed {
        return false;
    }
    buf.resize(needed, 0);
    true
}

/// The inclusive bit range named by a `start end` pair in `unit`s of a string of `len`
/// bytes, with negative indexes counted from the end and both ends clamped to the string;
/// None when it is empty.
fn bit_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let total = match unit {
        Unit::Byte => len as i64,
        Unit::Bit => (len as i64) << 3,
    };
    let start = if start < 0 { total + start } else { start }.max(0);
    let mut end = if end < 0 { total + end } else { end }.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(match unit {
        Unit::Byte => (start << 3, (end << 3) + 7),
        Unit::Bit => (start, end),
    })
}

/// Number of set bits in the whole string (BITCOUNT key).
pub fn count(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = chunks
        .by_ref()
        .map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")).count_ones() as u64)
        .sum();
    n += chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    n
}

/// Masks that keep, in the first and last byte of an inclusive bit range, only the bits
/// inside the range.
fn edge_masks(first_bit: u64, last_bit: u64) -> (u8, u8) {
    (0xff >> (first_bit & 7), 0xff << (7 - (last_bit & 7)))
}

/// Number of set bits between `start` and `end` (BITCOUNT key start end [BYTE|BIT]).
/// Two negative indexes in the wrong order count nothing, whatever the clamping would say.
pub fn count_range(s: &[u8], start: i64, end: i64, unit: Unit) -> u64 {
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let Some((first, last)) = bit_range(s.len(), start, end, unit) else {
        return 0;
    };
    let (a, b) = ((first >> 3) as usize, (last >> 3) as usize);
    let (head, tail) = edge_masks(first, last);
    if a == b {
        return (s[a] & head & tail).count_ones() as u64;
    }
    (s[a] & head).count_ones() as u64 + count(&s[a + 1..b]) + (s[b] & tail).count_ones() as u64
}

/// Position of the first bit equal to `bit` (BITPOS key bit [start [end [BYTE|BIT]]]),
/// or -1. `end` None means "to the end of the string": looking for a 0 in a string of
/// ones then answers the first bit past the end, as if the string went on with zeros; with
/// an explicit end it answers -1.
pub fn position(s: &[u8], bit: bool, start: i64, end: Option<i64>, unit: Unit) -> i64 {
    let explicit_end = end.is_some();
    let end = end.unwrap_or(-1);
    let Some((first, last)) = bit_range(s.len(), start, end, unit) else {
        return -1;
    };
    match find_bit(s, bit, first, last) {
        Some(pos) => pos as i64,
        None if !bit && !explicit_end => (last + 1) as i64,
        None => -1,
    }
}

/// The first bit equal to `bit` in the inclusive range `first..=last` (inside `s`).
fn find_bit(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (a, b) = ((first >> 3) as usize, (last >> 3) as usize);
    let (head, tail) = edge_masks(first, last);
    // Look for set bits in a byte flipped so that the wanted bits are ones.
    let wanted = |byte: u8| if bit { byte } else { !byte };
    let hit = |index: usize, mask: u8| {
        let byte = wanted(s[index]) & mask;
        (byte != 0).then(|| (index as u64) * 8 + byte.leading_zeros() as u64)
    };
    if a == b {
        return hit(a, head & tail);
    }
    if let Some(pos) = hit(a, head) {
        return Some(pos);
    }
    let skip = if bit { 0x00 } else { 0xff };
    if let Some(i) = s[a + 1..b].iter().position(|&byte| byte != skip) {
        return hit(a + 1 + i, 0xff);
    }
    hit(b, tail)
}

/// The BITOP operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

impl BitOp {
    /// Starts the result of `self` from the first source, zero-padded to `len` bytes.
    pub fn start(self, first: &[u8], len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        out[..first.len()].copy_from_slice(first);
        if self == BitOp::Not {
            out.iter_mut().for_each(|b| *b = !*b);
        }
        out
    }

    /// Folds one more source into the result; bytes past its end count as zeros.
    pub fn fold(self, out: &mut [u8], src: &[u8]) {
        let zeros = std::iter::repeat(&0u8);
        let pairs = out.iter_mut().zip(src.iter().chain(zeros));
        match self {
            BitOp::And => pairs.for_each(|(o, s)| *o &= s),
            BitOp::Or => pairs.for_each(|(o, s)| *o |= s),
            BitOp::Xor => pairs.for_each(|(o, s)| *o ^= s),
            BitOp::Not => unreachable!("NOT has a single source"),
        }
    }
}

/// A BITFIELD integer type: `i1`..`i64` or `u1`..`u63`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

impl FieldType {
    /// Parses `i8`, `u16`... (lowercase only, as in Redis); like Redis, the width is read
    /// up to the first NUL byte.
    pub fn parse(arg: &[u8]) -> Option<FieldType> {
        let (&kind, rest) = arg.split_first()?;
        let signed = match kind {
            b'i' => true,
            b'u' => false,
            _ => return None,
        };
        let width = rest.split(|&b| b == 0).next().unwrap_or_default();
        let bits = crate::num::parse_i64(width)?;
        let max = if signed { 64 } else { 63 };
        (1..=max).contains(&bits).then_some(FieldType {
            signed,
            bits: bits as u32,
        })
    }

    fn mask(self) -> u64 {
        u64::MAX >> (64 - self.bits)
    }
}

/// BITFIELD's overflow policy for SET and INCRBY.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Keep the low bits (two's complement wrap-around).
    #[default]
    Wrap,
    /// Clamp to the type's minimum or maximum.
    Sat,
    /// Refuse the operation (the reply is a null and nothing is written).
    Fail,
}

/// Reads the `bits`-wide field at bit `offset`; bits past the end of `s` read as 0.
pub fn get_field(s: &[u8], offset: u64, ty: FieldType) -> i64 {
    let raw = read_bits(s, offset, ty.bits);
    if ty.signed && ty.bits < 64 && raw >> (ty.bits - 1) & 1 == 1 {
        (raw | !ty.mask()) as i64
    } else {
        raw as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset`; `buf` must hold the field.
pub fn set_field(buf: &mut [u8], offset: u64, ty: FieldType, value: i64) {
    let byte = (offset >> 3) as usize;
    let mut window = [0u8; 16];
    let span = (buf.len() - byte).min(9);
    window[..span].copy_from_slice(&buf[byte..byte + span]);
    let shift = 128 - (offset & 7) as u32 - ty.bits;
    let mask = (ty.mask() as u128) << shift;
    let w = (u128::from_be_bytes(window) & !mask) | ((value as u64 as u128) << shift & mask);
    buf[byte..byte + span].copy_from_slice(&w.to_be_bytes()[..span]);
}

/// A field spans at most 9 bytes (64 bits starting at bit 7 of a byte): read them into a
/// big-endian window and shift the field out.
fn read_bits(s: &[u8], offset: u64, bits: u32) -> u64 {
    let byte = (offset >> 3) as usize;
    let mut window = [0u8; 16];
    if byte < s.len() {
        let span = (s.len() - byte).min(9);
        window[..span].copy_from_slice(&s[byte..byte + span]);
    }
    let shift = 128 - (offset & 7) as u32 - bits;
    (u128::from_be_bytes(window) >> shift) as u64 & (u64::MAX >> (64 - bits))
}

/// The value BITFIELD SET stores for `value`, or None when it does not fit and the
/// policy is FAIL.
pub fn field_set_value(value: i64, ty: FieldType, overflow: Overflow) -> Option<i64> {
    apply_overflow(value, 0, ty, overflow)
}

/// The value BITFIELD INCRBY stores for `old + incr`, or None when it does not fit and
/// the policy is FAIL.
pub fn field_increment(old: i64, incr: i64, ty: FieldType, overflow: Overflow) -> Option<i64> {
    apply_overflow(old, incr, ty, overflow)
}

fn apply_overflow(value: i64, incr: i64, ty: FieldType, overflow: Overflow) -> Option<i64> {
    let limits = if ty.signed {
        signed_limits(value, incr, ty.bits)
    } else {
        unsigned_limits(value as u64, incr, ty.bits)
    };
    let Some(saturated) = limits else {
        return Some(value.wrapping_add(incr));
    };
    match overflow {
        Overflow::Fail => None,
        Overflow::Sat => Some(saturated),
        Overflow::Wrap => Some(wrap(value, incr, ty)),
    }
}

/// The low `bits` bits of `value + incr`, sign-extended for signed types.
fn wrap(value: i64, incr: i64, ty: FieldType) -> i64 {
    let sum = (value as u64).wrapping_add(incr as u64) & ty.mask();
    if ty.signed && ty.bits < 64 && sum >> (ty.bits - 1) & 1 == 1 {
        (sum | !ty.mask()) as i64
    } else {
        sum as i64
    }
}

/// None when `value + incr` fits an unsigned field of `bits` bits, else the saturated
/// result. `value` itself may be out of range (a SET of a negative number reads as a huge
/// unsigned one, and saturates to the maximum, as in Redis).
fn unsigned_limits(value: u64, incr: i64, bits: u32) -> Option<i64> {
    let max = u64::MAX >> (64 - bits);
    let room_up = max.wrapping_sub(value) as i64;
    let room_down = (value as i64).wrapping_neg();
    if value > max || (incr > 0 && incr > room_up) {
        Some(max as i64)
    } else if incr < 0 && incr < room_down {
        Some(0)
    } else {
        None
    }
}

/// None when `value + incr` fits a signed field of `bits` bits, else the saturated result.
/// The bounds arithmetic wraps exactly as Redis's does, so that a SET of a value far below
/// the range (e.g. -2^63 into an i8) saturates to the same end as in Redis (the maximum).
fn signed_limits(value: i64, incr: i64, bits: u32) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let room_up = (max as u64).wrapping_sub(value as u64) as i64;
    let room_down = min.wrapping_sub(value);
    let narrow = bits != 64;
    if value > max || (narrow && incr > room_up) || (value >= 0 && incr > 0 && incr > room_up) {
        Some(max)
    } else if value < min
        || (narrow && incr < room_down)
        || (value < 0 && incr < 0 && incr < room_down)
    {
        Some(min)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const U8: FieldType = FieldType {
        signed: false,
        bits: 8,
    };
    const I8: FieldType = FieldType {
        signed: true,
        bits: 8,
    };

    #[test]
    fn bits_msb_first() {
        let mut buf = vec![];
        assert!(grow_for_bit(&mut buf, 7));
        assert!(!set_bit(&mut buf, 7, true));
        assert_eq!(buf, [0x01]);
        assert!(grow_for_bit(&mut buf, 8));
        set_bit(&mut buf, 8, true);
        assert_eq!(buf, [0x01, 0x80]);
        assert!(get_bit(&buf, 8) && !get_bit(&buf, 9) && !get_bit(&buf, 1000));
    }

    #[test]
    fn counting() {
        let s = b"foobar";
        assert_eq!(count(s), 26);
        assert_eq!(count_range(s, 1, 1, Unit::Byte), 6);
        assert_eq!(count_range(s, 5, 30, Unit::Bit), 17);
        assert_eq!(count_range(s, -100, -200, Unit::Byte), 0);
        assert_eq!(count_range(s, 4, 2, Unit::Byte), 0);
        assert_eq!(count_range(b"", 0, -1, Unit::Byte), 0);
    }

    #[test]
    fn positions() {
        let s = b"\xff\xf0\x00";
        assert_eq!(position(s, false, 0, None, Unit::Byte), 12);
        assert_eq!(position(s, true, 0, None, Unit::Byte), 0);
        let ones = b"\xff\xff\xff";
        assert_eq!(position(ones, false, 0, None, Unit::Byte), 24);
        assert_eq!(position(ones, false, 0, Some(-1), Unit::Byte), -1);
        assert_eq!(position(b"", false, 0, None, Unit::Byte), -1);
        let p2 = b"\x00\xff\xf0";
        assert_eq!(position(p2, true, 7, Some(15), Unit::Bit), 8);
        assert_eq!(position(p2, false, 8, Some(-1), Unit::Bit), 20);
        assert_eq!(position(b"\xff\xff", true, -100, Some(-200), Unit::Byte), 0);
    }

    #[test]
    fn bitop() {
        let mut out = BitOp::And.start(b"\x0f\xf0", 3);
        BitOp::And.fold(&mut out, b"\xff\x00\xaa");
        assert_eq!(out, [0x0f, 0, 0]);
        assert_eq!(BitOp::Not.start(b"\x0f", 1), [0xf0]);
    }

    #[test]
    fn field_types() {
        assert_eq!(
            FieldType::parse(b"i64"),
            Some(FieldType {
                signed: true,
                bits: 64
            })
        );
        assert_eq!(FieldType::parse(b"u63").map(|t| t.bits), Some(63));
        for bad in [
            &b"u64"[..],
            b"i65",
            b"i0",
            b"x8",
            b"i",
            b"",
            b"i08",
            b"u-1",
            b"U8",
            b"I8",
        ] {
            assert_eq!(FieldType::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn overflow_policies() {
        assert_eq!(field_increment(255, 1, U8, Overflow::Wrap), Some(0));
        assert_eq!(field_increment(255, 1, U8, Overflow::Sat), Some(255));
        assert_eq!(field_increment(255, 1, U8, Overflow::Fail), None);
        assert_eq!(field_increment(0, -1000, U8, Overflow::Sat), Some(0));
        assert_eq!(field_set_value(-1, U8, Overflow::Sat), Some(255));
        assert_eq!(field_set_value(-1, U8, Overflow::Wrap), Some(255));
        assert_eq!(field_set_value(200, I8, Overflow::Wrap), Some(-56));
        assert_eq!(field_set_value(-1000, I8, Overflow::Sat), Some(-128));
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        assert_eq!(
            field_increment(i64::MAX, 1, i64t, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(
            field_increment(-5, -i64::MAX, i64t, Overflow::Wrap),
            Some(i64::MAX - 3)
        );
        assert_eq!(
            field_increment(i64::MIN, -1, i64t, Overflow::Sat),
            Some(i64::MIN)
        );
        assert_eq!(field_increment(5, -3, i64t, Overflow::Fail), Some(2));
        // Checked against redis-server: -2^63 into an i8 saturates to the maximum.
        assert_eq!(field_set_value(i64::MIN, I8, Overflow::Sat), Some(127));
        assert_eq!(field_set_value(i64::MIN + 8, I8, Overflow::Sat), Some(127));
        assert_eq!(field_set_value(i64::MIN, U8, Overflow::Sat), Some(255));
    }

    fn field_type() -> impl Strategy<Value = FieldType> {
        prop_oneof![
            (1u32..=64).prop_map(|bits| FieldType { signed: true, bits }),
            (1u32..=63).prop_map(|bits| FieldType {
                signed: false,
                bits
            }),
        ]
    }

    proptest! {
        /// A value written with WRAP semantics reads back as itself truncated to the
        /// field, and the bits around the field are untouched.
        #[test]
        fn bitfield_set_get_round_trip(
            base in prop::collection::vec(any::<u8>(), 0..24),
            ty in field_type(),
            offset in 0u64..128,
            value in any::<i64>(),
        ) {
            let mut buf = base.clone();
            grow_for_bit(&mut buf, offset + ty.bits as u64 - 1);
            let before = buf.clone();
            let stored = field_set_value(value, ty, Overflow::Wrap).expect("WRAP never fails");
            set_field(&mut buf, offset, ty, stored);
            prop_assert_eq!(get_field(&buf, offset, ty), stored);
            for bit in 0..(buf.len() as u64 * 8) {
                if bit < offset || bit >= offset + ty.bits as u64 {
                    prop_assert_eq!(get_bit(&buf, bit), get_bit(&before, bit));
                }
            }
            // Bit-by-bit reading agrees with the window reader.
            let mut slow: u64 = 0;
            for bit in offset..offset + ty.bits as u64 {
                slow = slow << 1 | get_bit(&buf, bit) as u64;
            }
            prop_assert_eq!(get_field(&buf, offset, ty) as u64 & ty.mask(), slow);
        }

        /// INCRBY under WRAP is addition modulo 2^bits; under SAT it is clamped addition.
        #[test]
        fn bitfield_incr_matches_wide_arithmetic(ty in field_type(), a in any::<i64>(), b in any::<i64>()) {
            let (min, max): (i128, i128) = if ty.signed {
                (-(1i128 << (ty.bits - 1)), (1i128 << (ty.bits - 1)) - 1)
            } else {
                (0, (1i128 << ty.bits) - 1)
            };
            let old = wrap(a, 0, ty);
            let exact = old as i128 + b as i128;
            let modulus = 1i128 << ty.bits;
            let wrapped = (exact - min).rem_euclid(modulus) + min;
            prop_assert_eq!(field_increment(old, b, ty, Overflow::Wrap).map(i128::from), Some(wrapped));
            prop_assert_eq!(field_increment(old, b, ty, Overflow::Sat).map(i128::from), Some(exact.clamp(min, max)));
            let fits = (min..=max).contains(&exact);
            prop_assert_eq!(field_increment(old, b, ty, Overflow::Fail).is_some(), fits);
        }

        #[test]
        fn positions_match_a_bit_scan(
            s in prop::collection::vec(any::<u8>(), 0..12),
            bit in any::<bool>(),
            start in -100i64..100,
            end in -100i64..100,
        ) {
            let nbits = s.len() as i64 * 8;
            let norm = |i: i64| if i < 0 { (nbits + i).max(0) } else { i };
            let (a, b) = (norm(start), norm(end).min(nbits - 1));
            let expected = (a..=b).find(|&i| get_bit(&s, i as u64) == bit).unwrap_or(-1);
            prop_assert_eq!(position(&s, bit, start, Some(end), Unit::Bit), expected);
            let ones = (a..=b).filter(|&i| get_bit(&s, i as u64)).count() as u64;
            if !(start < 0 && end < 0 && start > end) {
                prop_assert_eq!(count_range(&s, start, end, Unit::Bit), ones);
            }
        }
    }
}
