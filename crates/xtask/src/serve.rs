//! `cargo xtask serve`: install what is missing, build the site in release mode,
//! then serve it with `trunk serve` on 127.0.0.1:8080 (address, port and offline
//! mode come from Trunk.toml). Release, because a debug build is 15-20x slower
//! at run time and makes the lab's timings meaningless.

use anyhow::Result;

use crate::{cmd, install};

/// Where the site is served (Trunk.toml `[serve]`).
pub const URL: &str = "http://127.0.0.1:8080/";

/// Runs the job; returns only when trunk stops.
pub fn run() -> Result<()> {
    install::all(&install::Needs {
        lint_components: false,
        browser: false,
    })?;
    // Build first so a broken build fails here with trunk's message, and the URL is
    // printed only once there is something to see. The serve below is then a
    // no-op rebuild (~1 s) followed by the server and a file watcher.
    println!("xtask: building the site (release; first build ~3 min, then ~40 s)");
    cmd::run(cmd::new("trunk").args(["build", "--release"]))?;
    println!("\nxtask: serving squeeze at {URL} (lab: {URL}lab) — Ctrl-C stops\n");
    cmd::run(cmd::new("trunk").args(["serve", "--release"]))
}
