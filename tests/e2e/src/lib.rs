//! End-to-end tests for squeeze: the built site (`trunk build --release` into
//! `dist/`) served by [`StaticServer`] (or by the real `cargo xtask serve`,
//! [`serve_process`]) and driven in a real headless Chromium through
//! [`webdriver::Session`].
//!
//! The browser tests in `tests/` run only when `SQUEEZE_DIST` names the built
//! site (`cargo xtask test` always sets it). Without it they print a loud
//! SKIPPED line and pass, so a plain `cargo test --workspace` stays fast. With
//! it, anything missing (the site, Chromium, chromedriver) is a failure.

pub mod console;
pub mod figures;
pub mod lab;
pub mod panels;
pub mod quiz;
pub mod serve_process;
pub mod webdriver;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use site_server::{headers_file, Fallback, Options as ServeOptions, StaticServer};
pub use webdriver::{Element, Error, Result, Session};

/// The middle value of a benchmark's samples (the upper one of two for an even count).
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let word = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    Some((word(16), word(20)))
}

/// The environment variable that names the built site.
pub const DIST_VAR: &str = "SQUEEZE_DIST";

/// How long the page may take to download and load the model. Generous on
/// purpose: a 2-core machine running other builds must not make tests flaky.
pub const MODEL_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a run (f32 + int8 forward in the worker) may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long ordinary UI reactions (render, navigate) may take.
pub const UI_TIMEOUT: Duration = Duration::from_secs(15);

/// The built site served locally, with a browser pointed at it.
pub struct Site {
    /// The browser session (dropped first: it closes Chromium).
    pub browser: Session,
    host: Host,
    /// The site's URL without a trailing `/` (`http://127.0.0.1:PORT` or `…/squeeze`).
    base_url: String,
    dist: PathBuf,
}

/// What serves the site.
enum Host {
    /// The test's own server.
    Static(StaticServer),
    /// A `cargo xtask serve` process, held for its life (stopped when dropped).
    Process {
        _running: serve_process::ServeProcess,
    },
    /// A server the test did not start (a URL it was given).
    External,
    /// Stopped by [`Site::stop_server`]: the network is gone.
    Stopped,
}

impl Site {
    /// Serves `$SQUEEZE_DIST` and starts a browser. `Ok(None)` (after a loud
    /// SKIPPED line naming `test`) when the variable is unset.
    pub fn start(test: &str) -> Result<Option<Site>> {
        Site::start_with(test, Vec::new())
    }

    /// [`Site::start`], also serving each `(prefix, dir)` of `mounts` under `prefix`
    /// (see [`StaticServer::start_with`]).
    pub fn start_with(test: &str, mounts: Vec<(String, PathBuf)>) -> Result<Option<Site>> {
        let Some(dist) = dist_or_skip(test) else {
            return Ok(None);
        };
        if !dist.join("index.html").is_file() {
            return Err(Error(format!(
                "{DIST_VAR}={} has no index.html: run `trunk build --release` first",
                dist.display()
            )));
        }
        let options = ServeOptions {
            mounts,
            headers: site_headers(&dist)?,
            ..ServeOptions::new(&dist)
        };
        Site::serve(dist, options).map(Some)
    }

    /// Serves `dist` as `options` say (a base path, a fallback, headers) and starts a browser.
    pub fn serve(dist: PathBuf, options: ServeOptions) -> Result<Site> {
        let server = StaticServer::serve(options)
            .map_err(|e| Error(format!("cannot serve {}: {e}", dist.display())))?;
        let base_url = server.site_url().trim_end_matches('/').to_string();
        let browser = Session::start()?;
        Ok(Site {
            browser,
            host: Host::Static(server),
            base_url,
            dist,
        })
    }

    /// A browser on the site that `process` (`cargo xtask serve`) serves from `dist`.
    pub fn on_process(process: serve_process::ServeProcess, dist: PathBuf) -> Result<Site> {
        let base_url = process.url().trim_end_matches('/').to_string();
        let browser = Session::start()?;
        Ok(Site {
            browser,
            host: Host::Process { _running: process },
            base_url,
            dist,
        })
    }

