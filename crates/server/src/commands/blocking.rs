//! The blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP. (Being written.)

use super::Cmd;

pub const COMMANDS: &[Cmd] = &[];
