//! Users of the database auth backend (`/auth/basic/...`).

use std::collections::BTreeMap;

use hil_types::UserInfo;

use super::{project_id, require_admin, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, users::User, Conn};

async fn user(c: &mut Conn, label: &str) -> ApiResult<User> {
    store::users::get(c, label)
        .await?
        .ok_or_else(|| ApiError::missing("User", label))
}

pub async fn list_users(ctx: &Ctx, caller: &Caller) -> ApiResult<BTreeMap<String, UserInfo>> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    Ok(store::users::list(&mut tx)
        .await?
        .into_iter()
        .map(|(label, is_admin, projects)| (label, UserInfo { is_admin, projects }))
        .collect())
}

pub async fn user_create(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    password: &str,
    is_admin: bool,
) -> ApiResult<()> {
    require_admin(caller)?;
    let hash = ctx.auth.hash_new_password(password).await?;
    let hash = &hash;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            if store::users::get(&mut tx, label).await?.is_some() {
                return Err(ApiError::exists("User", label));
            }
            store::users::insert(&mut tx, label, hash, is_admin).await?;
            tx.commit().await
        })
        .await
}

pub async fn user_delete(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let u = user(&mut tx, label).await?;
            store::users::delete(&mut tx, u.id).await?;
            tx.commit().await
        })
        .await?;
    ctx.auth.forget(label);
    Ok(())
}

pub async fn user_add_project(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    project: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let u = user(&mut tx, label).await?;
            let pid = project_id(&mut tx, project).await?;
            if store::users::is_member(&mut tx, u.id, pid).await? {
                return Err(ApiError::Duplicate(format!(
                    "User {label} is already in project {project}"
                )));
            }
            store::users::add_member(&mut tx, u.id, pid).await?;
            tx.commit().await
        })
        .await
}

pub async fn user_remove_project(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    project: &str,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let u = user(&mut tx, label).await?;
            let pid = project_id(&mut tx, project).await?;
            if !store::users::is_member(&mut tx, u.id, pid).await? {
                return Err(ApiError::NotFound(format!(
                    "User {label} is not in project {project}"
                )));
            }
            store::users::remove_member(&mut tx, u.id, pid).await?;
            tx.commit().await
        })
        .await
}

pub async fn user_set_admin(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    is_admin: bool,
) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let u = user(&mut tx, label).await?;
            if caller.user_id == Some(u.id) {
                return Err(ApiError::IllegalState("Cannot set own admin status".into()));
            }
            store::users::set_admin(&mut tx, u.id, is_admin).await?;
            tx.commit().await
        })
        .await
}

/// Creates an administrator unless the name is taken (`hil-admin create-admin-user`, bootstrap).
/// Returns false when the user already existed.
pub async fn ensure_admin_user(ctx: &Ctx, label: &str, password: &str) -> ApiResult<bool> {
    let hash = ctx.auth.hash_new_password(password).await?;
    let hash = &hash;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            if store::users::get(&mut tx, label).await?.is_some() {
                return Ok(false);
            }
            store::users::insert(&mut tx, label, hash, true).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
}
