//! `coopbench`: the member's command. All logic lives in `coopbench-member`.

fn main() {
    std::process::exit(coopbench_member::cli::main());
}
