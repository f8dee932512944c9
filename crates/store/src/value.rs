//! Values and their encodings. The encoding names are the ones OBJECT ENCODING reports in
//! Redis, and a value changes encoding under the same conditions, because operators and
//! tests read them.

use crate::bytes::SmallBytes;
use crate::num::parse_i64;

/// Strings up to this length created whole are "embstr" in Redis; longer ones "raw".
pub const EMBSTR_MAX: usize = 44;

#[derive(Clone, Debug)]
pub enum Value {
    /// A string that is a canonical decimal i64 ("int").
    Int(i64),
    /// A string set whole by SET and friends ("embstr", or "raw" beyond 44 bytes).
    Str(SmallBytes),
    /// A string modified in place by APPEND, SETRANGE, SETBIT...: always "raw", and grows
    /// with spare capacity like Redis's sds.
    Raw(Vec<u8>),
}

impl Value {
    /// A string value as SET stores it: integer-encoded when it is a canonical integer of
    /// at most 20 characters, as Redis's tryObjectEncoding does.
    pub fn string(bytes: &[u8]) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = parse_i64(bytes) {
                return Value::Int(n);
            }
        }
        Value::Str(SmallBytes::new(bytes))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => "string",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str(_) | Value::Raw(_))
    }

    /// The bytes of a string value; `scratch` holds the digits of an int-encoded one.
    /// None for non-string types.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> Option<&'a [u8]> {
        match self {
            Value::Int(n) => Some(scratch.format(*n).as_bytes()),
            Value::Str(s) => Some(s.as_slice()),
            Value::Raw(v) => Some(v),
        }
    }

    /// Length in bytes of a string value (STRLEN).
    pub fn string_len(&self) -> Option<usize> {
        match self {
            Value::Int(n) => Some(itoa::Buffer::new().format(*n).len()),
            Value::Str(s) => Some(s.len()),
            Value::Raw(v) => Some(v.len()),
        }
    }

    /// Turns a string value into its growable "raw" form and returns the buffer, for
    /// in-place edits. None for non-string types.
    pub fn make_raw(&mut self) -> Option<&mut Vec<u8>> {
        let bytes = match self {
            Value::Raw(v) => return Some(v),
            Value::Int(n) => itoa::Buffer::new().format(*n).as_bytes().to_vec(),
            Value::Str(s) => s.to_vec(),
        };
        *self = Value::Raw(bytes);
        match self {
            Value::Raw(v) => Some(v),
            _ => unreachable!("just converted to raw"),
        }
    }

    /// Approximate heap bytes owned by the value (MEMORY USAGE, eviction accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_size(),
            Value::Raw(v) => v.capacity(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Value::string(b"123").encoding(), "int");
        assert_eq!(Value::string(b"0123").encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 45]).encoding(), "raw");
        assert_eq!(Value::string(b"123456789012345678901").encoding(), "embstr");
        let mut v = Value::string(b"12");
        v.make_raw().unwrap().extend_from_slice(b"3");
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.as_bytes(&mut itoa::Buffer::new()), Some(&b"123"[..]));
    }

    #[test]
    fn value_stays_small() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }
}
