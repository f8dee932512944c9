//! `vireo-server [/path/to/redis.conf] [--directive value ...] [-]`, as redis-server 7 reads it.
//!
//! Options become config lines appended after the file (and after stdin when `-` is given),
//! each value quoted, so they are parsed by the same code as the file and errors point at a
//! line number counted past the file's lines, exactly as redis-server reports them.

use std::io::Read;

use crate::args::quote;
use crate::config::{absolute, read_config_file, Config, Loader};
use crate::error::{os_message, ConfigError};

/// What the command line asks for.
#[derive(Debug)]
pub enum CommandLine {
    /// Start the server with this configuration.
    Run(Config),
    /// `-v` / `--version`: print the version line, exit 0.
    Version,
    /// `-h` / `--help`: print [`usage`] to stderr, exit 1.
    Help,
}

/// Parses the arguments after the program name. `stdin` is read only when `-` is given.
pub fn parse_command_line(
    args: &[String],
    stdin: &mut dyn Read,
) -> Result<CommandLine, ConfigError> {
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => return Ok(CommandLine::Version),
        Some("-h" | "--help") => return Ok(CommandLine::Help),
        _ => {}
    }
    let (file, rest) = match args.first() {
        Some(first) if !first.starts_with('-') => (Some(first.as_str()), &args[1..]),
        _ => (None, args),
    };
    let options = Options::collect(rest, file.is_none());

    let mut text = Vec::new();
    let mut config = Config::default();
    if let Some(path) = file {
        text.extend(read_config_file(std::path::Path::new(path))?);
        config.file = Some(absolute(std::path::Path::new(path)));
    }
    if options.from_stdin {
        stdin
            .read_to_end(&mut text)
            .map_err(|e| ConfigError::CantOpen {
                path: "-".into(),
                reason: os_message(&e),
            })?;
    }
    text.push(b'\n');
    text.extend(options.lines.as_bytes());
    config.sentinel_mode = options.sentinel;

    let mut loader = Loader::new(config);
    loader.load_text(&text)?;
    Ok(CommandLine::Run(loader.config))
}

/// The command-line options turned into config lines.
struct Options {
    lines: String,
    from_stdin: bool,
    sentinel: bool,
}

impl Options {
    fn collect(args: &[String], first_is_program_arg: bool) -> Options {
        let mut out = Options {
            lines: String::new(),
            from_stdin: false,
            sentinel: false,
        };
        // After an option name, the next argument is its value even if it starts with "--".
        let mut expecting_value = false;
        for (j, arg) in args.iter().enumerate() {
            let is_last = j + 1 == args.len();
            if arg == "-" && ((j == 0 && first_is_program_arg) || is_last) {
                out.from_stdin = true;
            } else if arg == "--sentinel" && !expecting_value {
                out.sentinel = true;
            } else if arg.starts_with("--") && !expecting_value {
                if !out.lines.is_empty() {
                    out.lines.push('\n');
                }
                out.lines.push_str(&arg[2..]);
                out.lines.push(' ');
                // "--port 6380" as one argument carries its own value.
                expecting_value = !arg.trim_end().contains(' ');
                let next_is_option = args.get(j + 1).is_none_or(|next| next.starts_with("--"));
                if expecting_value && arg.eq_ignore_ascii_case("--save") && next_is_option {
                    out.lines.push_str("\"\"");
                    expecting_value = false;
                }
            } else {
                out.lines.push_str(&quote(arg.as_bytes()));
                out.lines.push(' ');
                expecting_value = false;
            }
        }
        out
    }
}

