//! Networks: create with a pool or admin-given id, delete, show, list, access control.

use std::collections::BTreeMap;

use hil_types::{AttachmentInfo, NetworkCreate, NetworkInfo, NetworkListEntry};

use super::{network, project_id, require_access, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, Conn};

pub async fn network_create(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    body: &NetworkCreate,
) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            if store::networks::exists(&mut tx, label).await? {
                return Err(ApiError::exists("Network", label));
            }
            let (owner_id, access_id) = if body.owner == "admin" {
                if !caller.is_admin {
                    return Err(ApiError::admin_only());
                }
                let access = match body.access.as_str() {
                    "" => None,
                    p => Some(project_id(&mut tx, p).await?),
                };
                (None, access)
            } else {
                let owner = project_id(&mut tx, &body.owner).await?;
                require_access(&mut tx, caller, Some(owner)).await?;
                if body.access != body.owner {
                    return Err(ApiError::BadArgument(
                        "Project-owned networks must be accessible by the owner.".into(),
                    ));
                }
                if !body.net_id.is_empty() {
                    return Err(ApiError::BadArgument(
                        "Project-owned networks must use network ID allocation".into(),
                    ));
                }
                (Some(owner), Some(owner))
            };
            let (net_id, allocated) = if body.net_id.is_empty() {
                (ctx.allocator.allocate(&mut tx).await?, true)
            } else {
                let Some(net_id) = ctx.allocator.validate(&body.net_id) else {
                    return Err(ApiError::BadArgument("Invalid net_id".into()));
                };
                let in_pool = ctx.allocator.claim(&mut tx, &net_id).await?;
                (net_id, in_pool)
            };
            let id = store::networks::insert(&mut tx, label, owner_id, allocated, &net_id).await?;
            if let Some(project) = access_id {
                store::networks::grant(&mut tx, id, project).await?;
            }
            tx.commit().await
        })
        .await
}

pub async fn network_delete(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let net = network(&mut tx, label).await?;
            require_access(&mut tx, caller, net.owner_id).await?;
            let deps = store::networks::dependents(&mut tx, net.id).await?;
            if deps.attachments {
                return Err(ApiError::Blocked("Network still connected to nodes".into()));
            }
            if deps.hnics {
                return Err(ApiError::Blocked(
                    "Network still connected to headnodes".into(),
                ));
            }
            if deps.actions {
                return Err(ApiError::Blocked(
                    "There are pending actions on this network".into(),
                ));
            }
            if net.allocated {
                ctx.allocator.free(&mut tx, &net.network_id).await?;
            }
            store::networks::delete(&mut tx, net.id).await?;
            tx.commit().await
        })
        .await
}

