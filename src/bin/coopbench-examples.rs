//! `coopbench-examples`: writes seeded example data (member CSVs, or one big sales file).
//! All logic lives in `coopbench_datagen::cli`.

fn main() -> std::process::ExitCode {
    coopbench_datagen::cli::main()
}