/// The `--help` text, naming the program as invoked.
pub fn usage(program: &str) -> String {
    format!(
        "Usage: {p} [/path/to/redis.conf] [options] [-]\n       \
         {p} - (read config from stdin)\n       \
         {p} -v or --version\n       \
         {p} -h or --help\n\n\
         Examples:\n       \
         {p} (run the server with default conf)\n       \
         echo 'maxmemory 128mb' | {p} -\n       \
         {p} /etc/redis/6379.conf\n       \
         {p} --port 7777\n       \
         {p} --port 7777 --replicaof 127.0.0.1 8888\n       \
         {p} /etc/myredis.conf --loglevel verbose -\n       \
         {p} /etc/myredis.conf --loglevel verbose\n\n\
         Sentinel mode:\n       \
         {p} /etc/sentinel.conf --sentinel\n",
        p = program
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, ConfigError> {
        run_with_stdin(args, "")
    }

    fn run_with_stdin(args: &[&str], stdin: &str) -> Result<Config, ConfigError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse_command_line(&args, &mut stdin.as_bytes())? {
            CommandLine::Run(c) => Ok(c),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn error_at(args: &[&str]) -> (usize, String, String) {
        match run(args).unwrap_err() {
            ConfigError::BadLine {
                line_number,
                line,
                reason,
            } => (line_number, line, reason),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn version_and_help() {
        let mut empty: &[u8] = b"";
        for (arg, version) in [
            ("-v", true),
            ("--version", true),
            ("-h", false),
            ("--help", false),
        ] {
            let parsed = parse_command_line(&[arg.to_string()], &mut empty).unwrap();
            assert_eq!(matches!(parsed, CommandLine::Version), version);
            assert_eq!(matches!(parsed, CommandLine::Help), !version);
        }
        assert!(usage("vireo-server").starts_with("Usage: vireo-server [/path/to/redis.conf]"));
    }

    #[test]
    fn options_with_several_values() {
        let c = run(&[
            "--port",
            "7777",
            "--save",
            "900",
            "1",
            "--save",
            "60 5",
            "--bind",
            "1.2.3.4 ::1",
        ])
        .unwrap();
        assert_eq!(c.port(), 7777);
        assert_eq!(c.save_points(), [(900, 1), (60, 5)]);
        assert_eq!(c.bind(), ["1.2.3.4", "::1"]);
        assert!(c.config_file().is_none());
    }

    #[test]
    fn empty_save() {
        assert!(run(&["--save", ""]).unwrap().save_points().is_empty());
        assert!(run(&["--save", "--port", "1"])
            .unwrap()
            .save_points()
            .is_empty());
        assert!(run(&["--port", "1", "--save"])
            .unwrap()
            .save_points()
            .is_empty());
        assert_eq!(
            run(&["--save", "", "--save", "60", "5"])
                .unwrap()
                .save_points(),
            [(60, 5)]
        );
    }

    #[test]
    fn option_name_and_value_in_one_argument() {
        assert_eq!(run(&["--port 6380"]).unwrap().port(), 6380);
    }

    #[test]
    fn errors_are_numbered_after_the_file() {
        assert_eq!(
            error_at(&["--port", "0", "--daemonize", "maybe"]),
            (
                3,
                "daemonize \"maybe\"".into(),
                "argument must be 'yes' or 'no'".into()
            )
        );
        assert_eq!(
            error_at(&["--port"]),
            (2, "port".into(), "wrong number of arguments".into())
        );
        assert_eq!(
            error_at(&["--port", "0", "--appendonly", "--daemonize", "maybe"]),
            (
                3,
                "appendonly \"--daemonize\" \"maybe\"".into(),
                "wrong number of arguments".into()
            )
        );
        assert_eq!(
            error_at(&["--port", "0", "--save", "--daemonize", "maybe"]).0,
            4
        );
        assert_eq!(
            error_at(&["--port", "0", "--maxmemory", "1", "2"]),
            (
                3,
                "maxmemory \"1\" \"2\"".into(),
                "wrong number of arguments".into()
            )
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.conf");
        std::fs::write(&file, "port 0\n\n# c\n").unwrap();
        let err = run(&[file.to_str().unwrap(), "--foo", "bar"]).unwrap_err();
        assert!(
            matches!(err, ConfigError::BadLine { line_number: 5, ref line, .. } if line == "foo \"bar\"")
        );
    }

    #[test]
    fn stdin_comes_after_the_file_and_before_options() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.conf");
        std::fs::write(&file, "port 0\n\n# c\n").unwrap();
        let f = file.to_str().unwrap();
        let err = run_with_stdin(&[f, "--port", "0", "-"], "daemonize maybe").unwrap_err();
        assert!(matches!(err, ConfigError::BadLine { line_number: 4, .. }));
        let c = run_with_stdin(&["-"], "port 1234\n").unwrap();
        assert_eq!(c.port(), 1234);
        let c = run_with_stdin(&[f, "--hz", "20", "-"], "port 9\nhz 30\n").unwrap();
        assert_eq!((c.port(), c.hz()), (9, 20));
        assert_eq!(c.config_file(), Some(file.as_path()));
    }

    #[test]
    fn missing_config_file() {
        let err = run(&["/nonexistent/redis.conf"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Fatal error, can't open config file '/nonexistent/redis.conf': No such file or directory"
        );
    }

    #[test]
    fn sentinel_flag() {
        assert!(run(&["--sentinel"]).unwrap().sentinel_mode());
    }
}
