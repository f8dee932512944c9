//! The loaded configuration: one typed value per directive of the table, plus the
//! file-only directives (`rename-command`, `user`, `loadmodule`, `sentinel`), and the loader
//! that applies redis.conf text to it.
//!
//! Loading reads the whole configuration as one text, as Redis does: the file, then stdin,
//! then the command-line options as lines. Lines are applied in order, so a later line wins;
//! `save` is the exception that accumulates (the first `save` line replaces the default).

use std::path::{Path, PathBuf};

use crate::args::split_args;
use crate::error::{os_message, ConfigError, ERR_BAD_DIRECTIVE, ERR_UNBALANCED_QUOTES};
use crate::table::{self, index_of, Directive, Kind, Status, DEPRECATED, DIRECTIVES};
use crate::value::{self, Value};

/// The server configuration. Cheap to read: values are typed and indexed by directive.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) values: Vec<Value>,
    /// Absolute path of the config file given at startup, for CONFIG REWRITE.
    pub(crate) file: Option<PathBuf>,
    pub(crate) rename_commands: Vec<(String, String)>,
    pub(crate) users: Vec<Vec<String>>,
    pub(crate) load_modules: Vec<Vec<String>>,
    pub(crate) sentinel_lines: Vec<Vec<String>>,
    pub(crate) sentinel_mode: bool,
}

/// What `enable-debug-command` (and the other yes/no/local switches) allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    No,
    Yes,
    /// Only for connections from the local host.
    Local,
}

/// `loglevel`, from most to least verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

impl Default for Config {
    fn default() -> Self {
        let mut values: Vec<Value> = DIRECTIVES
            .iter()
            .map(|d| value::parse_default(d.kind, d.default))
            .collect();
        let cwd = std::env::current_dir().unwrap_or_default();
        values[DIR] = Value::Str(cwd.to_string_lossy().into_owned().into_bytes());
        Config {
            values,
            file: None,
            rename_commands: Vec::new(),
            users: Vec::new(),
            load_modules: Vec::new(),
            sentinel_lines: Vec::new(),
            sentinel_mode: false,
        }
    }
}

const PORT: usize = index_of("port");
const BIND: usize = index_of("bind");
const BIND_SOURCE_ADDR: usize = index_of("bind-source-addr");
const UNIXSOCKET: usize = index_of("unixsocket");
const UNIXSOCKETPERM: usize = index_of("unixsocketperm");
const TCP_BACKLOG: usize = index_of("tcp-backlog");
const TCP_KEEPALIVE: usize = index_of("tcp-keepalive");
const TIMEOUT: usize = index_of("timeout");
const MAXCLIENTS: usize = index_of("maxclients");
const PROTECTED_MODE: usize = index_of("protected-mode");
const REQUIREPASS: usize = index_of("requirepass");
const DATABASES: usize = index_of("databases");
const DAEMONIZE: usize = index_of("daemonize");
const PIDFILE: usize = index_of("pidfile");
const LOGFILE: usize = index_of("logfile");
const LOGLEVEL: usize = index_of("loglevel");
pub(crate) const DIR: usize = index_of("dir");
const HZ: usize = index_of("hz");
const DYNAMIC_HZ: usize = index_of("dynamic-hz");
const ACTIVE_EXPIRE_EFFORT: usize = index_of("active-expire-effort");
const PROTO_MAX_BULK_LEN: usize = index_of("proto-max-bulk-len");
const CLIENT_QUERY_BUFFER_LIMIT: usize = index_of("client-query-buffer-limit");
const ENABLE_DEBUG_COMMAND: usize = index_of("enable-debug-command");
const IO_THREADS: usize = index_of("io-threads");
pub(crate) const SAVE: usize = index_of("save");
const APPENDONLY: usize = index_of("appendonly");
pub(crate) const ENABLE_PROTECTED_CONFIGS: usize = index_of("enable-protected-configs");

