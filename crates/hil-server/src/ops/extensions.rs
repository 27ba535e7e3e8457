//! `list_active_extensions`: the active backends, under HIL's module names.

use super::{require_admin, Ctx};
use crate::auth::Caller;
use crate::error::ApiResult;

pub fn list_active_extensions(ctx: &Ctx, caller: &Caller) -> ApiResult<Vec<String>> {
    require_admin(caller)?;
    let mut names: Vec<String> = [ctx.auth.extension_name(), ctx.allocator.extension_name()]
        .into_iter()
        .chain(ctx.switches.extension_names())
        .map(String::from)
        .collect();
    names.sort();
    Ok(names)
}
