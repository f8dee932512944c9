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
