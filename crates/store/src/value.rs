//! Values and their encodings. The encoding names are the ones OBJECT ENCODING reports in
//! Redis, and a value changes encoding under the same conditions, because operators and
//! tests read them.
//!
//! Every variant carries `lru`, the access clock Redis keeps in each object header (LRU
//! seconds, or the LFU counter and its decay time). Rust places it in the padding after
//! the enum tag, so it costs no space: a `Value` is 32 bytes and a keyspace node 64.

use crate::bytes::SmallBytes;
use crate::hash::Hash;
use crate::list::List;
use crate::num::parse_i64;
use crate::set::Set;
use crate::zset::ZSet;

/// Strings up to this length created whole are "embstr" in Redis; longer ones "raw".
pub const EMBSTR_MAX: usize = 44;

#[derive(Clone, Debug)]
pub enum Value {
    /// A string that is a canonical decimal i64 ("int").
    Int {
        lru: u32,
        n: i64,
    },
    /// A string set whole by SET and friends ("embstr", or "raw" beyond 44 bytes).
    Str {
        lru: u32,
        s: SmallBytes,
    },
    /// A string modified in place by APPEND, SETRANGE, SETBIT...: always "raw", and grows
    /// with spare capacity like Redis's sds.
    Raw {
        lru: u32,
        v: Vec<u8>,
    },
    /// Lists, sets and sorted sets live behind a box, so every value stays 32 bytes.
    List {
        lru: u32,
        l: Box<List>,
    },
    /// Inline: a `Hash` is 24 bytes (a thin listpack pointer or a boxed table, and the
    /// field-TTL pointer), so a small hash costs its listpack and nothing more.
    Hash {
        lru: u32,
        h: Hash,
    },
    Set {
        lru: u32,
        s: Box<Set>,
    },
    ZSet {
        lru: u32,
        z: Box<ZSet>,
    },
}

/// Every variant's access clock, for the accessors below.
macro_rules! each_lru {
    ($value:expr, $lru:ident => $body:expr) => {
        match $value {
            Value::Int { $lru, .. }
            | Value::Str { $lru, .. }
            | Value::Raw { $lru, .. }
            | Value::List { $lru, .. }
            | Value::Hash { $lru, .. }
            | Value::Set { $lru, .. }
            | Value::ZSet { $lru, .. } => $body,
        }
    };
}

impl Value {
    /// A string value as SET stores it: integer-encoded when it is a canonical integer of
    /// at most 20 characters, as Redis's tryObjectEncoding does.
    pub fn string(bytes: &[u8]) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = parse_i64(bytes) {
                return Value::int(n);
            }
        }
        Value::Str {
            lru: 0,
            s: SmallBytes::new(bytes),
        }
    }

    pub fn int(n: i64) -> Value {
        Value::Int { lru: 0, n }
    }

    /// A string that will be edited in place ("raw").
    pub fn raw(v: Vec<u8>) -> Value {
        Value::Raw { lru: 0, v }
    }

    pub fn list(l: List) -> Value {
        Value::List {
            lru: 0,
            l: Box::new(l),
        }
    }

    pub fn hash(h: Hash) -> Value {
        Value::Hash { lru: 0, h }
    }

    pub fn set(s: Set) -> Value {
        Value::Set {
            lru: 0,
            s: Box::new(s),
        }
    }

    pub fn zset(z: ZSet) -> Value {
        Value::ZSet {
            lru: 0,
            z: Box::new(z),
        }
    }

    pub fn lru(&self) -> u32 {
        each_lru!(self, lru => *lru)
    }

    pub fn set_lru(&mut self, clock: u32) {
        each_lru!(self, lru => *lru = clock)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int { .. } | Value::Str { .. } | Value::Raw { .. } => "string",
            Value::List { .. } => "list",
            Value::Hash { .. } => "hash",
            Value::Set { .. } => "set",
            Value::ZSet { .. } => "zset",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int { .. } => "int",
            Value::Str { s, .. } if s.len() <= EMBSTR_MAX => "embstr",
            Value::Str { .. } | Value::Raw { .. } => "raw",
            Value::List { l, .. } => l.encoding(),
            Value::Hash { h, .. } => h.encoding(),
            Value::Set { s, .. } => s.encoding(),
            Value::ZSet { z, .. } => z.encoding(),
        }
    }

    /// Elements of a collection (1 for a string): what freeing it costs, and the
    /// "length" DEBUG OBJECT and lazyfree reason about.
    pub fn element_count(&self) -> usize {
        match self {
            Value::Int { .. } | Value::Str { .. } | Value::Raw { .. } => 1,
            Value::List { l, .. } => l.len(),
            Value::Hash { h, .. } => h.len(),
            Value::Set { s, .. } => s.len(),
            Value::ZSet { z, .. } => z.len(),
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(
            self,
            Value::Int { .. } | Value::Str { .. } | Value::Raw { .. }
        )
    }

    /// The bytes of a string value; `scratch` holds the digits of an int-encoded one.
    /// None for non-string types.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> Option<&'a [u8]> {
        match self {
            Value::Int { n, .. } => Some(scratch.format(*n).as_bytes()),
            Value::Str { s, .. } => Some(s.as_slice()),
            Value::Raw { v, .. } => Some(v),
            _ => None,
        }
    }

    /// Length in bytes of a string value (STRLEN).
    pub fn string_len(&self) -> Option<usize> {
        match self {
            Value::Int { n, .. } => Some(itoa::Buffer::new().format(*n).len()),
            Value::Str { s, .. } => Some(s.len()),
            Value::Raw { v, .. } => Some(v.len()),
            _ => None,
        }
    }

    /// Turns a string value into its growable "raw" form and returns the buffer, for
    /// in-place edits. None for non-string types.
    pub fn make_raw(&mut self) -> Option<&mut Vec<u8>> {
        let lru = self.lru();
        let bytes = match self {
            Value::Raw { v, .. } => return Some(v),
            Value::Int { n, .. } => itoa::Buffer::new().format(*n).as_bytes().to_vec(),
            Value::Str { s, .. } => s.to_vec(),
            _ => return None,
        };
        *self = Value::Raw { lru, v: bytes };
        match self {
            Value::Raw { v, .. } => Some(v),
            _ => unreachable!("just converted to raw"),
        }
    }

    /// Approximate heap bytes owned by the value (MEMORY USAGE, eviction accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int { .. } => 0,
            Value::Str { s, .. } => s.heap_size(),
            Value::Raw { v, .. } => v.capacity(),
            Value::List { l, .. } => std::mem::size_of::<List>() + l.heap_size(),
            Value::Hash { h, .. } => h.heap_size(),
            Value::Set { s, .. } => std::mem::size_of::<Set>() + s.heap_size(),
            Value::ZSet { z, .. } => std::mem::size_of::<ZSet>() + z.heap_size(),
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
        v.set_lru(7);
        v.make_raw().unwrap().extend_from_slice(b"3");
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.lru(), 7);
        assert_eq!(v.as_bytes(&mut itoa::Buffer::new()), Some(&b"123"[..]));
    }

    #[test]
    fn value_stays_small() {
        // The access clock lives in the tag's padding: no growth.
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }
}
