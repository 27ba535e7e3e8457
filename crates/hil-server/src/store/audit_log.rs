//! The audit log: one row per state-changing API call. Times are Unix milliseconds.

use sqlx::FromRow;

use super::Conn;

/// One recorded call.
#[derive(Debug, Clone, FromRow)]
pub struct Entry {
    pub id: i64,
    pub at_ms: i64,
    /// Who made it, when authenticated (a user name, or `keystone:<user>`).
    pub principal: Option<String>,
    pub client: Option<String>,
    pub method: String,
    pub path: String,
    /// The route's template, e.g. `/v0/node/{node}/nic/{nic}/connect_network`.
    pub route: String,
    /// The JSON body with secrets replaced by `********`.
    pub args: String,
    pub status: i64,
    /// `ok`, or the error type (`AuthorizationError`, ...).
    pub outcome: String,
}

pub async fn insert(c: &mut Conn, e: &Entry) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log
             (at_ms, principal, client, method, path, route, args, status, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.at_ms)
    .bind(e.principal.as_deref())
    .bind(e.client.as_deref())
    .bind(&e.method)
    .bind(&e.path)
    .bind(&e.route)
    .bind(&e.args)
    .bind(e.status)
    .bind(&e.outcome)
    .execute(c)
    .await?;
    Ok(())
}

/// What to look for; every field narrows the search.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub principal: Option<String>,
    /// Calls about one object (`node`, `n1`): its path names it (`…/node/n1` or
    /// `…/node/n1/…`), or an argument does (`{"node": "n1"}`).
    pub object: Option<(String, String)>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub limit: i64,
}

/// The newest entries that match, newest first.
pub async fn search(c: &mut Conn, f: &Filter) -> sqlx::Result<Vec<Entry>> {
    let mut conditions = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut numbers: Vec<i64> = Vec::new();
    // Placeholders are numbered texts first, then numbers; each list is bound in order.
    if let Some(p) = &f.principal {
        texts.push(p.clone());
        conditions.push(format!("principal = ${}", texts.len()));
    }
    if let Some((kind, label)) = &f.object {
        let segment = format!("/{}/{}", escape_like(kind), escape_like(label));
        // `"node":"n1"`, as the log's compact JSON writes the member
        let argument = format!(
            "{}:{}",
            serde_json::Value::from(kind.as_str()),
            serde_json::Value::from(label.as_str())
        );
        texts.push(format!("%{segment}"));
        texts.push(format!("%{segment}/%"));
        texts.push(format!("%{}%", escape_like(&argument)));
        let n = texts.len();
        conditions.push(format!(
            "(path LIKE ${} ESCAPE '\\' OR path LIKE ${} ESCAPE '\\' OR args LIKE ${n} ESCAPE '\\')",
            n - 2,
            n - 1
        ));
    }
    let base = texts.len();
    for (bound, op) in [(f.since_ms, ">="), (f.until_ms, "<=")] {
        if let Some(ms) = bound {
            numbers.push(ms);
            conditions.push(format!("at_ms {op} ${}", base + numbers.len()));
        }
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT id, at_ms, principal, client, method, path, route, args, status, outcome
         FROM audit_log {filter} ORDER BY id DESC LIMIT {}",
        f.limit.max(1)
    );
    let mut query = sqlx::query_as::<_, Entry>(&sql);
    for t in texts {
        query = query.bind(t);
    }
    for n in numbers {
        query = query.bind(n);
    }
    query.fetch_all(c).await
}

/// Deletes the entries older than `before_ms`; returns how many.
pub async fn prune(c: &mut Conn, before_ms: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM audit_log WHERE at_ms < $1")
        .bind(before_ms)
        .execute(c)
        .await?;
    Ok(done.rows_affected())
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
