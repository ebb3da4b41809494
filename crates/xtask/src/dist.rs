//! `cargo xtask dist [--public-url /sub/path/] [--out DIR]`: a folder to put on any
//! static host. A release build (no live-reload script) whose every URL is relative to
//! the public URL, with what the `postbuild` hook adds (`404.html` for deep links on
//! GitHub Pages, `sw.js` for offline use, `.nojekyll`) and the `_headers` file (the
//! worker's Content-Security-Policy) for hosts that read one (Netlify, Cloudflare Pages).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::{cmd, install, project_root};

/// The job's options.
#[derive(Debug, PartialEq, Eq)]
struct DistArgs {
    /// Where the site will live on its host: `/`, or `/squeeze/` on GitHub Pages.
    public_url: String,
    /// The folder to write (absolute).
    out: PathBuf,
}

/// Runs the job.
pub fn run(args: &[String]) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let args = parse_args(args, &cwd)?;
    refuse_foreign_folder(&args.out)?;
    install::all(&install::Needs {
        lint_components: false,
        browser: false,
    })?;
    let out = args.out.to_string_lossy().into_owned();
    cmd::run(cmd::new("trunk").args([
        "build",
        "--release",
        "--public-url",
        &args.public_url,
        "--dist",
        &out,
    ]))?;
    let (files, bytes) = folder_size(&args.out)?;
    println!(
        "\nxtask: {} is ready for a static host at {}: {files} files, {:.1} MB.\n\
         xtask: deep links fall back to 404.html; _headers carries the worker's policy;\n\
         xtask: sw.js keeps the app and the bundled model for offline use.",
        args.out.display(),
        args.public_url,
        bytes as f64 / 1e6
    );
    Ok(())
}

fn parse_args(args: &[String], cwd: &Path) -> Result<DistArgs> {
    let mut parsed = DistArgs {
        public_url: "/".into(),
        out: project_root().join("dist"),
    };
    for (flag, value) in crate::flag_values(args)? {
        match flag {
            "--public-url" => parsed.public_url = normalise_public_url(value)?,
            "--out" => parsed.out = cwd.join(value),
            other => bail!("unknown option `{other}` (dist takes --public-url URL and --out DIR)"),
        }
    }
    Ok(parsed)
}

/// `squeeze` → `/squeeze/`; a full URL (`https://cdn.example/squeeze/`) is kept with a
/// trailing `/`. Anything else with spaces or quotes is refused.
fn normalise_public_url(value: &str) -> Result<String> {
    if value.is_empty() || value.contains([' ', '"', '\'', '<', '>', '?', '#']) {
        bail!("`{value}` is not a public URL: expected a path such as /squeeze/");
    }
    let mut url = value.to_string();
    if !url.contains("://") && !url.starts_with('/') {
        url.insert(0, '/');
    }
    if !url.ends_with('/') {
        url.push('/');
    }
    Ok(url)
}

/// Trunk empties its output folder first: never point it at a folder that is not a build.
fn refuse_foreign_folder(out: &Path) -> Result<()> {
    let Ok(mut entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    if entries.next().is_none() || out.join("index.html").is_file() {
        return Ok(());
    }
    bail!(
        "{} is not empty and holds no index.html: trunk would delete its contents; pick an empty or new folder",
        out.display()
    )
}

/// Number of files and bytes under `dir`.
fn folder_size(dir: &Path) -> Result<(usize, u64)> {
    let files = crate::postbuild::site_files(dir)?;
    let bytes = files
        .iter()
        .map(|(_, path)| std::fs::metadata(path).map(|m| m.len()))
        .sum::<std::io::Result<u64>>()?;
    Ok((files.len(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words as args;

    #[test]
    fn defaults_to_the_root_and_dist() {
        let parsed = parse_args(&[], Path::new("/somewhere")).unwrap();
        assert_eq!(parsed.public_url, "/");
        assert_eq!(parsed.out, project_root().join("dist"));
    }

    #[test]
    fn public_urls_are_normalised_and_out_is_relative_to_the_caller() {
        let parsed = parse_args(
            &args(&["--public-url", "squeeze", "--out", "site"]),
            Path::new("/home/me"),
        )
        .unwrap();
        assert_eq!(parsed.public_url, "/squeeze/");
        assert_eq!(parsed.out, PathBuf::from("/home/me/site"));
        assert_eq!(normalise_public_url("/a/b").unwrap(), "/a/b/");
        assert_eq!(
            normalise_public_url("https://cdn.example/x").unwrap(),
            "https://cdn.example/x/"
        );
        assert!(normalise_public_url("/a b/").is_err());
        assert!(normalise_public_url("").is_err());
        assert!(parse_args(&args(&["--out"]), Path::new("/")).is_err());
        assert!(parse_args(&args(&["--release", "x"]), Path::new("/")).is_err());
    }

    #[test]
    fn a_folder_that_is_not_a_build_is_refused() {
        let dir = std::env::temp_dir().join(format!("xtask-dist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(refuse_foreign_folder(&dir).is_ok(), "a new folder");
        std::fs::create_dir_all(&dir).unwrap();
        assert!(refuse_foreign_folder(&dir).is_ok(), "an empty folder");
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        assert!(refuse_foreign_folder(&dir).is_err(), "someone's files");
        std::fs::write(dir.join("index.html"), "old build").unwrap();
        assert!(refuse_foreign_folder(&dir).is_ok(), "an old build");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