/// Whether the caller may see a network: public, or access to a project on its list.
async fn can_see(c: &mut Conn, caller: &Caller, access: &[(i64, String)]) -> ApiResult<bool> {
    if access.is_empty() || caller.is_admin {
        return Ok(true);
    }
    for (project, _) in access {
        if caller.can_access(c, Some(*project)).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn show_network(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<NetworkInfo> {
    let mut tx = ctx.store.read().await?;
    let net = network(&mut tx, label).await?;
    let access = store::networks::access(&mut tx, net.id).await?;
    if !can_see(&mut tx, caller, &access).await? {
        return Err(ApiError::Authorization(
            "You do not have access to this network.".into(),
        ));
    }
    let owner_access = caller.can_access(&mut tx, net.owner_id).await?;
    let mut connected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in store::networks::attachments(&mut tx, net.id).await? {
        if owner_access || caller.can_access(&mut tx, a.node_project_id).await? {
            connected.entry(a.node).or_default().push(a.nic);
        }
    }
    let owner = match net.owner_id {
        Some(id) => store::projects::label_by_id(&mut tx, id).await?,
        None => "admin".to_string(),
    };
    Ok(NetworkInfo {
        access: (!access.is_empty()).then(|| access.into_iter().map(|(_, l)| l).collect()),
        channels: ctx.allocator.legal_channels(&net.network_id),
        connected_nodes: connected,
        name: net.label,
        owner,
    })
}

pub async fn list_networks(
    ctx: &Ctx,
    caller: &Caller,
) -> ApiResult<BTreeMap<String, NetworkListEntry>> {
    let mut c = ctx.store.single_read().await?;
    Ok(store::networks::listing(&mut c)
        .await?
        .into_iter()
        .filter(|(_, _, projects)| caller.is_admin || projects.is_empty())
        .map(|(label, network_id, projects)| {
            let entry = NetworkListEntry {
                network_id,
                projects: (!projects.is_empty()).then_some(projects),
            };
            (label, entry)
        })
        .collect())
}

pub async fn list_network_attachments(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    project: Option<&str>,
) -> ApiResult<BTreeMap<String, AttachmentInfo>> {
    let mut tx = ctx.store.read().await?;
    let net = network(&mut tx, label).await?;
    let owner_access = caller.can_access(&mut tx, net.owner_id).await?;
    let filter = match project {
        None => {
            if !owner_access {
                return Err(ApiError::no_project_access());
            }
            None
        }
        Some(p) => {
            let pid = project_id(&mut tx, p).await?;
            if !owner_access {
                let listed = store::networks::access(&mut tx, net.id)
                    .await?
                    .iter()
                    .any(|(id, _)| *id == pid);
                if !listed || !caller.can_access(&mut tx, Some(pid)).await? {
                    return Err(ApiError::no_project_access());
                }
            }
            Some(pid)
        }
    };
    Ok(store::networks::attachments(&mut tx, net.id)
        .await?
        .into_iter()
        .filter(|a| filter.is_none() || a.node_project_id == filter)
        .map(|a| {
            let info = AttachmentInfo {
                nic: a.nic,
                channel: a.channel,
                project: a.node_project,
            };
            (a.node, info)
        })
        .collect())
}

pub async fn network_grant_project_access(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    project: &str,
) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let net = network(&mut tx, label).await?;
            let pid = project_id(&mut tx, project).await?;
            require_access(&mut tx, caller, net.owner_id).await?;
            let access = store::networks::access(&mut tx, net.id).await?;
            if access.iter().any(|(id, _)| *id == pid) {
                return Err(ApiError::Duplicate(format!(
                    "Network {label} is already in project {project}"
                )));
            }
            store::networks::grant(&mut tx, net.id, pid).await?;
            tx.commit().await
        })
        .await
}

pub async fn network_revoke_project_access(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    project: &str,
) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let net = network(&mut tx, label).await?;
            let pid = project_id(&mut tx, project).await?;
            let access = store::networks::access(&mut tx, net.id).await?;
            let listed = access.iter().any(|(id, _)| *id == pid);
            if !access.is_empty() {
                let allowed = caller.can_access(&mut tx, net.owner_id).await?
                    || (listed && caller.can_access(&mut tx, Some(pid)).await?);
                if !allowed {
                    return Err(ApiError::no_project_access());
                }
            }
            if !listed {
                return Err(ApiError::NotFound(format!(
                    "Network {label} is not in project {project}"
                )));
            }
            if net.owner_id == Some(pid) {
                return Err(ApiError::Blocked(
                    "Owner project's access cannot be revoked".into(),
                ));
            }
            let (nodes, headnodes) = store::networks::project_usage(&mut tx, net.id, pid).await?;
            if nodes {
                return Err(ApiError::Blocked(
                    "A node of the project is still attached to the network".into(),
                ));
            }
            if headnodes {
                return Err(ApiError::Blocked(
                    "A headnode of the project is still connected to the network".into(),
                ));
            }
            store::networks::revoke(&mut tx, net.id, pid).await?;
            tx.commit().await
        })
        .await
}
