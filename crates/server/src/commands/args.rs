//! Argument parsing shared by command families, with Redis's error replies.

use super::CmdError;
use crate::errors;

/// An integer argument (`ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    vireo_resp::parse_int(arg).ok_or_else(|| errors::NOT_INTEGER.into())
}

/// A float argument as Redis's getDoubleFromObject reads it: no leading space, the whole
/// argument consumed, NaN refused (`ERR value is not a valid float`). `inf`/`-inf` pass.
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_f64(arg).ok_or_else(|| errors::NOT_FLOAT.into())
}

pub fn parse_f64(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() {
        return None;
    }
    let parsed = strtod(arg)?;
    let out_of_range = parsed.erange && (parsed.value.is_infinite() || parsed.value == 0.0);
    (parsed.consumed == arg.len() && !out_of_range && !parsed.value.is_nan())
        .then_some(parsed.value)
}

/// What C's `strtod` made of a string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strtod {
    pub value: f64,
    /// Bytes of the input that form the number (0 if none).
    pub consumed: usize,
    /// `errno` was ERANGE: the value overflowed or underflowed.
    pub erange: bool,
}

/// C's `strtod`, which Redis uses to read floats: leading white space, hexadecimal
/// floats, `inf`/`nan` spellings and range errors behave exactly as there. None for
/// input containing a NUL byte (C would stop at it; the callers' checks need the
/// whole argument consumed, which such input can never be).
pub fn strtod(arg: &[u8]) -> Option<Strtod> {
    if arg.contains(&0) {
        return None;
    }
    let mut stack = [0u8; 64];
    let heap;
    let cstr: &[u8] = if arg.len() < stack.len() {
        stack[..arg.len()].copy_from_slice(arg);
        &stack[..=arg.len()]
    } else {
        let mut v = Vec::with_capacity(arg.len() + 1);
        v.extend_from_slice(arg);
        v.push(0);
        heap = v;
        &heap
    };
    let start = cstr.as_ptr() as *const libc::c_char;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `cstr` is NUL-terminated and outlives the call; errno is thread-local.
    let (value, erange) = unsafe {
        *libc::__errno_location() = 0;
        let value = libc::strtod(start, &mut end);
        (value, *libc::__errno_location() == libc::ERANGE)
    };
    let consumed = end as usize - start as usize;
    Some(Strtod {
        value,
        consumed,
        erange,
    })
}

/// Is `arg` the option `name`, case-insensitively?
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// The absolute unix-ms expiry named by SET/GETEX options (EX, PX, EXAT, PXAT): the value
/// must be positive and the result must not overflow, else
/// `ERR invalid expire time in '<cmd>' command`.
pub fn expire_option(
    arg: &[u8],
    seconds: bool,
    absolute: bool,
    now_ms: i64,
    cmd: &str,
) -> Result<i64, CmdError> {
    let n = int(arg)?;
    let invalid = || CmdError::from(errors::INVALID_EXPIRE.replace("%s", cmd));
    if n <= 0 {
        return Err(invalid());
    }
    let ms = if seconds {
        n.checked_mul(1000).ok_or_else(invalid)?
    } else {
        n
    };
    if absolute {
        Ok(ms)
    } else {
        ms.checked_add(now_ms).ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_redis() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1 "), None);
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b""), None);
        // strtod's own forms: hexadecimal floats, and range errors refused as in Redis.
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"1e-400"), None);
        assert_eq!(parse_f64(b"Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1\x002"), None);
        let long = format!("{}.5", "1".repeat(100));
        assert!(parse_f64(long.as_bytes()).is_some());
    }

    #[test]
    fn expire_options() {
        assert_eq!(expire_option(b"10", true, false, 1000, "set"), Ok(11_000));
        assert_eq!(expire_option(b"5", false, true, 1000, "set"), Ok(5));
        assert!(expire_option(b"0", true, false, 0, "set").is_err());
        assert!(expire_option(b"9223372036854775807", true, false, 0, "set").is_err());
    }
}

