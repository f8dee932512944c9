//! String commands. (GET and a basic SET for now; the rest of the family follows.)

use super::{Cmd, CmdResult, Ctx};
use crate::errors;
use vireo_store::Value;

pub const COMMANDS: &[Cmd] = &[Cmd::keys("get", get), Cmd::keys("set", set)];

fn get(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let mut digits = itoa::Buffer::new();
    match ctx.db.get(key) {
        None => ctx.reply.null(),
        Some(v) => match v.as_bytes(&mut digits) {
            Some(bytes) => ctx.reply.bulk(bytes),
            None => return Err(errors::WRONGTYPE.into()),
        },
    }
    Ok(())
}

fn set(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() != 3 {
        return Err(errors::SYNTAX.into());
    }
    let (key, value) = (ctx.arg(1), ctx.arg(2));
    ctx.db.set(key, Value::string(value));
    ctx.dirty(1);
    ctx.reply.ok();
    Ok(())
}