/// Typed accessors for the directives the server acts on.
impl Config {
    pub fn port(&self) -> u16 {
        self.int(PORT) as u16
    }
    /// Addresses to listen on; `-` before an address means "optional" as in Redis.
    pub fn bind(&self) -> &[String] {
        match &self.values[BIND] {
            Value::Bind(addrs) => addrs,
            _ => unreachable!(),
        }
    }
    pub fn bind_source_addr(&self) -> Option<&str> {
        self.non_empty_str(BIND_SOURCE_ADDR)
    }
    pub fn unixsocket(&self) -> Option<&str> {
        self.non_empty_str(UNIXSOCKET)
    }
    /// Permission bits for the unix socket; 0 means "leave as created".
    pub fn unixsocketperm(&self) -> u32 {
        self.int(UNIXSOCKETPERM) as u32
    }
    pub fn tcp_backlog(&self) -> u32 {
        self.int(TCP_BACKLOG) as u32
    }
    /// Seconds; 0 disables keepalive.
    pub fn tcp_keepalive(&self) -> u64 {
        self.int(TCP_KEEPALIVE) as u64
    }
    /// Idle client timeout in seconds; 0 disables it.
    pub fn timeout(&self) -> u64 {
        self.int(TIMEOUT) as u64
    }
    pub fn maxclients(&self) -> u64 {
        self.int(MAXCLIENTS) as u64
    }
    pub fn protected_mode(&self) -> bool {
        self.boolean(PROTECTED_MODE)
    }
    /// The password of the default user, if any.
    pub fn requirepass(&self) -> Option<&[u8]> {
        Some(self.bytes(REQUIREPASS)).filter(|p| !p.is_empty())
    }
    pub fn databases(&self) -> usize {
        self.int(DATABASES) as usize
    }
    pub fn daemonize(&self) -> bool {
        self.boolean(DAEMONIZE)
    }
    pub fn pidfile(&self) -> Option<&str> {
        self.non_empty_str(PIDFILE)
    }
    /// Empty means standard output.
    pub fn logfile(&self) -> &str {
        self.str(LOGFILE)
    }
    pub fn loglevel(&self) -> LogLevel {
        match self.word(LOGLEVEL) {
            "debug" => LogLevel::Debug,
            "verbose" => LogLevel::Verbose,
            "notice" => LogLevel::Notice,
            "warning" => LogLevel::Warning,
            _ => LogLevel::Nothing,
        }
    }
    /// The working directory (absolute), where RDB/AOF files live.
    pub fn dir(&self) -> &Path {
        Path::new(self.str(DIR))
    }
    pub fn hz(&self) -> u32 {
        self.int(HZ) as u32
    }
    pub fn dynamic_hz(&self) -> bool {
        self.boolean(DYNAMIC_HZ)
    }
    pub fn active_expire_effort(&self) -> u32 {
        self.int(ACTIVE_EXPIRE_EFFORT) as u32
    }
    pub fn proto_max_bulk_len(&self) -> u64 {
        self.int(PROTO_MAX_BULK_LEN) as u64
    }
    pub fn client_query_buffer_limit(&self) -> u64 {
        self.int(CLIENT_QUERY_BUFFER_LIMIT) as u64
    }
    pub fn enable_debug_command(&self) -> Permission {
        self.permission(ENABLE_DEBUG_COMMAND)
    }
    pub fn io_threads(&self) -> usize {
        self.int(IO_THREADS) as usize
    }
    /// Save points as `(seconds, changes)`; empty when snapshots are disabled.
    pub fn save_points(&self) -> &[(u64, u64)] {
        match &self.values[SAVE] {
            Value::Save(points) => points,
            _ => unreachable!(),
        }
    }
    pub fn appendonly(&self) -> bool {
        self.boolean(APPENDONLY)
    }

    /// `rename-command <from> <to>` lines, in order; `to` empty means "disable".
    pub fn rename_commands(&self) -> &[(String, String)] {
        &self.rename_commands
    }
    /// Arguments of each `user` line (ACL rules), in order.
    pub fn users(&self) -> &[Vec<String>] {
        &self.users
    }
    /// Arguments of each `loadmodule` line.
    pub fn load_modules(&self) -> &[Vec<String>] {
        &self.load_modules
    }
    /// Arguments of each `sentinel` line.
    pub fn sentinel_lines(&self) -> &[Vec<String>] {
        &self.sentinel_lines
    }
    /// Started with `--sentinel`.
    pub fn sentinel_mode(&self) -> bool {
        self.sentinel_mode
    }
    /// The config file given at startup (absolute), if any.
    pub fn config_file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// Generic access by directive name, for directives without a typed accessor.
impl Config {
    /// The typed value of a directive (name or alias, any case).
    pub fn value(&self, name: &str) -> Option<&Value> {
        table::lookup(name.as_bytes()).map(|i| &self.values[i])
    }

    /// An integer or memory directive by name (or alias).
    ///
    /// # Panics
    /// If no directive has that name or it is not an integer: a programming error.
    pub fn integer(&self, name: &str) -> i64 {
        let i = table::lookup(name.as_bytes()).unwrap_or_else(|| panic!("no directive {name}"));
        self.int(i)
    }

