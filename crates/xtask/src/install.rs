//! Installs what the jobs need and a fresh machine lacks, announcing each install
//! and why. A fresh machine has rustup/cargo, python3, node/npm and apt (as root).
//!
//! Versions and commands are the ones measured in SETUP-NOTES: trunk is pinned to
//! 0.21.14 (0.22 needs a newer rustc), wasm-bindgen-cli must equal the wasm-bindgen
//! in Cargo.lock (trunk and the test runner refuse a mismatch) and installs only
//! without `--locked`, and Debian's Chromium comes with its matching chromedriver.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::cmd;

/// The trunk release this project builds with.
pub const TRUNK_VERSION: &str = "0.21.14";
/// Debian's Chromium and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Which tools a job needs.
#[derive(Clone, Copy, Debug)]
pub struct Needs {
    /// rustfmt and clippy.
    pub lint_components: bool,
    /// Chromium and chromedriver.
    pub browser: bool,
}

impl Needs {
    /// Everything `cargo xtask test` uses.
    pub fn everything() -> Needs {
        Needs {
            lint_components: true,
            browser: true,
        }
    }
}

/// Installs whatever of `needs` (plus the wasm toolchain) is missing, then
/// fetches the crates so offline trunk builds find them.
pub fn all(needs: &Needs) -> Result<()> {
    if needs.lint_components {
        ensure_lint_components()?;
    }
    ensure_wasm_target()?;
    ensure_wasm_bindgen_cli()?;
    ensure_trunk()?;
    crate::threads::ensure_nightly()?;
    if needs.browser {
        ensure_chromium()?;
    }
    cargo_fetch()
}

fn announce(what: &str, why: &str, time: &str) {
    println!("xtask: installing {what} ({why}) — {time}");
}

/// rustfmt and clippy: in rustup's default profile, but not in the minimal one.
pub fn ensure_lint_components() -> Result<()> {
    let has = |sub: &str| cmd::probe(cmd::cargo().args([sub, "--version"])).is_some();
    if has("fmt") && has("clippy") {
        return Ok(());
    }
    announce("rustfmt and clippy", "not found", "seconds");
    cmd::run(cmd::new("rustup").args(["component", "add", "rustfmt", "clippy"]))
}

/// `rustup target add wasm32-unknown-unknown` unless it is installed.
pub fn ensure_wasm_target() -> Result<()> {
    let installed = cmd::probe(cmd::new("rustup").args(["target", "list", "--installed"]))
        .context("cannot list rustup targets: is rustup installed?")?;
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    announce(
        "the wasm32-unknown-unknown target",
        "not installed",
        "seconds",
    );
    cmd::run(cmd::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The exact wasm-bindgen version in a Cargo.lock.
pub fn locked_wasm_bindgen_version(lock: &str) -> Option<String> {
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            let version = lines.next()?.strip_prefix("version = \"")?;
            return Some(version.strip_suffix('"')?.to_string());
        }
    }
    None
}

/// `version` from `<tool> --version` output such as `wasm-bindgen 0.2.130` or
/// `trunk 0.21.14`.
fn reported_version(tool: &str) -> Option<String> {
    let out = cmd::probe(Command::new(tool).arg("--version"))?;
    out.split_whitespace().nth(1).map(str::to_string)
}

/// wasm-bindgen-cli at exactly Cargo.lock's wasm-bindgen version (also provides
/// wasm-bindgen-test-runner, the wasm tests' runner).
pub fn ensure_wasm_bindgen_cli() -> Result<()> {
    let lock_path = crate::project_root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("cannot read {}", lock_path.display()))?;
    let Some(wanted) = locked_wasm_bindgen_version(&lock) else {
        bail!("{} has no wasm-bindgen entry", lock_path.display());
    };
    let have = reported_version("wasm-bindgen");
    let runner = reported_version("wasm-bindgen-test-runner");
    if have.as_deref() == Some(wanted.as_str()) && runner.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let why = match have {
        Some(v) => format!("found {v}, Cargo.lock has {wanted}"),
        None => "not found".to_string(),
    };
    announce(&format!("wasm-bindgen-cli {wanted}"), &why, "~2 min");
    // No --locked: one of its locked dependencies is missing from the registry mirror.
    cmd::run(quick_release(&mut cmd::cargo(), 3).args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &wanted,
        "--force",
    ]))?;
    if reported_version("wasm-bindgen").as_deref() != Some(wanted.as_str()) {
        bail!("installed wasm-bindgen-cli {wanted} but `wasm-bindgen` on PATH is not it: put ~/.cargo/bin first on PATH");
    }
    Ok(())
}

