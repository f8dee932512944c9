//! redis.conf parsing, the directive table, CONFIG GET/SET/REWRITE logic.
//!
//! Vireo reads its configuration exactly as redis-server does: an optional config file
//! (with `include`), stdin with `-`, then `--directive value` options. Every directive
//! Redis 7.2 knows is in one table ([`table::DIRECTIVES`]) with its type, default, flags and
//! whether Vireo implements it yet, so any existing redis.conf loads and nothing set in it
//! is silently ignored ([`Config::unimplemented_overrides`]).
//!
//! ```
//! use vireo_config::{parse_command_line, CommandLine, SharedConfig};
//! let args = vec!["--port".to_string(), "7000".to_string()];
//! let CommandLine::Run(config) = parse_command_line(&args, &mut std::io::empty()).unwrap() else {
//!     unreachable!()
//! };
//! let shared = SharedConfig::new(config.into());
//! assert_eq!(shared.read().port(), 7000);
//! shared.write().set(&[(b"hz", b"20")]).unwrap();
//! assert_eq!(shared.read().get(&[b"hz"]), [("hz".to_string(), "20".to_string())]);
//! ```

mod args;
mod cmdline;
mod config;
mod error;
mod rewrite;
mod runtime;
pub mod table;
pub mod value;

pub use args::{quote, split_args};
pub use cmdline::{parse_command_line, usage, CommandLine};
pub use config::{load_from_str, Config, LogLevel, Permission};
pub use error::ConfigError;
pub use value::{BufferLimit, Value};

/// How the server shares the configuration between connections: cheap concurrent reads,
/// exclusive CONFIG SET.
pub type SharedConfig = std::sync::Arc<parking_lot::RwLock<Config>>;
