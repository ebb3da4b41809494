//! The threaded build of the engine's worker: the web crate's library with the
//! `threads` feature (entries in `crates/web/src/worker/pool.rs`), compiled with shared
//! memory and atomics so one forward runs on every core, and with the relaxed-SIMD int8
//! kernel (every browser with wasm threads that squeeze has met also has relaxed SIMD;
//! the page starts this build only where both pass). Written into `<site>/threads/`:
//!
//! - `worker.js` + `worker_bg.wasm`: the wasm-bindgen output (`--target no-modules`,
//!   like Trunk's worker);
//! - `worker_loader.js`: starts the engine worker (the page starts it where it is
//!   cross-origin isolated);
//! - `thread.js`: a pool thread: the same module on the engine worker's memory.
//!
//! Trunk cannot build one asset with another toolchain, so `cargo xtask postbuild`
//! (Trunk's post_build hook) calls [`build`] on release builds. Shared memory needs the
//! standard library rebuilt with atomics (`-Z build-std`), hence a pinned nightly with
//! `rust-src` ([`ensure_nightly`], run by `cargo xtask install`), and its own target
//! folder (`target/threads`) so the stable builds' artefacts stay valid.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cmd;

/// The nightly the threaded worker is built with (rustc 1.101.0-nightly, 2026-10-28).
pub const NIGHTLY: &str = "nightly-2026-10-29";

/// Compiler flags: atomics and the SIMD of the one-thread build, and the linker's shared
/// memory (this nightly's rustc no longer adds it for `+atomics`: measured, the memory
/// came out unshared): imported, so every thread instantiates the module on one memory;
/// its thread-local storage exported for wasm-bindgen's per-thread set-up; room for the
/// same 4 GiB a one-thread wasm may grow to.
const RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
                         -C link-arg=--shared-memory -C link-arg=--import-memory \
                         -C link-arg=--max-memory=4294967296 \
                         -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
                         -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

/// The engine worker's loader: Trunk's loader shim, then the explicit entry (with shared
/// memory wasm-bindgen does not run `main`: measured, the worker never started).
const LOADER_JS: &str = r#"importScripts("./worker.js");
wasm_bindgen({ module_or_path: "./worker_bg.wasm" }).then(() => wasm_bindgen.squeeze_engine_start());
"#;

/// A pool thread (see `crates/web/src/worker/pool.rs`).
const THREAD_JS: &str = r#"// A thread of squeeze's engine pool (crates/web/src/worker/pool.rs): the engine
// worker's module on its shared memory, running one of rayon's threads.
importScripts("./worker.js");
self.onmessage = (event) => {
  self.onmessage = null;
  const [module, memory] = event.data;
  wasm_bindgen.initSync({ module, memory });
  self.postMessage("ready");
  wasm_bindgen.squeeze_thread_run();
};
"#;

/// Whether the pinned nightly with `rust-src` and the wasm32 standard library is here.
pub fn nightly_ready() -> bool {
    cmd::probe(cmd::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        NIGHTLY,
    ]))
    .is_some_and(|list| {
        let has = |c: &str| list.lines().any(|l| l.trim().starts_with(c));
        has("rust-src") && has("rust-std-wasm32-unknown-unknown")
    })
}

/// Installs the pinned nightly (minimal profile, `rust-src`, the wasm32 target) unless
/// it is there.
pub fn ensure_nightly() -> Result<()> {
    if nightly_ready() {
        return Ok(());
    }
    println!(
        "xtask: installing Rust {NIGHTLY} with rust-src and wasm32 (the threaded worker \
         rebuilds the standard library with atomics: -Z build-std) — ~15 s"
    );
    cmd::run(cmd::new("rustup").args([
        "toolchain",
        "install",
        NIGHTLY,
        "--profile",
        "minimal",
        "--component",
        "rust-src",
        "--target",
        "wasm32-unknown-unknown",
    ]))
}

/// The folder the threaded build compiles in: `threads/` in cargo's target folder.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::project_root().join("target"))
        .join("threads")
}

/// Builds the threaded worker (release) into `site/threads/`.
pub fn build(site: &Path) -> Result<()> {
    let target = target_dir();
    let mut cargo = cmd::new("rustup");
    cargo
        // The web crate's library as a cdylib, not the worker binary: a binary exports
        // nothing, and with shared memory wasm-bindgen runs no `main` on the pool
        // threads, so both loaders call `#[wasm_bindgen]` entries of `pool` instead.
        .args(["run", NIGHTLY, "cargo", "rustc", "--release"])
        .args([
            "-p",
            "web",
            "--lib",
            "--crate-type",
            "cdylib",
            "--features",
            "threads,relaxed-simd",
        ])
        .args(["--target", "wasm32-unknown-unknown"])
        .args(["-Z", "build-std=std,panic_abort"])
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", RUSTFLAGS)
        // Whatever the outer cargo or Trunk set must not reach this build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO");
    cmd::run(&mut cargo)?;
    let wasm = target.join("wasm32-unknown-unknown/release/web.wasm");
    let out = site.join("threads");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    crate::relaxed_worker::bind_worker(&wasm, &out)?;
    write(&out.join("worker_loader.js"), LOADER_JS)?;
    write(&out.join("thread.js"), THREAD_JS)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_script_calls_the_worker_entry_by_its_rust_name() {
        let pool =
            std::fs::read_to_string(crate::project_root().join("crates/web/src/worker/pool.rs"))
                .unwrap();
        assert!(pool.contains("pub fn squeeze_thread_run()"));
        assert!(pool.contains("pub fn squeeze_engine_start()"));
        assert!(LOADER_JS.contains("wasm_bindgen.squeeze_engine_start()"));
        assert!(THREAD_JS.contains("wasm_bindgen.squeeze_thread_run();"));
        assert!(pool.contains("THREAD_SCRIPT: &str = \"thread.js\""));
    }

    #[test]
    fn the_nightly_is_a_dated_one() {
        let date = NIGHTLY.strip_prefix("nightly-").unwrap();
        assert_eq!(date.len(), 10);
        assert!(date.split('-').all(|p| p.parse::<u32>().is_ok()));
    }
}
