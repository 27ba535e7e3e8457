//! The vlan_pool allocator's table.

use super::Conn;

/// Adds every VLAN not yet present, available; existing rows stay as they are.
pub async fn populate(c: &mut Conn, vlans: &[u16]) -> sqlx::Result<()> {
    for vlan in vlans {
        sqlx::query(
            "INSERT INTO vlan (vlan_no, available) VALUES ($1, $2) ON CONFLICT (vlan_no) DO NOTHING",
        )
        .bind(i64::from(*vlan))
        .bind(true)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Takes the first available VLAN in insertion order (HIL's order, §16 #31).
pub async fn take_first_available(c: &mut Conn) -> sqlx::Result<Option<i64>> {
    let vlan: Option<i64> =
        sqlx::query_scalar("SELECT vlan_no FROM vlan WHERE available = $1 ORDER BY id LIMIT 1")
            .bind(true)
            .fetch_optional(&mut *c)
            .await?;
    if let Some(v) = vlan {
        set_available(c, v, false).await?;
    }
    Ok(vlan)
}

/// The VLAN's availability, or None when it is not in the pool.
pub async fn availability(c: &mut Conn, vlan: i64) -> sqlx::Result<Option<bool>> {
    let row: Option<sqlx::any::AnyRow> =
        sqlx::query("SELECT available FROM vlan WHERE vlan_no = $1")
            .bind(vlan)
            .fetch_optional(c)
            .await?;
    row.map(|r| super::get_bool(&r, "available")).transpose()
}

pub async fn set_available(c: &mut Conn, vlan: i64, available: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE vlan SET available = $1 WHERE vlan_no = $2")
        .bind(available)
        .bind(vlan)
        .execute(c)
        .await?;
    Ok(())
}
