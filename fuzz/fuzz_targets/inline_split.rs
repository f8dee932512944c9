//! `split_args` (inline commands, redis.conf lines, redis-cli syntax) on arbitrary bytes:
//! never panics, never invents bytes, and whatever it splits, quoting the pieces back and
//! splitting again gives the same pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vireo_resp::split_args;

/// Double-quotes every argument, escaping all that is not printable ASCII.
fn quote_all(args: &[Vec<u8>]) -> Vec<u8> {
    let mut line = Vec::new();
    for arg in args {
        line.extend_from_slice(b" \"");
        for &b in arg {
            match b {
                b'"' | b'\\' => line.extend_from_slice(&[b'\\', b]),
                b' '..=b'~' => line.push(b),
                _ => line.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        line.push(b'"');
    }
    line
}

fuzz_target!(|line: &[u8]| {
    let Some(args) = split_args(line) else {
        return;
    };
    let total: usize = args.iter().map(Vec::len).sum();
    assert!(total <= line.len());
    assert_eq!(split_args(&quote_all(&args)).as_ref(), Some(&args));
    // The config crate's quoting (used by CONFIG REWRITE) must read back the same way.
    for arg in &args {
        let quoted = vireo_config::quote(arg);
        assert_eq!(
            split_args(quoted.as_bytes()),
            Some(vec![arg.clone()]),
            "{quoted}"
        );
    }
});
