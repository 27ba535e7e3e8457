//! Headnodes (hil-api.md §4.7): per-project VMs. A headnode is "dirty" until its first
//! start; from then on it is frozen (no hnic or network changes). Hypervisor work goes to
//! the VM service; the database changes only after the hypervisor succeeded, so a failure
//! leaves the headnode as it was.

use hil_drivers::headnode::{VmNic, VmSpec};
use hil_types::HeadnodeInfo;

use super::{network, project_id, require_access, require_network_access, Ctx};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, headnodes::Headnode, headnodes::Hnic, Conn};

async fn headnode(c: &mut Conn, label: &str) -> ApiResult<Headnode> {
    store::headnodes::get(c, label)
        .await?
        .ok_or_else(|| ApiError::missing("Headnode", label))
}

async fn hnic(c: &mut Conn, h: &Headnode, label: &str) -> ApiResult<Hnic> {
    store::headnodes::hnic(c, h.id, label)
        .await?
        .ok_or_else(|| ApiError::missing_child("Hnic", label, "Headnode", &h.label))
}

/// 404 headnode → 401 project(headnode.project): the start of every headnode call.
async fn accessible(c: &mut Conn, caller: &Caller, label: &str) -> ApiResult<Headnode> {
    let h = headnode(c, label).await?;
    require_access(c, caller, Some(h.project_id)).await?;
    Ok(h)
}

/// HIL's frozen rule: hnics and their networks change only before the first start.
fn require_dirty(h: &Headnode) -> ApiResult<()> {
    if h.dirty {
        Ok(())
    } else {
        Err(ApiError::IllegalState(format!(
            "Headnode {} has been started; its hnics can no longer change.",
            h.label
        )))
    }
}

/// A time-based UUID, as HIL's `uuid1()`.
fn new_uuid() -> String {
    let node: [u8; 6] = rand::random();
    uuid::Uuid::now_v1(&node).to_string()
}

pub async fn headnode_create(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    project: &str,
    base_img: &str,
) -> ApiResult<()> {
    if !ctx.config.headnode.base_imgs.iter().any(|i| i == base_img) {
        return Err(ApiError::BadArgument(
            "Provided image is not a valid image.".into(),
        ));
    }
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            if store::headnodes::get(&mut tx, label).await?.is_some() {
                return Err(ApiError::exists("Headnode", label));
            }
            let pid = project_id(&mut tx, project).await?;
            require_access(&mut tx, caller, Some(pid)).await?;
            store::headnodes::insert(&mut tx, label, pid, base_img, &new_uuid()).await?;
            tx.commit().await
        })
        .await
}

pub async fn headnode_delete(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<()> {
    let h = {
        let mut tx = ctx.store.read().await?;
        accessible(&mut tx, caller, label).await?
    };
    if !h.dirty {
        ctx.vms.delete(&h.vm_name()).await?;
    }
    ctx.store
        .retrying(|| async {
            let mut tx = ctx.store.begin().await?;
            store::headnodes::delete(&mut tx, h.id).await?;
            tx.commit().await
        })
        .await?;
    tracing::info!(headnode = %label, "headnode deleted");
    Ok(())
}

pub async fn headnode_start(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<()> {
    let (h, nics) = {
        let mut tx = ctx.store.read().await?;
        let h = accessible(&mut tx, caller, label).await?;
        let nics = store::headnodes::vm_nics(&mut tx, h.id).await?;
        (h, nics)
    };
    if h.dirty {
        let spec = VmSpec {
            name: h.vm_name(),
            base_img: h.base_img.clone(),
            nics: nics
                .into_iter()
                .map(|(label, vlan)| VmNic { label, vlan })
                .collect(),
        };
        ctx.vms.create_and_start(spec).await?;
        ctx.store
            .retrying(|| async {
                let mut tx = ctx.store.begin().await?;
                store::headnodes::set_started(&mut tx, h.id).await?;
                tx.commit().await
            })
            .await?;
    } else {
        ctx.vms.start(&h.vm_name()).await?;
    }
    tracing::info!(headnode = %label, "headnode started");
    Ok(())
}

/// Hard power-off. A headnode that was never started has no VM, so there is nothing to stop.
pub async fn headnode_stop(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<()> {
    let h = {
        let mut tx = ctx.store.read().await?;
        accessible(&mut tx, caller, label).await?
    };
    if !h.dirty {
        ctx.vms.stop(&h.vm_name()).await?;
    }
    Ok(())
}

pub async fn headnode_create_hnic(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    hnic_label: &str,
) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let h = accessible(&mut tx, caller, label).await?;
            if store::headnodes::hnic(&mut tx, h.id, hnic_label)
                .await?
                .is_some()
            {
                return Err(ApiError::child_exists(
                    "Hnic", hnic_label, "Headnode", label,
                ));
            }
            require_dirty(&h)?;
            store::headnodes::insert_hnic(&mut tx, h.id, hnic_label).await?;
            tx.commit().await
        })
        .await
}

