//! Startup configuration errors, printed the way redis-server prints them.

use std::fmt;

/// Why the configuration could not be loaded. `Display` gives the full text the server
/// prints (to stderr) before exiting with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A line of the config file or a command-line option is wrong. `line_number` counts
    /// lines as Redis does: command-line options are numbered after the file's lines.
    BadLine {
        line_number: usize,
        line: String,
        reason: String,
    },
    /// The config file, an included file or stdin could not be read.
    CantOpen { path: String, reason: String },
}

pub(crate) const ERR_BAD_DIRECTIVE: &str = "Bad directive or wrong number of arguments";
pub(crate) const ERR_UNBALANCED_QUOTES: &str = "Unbalanced quotes in configuration line";

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BadLine {
                line_number,
                line,
                reason,
            } => write!(
                f,
                "\n*** FATAL CONFIG FILE ERROR (Vireo {}) ***\n\
                 Reading the configuration file, at line {line_number}\n\
                 >>> '{line}'\n\
                 {reason}",
                env!("CARGO_PKG_VERSION")
            ),
            ConfigError::CantOpen { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// An I/O error's text without Rust's " (os error N)" suffix, i.e. what `strerror` says.
pub(crate) fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}
