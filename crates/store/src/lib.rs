//! The keyspace and its values. Knows nothing of RESP or networking: commands in the server
//! crate turn arguments into calls here and results into replies.

pub mod bitops;
pub mod bytes;
pub mod db;
pub mod dict;
pub mod evict;
pub mod glob;
pub mod hash;
pub mod intset;
pub mod list;
pub mod listpack;
mod lpbuf;
pub mod lzf;
pub mod num;
pub mod set;
pub mod strings;
pub mod value;
pub mod zset;

pub use bytes::SmallBytes;
pub use db::{key_hash_slot, shard_index, Db, Shard, SHARDS};
pub use value::Value;
