//! Errors of HTTP drivers (REST switches, Redfish BMCs) in words an operator can use.

/// The messages of an error and its sources, without the URL reqwest adds at the top level.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        // reqwest's top level reads "error sending request for url (...)"; the cause is below.
        if !text.contains("for url (") && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    if parts.is_empty() {
        "request failed".into()
    } else {
        parts.join(": ")
    }
}
