//! Standard output for every command. A closed pipe (`coopbench plan … | head
//! -1`) ends the printing, never the command: the work finishes, what it
//! writes to disk is written, and the exit code is the command's own. Any
//! other failure to write stdout (a full disk under `> file`) is remembered
//! and turned into exit 2 by [`crate::finish`].
//!
//! Commands print with [`outln!`](crate::outln) and [`out!`](crate::out),
//! never with `println!`, which panics on a closed pipe.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::Mutex;

/// What went wrong writing stdout, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Open,
    /// The reader went away: printing stops quietly.
    Closed,
    /// Any other write error: printing stops, the command exits 2.
    Failed(String),
}

static STATE: Mutex<State> = Mutex::new(State::Open);

/// Writes `args` to stdout, flushing when `flush` is set. Used by the macros.
pub fn write(args: fmt::Arguments<'_>, flush: bool) {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if *state != State::Open {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let result = stdout
        .write_fmt(args)
        .and_then(|()| if flush { stdout.flush() } else { Ok(()) });
    if let Err(e) = result {
        *state = if e.kind() == ErrorKind::BrokenPipe {
            State::Closed
        } else {
            State::Failed(e.to_string())
        };
    }
}

/// Flushes stdout and returns the message of a write failure other than a
/// closed pipe, if one happened.
pub fn failure() -> Option<String> {
    write(format_args!(""), true);
    match &*STATE.lock().unwrap_or_else(|e| e.into_inner()) {
        State::Failed(msg) => Some(msg.clone()),
        _ => None,
    }
}

/// `println!` for commands: a closed pipe stops the printing, not the command.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::out::write(format_args!("\n"), false)
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)), false)
    };
}

/// `print!` for commands (flushes, for prompts): a closed pipe stops the
/// printing, not the command.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*), true)
    };
}
