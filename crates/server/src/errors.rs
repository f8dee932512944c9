//! Error replies, byte for byte as Redis sends them (clients parse these). Each constant is
//! the text after the leading `-`.

pub const SYNTAX: &str = "ERR syntax error";
/// Redis 7.2's refusal of LONG_MIN where it negates a count or rank (LPOS RANK,
/// SRANDMEMBER, ZRANDMEMBER, HRANDFIELD; not LREM, whose refusal came with Redis 8.0).
pub const NOT_LONG_MIN: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// Vireo's own limit (Redis has none and can run out of memory): SRANDMEMBER, HRANDFIELD
/// and ZRANDMEMBER with a negative count build their whole reply before sending it, so a
/// reply estimated beyond this size is refused with RANDOM_REPLY_TOO_BIG.
pub const RANDOM_REPLY_MAX_BYTES: usize = 512 * 1024 * 1024;
pub const RANDOM_REPLY_TOO_BIG: &str =
    "ERR the count asks for a reply larger than 512MB; ask for fewer elements";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const INVALID_DB_INDEX: &str = "ERR invalid DB index";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '%s' command";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
pub const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";
pub const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
pub const LCS_WRONGTYPE: &str = "ERR The specified keys must contain string values";
pub const LCS_LEN_AND_IDX: &str =
    "ERR If you want both the length and indexes, please just use IDX.";
pub const LCS_TOO_LONG: &str = "ERR String too long for LCS";
pub const LCS_TOO_MUCH_MEMORY: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
pub const BIT_ARGUMENT: &str = "ERR The bit argument must be 1 or 0.";
pub const BITOP_NOT_SOURCES: &str = "ERR BITOP NOT must be called with a single source key.";
pub const BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
pub const BITFIELD_OVERFLOW_TYPE: &str = "ERR Invalid OVERFLOW type specified";
pub const BITFIELD_RO_GET_ONLY: &str = "ERR BITFIELD_RO only supports the GET subcommand";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const EXPIRE_NX_AND_OTHERS: &str =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
pub const EXPIRE_GT_AND_LT: &str = "ERR GT and LT options at the same time are not compatible";
pub const INT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
pub const INVALID_FIRST_DB: &str = "ERR invalid first DB index";
pub const INVALID_SECOND_DB: &str = "ERR invalid second DB index";
/// A command that may grow memory, refused while over `maxmemory`.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
pub const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
pub const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
pub const NOT_IMPLEMENTED_YET: &str =
    "ERR command '%s' is not implemented in this version of Vireo yet";
pub const PROTECTED_MODE: &str = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

/// `ERR unknown command 'name', with args beginning with: 'a' 'b' ` — Redis quotes at most
/// 128 bytes of the name, and lists arguments while the list itself is under 128 bytes,
/// each cut to the room left.
pub fn unknown_command(args: &[bytes::Bytes]) -> String {
    let mut list = String::new();
    for arg in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push_str(&format!("'{}' ", printable(arg, room)));
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {list}",
        printable(&args[0], 128)
    )
}

/// `ERR unknown subcommand 'x'. Try CONFIG HELP.`
pub fn unknown_subcommand(container: &str, sub: &[u8]) -> String {
    format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        printable(sub, 128),
        container.to_ascii_uppercase()
    )
}

/// `ERR wrong number of arguments for 'get' command` (subcommands as `config|get`).
pub fn wrong_arity(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// Text of an argument as Redis puts it into an error: at most `max` bytes, and bytes
/// that would break the error line replaced by spaces.
pub fn printable(arg: &[u8], max: usize) -> String {
    let cut = &arg[..arg.len().min(max)];
    String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}
