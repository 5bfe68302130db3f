//! File helpers: the durable writes of `coopbench-fsio`, and safe path pieces.

pub use coopbench_fsio::{
    check_private, ensure_dir, read_bounded, read_text_bounded, sync_dir, write_atomic, write_new,
    write_new_public,
};
use coopbench_protocol::pool::is_identifier;

/// Checks an id (round, pool, metric) right before it becomes part of a
/// path: 1-64 characters of `a-z 0-9 - _ .`, not starting with `.` (so no
/// separators, no `..`, no control characters, nothing hidden). `what` names
/// it in the error, e.g. "round id".
pub fn path_id<'a>(what: &str, id: &'a str) -> Result<&'a str, String> {
    if is_identifier(id) {
        Ok(id)
    } else {
        Err(format!(
            "{what} {id:?} cannot be used in a file name: it must be 1-64 characters of a-z, 0-9, '-', '_' or '.', not starting with '.'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_are_refused() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "a/b",
            "a\\b",
            "/etc",
            "x\ny",
            "x\0",
            ".hidden",
            "Round",
            "a b",
            "2025q4/../../x",
            "é",
        ] {
            assert!(path_id("round id", bad).is_err(), "{bad:?} accepted");
        }
        let long = "a".repeat(65);
        assert!(path_id("round id", &long).is_err());
        for good in ["2025q4", "r-1", "a.b_c", "0"] {
            assert_eq!(path_id("round id", good), Ok(good));
        }
        let e = path_id("round id", "../x").unwrap_err();
        assert!(e.contains("round id \"../x\""), "{e}");
    }
}
