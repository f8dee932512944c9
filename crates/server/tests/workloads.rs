//! The benchmark workloads (`benches/workload`) run their command, not its error path:
//! every batch of every workload, run here with debug assertions on, replies without an
//! error. (An INCR workload on non-integer values once measured error replies.)

#[path = "../benches/workload/mod.rs"]
mod workload;

#[test]
fn every_workload_runs_without_error_replies() {
    for name in workload::COMMANDS {
        let mut w = workload::Workload::new(name);
        for _ in 0..3 {
            assert!(w.run_batch() > 0, "{name} replied nothing");
        }
    }
}
