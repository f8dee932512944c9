//! SORT and SORT_RO. (Being written.)

use super::Cmd;

pub const COMMANDS: &[Cmd] = &[];
