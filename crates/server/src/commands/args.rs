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
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => s.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
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
}

impl<'a> ScanOptions<'a> {
    /// Parses the options after the cursor; `allow_type` for SCAN (the other SCANs have
    /// no TYPE). A repeated option overrides the earlier one, as in Redis.
    pub fn parse(options: &'a [bytes::Bytes], allow_type: bool) -> Result<Self, CmdError> {
        let mut parsed = ScanOptions {
            pattern: None,
            count: 10,
            type_name: None,
        };
        let mut rest = options;
        while let [name, value, tail @ ..] = rest {
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
    }
}