/// A SCAN-family cursor, read as Redis reads it (C `strtoul`): optional sign and decimal
/// digits filling the whole argument, a negative value wrapping around, no leading space,
/// no overflow (`ERR invalid cursor`). An empty argument is cursor 0.
pub fn scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::from(errors::INVALID_CURSOR);
    let (negative, digits) = match arg.split_first() {
        None => return Ok(0),
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        Some(_) => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let n = digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let n = n.ok_or_else(invalid)?;
    Ok(if negative { n.wrapping_neg() } else { n })
}

/// The MATCH / COUNT (and, for SCAN itself, TYPE) options of the SCAN family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions<'a> {
    /// None when absent or `*` (no filtering).
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub type_name: Option<&'a [u8]>,
    /// HSCAN's NOVALUES (Redis 7.4): fields only.
    pub novalues: bool,
}

impl<'a> ScanOptions<'a> {
    /// Parses the options after the cursor; `allow_type` for SCAN (the other SCANs have
    /// no TYPE). A repeated option overrides the earlier one, as in Redis.
    pub fn parse(options: &'a [bytes::Bytes], allow_type: bool) -> Result<Self, CmdError> {
        Self::parse_with(options, allow_type, false)
    }

    /// HSCAN's options: MATCH, COUNT and the NOVALUES flag.
    pub fn parse_hscan(options: &'a [bytes::Bytes]) -> Result<Self, CmdError> {
        Self::parse_with(options, false, true)
    }

    fn parse_with(
        options: &'a [bytes::Bytes],
        allow_type: bool,
        allow_novalues: bool,
    ) -> Result<Self, CmdError> {
        let mut parsed = ScanOptions {
            pattern: None,
            count: 10,
            type_name: None,
            novalues: false,
        };
        let mut rest = options;
        loop {
            // NOVALUES is a flag; every other option takes a value.
            if let [flag, tail @ ..] = rest {
                if allow_novalues && is(flag, "novalues") {
                    parsed.novalues = true;
                    rest = tail;
                    continue;
                }
            }
            let [name, value, tail @ ..] = rest else {
                break;
            };
            if is(name, "count") {
                let count = int(value)?;
                if count < 1 {
                    return Err(errors::SYNTAX.into());
                }
                parsed.count = count as usize;
            } else if is(name, "match") {
                parsed.pattern = (&value[..] != b"*").then_some(&value[..]);
            } else if allow_type && is(name, "type") {
                parsed.type_name = Some(&value[..]);
            } else {
                return Err(errors::SYNTAX.into());
            }
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(errors::SYNTAX.into());
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;

    #[test]
    fn cursors_like_strtoul() {
        assert_eq!(scan_cursor(b"0"), Ok(0));
        assert_eq!(scan_cursor(b""), Ok(0));
        assert_eq!(scan_cursor(b"+5"), Ok(5));
        assert_eq!(scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert!(scan_cursor(b"18446744073709551616").is_err());
        assert!(scan_cursor(b" 1").is_err());
        assert!(scan_cursor(b"1 ").is_err());
        assert!(scan_cursor(b"-").is_err());
        assert!(scan_cursor(b"abc").is_err());
    }

    #[test]
    fn scan_options() {
        let args: Vec<bytes::Bytes> = ["MATCH", "k*", "count", "5", "TYPE", "hash"]
            .iter()
            .map(|s| bytes::Bytes::from(s.to_string()))
            .collect();
        let o = ScanOptions::parse(&args, true).unwrap();
        assert_eq!(o.pattern, Some(&b"k*"[..]));
        assert_eq!(o.count, 5);
        assert_eq!(o.type_name, Some(&b"hash"[..]));
        assert!(ScanOptions::parse(&args, false).is_err());
        assert!(ScanOptions::parse(&args[..1], true).is_err());
        let star: Vec<bytes::Bytes> = vec!["match".into(), "*".into()];
        assert_eq!(ScanOptions::parse(&star, false).unwrap().pattern, None);
        let hscan: Vec<bytes::Bytes> = vec!["NOVALUES".into(), "match".into(), "novalues".into()];
        let o = ScanOptions::parse_hscan(&hscan).unwrap();
        assert!(o.novalues);
        assert_eq!(o.pattern, Some(&b"novalues"[..]));
        assert!(ScanOptions::parse(&hscan, false).is_err());
    }
}