/// A `cargo install` of a build tool at `opt_level` and without its release profile's
/// link-time optimisation (trunk asks for fat LTO in one codegen unit: a long
/// single-threaded link). Installing trunk took 10.5 of a cold CI run's minutes on 2
/// cores; trunk only copies, hashes and calls other programs, so it is built at
/// opt-level 1 (without LTO, back to back on a busy machine: 10.8 min at opt-level 3,
/// 8.6 at opt-level 1). wasm-bindgen, which rewrites every wasm module, keeps
/// opt-level 3.
fn quick_release(cargo: &mut Command, opt_level: u8) -> &mut Command {
    cargo
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", opt_level.to_string())
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
}

/// trunk, pinned.
pub fn ensure_trunk() -> Result<()> {
    let have = reported_version("trunk");
    if have.as_deref() == Some(TRUNK_VERSION) {
        return Ok(());
    }
    let why = match have {
        Some(v) => format!("found {v}, want {TRUNK_VERSION}"),
        None => "not found".to_string(),
    };
    announce(&format!("trunk {TRUNK_VERSION}"), &why, "~5 min");
    cmd::run(quick_release(&mut cmd::cargo(), 1).args([
        "install",
        "trunk",
        "--locked",
        "--version",
        TRUNK_VERSION,
        "--force",
    ]))?;
    if reported_version("trunk").as_deref() != Some(TRUNK_VERSION) {
        bail!("installed trunk {TRUNK_VERSION} but `trunk` on PATH is not it: put ~/.cargo/bin first on PATH");
    }
    Ok(())
}

/// The cargo-fuzz release the fuzz targets are run with.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// cargo-fuzz, for `cargo xtask fuzz` (any version will do; a missing one gets the pinned one).
pub fn ensure_cargo_fuzz() -> Result<()> {
    if cmd::probe(cmd::cargo().args(["fuzz", "--version"])).is_some() {
        return Ok(());
    }
    announce(
        &format!("cargo-fuzz {CARGO_FUZZ_VERSION}"),
        "not found; `cargo xtask fuzz` drives libFuzzer through it",
        "~2 min",
    );
    cmd::run(cmd::cargo().args([
        "install",
        "cargo-fuzz",
        "--locked",
        "--version",
        CARGO_FUZZ_VERSION,
    ]))
}

/// Debian's Chromium and chromedriver, for the wasm and end-to-end tests.
pub fn ensure_chromium() -> Result<()> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    announce(
        "chromium and chromium-driver with apt",
        &format!("{} not found", missing.join(" and ")),
        "~30 s",
    );
    let root = cmd::probe(Command::new("id").arg("-u")).as_deref() == Some("0");
    let apt = |args: &[&str]| -> Result<()> {
        let mut c = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd::run(&mut c).context(
            "installing Chromium needs root: run `apt-get update && apt-get install -y \
             --no-install-recommends chromium chromium-driver` as root",
        )
    };
    apt(&["update"])?;
    apt(&[
        "install",
        "-y",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ])
}

/// Downloads every crate the lockfile names (for all targets): trunk's
/// `offline = true` passes `--offline` to cargo, which needs them present.
pub fn cargo_fetch() -> Result<()> {
    cmd::run(cmd::cargo().arg("fetch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wasm_bindgen_version_from_the_lockfile() {
        let lock = r#"
[[package]]
name = "wasm-bindgen-futures"
version = "0.4.50"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        assert_eq!(
            locked_wasm_bindgen_version(lock).as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            locked_wasm_bindgen_version("[[package]]\nname = \"x\""),
            None
        );
    }

    #[test]
    fn the_real_lockfile_pins_the_trunk_toml_version() {
        // Trunk.toml's [tools] wasm_bindgen must equal Cargo.lock's, or trunk
        // would try to download another wasm-bindgen (and fail offline).
        let root = crate::project_root();
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        let trunk = std::fs::read_to_string(root.join("Trunk.toml")).unwrap();
        let locked = locked_wasm_bindgen_version(&lock).unwrap();
        assert!(
            trunk.contains(&format!("wasm_bindgen = \"{locked}\"")),
            "Trunk.toml [tools] wasm_bindgen must be \"{locked}\" (Cargo.lock)"
        );
    }
}