    /// A browser on a site someone else serves at `url` (built from `dist`).
    pub fn on_url(url: &str, dist: PathBuf) -> Result<Site> {
        let browser = Session::start()?;
        Ok(Site {
            browser,
            host: Host::External,
            base_url: url.trim_end_matches('/').to_string(),
            dist,
        })
    }

    /// The absolute URL of `path` (e.g. `/lab?text=hi`) on the site, below its base path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The request targets the test's own server has seen, in order (none for a process).
    pub fn requests(&self) -> Vec<String> {
        match &self.host {
            Host::Static(server) => server.requests(),
            Host::Process { .. } | Host::External | Host::Stopped => Vec::new(),
        }
    }

    /// Stops the server: from now on nothing answers at the site's address.
    pub fn stop_server(&mut self) {
        self.host = Host::Stopped;
    }

    /// The built site being served.
    pub fn dist(&self) -> &Path {
        &self.dist
    }
}

/// `$SQUEEZE_DIST`, or `None` after a loud SKIPPED line naming `test`.
pub fn dist_or_skip(test: &str) -> Option<PathBuf> {
    let dist = std::env::var_os(DIST_VAR);
    if dist.is_none() {
        // Written straight to stderr so the test harness does not swallow it.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** e2e: SKIPPED {test}: {DIST_VAR} is not set. Browser tests run \
             only under `cargo xtask test`, which builds the site and sets it. ***\n"
        );
    }
    dist.map(PathBuf::from)
}

/// The header rules the built site asks its host for: its `_headers` file (copied from
/// `www/_headers`), which `cargo xtask serve` sends too (the worker's
/// Content-Security-Policy, among others).
pub fn site_headers(dist: &Path) -> Result<Vec<headers_file::Rule>> {
    headers_file::read(dist).map_err(Error)
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the e2e crate lives at tests/e2e inside the repository")
}

/// The held-out sentiment set the worker has built in (data/sentiment/test.tsv), as
/// `(gold label id, text)` in file order.
pub fn held_out_sentences() -> Result<Vec<(usize, String)>> {
    let path = repo_root().join("data/sentiment/test.tsv");
    let tsv = std::fs::read_to_string(&path)
        .map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
    Ok(tsv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (label, text) = l.split_once('\t')?;
            Some((label.trim().parse().ok()?, text.to_string()))
        })
        .collect())
}

/// Parses a `data-values` attribute: a JSON-style array of numbers written with
/// Rust's `{:?}`. Each number is parsed straight to `f32` (not via `f64`), so the
/// page's values come back bit for bit.
pub fn parse_f32_list(attr: &str) -> std::result::Result<Vec<f32>, String> {
    let inner = attr
        .trim()
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("`{attr}` is not a [..] list"))?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|n| {
            n.trim()
                .parse::<f32>()
                .map_err(|e| format!("`{}` in `{attr}` is not an f32: {e}", n.trim()))
        })
        .collect()
}

/// Percent-encodes `s` for a URL query value (everything but unreserved bytes).
pub fn encode_query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A directory under the system temp dir, removed (with its contents) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh, uniquely named directory starting with `prefix`.
    pub fn new(prefix: &str) -> std::io::Result<TempDir> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("{prefix}-{}-{nanos}-{n}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debug_formatted_f32_lists_exactly() {
        let values = [0.1f32, -1.5e-7, 3.4028235e38, 1.0, -0.0];
        let attr = format!("{values:?}");
        assert_eq!(parse_f32_list(&attr).unwrap(), values);
        assert_eq!(parse_f32_list("[]").unwrap(), Vec::<f32>::new());
        assert!(parse_f32_list("0.1, 0.2").is_err());
        let e = parse_f32_list("[0.1, x]").unwrap_err();
        assert!(e.contains("`x`"), "{e}");
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode_query_value("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(encode_query_value("café?"), "caf%C3%A9%3F");
    }

    #[test]
    fn temp_dir_is_removed_on_drop() {
        let dir = TempDir::new("e2e-tempdir-test").unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(path.join("f"), "x").unwrap();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
