//! `coopbench-aggregator`: the association's command. All logic lives in the
//! `coopbench-aggregator` library.

fn main() {
    std::process::exit(coopbench_aggregator::cmd::main());
}
