//! `docs/cli.md` is the `--help` text of every command, generated from the clap definitions.
//! The test below fails when the file is stale; `UPDATE_DOCS=1 cargo test -p hil-cli docs`
//! rewrites it.

use clap::CommandFactory;

use crate::cli::Cli;

/// Help is rendered at a fixed width so the file does not depend on the terminal.
const WIDTH: usize = 100;

pub fn markdown() -> String {
    let mut root = Cli::command().term_width(WIDTH).max_term_width(WIDTH);
    root.build();
    let mut out = String::from(
        "# The `hil` command line\n\n\
         <!-- Generated from crates/hil-cli/src/cli.rs by \
         `UPDATE_DOCS=1 cargo test -p hil-cli docs`; do not edit by hand. -->\n\n\
         Every command with its `--help` text. The [README](../README.md) has a tour, and\n\
         [compat.md](compat.md) lists where `hil` differs from HIL's Python CLI.\n",
    );
    let mut index = String::new();
    let mut sections = String::new();
    walk(&mut root, &mut index, &mut sections);
    out.push_str("\n## Commands\n\n");
    out.push_str(&index);
    out.push_str(&sections);
    out
}

fn walk(cmd: &mut clap::Command, index: &mut String, sections: &mut String) {
    let name = cmd.get_bin_name().unwrap_or("hil").to_string();
    let depth = name.matches(' ').count();
    let anchor = name.replace(' ', "-");
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    index.push_str(&format!(
        "{}- [`{name}`](#{anchor}): {about}\n",
        "  ".repeat(depth)
    ));
    let help = cmd.render_long_help().to_string();
    sections.push_str(&format!(
        "\n## {name}\n\n```text\n{}\n```\n",
        help.trim_end()
    ));
    for sub in cmd.get_subcommands_mut() {
        if sub.get_name() != "help" {
            walk(sub, index, sections);
        }
    }
}

#[test]
fn docs_cli_md_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md");
    let fresh = markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).expect("write docs/cli.md");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == fresh,
        "docs/cli.md is stale: run `UPDATE_DOCS=1 cargo test -p hil-cli docs`"
    );
}

#[test]
fn every_command_has_an_example() {
    fn check(cmd: &clap::Command, path: &str) {
        let path = format!("{path} {}", cmd.get_name());
        let after = cmd
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(after.contains("Example"), "`{path}` has no example");
        for sub in cmd.get_subcommands() {
            check(sub, &path);
        }
    }
    check(&Cli::command(), "");
}
