//! `hil-admin` as an operator runs it, and users imported from HIL.

mod common;
use std::process::Command;

use common::*;
use serde_json::json;

fn hil_admin(dir: &std::path::Path, db_url: &str, args: &[&str]) -> std::process::Output {
    hil_admin_stdin(dir, db_url, args, "")
}

/// Runs `hil-admin` with `stdin` as its standard input.
fn hil_admin_stdin(
    dir: &std::path::Path,
    db_url: &str,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hil-admin"))
        .args(args)
        .current_dir(dir)
        .env("HIL_DATA_DIR", dir)
        .env("HIL_DATABASE__URL", db_url)
        .env("HIL_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hil-admin");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("hil-admin output")
}

#[tokio::test]
async fn db_commands_are_safe_to_rerun_and_create_admin_user_works() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database_url(dir.path()).await;
    for args in [
        ["db", "create"],
        ["db", "create"],
        ["db", "upgrade"],
        ["db", "upgrade"],
    ] {
        let out = hil_admin(dir.path(), &db_url, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = hil_admin(dir.path(), &db_url, &["create-admin-user", "ops", "ops-pw"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = hil_admin(dir.path(), &db_url, &["create-admin-user", "ops", "other"]);
    assert!(
        !again.status.success(),
        "a second user of the same name is refused"
    );
    // The password can come from stdin instead of argv; an empty stdin is refused.
    let out = hil_admin_stdin(
        dir.path(),
        &db_url,
        &["create-admin-user", "ops2"],
        "ops2-pw\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = hil_admin_stdin(dir.path(), &db_url, &["create-admin-user", "ops3"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input"));

    // The server on that database: `ops` is an administrator, and the pool was filled once.
    let mut config = test_config(dir.path()).await;
    config.database.url = Some(db_url);
    config.auth.bootstrap_password = None; // users exist: no bootstrap admin
    let s = TestServer::start_with(dir, config, true).await;
    let ops = Some(("ops", "ops-pw"));
    assert_eq!(
        s.call(ops, "GET", "/v0/auth/basic/users", None).await.json,
        json!({"ops": {"is_admin": true, "projects": []},
               "ops2": {"is_admin": true, "projects": []}})
    );
    let ops2 = Some(("ops2", "ops2-pw"));
    assert_eq!(s.call(ops2, "GET", "/v0/projects", None).await.status, 200);
    let r = s
        .call(
            ops,
            "PUT",
            "/v0/network/n",
            Some(json!({"owner": "admin", "access": "", "net_id": ""})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        s.call(ops, "GET", "/v0/networks", None).await.json["n"]["network_id"],
        "1001"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_user_imported_from_hil_logs_in_with_its_sha512_crypt_hash() {
    let s = TestServer::start().await;
    // What passlib's sha512_crypt (HIL's scheme) stores, copied straight into the user table.
    let params = sha_crypt::Sha512Params::new(5000).unwrap();
    let hil_hash = sha_crypt::sha512_simple("legacy-pw", &params).unwrap();
    let mut tx = s.ctx.store.begin().await.unwrap();
    hil_server::store::users::insert(&mut tx, "legacy", &hil_hash, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    s.project("p").await;
    s.ok(
        "POST",
        "/v0/auth/basic/user/legacy/add_project",
        Some(json!({"project": "p"})),
    )
    .await;
    let r = s
        .call(
            Some(("legacy", "legacy-pw")),
            "GET",
            "/v0/project/p/nodes",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.call(
        Some(("legacy", "wrong")),
        "GET",
        "/v0/project/p/nodes",
        None,
    )
    .await
    .err(401, "AuthorizationError");
    s.shutdown().await;
}

#[test]
fn null_auth_must_be_chosen_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hil-admin"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("HIL_DATA_DIR", dir.path())
        .env("HIL_AUTH__BACKEND", "null")
        .env("HIL_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = out.id();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let out = out.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("every caller is an administrator"),
        "{stderr}"
    );
}

#[tokio::test]
async fn logs_can_be_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database_url(dir.path()).await;
    assert!(hil_admin(dir.path(), &db_url, &["db", "create"])
        .status
        .success());
    let out = Command::new(env!("CARGO_BIN_EXE_hil-admin"))
        .args(["create-admin-user", "ops", "ops-pw"])
        .env("HIL_DATA_DIR", dir.path())
        .env("HIL_DATABASE__URL", &db_url)
        .env("HIL_LOG", "debug")
        .env("HIL_LOG_FORMAT", "json")
        .output()
        .expect("run hil-admin");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "something was logged at debug level");
    for line in lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            event["timestamp"].is_string() && event["level"].is_string(),
            "{line}"
        );
        assert!(!line.contains("ops-pw"), "no password in the log");
    }
}
