//! (being written)

use super::Cmd;

pub const COMMANDS: &[Cmd] = &[];