    /// The value as CONFIG GET prints it.
    pub fn get_one(&self, name: &str) -> Option<String> {
        let i = table::lookup(name.as_bytes())?;
        Some(value::format_get(DIRECTIVES[i].kind, &self.values[i]))
    }

    /// Names of directives Vireo does not act on yet that are set to something other than
    /// their default (plus `rename-command`, `user`, `loadmodule` when used). The server
    /// logs a warning for each at startup.
    pub fn unimplemented_overrides(&self) -> Vec<&'static str> {
        let defaults = Config::default();
        let mut names: Vec<&'static str> = DIRECTIVES
            .iter()
            .enumerate()
            .filter(|(i, d)| d.status == Status::NotYet && self.values[*i] != defaults.values[*i])
            .map(|(_, d)| d.name)
            .collect();
        let file_only = [
            ("rename-command", !self.rename_commands.is_empty()),
            ("user", !self.users.is_empty()),
            ("loadmodule", !self.load_modules.is_empty()),
        ];
        names.extend(file_only.iter().filter(|(_, used)| *used).map(|(n, _)| *n));
        names
    }

    fn int(&self, i: usize) -> i64 {
        match self.values[i] {
            Value::Int(n) => n,
            _ => unreachable!("{} is not an integer", DIRECTIVES[i].name),
        }
    }
    fn boolean(&self, i: usize) -> bool {
        match self.values[i] {
            Value::Bool(b) => b,
            _ => unreachable!("{} is not a bool", DIRECTIVES[i].name),
        }
    }
    fn bytes(&self, i: usize) -> &[u8] {
        match &self.values[i] {
            Value::Str(s) => s,
            _ => unreachable!("{} is not a string", DIRECTIVES[i].name),
        }
    }
    fn str(&self, i: usize) -> &str {
        std::str::from_utf8(self.bytes(i)).unwrap_or("")
    }
    fn non_empty_str(&self, i: usize) -> Option<&str> {
        Some(self.str(i)).filter(|s| !s.is_empty())
    }
    fn word(&self, i: usize) -> &'static str {
        match self.values[i] {
            Value::Enum(w) => value::enum_word(DIRECTIVES[i].kind, w),
            _ => unreachable!("{} is not an enum", DIRECTIVES[i].name),
        }
    }
    pub(crate) fn permission(&self, i: usize) -> Permission {
        match self.word(i) {
            "yes" => Permission::Yes,
            "local" => Permission::Local,
            _ => Permission::No,
        }
    }
}

/// Parses one directive's arguments into a value, given the current one (which
/// `client-output-buffer-limit` updates class by class). A single argument holding blanks is
/// split into words for multi-argument directives (`--save "900 1"`).
pub(crate) fn parse_directive(
    directive: &Directive,
    current: &Value,
    args: &[Vec<u8>],
) -> Result<Value, String> {
    let split;
    let args = if directive.kind.is_multi_arg() && args.len() == 1 && args[0].contains(&b' ') {
        split = args[0]
            .split(|b| *b == b' ')
            .filter(|w| !w.is_empty())
            .map(<[u8]>::to_vec);
        &split.collect::<Vec<_>>()[..]
    } else {
        args
    };
    match directive.kind {
        Kind::ClientOutputBufferLimit => value::parse_cobl(current, args),
        kind => value::parse(kind, args),
    }
}

/// Applies redis.conf text to a [`Config`].
pub(crate) struct Loader {
    pub(crate) config: Config,
    /// The first `save` line replaces the default save points; later ones add to them.
    save_seen: bool,
    include_depth: usize,
}

impl Loader {
    pub(crate) fn new(config: Config) -> Self {
        Loader {
            config,
            save_seen: false,
            include_depth: 0,
        }
    }

