//! Hash commands, hash-field expiration included. (Being written.)

use super::Cmd;

pub const COMMANDS: &[Cmd] = &[];
