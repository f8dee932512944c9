//! List commands (LPUSH, LRANGE, LMOVE, ...). (Being written.)

use super::Cmd;

pub const COMMANDS: &[Cmd] = &[];