    /// Applies every line of `text`; line numbers in errors count from 1 in `text`.
    pub(crate) fn load_text(&mut self, text: &[u8]) -> Result<(), ConfigError> {
        for (n, raw) in text.split(|b| *b == b'\n').enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let bad_line = |reason: &str| ConfigError::BadLine {
                line_number: n + 1,
                line: String::from_utf8_lossy(line).into_owned(),
                reason: reason.to_string(),
            };
            let Some(mut args) = split_args(line) else {
                return Err(bad_line(ERR_UNBALANCED_QUOTES));
            };
            if args.is_empty() {
                continue;
            }
            let name = args.remove(0).to_ascii_lowercase();
            self.apply_line(&name, args)
                .map_err(|reason| match reason {
                    LineError::Bad(reason) => bad_line(&reason),
                    LineError::Fatal(e) => e,
                })?;
        }
        Ok(())
    }

    fn apply_line(&mut self, name: &[u8], args: Vec<Vec<u8>>) -> Result<(), LineError> {
        let strings = || -> Vec<String> {
            args.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        };
        match (name, args.len()) {
            (b"include", 1) => return self.include(&args[0]).map_err(LineError::Fatal),
            (b"rename-command", 2) => {
                let mut pair = strings();
                let to = pair.pop().expect("two arguments");
                let from = pair.pop().expect("two arguments");
                self.config.rename_commands.push((from, to));
                return Ok(());
            }
            (b"user", n) if n >= 1 => {
                self.config.users.push(strings());
                return Ok(());
            }
            (b"loadmodule", n) if n >= 1 => {
                self.config.load_modules.push(strings());
                return Ok(());
            }
            (b"sentinel", n) if n >= 1 => {
                self.config.sentinel_lines.push(strings());
                return Ok(());
            }
            (name, 1) if DEPRECATED.iter().any(|d| d.as_bytes() == name) => return Ok(()),
            _ => {}
        }
        let Some(index) = table::lookup(name) else {
            return Err(LineError::Bad(ERR_BAD_DIRECTIVE.into()));
        };
        let directive = &DIRECTIVES[index];
        let parsed = parse_directive(directive, &self.config.values[index], &args)
            .map_err(LineError::Bad)?;
        self.config.values[index] = match (parsed, &self.config.values[index]) {
            (Value::Save(mut new), Value::Save(old)) if self.save_seen && !new.is_empty() => {
                let mut all = old.clone();
                all.append(&mut new);
                Value::Save(all)
            }
            (parsed, _) => parsed,
        };
        if index == SAVE {
            self.save_seen = true;
        }
        Ok(())
    }

    /// `include <path>`: the path is relative to the working directory, as in Redis.
    fn include(&mut self, path: &[u8]) -> Result<(), ConfigError> {
        const MAX_INCLUDE_DEPTH: usize = 32;
        let path = String::from_utf8_lossy(path).into_owned();
        if self.include_depth >= MAX_INCLUDE_DEPTH {
            return Err(ConfigError::CantOpen {
                path,
                reason: "Too many levels of nested includes".into(),
            });
        }
        let text = read_config_file(Path::new(&path))?;
        self.include_depth += 1;
        let result = self.load_text(&text);
        self.include_depth -= 1;
        result
    }
}

enum LineError {
    Bad(String),
    Fatal(ConfigError),
}

fn trim(line: &[u8]) -> &[u8] {
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !blank(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |e| e + 1);
    &line[start..end]
}

/// Absolute form of `path` without touching the file system (the file may not exist).
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

pub(crate) fn read_config_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::CantOpen {
        path: absolute(path).to_string_lossy().into_owned(),
        reason: os_message(&e),
    })
}

