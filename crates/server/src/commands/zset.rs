//! Sorted-set commands. (Being written.)

use super::Cmd;

pub const COMMANDS: &[Cmd] = &[];
