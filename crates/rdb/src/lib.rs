//! The RDB object codec and the DUMP/RESTORE payload built on it.
//!
//! An object is written as Redis writes it in an RDB file: a type byte, then the value in
//! that type's layout, made of lengths (1, 2, 5 or 9 bytes by size), strings (a length and
//! the bytes, an integer in 1, 2 or 4 bytes, or LZF-compressed when longer than 20 bytes
//! and that pays off) and, for small collections, the listpack or intset blob exactly as
//! it sits in memory. A DUMP payload is that object followed by the RDB version (2 bytes,
//! little-endian) and a CRC-64 (Jones polynomial, as Redis uses) of everything before it.
//!
//! **Writing** follows Redis 7.0 byte for byte wherever Vireo's encoding is Redis's:
//! strings, lists (quicklist of listpack nodes), listpack hashes and sorted sets, intsets,
//! and skiplist sorted sets (from the highest score down, as Redis walks them). Sets that
//! Vireo keeps as a listpack of strings (as Redis 7.2 does) have no type in RDB 10: they
//! are written as plain sets. Payloads are RDB version 10 (loadable by Redis 7.0 and
//! later), except for a hash with fields that have a TTL: it is written as Redis 7.4's
//! hash-with-metadata type in version 12, which only Redis 7.4 and later load.
//!
//! **Reading** accepts every object type Redis 7.0 to 7.4 writes for strings, lists,
//! sets, sorted sets and hashes (ziplists, zipmaps and version-1 quicklists from older
//! files included), checks every length against the bytes that are really there (so no
//! allocation is larger than the payload allows), checks every blob in depth (listpack
//! and ziplist structure, intset order, duplicates), and builds the value in the encoding
//! Vireo's configured thresholds call for, as Redis converts on load.

mod read;
mod write;
pub mod ziplist;

pub use read::{load_object, LoadConfig};
pub use write::{serialized_length, write_object};

use vireo_store::Value;

/// The RDB version DUMP writes by default: loadable by Redis 7.0 and later.
pub const RDB_VERSION: u16 = 10;
/// The version that goes with hashes whose fields have a TTL (Redis 7.4).
pub const RDB_VERSION_HASH_TTL: u16 = 12;
/// The newest version RESTORE accepts.
pub const RDB_VERSION_MAX: u16 = 12;

/// Object type bytes.
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const SET_LISTPACK: u8 = 20;
    pub const HASH_METADATA: u8 = 24;
    pub const HASH_LISTPACK_EX: u8 = 25;
}

/// CRC-64/Jones as Redis computes it for RDB files and DUMP payloads.
const CRC64: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// Why a RESTORE payload was refused; the `Display` is Redis's error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Too short, from a newer RDB version, or the checksum does not match.
    VersionOrChecksum,
    /// The object inside is malformed, of a type Vireo does not have, or empty.
    BadData,
}

impl std::fmt::Display for PayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PayloadError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            PayloadError::BadData => "ERR Bad data format",
        })
    }
}

/// What DUMP writes: knobs that change the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when that pays off.
    pub compress: bool,
    /// The time hash field TTLs are compared with (unix ms): fields past it are left out.
    pub now_ms: i64,
}

/// The DUMP payload of `value`.
pub fn dump(value: &Value, options: DumpOptions) -> Vec<u8> {
    let mut out = Vec::new();
    let version = write_object(value, options, &mut out);
    out.extend_from_slice(&version.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a payload's footer (version and checksum) and returns the object bytes before it.
pub fn verify_payload(payload: &[u8]) -> Result<&[u8], PayloadError> {
    if payload.len() < 10 {
        return Err(PayloadError::VersionOrChecksum);
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > RDB_VERSION_MAX {
        return Err(PayloadError::VersionOrChecksum);
    }
    if CRC64.checksum(body).to_le_bytes() != crc {
        return Err(PayloadError::VersionOrChecksum);
    }
    Ok(&body[..body.len() - 2])
}

/// The value a DUMP payload holds, in the encodings `config` calls for.
pub fn restore(payload: &[u8], config: &LoadConfig) -> Result<Value, PayloadError> {
    let object = verify_payload(payload)?;
    load_object(object, config).ok_or(PayloadError::BadData)
}

#[cfg(test)]
mod tests;