/// Loads a configuration from redis.conf text alone (no file, no command line); for tests
/// and tools. Line numbers in errors count from 1.
pub fn load_from_str(text: &str) -> Result<Config, ConfigError> {
    let mut loader = Loader::new(Config::default());
    loader.load_text(text.as_bytes())?;
    Ok(loader.config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(text: &str) -> (usize, String, String) {
        match load_from_str(text).unwrap_err() {
            ConfigError::BadLine {
                line_number,
                line,
                reason,
            } => (line_number, line, reason),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn defaults_match_redis() {
        let c = Config::default();
        assert_eq!(c.port(), 6379);
        assert_eq!(c.bind(), ["*", "-::*"]);
        assert_eq!(c.save_points(), [(3600, 1), (300, 100), (60, 10000)]);
        assert_eq!(c.databases(), 16);
        assert_eq!(c.loglevel(), LogLevel::Notice);
        assert_eq!(c.requirepass(), None);
        assert_eq!(c.hz(), 10);
        assert_eq!(c.proto_max_bulk_len(), 512 * 1024 * 1024);
        assert_eq!(c.enable_debug_command(), Permission::No);
        assert_eq!(c.dir(), std::env::current_dir().unwrap());
        assert!(c.unimplemented_overrides().is_empty());
        // Every default prints back exactly as written in the table.
        for (i, d) in DIRECTIVES
            .iter()
            .enumerate()
            .filter(|(_, d)| d.name != "dir")
        {
            assert_eq!(
                value::format_get(d.kind, &c.values[i]),
                d.default,
                "{}",
                d.name
            );
        }
    }

    #[test]
    fn file_syntax() {
        let c = load_from_str(
            "# comment\n  \n\t PORT 7000  \r\nrequirepass \"a b\\x41\"\nbind 127.0.0.1 -::1\n\
             slaveof 10.0.0.1 6380\nlist-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\n\
             maxmemory 1GB\nuser alice on >pw\n",
        )
        .unwrap();
        assert_eq!(c.port(), 7000);
        assert_eq!(c.requirepass(), Some(&b"a bA"[..]));
        assert_eq!(c.bind(), ["127.0.0.1", "-::1"]);
        assert_eq!(c.get_one("replicaof").unwrap(), "10.0.0.1 6380");
        assert_eq!(c.get_one("maxmemory").unwrap(), "1073741824");
        assert_eq!(
            c.rename_commands(),
            [("FLUSHALL".to_string(), String::new())]
        );
        assert_eq!(
            c.users(),
            [vec!["alice".to_string(), "on".into(), ">pw".into()]]
        );
        assert_eq!(
            c.unimplemented_overrides(),
            ["replicaof", "rename-command", "user"]
        );
    }

    #[test]
    fn save_lines_accumulate_after_replacing_the_default() {
        let c = load_from_str("save 900 1\nsave 300 10\n").unwrap();
        assert_eq!(c.save_points(), [(900, 1), (300, 10)]);
        let c = load_from_str("save 5 5\nsave \"\"\n").unwrap();
        assert!(c.save_points().is_empty());
        let c = load_from_str("save \"\"\nsave 5 5\n").unwrap();
        assert_eq!(c.save_points(), [(5, 5)]);
        let c = load_from_str("save \"5 5 6 6\"\n").unwrap();
        assert_eq!(c.save_points(), [(5, 5), (6, 6)]);
    }

    #[test]
    fn errors_name_the_line_and_the_reason() {
        let err = load_from_str("port 0\nfoo bar\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "\n*** FATAL CONFIG FILE ERROR (Vireo {}) ***\nReading the configuration file, at line 2\n>>> 'foo bar'\nBad directive or wrong number of arguments",
                env!("CARGO_PKG_VERSION")
            )
        );
        let cases = [
            ("daemonize maybe", "argument must be 'yes' or 'no'"),
            ("databases abc", "argument couldn't be parsed into an integer"),
            ("databases 0", "argument must be between 1 and 2147483647 inclusive"),
            ("maxmemory 10xb", "argument must be a memory value"),
            ("save 900", "Invalid save parameters"),
            ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"),
            ("port", "wrong number of arguments"),
            ("port 1 2", "wrong number of arguments"),
            ("port 70000", "argument must be between 0 and 65535 inclusive"),
            ("hz -5", "argument must be between 0 and 2147483647 inclusive"),
            ("\"unterminated", "Unbalanced quotes in configuration line"),
            ("notify-keyspace-events Z", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
            ("client-output-buffer-limit foo 1 2 3", "Invalid client class specified in buffer limit configuration."),
            ("rename-command", "Bad directive or wrong number of arguments"),
            ("oom-score-adj-values 1 2", "wrong number of arguments"),
            ("unixsocketperm abc", "argument couldn't be parsed as an octal number"),
            ("list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments"),
            ("replicaof h 70000", "Invalid master port"),
        ];
        for (line, reason) in cases {
            assert_eq!(
                bad(line),
                (1, line.trim().to_string(), reason.to_string()),
                "{line}"
            );
        }
    }

    #[test]
    fn include_reads_relative_to_cwd_and_reports_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("inc.conf");
        std::fs::write(&inc, "hz 20\n\nhz 30\n").unwrap();
        let c = load_from_str(&format!("port 1\ninclude {}\n", inc.display())).unwrap();
        assert_eq!(c.hz(), 30);
        std::fs::write(&inc, "hz 20\nfoo\n").unwrap();
        assert_eq!(bad(&format!("include {}", inc.display())).0, 2);
        let err = load_from_str("include /nonexistent/x.conf").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Fatal error, can't open config file '/nonexistent/x.conf': No such file or directory"
        );
        std::fs::write(&inc, format!("include {}\n", inc.display())).unwrap();
        assert!(load_from_str(&format!("include {}", inc.display())).is_err());
    }

    #[test]
    fn debian_redis_conf_loads() {
        let path = Path::new("/etc/redis/redis.conf");
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let c = load_from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.port() > 0);
    }
}
