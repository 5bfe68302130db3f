//! One error type for every command of both binaries, its exit codes, and the
//! one path from a command's result to the process exit code.

use clap::Parser;

/// Exit code: success (and, for `validate`, every file valid).
pub const EXIT_OK: i32 = 0;
/// Exit code: refused (invalid data, a guardrail, a bad signature, too few
/// contributions, output that already exists).
pub const EXIT_REFUSED: i32 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_USAGE: i32 = 2;

/// Why a command stopped: its exit code and the message for stderr (empty
/// when the command already said everything on stdout, as `validate` does
/// after its report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop(pub i32, pub String);

impl Stop {
    /// A usage or I/O error (exit 2).
    pub fn usage(msg: impl std::fmt::Display) -> Self {
        Stop(EXIT_USAGE, msg.to_string())
    }

    /// A refusal (exit 1).
    pub fn refused(msg: impl std::fmt::Display) -> Self {
        Stop(EXIT_REFUSED, msg.to_string())
    }

    /// A refusal listing every reason (each shown escaped: reasons quote
    /// pool and round fields).
    pub fn refused_list(what: &str, reasons: &[String]) -> Self {
        Stop(
            EXIT_REFUSED,
            format!(
                "{what}:\n  - {}",
                reasons
                    .iter()
                    .map(|r| coopbench_text::shown(r).to_string())
                    .collect::<Vec<_>>()
                    .join("\n  - ")
            ),
        )
    }

    /// A refusal whose reasons were already printed (exit 1, nothing on stderr).
    pub fn quiet() -> Self {
        Stop(EXIT_REFUSED, String::new())
    }
}

/// A command's exit code; a stop's message goes to stderr as `error: ...`.
pub fn finish(result: Result<(), Stop>) -> i32 {
    let result = result.and_then(|()| match crate::out::failure() {
        Some(e) => Err(Stop::usage(format!(
            "could not write to standard output: {e}"
        ))),
        None => Ok(()),
    });
    match result {
        Ok(()) => EXIT_OK,
        Err(Stop(code, msg)) => {
            if !msg.is_empty() {
                // File-derived parts were escaped where they were put in; this
                // escapes anything else a terminal would act on (lines are kept).
                eprintln!("error: {}", coopbench_text::message(&msg));
            }
            code
        }
    }
}

/// Parses the command line into `C`, runs `command` on it, and returns the
/// process exit code. `--help` and `--version` exit 0; a usage error exits 2
/// with clap's message.
pub fn run<C: Parser>(command: impl FnOnce(C) -> Result<(), Stop>) -> i32 {
    match C::try_parse() {
        Ok(cli) => finish(command(cli)),
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_stop() {
        assert_eq!(finish(Ok(())), EXIT_OK);
        assert_eq!(finish(Err(Stop::usage("x"))), EXIT_USAGE);
        assert_eq!(finish(Err(Stop::refused("x"))), EXIT_REFUSED);
        assert_eq!(finish(Err(Stop::quiet())), EXIT_REFUSED);
    }

    #[test]
    fn a_list_of_reasons_names_each() {
        let s = Stop::refused_list("the round is refused", &["a".into(), "b".into()]);
        assert_eq!(s.1, "the round is refused:\n  - a\n  - b");
    }
}
