//! Replays fuzz inputs through the target bodies under plain `cargo test` (no nightly,
//! no libFuzzer): every committed seed and regression input as is, plus a fixed set of
//! cheap mutations of each (truncations, byte flips, splices), so the smoke run also
//! explores a little past the seeds. Shared by the engine's and content's replay tests.

use std::path::{Path, PathBuf};

/// `fuzz/seeds/<target>` and `fuzz/regressions/<target>` under the repository root.
pub fn inputs(root: &Path, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for kind in ["seeds", "regressions"] {
        let dir = root.join("fuzz").join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let bytes =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                found.push((path, bytes));
            }
        }
    }
    found.sort();
    found
}

/// Deterministic mutations of `seed`: `count` variants from a fixed generator.
pub fn mutations(seed: &[u8], count: usize) -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed.len() as u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let mut m = seed.to_vec();
            if m.is_empty() {
                return vec![next() as u8; 4];
            }
            match next() % 4 {
                0 => m.truncate((next() as usize) % m.len()),
                1 => {
                    for _ in 0..1 + next() % 8 {
                        let i = (next() as usize) % m.len();
                        m[i] = next() as u8;
                    }
                }
                2 => {
                    let i = (next() as usize) % m.len();
                    let j = (next() as usize) % m.len();
                    let (a, b) = (i.min(j), i.max(j));
                    let chunk = m[a..b].to_vec();
                    m.splice(a..a, chunk);
                }
                _ => {
                    let i = (next() as usize) % m.len();
                    m.insert(
                        i,
                        [b'"', b'{', b'}', b'[', b'\n', 0xff, b'0'][next() as usize % 7],
                    );
                }
            }
            m
        })
        .collect()
}

/// Runs `target` on every input of `name` and on `per_seed` mutations of each; returns
/// how many inputs ran. A panic names the input file.
pub fn replay(root: &Path, name: &str, per_seed: usize, target: fn(&[u8])) -> usize {
    let inputs = inputs(root, name);
    assert!(
        !inputs.is_empty(),
        "no seeds for fuzz target `{name}` under {}",
        root.display()
    );
    let mut runs = 0;
    for (path, bytes) in &inputs {
        let result = std::panic::catch_unwind(|| target(bytes));
        assert!(
            result.is_ok(),
            "fuzz target `{name}` panicked on {}",
            path.display()
        );
        runs += 1;
        for (i, m) in mutations(bytes, per_seed).iter().enumerate() {
            let result = std::panic::catch_unwind(|| target(m));
            if result.is_err() {
                // Keep the input, so it can become a file under fuzz/regressions/<target>.
                let kept = std::env::temp_dir().join(format!("squeeze-fuzz-{name}-failure"));
                let _ = std::fs::write(&kept, m);
                panic!(
                    "fuzz target `{name}` panicked on mutation {i} of {} (input kept at {})",
                    path.display(),
                    kept.display()
                );
            }
            runs += 1;
        }
    }
    runs
}
