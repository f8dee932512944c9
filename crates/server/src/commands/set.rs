//! Set commands. (Being written.)

use super::Cmd;

pub const COMMANDS: &[Cmd] = &[];
