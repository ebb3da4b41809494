//! Free disk space where cargo writes, checked before `cargo xtask test` builds.
//!
//! A full disk shows up twenty minutes later as "linking with `cc` failed";
//! saying so up front, with the figure, is kinder.

use std::path::Path;

use crate::cmd;

/// What a cold `cargo xtask test` writes into `target/` (native, wasm and
/// release builds together): 4.8 GB measured on a fresh clone, rounded up
/// (README, "Disk").
pub const COLD_TEST_BYTES: u64 = 5 << 30;

/// Free bytes on the file system holding `dir` (or its nearest existing
/// parent), from `df -Pk`; `None` where `df` is missing or says nothing usable.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let existing = dir.ancestors().find(|p| p.exists())?;
    let out = cmd::probe(cmd::new("df").arg("-Pk").arg(existing))?;
    parse_df_available_kib(&out).map(|kib| kib * 1024)
}

/// The "Available" column (KiB) of `df -P` output's one data line.
fn parse_df_available_kib(out: &str) -> Option<u64> {
    let line = out.lines().nth(1)?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Prints the free space for `target` and, when nothing is built there yet, warns
/// if it is below what a cold build writes. Never fails: a warm target needs far
/// less than a cold one, and `df` may be absent.
pub fn report(target: &Path) {
    let Some(free) = free_bytes(target) else {
        return;
    };
    let already_built = target.join("debug").exists();
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    println!("xtask: {:.1} GiB free for {}", gib(free), target.display());
    if !already_built && free < COLD_TEST_BYTES {
        println!(
            "xtask: WARNING: a cold `cargo xtask test` writes about {:.0} GiB into target/; \
             with {:.1} GiB free, a link step will likely fail with \"No space left on device\"",
            gib(COLD_TEST_BYTES),
            gib(free)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_available_column() {
        let out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                   /dev/vda         264000000 87000000   9100000      91% /\n";
        assert_eq!(parse_df_available_kib(out), Some(9_100_000));
    }

    #[test]
    fn says_nothing_about_garbage() {
        assert_eq!(parse_df_available_kib(""), None);
        assert_eq!(parse_df_available_kib("header only\n"), None);
        assert_eq!(parse_df_available_kib("h\n/dev/x 1 2 lots 9% /\n"), None);
    }
}
