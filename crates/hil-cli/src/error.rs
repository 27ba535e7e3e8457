//! What a command can end with, and the exit status each maps to.

use std::process::ExitCode;

#[derive(Debug)]
pub enum CliError {
    /// The command line or the configuration is wrong: exit 2.
    Usage(String),
    /// A call failed: HIL refused it or could not be reached. Exit 1.
    Client(hil_client::Error),
    /// The call went through but the outcome is a failure (an action ended in ERROR). Exit 1.
    Failed(String),
}

impl From<hil_client::Error> for CliError {
    fn from(e: hil_client::Error) -> Self {
        match e {
            hil_client::Error::InvalidEndpoint { .. } | hil_client::Error::InvalidArgument(_) => {
                CliError::Usage(e.to_string())
            }
            other => CliError::Client(other),
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Failed(m) => f.write_str(m),
            CliError::Client(e) => write!(f, "{e}"),
        }
    }
}

impl CliError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Client(_) | CliError::Failed(_) => ExitCode::from(1),
        }
    }

    /// `Error: <message>` on one line, whatever the server put in its message.
    pub fn one_line(&self) -> String {
        let text = self.to_string();
        let words: Vec<&str> = text.split_whitespace().collect();
        format!("Error: {}", words.join(" "))
    }
}
