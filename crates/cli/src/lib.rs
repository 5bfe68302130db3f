//! The command layer both coopbench binaries share: [`Stop`] (a refusal or
//! failure with its exit code) and the one place that prints it ([`run`],
//! [`finish`]), standard output that survives a closed pipe ([`out`]), numbers and ρ for people ([`format`]), and today's date
//! ([`clock`]). Nothing here knows a command; the commands know this.

pub mod clock;
pub mod format;
pub mod out;
mod stop;

pub use stop::{finish, run, Stop, EXIT_OK, EXIT_REFUSED, EXIT_USAGE};
