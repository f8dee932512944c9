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
                "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=jemalloc bits=64 build=vireo-{VIREO_VERSION}"
            );
            return;
        }
        Ok(CommandLine::Help) => {
            eprint!("{}", usage(&program));
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("\n{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = vireo_server::log::apply(&config) {
        eprintln!("Can't open the log file: {e}");
        std::process::exit(1);
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
    if config.appendonly() {
        log_warning!("appendonly is set, but this version of Vireo does not write an AOF yet: data is NOT persisted");
    }
    std::process::exit(vireo_server::run(config));
}
