//! `vireo-server`: starts like redis-server — `vireo-server [/path/to/redis.conf]
//! [--directive value ...]`, `-` to read the configuration from stdin.

use vireo_config::{parse_command_line, usage, CommandLine};
use vireo_server::{log_notice, log_warning, REDIS_VERSION, VIREO_VERSION};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let program = std::env::args()
        .next()
        .unwrap_or_else(|| "vireo-server".into());
    let config = match parse_command_line(&args, &mut std::io::stdin()) {
        Ok(CommandLine::Run(config)) => config,
        Ok(CommandLine::Version) => {
            println!(
                "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=jemalloc-{} bits=64 build=vireo-{VIREO_VERSION}",
                vireo_server::info::jemalloc_version()
            );
            return;
        }
        Ok(CommandLine::Help) => {
            eprint!("{}", usage(&program));
            std::process::exit(1);
        }
        Err(e) => {
            // A bad line prints as Redis does: a blank line, then the FATAL banner.
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = vireo_server::log::apply(&config) {
        eprintln!("Can't open the log file: {e}");
        std::process::exit(1);
    }
    if config.daemonize() {
        daemonize();
    }
    log_notice!("oO0OoO0OoO0Oo Vireo is starting oO0OoO0OoO0Oo");
    log_notice!(
        "Vireo version={VIREO_VERSION}, Redis compatibility version={REDIS_VERSION}, bits=64, pid={}, just started",
        std::process::id()
    );
    if let Some(path) = config.config_file() {
        log_notice!("Configuration loaded from {}", path.display());
    } else {
        log_warning!("Warning: no config file specified, using the default config. In order to specify a config file use {program} /path/to/redis.conf");
    }
    for name in config.unimplemented_overrides() {
        log_warning!("Directive '{name}' is set but not implemented in this version of Vireo yet: it has no effect");
    }
    if !config.save_points().is_empty() {
        log_warning!("Save points are configured, but this version of Vireo does not write RDB snapshots yet: data is NOT persisted (SHUTDOWN without NOSAVE fails as a failed save would)");
    }
    if config.appendonly() {
        log_warning!("appendonly is set, but this version of Vireo does not write an AOF yet: data is NOT persisted");
    }
    std::process::exit(vireo_server::run(config));
}

/// `daemonize yes`, as Redis does it: fork (the parent exits at once), start a new session,
/// and point stdin, stdout and stderr at /dev/null. It must run while the process has one
/// thread — before the runtime starts — since fork copies only the calling thread.
fn daemonize() {
    // SAFETY: no other thread exists yet; the child only continues with plain syscalls
    // before the runtime starts.
    unsafe {
        match libc::fork() {
            -1 => {
                eprintln!(
                    "Can't fork to daemonize: {}",
                    std::io::Error::last_os_error()
                );
                std::process::exit(1);
            }
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd != -1 {
            libc::dup2(fd, libc::STDIN_FILENO);
            libc::dup2(fd, libc::STDOUT_FILENO);
            libc::dup2(fd, libc::STDERR_FILENO);
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
    }
}
