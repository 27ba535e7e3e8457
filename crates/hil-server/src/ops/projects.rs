//! Projects: create, delete, list, reserve and release nodes.

use super::{node, project_id, require_access, require_admin, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store;

pub async fn list_projects(ctx: &Ctx, caller: &Caller) -> ApiResult<Vec<String>> {
    require_admin(caller)?;
    let mut tx = ctx.store.read().await?;
    Ok(store::projects::list_labels(&mut tx).await?)
}

pub async fn project_create(ctx: &Ctx, caller: &Caller, project: &str) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            if store::projects::id_by_label(&mut tx, project)
                .await?
                .is_some()
            {
                return Err(ApiError::exists("Project", project));
            }
            store::projects::insert(&mut tx, project).await?;
            tx.commit().await
        })
        .await
}

pub async fn project_delete(ctx: &Ctx, caller: &Caller, project: &str) -> ApiResult<()> {
    require_admin(caller)?;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let id = project_id(&mut tx, project).await?;
            let deps = store::projects::dependents(&mut tx, id).await?;
            let blocked = if deps.nodes {
                Some("Project has nodes still")
            } else if deps.owned_networks {
                Some("Project still has networks")
            } else if deps.network_access {
                Some("Project can still access networks")
            } else if deps.headnodes {
                Some("Project still has a headnode")
            } else {
                None
            };
            if let Some(why) = blocked {
                return Err(ApiError::Blocked(why.into()));
            }
            store::projects::delete(&mut tx, id).await?;
            tx.commit().await
        })
        .await
}

pub async fn project_connect_node(
    ctx: &Ctx,
    caller: &Caller,
    project: &str,
    node_label: &str,
) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let pid = project_id(&mut tx, project).await?;
            require_access(&mut tx, caller, Some(pid)).await?;
            let n = node(&mut tx, node_label).await?;
            // The conditional update is the race guard: of concurrent reservations, one wins.
            if n.project_id.is_some() || !store::nodes::reserve(&mut tx, n.id, pid).await? {
                return Err(ApiError::Blocked(
                    "Node is already owned by a project.".into(),
                ));
            }
            tx.commit().await
        })
        .await
}

/// Where a released node goes (hil-api.md §10).
enum Release {
    Free,
    Maintenance { project_id: i64 },
}

pub async fn project_detach_node(
    ctx: &Ctx,
    caller: &Caller,
    project: &str,
    node_label: &str,
) -> ApiResult<()> {
    if ctx.config.release.power_off {
        // Check first, so a node that may not leave is not powered off; then power off before
        // the release, so a node that cannot be powered off stays with its tenant.
        let n = {
            let mut tx = ctx.store.read().await?;
            check_detach(ctx, &mut tx, caller, project, node_label)
                .await?
                .0
        };
        super::obm::power_off_for_release(ctx, caller, &n).await?;
    }
    let (n, release) = ctx
        .store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let (n, release) = check_detach(ctx, &mut tx, caller, project, node_label).await?;
            let new_project = match release {
                Release::Free => None,
                Release::Maintenance { project_id } => Some(project_id),
            };
            store::nodes::set_project(&mut tx, n.id, new_project).await?;
            tx.commit().await?;
            Ok((n, release))
        })
        .await?;
    // The OBM is disabled already, which ended the console; make sure no output is left for
    // the node's next tenant.
    ctx.obm.consoles.stop(n.id, &n.label).await;
    if let Release::Maintenance { .. } = release {
        crate::maintenance::notify(ctx, node_label);
    }
    Ok(())
}

/// `project_detach_node`'s checks, in HIL's order; answers the node and where it goes.
async fn check_detach(
    ctx: &Ctx,
    tx: &mut store::Conn,
    caller: &Caller,
    project: &str,
    node_label: &str,
) -> ApiResult<(store::nodes::Node, Release)> {
    let pid = project_id(tx, project).await?;
    require_access(tx, caller, Some(pid)).await?;
    let n = node(tx, node_label).await?;
    if n.project_id != Some(pid) {
        return Err(ApiError::NotFound("Node not in project".into()));
    }
    if n.obm_enabled {
        return Err(ApiError::Blocked("Node's obm is enabled.".into()));
    }
    let (attached, pending) = store::nodes::networking_state(tx, n.id).await?;
    if attached {
        return Err(ApiError::Blocked("Node attached to a network".into()));
    }
    if pending {
        return Err(ApiError::Blocked("Node has pending network actions".into()));
    }
    let release = release_target(ctx, tx, pid).await?;
    Ok((n, release))
}

async fn release_target(ctx: &Ctx, c: &mut store::Conn, from_project: i64) -> ApiResult<Release> {
    let m = &ctx.config.maintenance;
    match (&m.project, &m.url) {
        (None, None) => Ok(Release::Free),
        (Some(_), None) => Err(ApiError::NotFound("Maintenance URL not in hil.cfg.".into())),
        (None, Some(_)) => Err(ApiError::NotFound(
            "Maintenance project not in hil.cfg.".into(),
        )),
        (Some(label), Some(_)) => {
            let maintenance = project_id(c, label).await?;
            if maintenance == from_project {
                Ok(Release::Free)
            } else {
                Ok(Release::Maintenance {
                    project_id: maintenance,
                })
            }
        }
    }
}

pub async fn list_project_nodes(
    ctx: &Ctx,
    caller: &Caller,
    project: &str,
) -> ApiResult<Vec<String>> {
    let mut tx = ctx.store.read().await?;
    let pid = project_id(&mut tx, project).await?;
    require_access(&mut tx, caller, Some(pid)).await?;
    Ok(store::projects::node_labels(&mut tx, pid).await?)
}

pub async fn list_project_networks(
    ctx: &Ctx,
    caller: &Caller,
    project: &str,
) -> ApiResult<Vec<String>> {
    let mut tx = ctx.store.read().await?;
    let pid = project_id(&mut tx, project).await?;
    require_access(&mut tx, caller, Some(pid)).await?;
    Ok(store::projects::network_labels(&mut tx, pid).await?)
}
