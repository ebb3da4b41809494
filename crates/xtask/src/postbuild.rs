//! `cargo xtask postbuild`: Trunk's `post_build` hook (Trunk.toml `[[hooks]]`), run on
//! every build in the folder Trunk stages (`TRUNK_STAGING_DIR`), so that any build —
//! `cargo xtask serve`, `cargo xtask dist`, `cargo xtask test`, plain `trunk build` —
//! is a complete static site:
//!
//! - `404.html`: the app shell again, which GitHub Pages and similar hosts answer
//!   unknown paths with, so deep links (`/lab`, `/learn/…`) open the app;
//! - `.nojekyll`: GitHub Pages publishes the folder as it is;
//! - `relaxed/`: the engine's worker built with relaxed SIMD (`relaxed_worker`), which
//!   the page starts where the browser has it;
//! - `threads/`: the threaded engine worker (`crate::threads`, relaxed SIMD too), on
//!   release builds when the pinned nightly is installed (`cargo xtask install`); the
//!   page starts it where it is cross-origin isolated and has relaxed SIMD;
//! - `sw.js`: the service worker that keeps the site for offline use
//!   (`assets/sw.js` with the build's hash, its file list and its `_headers`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use site_server::headers_file;

use crate::relaxed_worker;

/// The service worker's code; [`service_worker`] puts the build's constants above it.
const SW_TEMPLATE: &str = include_str!("../assets/sw.js");

/// Files of a build the service worker does not keep: itself, files for the host,
/// and the 404 page (the app shell is `index.html`).
const NOT_CACHED: &[&str] = &["sw.js", headers_file::FILE_NAME, ".nojekyll", "404.html"];

/// The only model folder kept for offline use (a teacher copied next to it stays online).
const OFFLINE_MODEL: &str = "models/default/";

/// Runs the hook on `TRUNK_STAGING_DIR` (with the relaxed-SIMD worker, in Trunk's
/// profile), or on `--dir DIR` (the files only).
pub fn run(args: &[String]) -> Result<()> {
    let dir = match args {
        [] => {
            let dir = std::env::var_os("TRUNK_STAGING_DIR")
                .map(PathBuf::from)
                .context("TRUNK_STAGING_DIR is not set: this job runs as Trunk's post_build hook (or pass --dir DIR)")?;
            let release = std::env::var("TRUNK_PROFILE").is_ok_and(|p| p == "release");
            relaxed_worker::build(&dir, release)?;
            dir
        }
        [flag, dir] if flag == "--dir" => PathBuf::from(dir),
        _ => bail!("usage: cargo xtask postbuild [--dir DIR]"),
    };
    threaded_worker(&dir)?;
    let written = finish(&dir)?;
    println!(
        "xtask postbuild: 404.html, .nojekyll and sw.js in {} (build {}, {} files, {} bytes kept offline)",
        dir.display(),
        written.build,
        written.files.len(),
        written.bytes
    );
    Ok(())
}

/// Builds the threaded worker into `dir/threads/` for Trunk's release builds (debug
/// builds and a missing nightly only say why they skip it: the page then runs the
/// one-thread worker).
fn threaded_worker(dir: &Path) -> Result<()> {
    let profile = std::env::var("TRUNK_PROFILE").unwrap_or_default();
    if profile != "release" {
        println!(
            "xtask postbuild: no threaded worker in a {profile:?} build (release builds have one)"
        );
        return Ok(());
    }
    if !crate::threads::nightly_ready() {
        println!(
            "xtask postbuild: no threaded worker: Rust {} with rust-src is not installed \
             (`cargo xtask install` adds it); the site runs one thread",
            crate::threads::NIGHTLY
        );
        return Ok(());
    }
    crate::threads::build(dir)
}

/// What [`finish`] wrote into the service worker.
#[derive(Debug)]
pub struct OfflineSet {
    /// The build's hash (the cache's name).
    pub build: String,
    /// The files kept offline, relative to the site's root.
    pub files: Vec<String>,
    /// Their total size.
    pub bytes: u64,
}

