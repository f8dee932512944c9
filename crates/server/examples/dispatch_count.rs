//! Runs a fixed number of pipelined batches of one command through the command path
//! (`benches/workload`), for instruction counting under valgrind, which unlike a timing
//! is not disturbed by other work on the machine:
//!
//! `valgrind --tool=cachegrind --cache-sim=no target/release/examples/dispatch_count get 10000`
//!
//! Subtract the count of a run with 0 batches (the set-up) and divide by batches × the
//! batch length it prints (16, or 15 for `multi_incr_exec`) for the instructions of one
//! command.

#[path = "../benches/workload/mod.rs"]
mod workload;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "get".into());
    let batches: usize = args.next().map_or(10_000, |n| n.parse().expect("a count"));
    if !workload::COMMANDS.contains(&name.as_str()) {
        eprintln!("workloads: {}", workload::COMMANDS.join(" "));
        std::process::exit(2);
    }
    let mut w = workload::Workload::new(&name);
    let bytes: usize = (0..batches).map(|_| w.run_batch()).sum();
    println!(
        "{name}: {batches} batches of {}, {bytes} reply bytes",
        workload::batch_len(&name)
    );
}
