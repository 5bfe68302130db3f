//! `coopbench`: the member's command. All logic lives in `coopbench-member`.

fn main() {
    tune_allocator();
    std::process::exit(coopbench_member::cmd::main());
}

/// Validation allocates and frees the same few MB per batch, thousands of
/// times over a large file. glibc's defaults hand such blocks back to the
/// kernel on every free (`munmap`, heap trimming), so each batch faults in and
/// zeroes fresh pages: measured at 10M rows, half of validate's kernel time.
/// Keeping freed memory in the heap costs a few MB of peak memory.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; it is called before
    // any other thread exists. A refused value leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}
