//! Users of the database auth backend and their project memberships.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{get_bool, Conn};

#[derive(Clone)]
pub struct User {
    pub id: i64,
    pub label: String,
    pub is_admin: bool,
    pub hashed_password: String,
}

impl FromRow<'_, AnyRow> for User {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        Ok(User {
            id: row.try_get("id")?,
            label: row.try_get("label")?,
            is_admin: get_bool(row, "is_admin")?,
            hashed_password: row.try_get("hashed_password")?,
        })
    }
}

pub async fn get(c: &mut Conn, label: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as("SELECT id, label, is_admin, hashed_password FROM users WHERE label = $1")
        .bind(label)
        .fetch_optional(c)
        .await
}

pub async fn count(c: &mut Conn) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(c)
        .await
}

pub async fn insert(c: &mut Conn, label: &str, hash: &str, is_admin: bool) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (label, hashed_password, is_admin) VALUES ($1, $2, $3)")
        .bind(label)
        .bind(hash)
        .bind(is_admin)
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes a user and its memberships.
pub async fn delete(c: &mut Conn, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM user_projects WHERE user_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_admin(c: &mut Conn, id: i64, is_admin: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET is_admin = $1 WHERE id = $2")
        .bind(is_admin)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn is_member(c: &mut Conn, user_id: i64, project_id: i64) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_projects WHERE user_id = $1 AND project_id = $2",
    )
    .bind(user_id)
    .bind(project_id)
    .fetch_one(c)
    .await?;
    Ok(n > 0)
}

pub async fn add_member(c: &mut Conn, user_id: i64, project_id: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO user_projects (user_id, project_id) VALUES ($1, $2)")
        .bind(user_id)
        .bind(project_id)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn remove_member(c: &mut Conn, user_id: i64, project_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM user_projects WHERE user_id = $1 AND project_id = $2")
        .bind(user_id)
        .bind(project_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Every user with its admin flag and sorted project labels, sorted by label.
pub async fn list(c: &mut Conn) -> sqlx::Result<Vec<(String, bool, Vec<String>)>> {
    let users: Vec<User> =
        sqlx::query_as("SELECT id, label, is_admin, hashed_password FROM users ORDER BY label")
            .fetch_all(&mut *c)
            .await?;
    let pairs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.user_id, p.label FROM user_projects m JOIN project p ON p.id = m.project_id
         ORDER BY p.label",
    )
    .fetch_all(c)
    .await?;
    let mut projects_of = super::group_labels(pairs);
    Ok(users
        .into_iter()
        .map(|u| {
            let projects = projects_of.remove(&u.id).unwrap_or_default();
            (u.label, u.is_admin, projects)
        })
        .collect())
}

/// The labels of the projects a user belongs to, sorted.
pub async fn project_labels(c: &mut Conn, user_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT p.label FROM user_projects m JOIN project p ON p.id = m.project_id
         WHERE m.user_id = $1 ORDER BY p.label",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
}
