//! The library against a real server: typed answers, typed errors.

#[path = "../../hil-server/tests/common/mod.rs"]
mod common;
#[path = "../../hil-server/tests/common/obmd.rs"]
mod obmd;

use std::time::Duration;

use common::{TestServer, ADMIN};
use hil_client::{Client, Error, NodeFilter};
use hil_types::{ActionStatus, ErrorType, NetworkCreate, NodeRegister, Obmd};
use tokio::io::AsyncWriteExt;

fn admin(s: &TestServer) -> Client {
    Client::new(&s.url)
        .unwrap()
        .with_basic_auth(ADMIN.0, ADMIN.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_calls_round_trip() {
    let s = TestServer::start().await;
    let hil = admin(&s);
    hil.project_create("p").await.unwrap();
    let register = NodeRegister {
        obm: None,
        obmd: Some(Obmd {
            uri: "http://obmd.example/n1".into(),
            admin_token: "t".into(),
        }),
        metadata: None,
    };
    hil.node_register("n1", &register).await.unwrap();
    hil.node_register_nic("n1", "eth0", "de:ad:be:ef:00:01")
        .await
        .unwrap();
    s.switch("sw").await;
    hil.switch_register_port("sw", "gi1/0/1").await.unwrap();
    assert_eq!(hil.show_port("sw", "gi1/0/1").await.unwrap(), None);
    hil.port_connect_nic("sw", "gi1/0/1", "n1", "eth0")
        .await
        .unwrap();
    assert_eq!(hil.list_nodes(NodeFilter::Free).await.unwrap(), ["n1"]);
    hil.project_connect_node("p", "n1").await.unwrap();
    assert!(hil.list_nodes(NodeFilter::Free).await.unwrap().is_empty());

    let create = NetworkCreate {
        owner: "p".into(),
        access: "p".into(),
        net_id: String::new(),
    };
    hil.network_create("net", &create).await.unwrap();
    let queued = hil
        .node_connect_network("n1", "eth0", "net", None)
        .await
        .unwrap();
    let action = hil
        .wait_networking_action(&queued.status_id, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(action.status, ActionStatus::Done);
    assert_eq!(action.channel, "vlan/native");

    let port = hil.show_port("sw", "gi1/0/1").await.unwrap().unwrap();
    assert_eq!((port.node.as_str(), port.nic.as_str()), ("n1", "eth0"));
    assert_eq!(
        port.networks.get("vlan/native").map(String::as_str),
        Some("net")
    );
    let node = hil.show_node("n1").await.unwrap();
    assert_eq!(node.project.as_deref(), Some("p"));
    assert_eq!(node.nics[0].port, Some(Some("gi1/0/1".into())));
    let attached = hil
        .list_network_attachments("net", Some("p"))
        .await
        .unwrap();
    assert_eq!(attached["n1"].nic, "eth0");
    assert!(hil
        .list_network_attachments("net", None)
        .await
        .unwrap()
        .contains_key("n1"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_status_type_and_message() {
    let s = TestServer::start().await;
    let err = admin(&s).show_node("nope").await.unwrap_err();
    let api = err.api().expect("an API error");
    assert_eq!(
        (api.status, api.error_type.as_str()),
        (404, "NotFoundError")
    );
    assert!(api.msg.contains("nope"), "{api:?}");
    assert!(err.is(ErrorType::NotFound));

    let anonymous = Client::new(&s.url).unwrap();
    let err = anonymous.list_projects().await.unwrap_err();
    assert_eq!(err.api().unwrap().status, 401);
    assert!(err.is(ErrorType::Authorization));

    let wrong = Client::new(&s.url)
        .unwrap()
        .with_basic_auth("admin", "nope");
    assert!(wrong
        .list_projects()
        .await
        .unwrap_err()
        .is(ErrorType::Authorization));

    admin(&s).project_create("p").await.unwrap();
    let dup = admin(&s).project_create("p").await.unwrap_err();
    assert_eq!(dup.api().unwrap().status, 409);
    assert!(dup.is(ErrorType::Duplicate));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_gives_up_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::test_config(dir.path()).await;
    let s = TestServer::start_with(dir, config, false).await;
    s.project("p").await;
    s.switch("sw").await;
    s.cabled_node("n1", "sw", "gi1/0/1").await;
    let hil = admin(&s);
    let queued = hil.port_revert("sw", "gi1/0/1").await.unwrap();
    let err = hil
        .wait_networking_action(&queued.status_id, Duration::from_millis(300))
        .await
        .unwrap_err();
    match err {
        Error::WaitTimeout {
            status_id, last, ..
        } => {
            assert_eq!(status_id, queued.status_id);
            assert_eq!(last.status, ActionStatus::Pending);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    s.shutdown().await;
}

#[tokio::test]
async fn transport_failures_and_foreign_answers() {
    let err = Client::new("http://127.0.0.1:9")
        .unwrap()
        .list_projects()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unreachable { endpoint, .. } if endpoint == "http://127.0.0.1:9"),
        "{err:?}"
    );

    // A proxy's HTML error page: status kept, type "unknown", message the body's first line.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
        let body = "<h1>Bad Gateway</h1>\n<p>upstream down</p>\n";
        let reply = format!(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(reply.as_bytes()).await.unwrap();
    });
    let err = Client::new(&format!("http://{addr}"))
        .unwrap()
        .list_projects()
        .await
        .unwrap_err();
    let api = err.api().expect("an API error");
    assert_eq!(api.status, 502);
    assert_eq!(api.error_type, "unknown");
    assert_eq!(api.msg, "<h1>Bad Gateway</h1>");
}

/// HIL v0.4 answers OBM calls on obmd nodes with a 307 to obmd; the client follows it with
/// the same method and body, and without HIL's credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obm_calls_follow_hils_redirects_to_obmd() {
    let obmd = obmd::Obmd::start("obmd-admin").await;
    let s = TestServer::start().await;
    let hil = admin(&s);
    let register = NodeRegister {
        obm: None,
        obmd: Some(Obmd {
            uri: obmd.node_uri("n1"),
            admin_token: "obmd-admin".into(),
        }),
        metadata: None,
    };
    hil.node_register("n1", &register).await.unwrap();
    hil.node_enable_disable_obm("n1", true).await.unwrap();
    assert!(obmd.token("n1").is_some());

    hil.node_power_cycle("n1", true).await.unwrap();
    assert!(obmd.powered("n1"));
    let status = hil.node_power_status("n1").await.unwrap();
    assert_eq!(status, serde_json::json!({"power_status": "on"}));
    hil.node_power_off("n1").await.unwrap();
    assert!(!obmd.powered("n1"));
    hil.node_set_bootdev("n1", "A").await.unwrap();
    let mut console = hil.show_console("n1").await.unwrap();
    let mut text = Vec::new();
    while let Some(chunk) = console.chunk().await.unwrap() {
        text.extend_from_slice(&chunk);
    }
    assert_eq!(String::from_utf8_lossy(&text), "console of n1\n");

    let seen = obmd.seen();
    let user_calls: Vec<_> = seen
        .iter()
        .filter(|x| !x.path.ends_with("/token"))
        .collect();
    assert_eq!(user_calls.len(), 5, "{seen:?}");
    assert!(user_calls.iter().all(|x| !x.authorization), "{seen:?}");
    let cycle = user_calls
        .iter()
        .find(|x| x.path.ends_with("/power_cycle"))
        .unwrap();
    assert_eq!(cycle.method, "POST");
    assert!(cycle.body.contains("\"force\":true"), "{cycle:?}");
    let boot = user_calls
        .iter()
        .find(|x| x.path.ends_with("/boot_device"))
        .unwrap();
    assert_eq!(boot.method, "PUT");
    assert!(boot.body.contains("\"bootdev\":\"A\""), "{boot:?}");

    hil.node_enable_disable_obm("n1", false).await.unwrap();
    let err = hil.node_power_on("n1").await.unwrap_err();
    assert!(err.to_string().contains("OBM is not enabled"), "{err}");
    s.shutdown().await;
}
