//! redis.conf text through the config loader: `load_from_str` must return a configuration or
//! an error, never panic; a loaded configuration must answer CONFIG GET * and take CONFIG SET
//! of every two-word line. Inputs naming `include` are skipped, as it would read files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if text.to_ascii_lowercase().contains("include") {
        return;
    }
    for line in text.lines() {
        let _ = vireo_config::split_args(line.as_bytes());
    }
    let Ok(mut config) = vireo_config::load_from_str(text) else {
        return;
    };
    let _ = config.get(&[b"*"]);
    for line in text.lines() {
        if let Some(args) = vireo_config::split_args(line.as_bytes()) {
            if let [name, value] = args.as_slice() {
                let _ = config.set(&[(name.as_slice(), value.as_slice())]);
            }
        }
    }
    let _ = config.get(&[b"*"]);
});
