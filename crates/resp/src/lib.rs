//! The Redis wire protocol and nothing else: the request parser and the reply writer,
//! for RESP2 and RESP3. No I/O happens here.

pub mod parse;
pub mod write;

pub use parse::{parse_int, split_args, Limits, ProtocolError, RequestParser};
pub use write::{format_double, Reply};