/// Writes `404.html`, `.nojekyll` and `sw.js` into the built site `dir`.
pub fn finish(dir: &Path) -> Result<OfflineSet> {
    let index = dir.join("index.html");
    let shell =
        std::fs::read(&index).with_context(|| format!("cannot read {}", index.display()))?;
    write(&dir.join("404.html"), &shell)?;
    write(&dir.join(".nojekyll"), b"")?;
    // A build without a `_headers` file (a copy of index.html without the link) asks for none.
    let headers = if dir.join(headers_file::FILE_NAME).is_file() {
        headers_file::read(dir).map_err(anyhow::Error::msg)?
    } else {
        Vec::new()
    };
    let site_headers = headers_file::headers_for(&headers, "/");
    let mut files = Vec::new();
    let mut bytes = 0;
    let mut hash = Fnv64::new();
    hash.write(SW_TEMPLATE.as_bytes());
    for (name, value) in &site_headers {
        hash.write(name.as_bytes());
        hash.write(value.as_bytes());
    }
    for (rel, path) in site_files(dir)? {
        if !is_cached(&rel) {
            continue;
        }
        let content =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        hash.write(rel.as_bytes());
        hash.write(&(content.len() as u64).to_le_bytes());
        hash.write(&content);
        bytes += content.len() as u64;
        files.push(rel);
    }
    let set = OfflineSet {
        build: format!("{:016x}", hash.finish()),
        files,
        bytes,
    };
    write(
        &dir.join("sw.js"),
        service_worker(&set, &site_headers).as_bytes(),
    )?;
    Ok(set)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Whether the service worker keeps the file at `rel` (a path relative to the site).
fn is_cached(rel: &str) -> bool {
    if NOT_CACHED.contains(&rel) {
        return false;
    }
    !rel.starts_with("models/") || rel.starts_with(OFFLINE_MODEL)
}

/// Every file under `dir` as (path relative to it with `/`, full path), sorted.
pub fn site_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)
            .with_context(|| format!("cannot list {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("listed under dir")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `sw.js`: the build's constants, then the template.
fn service_worker(set: &OfflineSet, headers: &[(String, String)]) -> String {
    let files: Vec<String> = set.files.iter().map(|f| js_string(f)).collect();
    let headers: Vec<String> = headers
        .iter()
        .map(|(n, v)| format!("[{}, {}]", js_string(n), js_string(v)))
        .collect();
    format!(
        "const BUILD = {};\nconst FILES = [\n  {},\n];\nconst HEADERS = [\n  {},\n];\n\n{SW_TEMPLATE}",
        js_string(&set.build),
        files.join(",\n  "),
        headers.join(",\n  "),
    )
}

/// A JavaScript string literal for `s`.
fn js_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// FNV-1a, 64 bits: a stable name for a build (not a security hash).
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Fnv64 {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("xtask-postbuild-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("models/default")).unwrap();
        std::fs::create_dir_all(dir.join("models/teacher")).unwrap();
        std::fs::write(
            dir.join("index.html"),
            "<!doctype html><base href=\"/squeeze/\">",
        )
        .unwrap();
        std::fs::write(dir.join("web-1.js"), "js").unwrap();
        std::fs::write(dir.join("web-1_bg.wasm"), b"\0asm").unwrap();
        std::fs::write(dir.join("models/default/model.safetensors"), [7u8; 100]).unwrap();
        std::fs::write(dir.join("models/teacher/model.safetensors"), [8u8; 1000]).unwrap();
        std::fs::write(
            dir.join("_headers"),
            "/*\n  Content-Security-Policy: default-src 'none'; script-src 'self'\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn writes_the_404_page_and_a_worker_that_keeps_the_app_and_the_bundled_model() {
        let dir = build_dir("files");
        let set = finish(&dir).unwrap();
        assert_eq!(
            std::fs::read(dir.join("404.html")).unwrap(),
            std::fs::read(dir.join("index.html")).unwrap()
        );
        assert!(dir.join(".nojekyll").is_file());
        assert_eq!(
            set.files,
            [
                "index.html",
                "models/default/model.safetensors",
                "web-1.js",
                "web-1_bg.wasm"
            ]
        );
        let index = std::fs::metadata(dir.join("index.html")).unwrap().len();
        assert_eq!(set.bytes, index + 100 + 2 + 4);
        let sw = std::fs::read_to_string(dir.join("sw.js")).unwrap();
        assert!(
            sw.starts_with(&format!("const BUILD = \"{}\";", set.build)),
            "{sw:.200}"
        );
        assert!(sw.contains("\"models/default/model.safetensors\""));
        assert!(!sw.contains("teacher"));
        assert!(
            sw.contains("[\"Content-Security-Policy\", \"default-src 'none'; script-src 'self'\"]")
        );
        assert!(sw.contains(SW_TEMPLATE));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_build_hash_changes_with_any_kept_file_and_only_then() {
        let dir = build_dir("hash");
        let first = finish(&dir).unwrap().build;
        assert_eq!(
            finish(&dir).unwrap().build,
            first,
            "the hook's own files count"
        );
        std::fs::write(dir.join("models/teacher/model.safetensors"), [9u8; 10]).unwrap();
        assert_eq!(
            finish(&dir).unwrap().build,
            first,
            "the teacher is not kept"
        );
        std::fs::write(dir.join("web-1_bg.wasm"), b"\0asn").unwrap();
        assert_ne!(finish(&dir).unwrap().build, first, "new wasm, new cache");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn js_strings_are_escaped() {
        assert_eq!(js_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
