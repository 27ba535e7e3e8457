//! Reading secrets from standard input or a terminal prompt, never from argv.

use std::io::{BufRead, IsTerminal};

use crate::error::CliError;

/// The next line of standard input, without its line ending. Successive calls read successive
/// lines, so `--password-stdin` and a new user's password can share one pipe.
pub fn read_stdin_line(what: &str) -> Result<String, CliError> {
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read {what} from standard input: {e}")))?;
    if n == 0 {
        return Err(CliError::Usage(format!(
            "expected {what} on standard input, found nothing"
        )));
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks on the terminal without echo.
pub fn prompt(question: &str) -> Result<String, CliError> {
    rpassword::prompt_password(question)
        .map_err(|e| CliError::Usage(format!("cannot read from the terminal: {e}")))
}

/// A secret from a prompt (terminal) or the next stdin line (pipe). Empty secrets are refused.
pub fn read_secret(what: &str) -> Result<String, CliError> {
    let secret = if stdin_is_terminal() {
        prompt(&format!("{}: ", capitalize(what)))?
    } else {
        read_stdin_line(what)?
    };
    if secret.is_empty() {
        return Err(CliError::Usage(format!("the {what} must not be empty")));
    }
    Ok(secret)
}

/// A new password: asked twice on a terminal, read once from a pipe.
pub fn read_new_password(user: &str) -> Result<String, CliError> {
    if !stdin_is_terminal() {
        return read_secret(&format!("password for {user}"));
    }
    let first = prompt(&format!("New password for {user}: "))?;
    let second = prompt("Repeat it: ")?;
    if first != second {
        return Err(CliError::Usage("the passwords do not match".into()));
    }
    if first.is_empty() {
        return Err(CliError::Usage("the password must not be empty".into()));
    }
    Ok(first)
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
