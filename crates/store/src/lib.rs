//! The keyspace and its values. Knows nothing of RESP or networking: commands in the server
//! crate turn arguments into calls here and results into replies.

pub mod dict;
pub mod glob;
