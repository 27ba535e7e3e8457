//! `whoami` (an extension): the caller's name, admin flag and projects, so that a client such
//! as the dashboard can offer a tenant its projects (`list_projects` is for admins only).

use hil_types::WhoAmI;

use super::Ctx;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store;

pub async fn whoami(ctx: &Ctx, caller: &Caller) -> ApiResult<WhoAmI> {
    let mut tx = ctx.store.read().await?;
    let projects = if caller.is_admin {
        store::projects::list_labels(&mut tx).await?
    } else if let Some(user) = caller.user_id {
        store::users::project_labels(&mut tx, user).await?
    } else if let Some(project) = caller.project_id {
        vec![store::projects::label_by_id(&mut tx, project).await?]
    } else {
        // Anonymous (authentication not required and no credentials sent): nobody to describe.
        return Err(ApiError::auth_required());
    };
    Ok(WhoAmI {
        user: caller.name.clone(),
        is_admin: caller.is_admin,
        projects,
    })
}
