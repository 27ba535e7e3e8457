//! Printing: ASCII tables for people, the API's JSON for scripts.

use std::io::Write;

use comfy_table::{presets, Table};
use serde::Serialize;

/// Writes a line to stdout. A closed pipe (`hil node list all | head -1`) ends the program
/// quietly instead of panicking.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("Error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// The value exactly as the API sends it: compact JSON on one line.
pub fn json<T: Serialize + ?Sized>(value: &T) {
    emit(&serde_json::to_string(value).expect("API values always serialize"));
}

fn table(header: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::ASCII_FULL_CONDENSED);
    t.set_header(header);
    t
}

/// A single-column list titled `<Title> (<count>)`, as HIL prints lists.
pub fn list(title: &str, items: &[String]) {
    let mut t = table(vec![format!("{title} ({})", items.len())]);
    for item in items {
        t.add_row(vec![item.clone()]);
    }
    emit(&t.to_string());
}

/// A two-column `Field | Value` table.
pub fn fields(rows: Vec<(&str, String)>) {
    let mut t = table(vec!["Field".into(), "Value".into()]);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    emit(&t.to_string());
}

/// A table with named columns.
pub fn columns(header: &[&str], rows: Vec<Vec<String>>) {
    let mut t = table(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        t.add_row(row);
    }
    emit(&t.to_string());
}

/// How a missing value reads in a table (HIL's CLI printed Python's `None`).
pub fn or_none(value: Option<&str>) -> String {
    value.unwrap_or("None").to_string()
}

/// Several values in one cell, one per line; `None` when there are none.
pub fn lines<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "None".into();
    }
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A NIC's or port's networks as `network(channel)` lines.
pub fn networks(by_channel: &std::collections::BTreeMap<String, String>) -> String {
    let items: Vec<String> = by_channel
        .iter()
        .map(|(channel, network)| format!("{network}({channel})"))
        .collect();
    lines(&items)
}
