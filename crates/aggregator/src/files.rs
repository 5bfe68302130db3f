//! File helpers: the durable writes of `coopbench-fsio`, and the check that
//! makes an id a safe path piece.

pub use coopbench_fsio::{
    check_private, ensure_dir, read_bounded, read_text_bounded, sync_dir, write_atomic, write_new,
    write_new_public,
};
pub use coopbench_protocol::pool::path_id;