pub async fn headnode_delete_hnic(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    hnic_label: &str,
) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let h = accessible(&mut tx, caller, label).await?;
            let nic = hnic(&mut tx, &h, hnic_label).await?;
            require_dirty(&h)?;
            store::headnodes::delete_hnic(&mut tx, nic.id).await?;
            tx.commit().await
        })
        .await
}

pub async fn headnode_connect_network(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    hnic_label: &str,
    network_label: &str,
) -> ApiResult<()> {
    let allow_unallocated = ctx.config.headnode.allow_unallocated_networks;
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let h = accessible(&mut tx, caller, label).await?;
            let nic = hnic(&mut tx, &h, hnic_label).await?;
            let net = network(&mut tx, network_label).await?;
            if !net.allocated && !allow_unallocated {
                return Err(ApiError::BadArgument(
                    "Headnodes may only be connected to networks allocated by the project.".into(),
                ));
            }
            require_dirty(&h)?;
            require_network_access(&mut tx, net.id, h.project_id).await?;
            store::headnodes::set_hnic_network(&mut tx, nic.id, Some(net.id)).await?;
            tx.commit().await
        })
        .await
}

pub async fn headnode_detach_network(
    ctx: &Ctx,
    caller: &Caller,
    label: &str,
    hnic_label: &str,
) -> ApiResult<()> {
    ctx.store
        .retrying(|| async move {
            let mut tx = ctx.store.begin().await?;
            let h = accessible(&mut tx, caller, label).await?;
            let nic = hnic(&mut tx, &h, hnic_label).await?;
            require_dirty(&h)?;
            store::headnodes::set_hnic_network(&mut tx, nic.id, None).await?;
            tx.commit().await
        })
        .await
}

pub async fn show_headnode(ctx: &Ctx, caller: &Caller, label: &str) -> ApiResult<HeadnodeInfo> {
    let (h, hnics, project) = {
        let mut tx = ctx.store.read().await?;
        let h = accessible(&mut tx, caller, label).await?;
        let hnics = store::headnodes::hnic_labels(&mut tx, h.id).await?;
        let project = store::projects::label_by_id(&mut tx, h.project_id).await?;
        (h, hnics, project)
    };
    // HIL could report "-1" (libvirt's autoport placeholder); a port exists only while the
    // VM runs, and is null otherwise.
    let vncport = if h.dirty {
        None
    } else {
        ctx.vms.vnc_port(&h.vm_name()).await?
    };
    Ok(HeadnodeInfo {
        base_img: h.base_img,
        hnics,
        name: h.label,
        project,
        uuid: h.uuid,
        vncport: vncport.map(|p| p.to_string()),
    })
}

pub async fn list_project_headnodes(
    ctx: &Ctx,
    caller: &Caller,
    project: &str,
) -> ApiResult<Vec<String>> {
    let mut tx = ctx.store.read().await?;
    let pid = project_id(&mut tx, project).await?;
    require_access(&mut tx, caller, Some(pid)).await?;
    Ok(store::headnodes::labels_of_project(&mut tx, pid).await?)
}

pub fn list_headnode_images(ctx: &Ctx) -> Vec<String> {
    let mut images: Vec<String> = ctx
        .config
        .headnode
        .base_imgs
        .iter()
        .map(|i| i.trim().to_string())
        .collect();
    images.sort();
    images
}
