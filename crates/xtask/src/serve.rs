//! `cargo xtask serve [--port N] [--address A]`: install what is missing, build the site
//! in release mode into `dist/`, serve it on http://127.0.0.1:8080/ as a static host with
//! rewrites would (deep links get `index.html`; the headers of the build's own `_headers`
//! file, so the worker gets its Content-Security-Policy), and rebuild when a source
//! changes. Release, because a debug build is 15-20x slower at run time and makes the
//! lab's timings meaningless.
//!
//! Not `trunk serve`: trunk 0.21 answers with a Content-Security-Policy header of its own
//! (a nonce for scripts and styles) that blocks the stylesheets and the worker, and it
//! writes a live-reload script into `dist/` that the page's policy refuses.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use site_server::{headers_file, Fallback, Options, StaticServer};

use crate::{cmd, install, project_root};

/// Where the site is served unless `--address` / `--port` say otherwise.
pub const DEFAULT_ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 8080);

/// What a change to these rebuilds (paths from the repository root).
const WATCHED: &[&str] = &[
    "index.html",
    "Trunk.toml",
    "Cargo.toml",
    "Cargo.lock",
    "crates/web",
    "crates/engine",
    "crates/content",
    "www",
    "lessons",
];

/// Runs the job; returns only on an error (Ctrl-C stops it).
pub fn run(args: &[String]) -> Result<()> {
    let addr = parse_args(args)?;
    install::all(&install::Needs {
        lint_components: false,
        browser: false,
    })?;
    let root = project_root();
    println!("xtask: building the site (release; first build ~3 min, then ~40 s)");
    build()?;
    let dist = root.join("dist");
    let server = StaticServer::serve(Options {
        headers: headers_file::read(&dist).map_err(anyhow::Error::msg)?,
        fallback: Fallback::AppShell,
        addr,
        ..Options::new(&dist)
    })
    .with_context(|| format!("cannot serve on {addr}"))?;
    let url = server.site_url();
    println!(
        "\nxtask: serving squeeze at {url} (lab: {url}lab) — Ctrl-C stops\n\
         xtask: watching the sources; a change rebuilds dist/ (then reload the page)\n"
    );
    let mut seen = fingerprint(&root);
    loop {
        thread::sleep(Duration::from_secs(1));
        let now = fingerprint(&root);
        if now == seen {
            continue;
        }
        // Let a burst of saves settle before building.
        thread::sleep(Duration::from_millis(500));
        seen = fingerprint(&root);
        println!("xtask: a source changed: rebuilding");
        match build() {
            Ok(()) => println!(
                "xtask: rebuilt; reload {url}: the page then offers \"A new version of squeeze is ready\""
            ),
            Err(e) => eprintln!("xtask: the rebuild failed (still serving the last build): {e:#}"),
        }
    }
}

/// `--port N` and `--address A` (both optional).
fn parse_args(args: &[String]) -> Result<SocketAddr> {
    let (ip, port) = DEFAULT_ADDR;
    let mut addr = SocketAddr::from((ip, port));
    for (flag, value) in crate::flag_values(args)? {
        match flag {
            "--port" => {
                addr.set_port(
                    value
                        .parse()
                        .with_context(|| format!("`{value}` is not a port number"))?,
                );
            }
            "--address" => {
                let ip: IpAddr = value
                    .parse()
                    .with_context(|| format!("`{value}` is not an IP address"))?;
                addr.set_ip(ip);
            }
            other => bail!("unknown option `{other}` (serve takes --port N and --address A)"),
        }
    }
    Ok(addr)
}

fn build() -> Result<()> {
    cmd::run(cmd::new("trunk").args(["build", "--release"]))
}

/// The newest modification time and the number of files under [`WATCHED`]: a change
/// to either means a source was saved, added or removed.
fn fingerprint(root: &Path) -> (Option<SystemTime>, usize) {
    let mut newest = None;
    let mut count = 0;
    let mut stack: Vec<PathBuf> = WATCHED.iter().map(|p| root.join(p)).collect();
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(
                    entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| !is_hidden(p)),
                );
            }
            continue;
        }
        count += 1;
        if let Ok(modified) = meta.modified() {
            newest = newest.max(Some(modified));
        }
    }
    (newest, count)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words as args;

    #[test]
    fn port_and_address_are_optional() {
        assert_eq!(parse_args(&[]).unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(
            parse_args(&args(&["--port", "9001"])).unwrap().to_string(),
            "127.0.0.1:9001"
        );
        assert_eq!(
            parse_args(&args(&["--address", "0.0.0.0", "--port", "80"]))
                .unwrap()
                .to_string(),
            "0.0.0.0:80"
        );
        assert!(parse_args(&args(&["--port"])).is_err());
        assert!(parse_args(&args(&["--port", "http"])).is_err());
        assert!(parse_args(&args(&["--open", "1"])).is_err());
    }

    #[test]
    fn the_fingerprint_sees_an_edit() {
        let root = std::env::temp_dir().join(format!("xtask-fp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("lessons")).unwrap();
        std::fs::write(root.join("lessons/a.md"), "a").unwrap();
        let before = fingerprint(&root);
        std::fs::write(root.join("lessons/b.md"), "b").unwrap();
        let after = fingerprint(&root);
        assert_eq!(before.1 + 1, after.1);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
