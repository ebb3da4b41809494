//! `cargo xtask fuzz [--runs N] [--seconds S] [TARGET...]`: runs the cargo-fuzz targets
//! under fuzz/ (docs/HARDENING.md), one after another, and prints one table: target,
//! executions, exec/s, result.
//!
//! Stable toolchain: `RUSTC_BOOTSTRAP=1` lets it accept the nightly-only flags cargo-fuzz
//! passes, and `-s none` drops AddressSanitizer (the targets are safe Rust, and ASan
//! costs two thirds of the speed). Each target runs on fuzz/corpus/<target> (kept
//! between runs, git-ignored) plus the committed fuzz/seeds/<target> and
//! fuzz/regressions/<target>. libFuzzer's full output goes to target/xtask/fuzz-<target>.log.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context, Result};

use crate::{cmd, install, project_root};

/// Every target in fuzz/Cargo.toml, in the order they run.
pub const TARGETS: &[&str] = &[
    "config",
    "safetensors",
    "tokenizer_json",
    "vocab_txt",
    "text",
    "lesson",
    "quiz",
];

/// What to run.
#[derive(Debug, PartialEq)]
pub struct Options {
    /// libFuzzer's `-runs`: executions per target.
    pub runs: u64,
    /// libFuzzer's `-max_total_time` per target, if capped.
    pub seconds: Option<u64>,
    /// The targets, in order.
    pub targets: Vec<String>,
}

/// Reads the job's arguments.
pub fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        runs: 1_000_000,
        seconds: None,
        targets: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> Result<u64> {
            let value = args
                .next()
                .with_context(|| format!("{flag} needs a number"))?;
            value
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .with_context(|| format!("{flag} needs a positive whole number, got `{value}`"))
        };
        match arg.as_str() {
            "--runs" => options.runs = number("--runs")?,
            "--seconds" => options.seconds = Some(number("--seconds")?),
            t if TARGETS.contains(&t) => options.targets.push(t.to_string()),
            other => bail!(
                "unknown fuzz argument `{other}` (targets: {}; flags: --runs N, --seconds S)",
                TARGETS.join(", ")
            ),
        }
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    Ok(options)
}

/// How one target's run ended.
#[derive(Debug, PartialEq)]
pub struct Outcome {
    /// Executions libFuzzer reported (`Done N runs`, else the last `#N` stat line).
    pub executions: u64,
    /// Executions per second over the whole run.
    pub exec_per_sec: u64,
    /// The crash input libFuzzer wrote, if it found one.
    pub crash: Option<String>,
    /// Whether libFuzzer printed its closing `Done` line (the run finished normally).
    pub done: bool,
}

/// Reads libFuzzer's output: the closing `Done 1000000 runs in 312 second(s)`, the
/// `#N ... exec/s: E` stat lines, the `stat::` lines of `-print_final_stats=1` (exact
/// even after a crash or an interrupted run), and `Test unit written to <path>`.
pub fn parse_output(log: &str) -> Outcome {
    let mut outcome = Outcome {
        executions: 0,
        exec_per_sec: 0,
        crash: None,
        done: false,
    };
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("Done ") {
            // `Done N runs in S second(s)`
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let (Some(n), Some(s)) = (
                words.first().and_then(|w| w.parse::<u64>().ok()),
                words.get(3).and_then(|w| w.parse::<u64>().ok()),
            ) {
                outcome.executions = n;
                outcome.done = true;
                if outcome.exec_per_sec == 0 {
                    outcome.exec_per_sec = n / s.max(1);
                }
            }
        } else if let Some(rest) = line.strip_prefix('#') {
            // `#65536	pulse  cov: ... exec/s: 3276 rss: 80Mb`
            let mut words = rest.split_whitespace();
            let Some(n) = words.next().and_then(|w| w.parse::<u64>().ok()) else {
                continue;
            };
            if !outcome.done {
                outcome.executions = n;
            }
            let words: Vec<&str> = words.collect();
            if let Some(i) = words.iter().position(|w| *w == "exec/s:") {
                if let Some(e) = words.get(i + 1).and_then(|w| w.parse().ok()) {
                    outcome.exec_per_sec = e;
                }
            }
        } else if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            if let Ok(n) = n.trim().parse() {
                outcome.executions = n;
            }
        } else if let Some(e) = line.strip_prefix("stat::average_exec_per_sec:") {
            if let Ok(e) = e.trim().parse() {
                outcome.exec_per_sec = e;
            }
        } else if let Some(path) = line.split("Test unit written to ").nth(1) {
            outcome.crash = Some(path.trim().to_string());
        }
    }
    outcome
}

/// A number with thousands separators: `1,000,000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The closing table, one row per target, Markdown.
pub fn table(rows: &[(String, Outcome, Option<String>)]) -> String {
    let mut out = String::from("| target | executions | exec/s | result |\n|---|---|---|---|\n");
    for (target, o, failure) in rows {
        let result = match (&o.crash, failure) {
            (Some(path), _) => format!("**crash**: {path}"),
            (None, Some(f)) => format!("**failed**: {f}"),
            (None, None) => "no crash".to_string(),
        };
        out.push_str(&format!(
            "| {target} | {} | {} | {result} |\n",
            grouped(o.executions),
            grouped(o.exec_per_sec)
        ));
    }
    out
}

/// Runs the job.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse_args(args)?;
    install::ensure_cargo_fuzz()?;
    let root = project_root();
    let logs = root.join("target/xtask");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let mut rows = Vec::new();
    for target in &options.targets {
        let log = logs.join(format!("fuzz-{target}.log"));
        let (outcome, failure) = run_target(&root.join("fuzz"), target, &options, &log)?;
        rows.push((target.clone(), outcome, failure));
    }
    let table = table(&rows);
    println!(
        "\n{} executions per target{}; load average: {}\n\n{table}",
        grouped(options.runs),
        options
            .seconds
            .map(|s| format!(" (at most {s} s each)"))
            .unwrap_or_default(),
        load_average()
    );
    let failed: Vec<&str> = rows
        .iter()
        .filter(|(_, o, f)| o.crash.is_some() || f.is_some())
        .map(|(t, _, _)| t.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "fuzzing failed for {} (logs: {}/fuzz-<target>.log; minimise a crash with \
             `cargo fuzz tmin -s none <target> <file>` and add it to fuzz/regressions/<target>/)",
            failed.join(", "),
            logs.display()
        );
    }
    Ok(())
}

/// The 1, 5 and 15 minute load averages, as `uptime` shows them: fuzzing speed depends
/// on what else the machine runs.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|| "unknown".into())
}

/// One `cargo fuzz run`; its outcome, and why it failed when it did not finish cleanly.
fn run_target(
    fuzz_dir: &Path,
    target: &str,
    options: &Options,
    log_path: &Path,
) -> Result<(Outcome, Option<String>)> {
    let corpus = format!("corpus/{target}");
    std::fs::create_dir_all(fuzz_dir.join(&corpus))
        .with_context(|| format!("cannot create fuzz/{corpus}"))?;
    let mut c = cmd::cargo();
    c.current_dir(fuzz_dir)
        // fuzz/ is its own workspace with its own flags: build in fuzz/target, never in
        // the main workspace's target directory.
        .env_remove("CARGO_TARGET_DIR")
        .env("RUSTC_BOOTSTRAP", "1")
        // One thread for candle's matmuls (the text target runs a model per input): on a
        // shared machine rayon's threads mostly wait on each other, several times slower.
        .env("RAYON_NUM_THREADS", "1")
        .args(["fuzz", "run", "-s", "none", target, &corpus])
        .arg(format!("seeds/{target}"));
    let regressions = format!("regressions/{target}");
    if fuzz_dir.join(&regressions).is_dir() {
        c.arg(&regressions);
    }
    c.arg("--")
        .arg(format!("-runs={}", options.runs))
        .arg("-print_final_stats=1");
    if let Some(s) = options.seconds {
        c.arg(format!("-max_total_time={s}"));
    }
    let line = cmd::display(&c);
    println!("\n$ {line}   (full output: {})", log_path.display());
    // libFuzzer reports on stderr; the build's messages come there too.
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{line}`"))?;
    let mut log = std::fs::File::create(log_path)
        .with_context(|| format!("cannot write {}", log_path.display()))?;
    let mut text = String::new();
    let stderr = child.stderr.take().expect("stderr is piped");
    for l in BufReader::new(stderr).lines() {
        let l = l.with_context(|| format!("cannot read the output of `{line}`"))?;
        writeln!(log, "{l}").with_context(|| format!("cannot write {}", log_path.display()))?;
        // Progress, not every new-coverage line: libFuzzer's `pulse` lines double the
        // interval each time, and the end, errors and the build are worth seeing.
        if worth_echoing(&l) {
            println!("  {target}: {l}");
        }
        text.push_str(&l);
        text.push('\n');
    }
    let status = child
        .wait()
        .with_context(|| format!("`{line}` did not finish"))?;
    let outcome = parse_output(&text);
    let failure = if outcome.crash.is_some() {
        None
    } else if !status.success() {
        Some(format!("`{line}` exited with {status}"))
    } else if !outcome.done {
        Some("no `Done N runs` line from libFuzzer".to_string())
    } else {
        None
    };
    Ok((outcome, failure))
}

/// The lines of libFuzzer's output shown live.
fn worth_echoing(line: &str) -> bool {
    line.contains("pulse")
        || line.contains("INITED")
        || line.contains("DONE")
        || line.starts_with("Done ")
        || line.contains("ERROR")
        || line.contains("panicked")
        || line.contains("Test unit written")
        || line.starts_with("error")
        || line.trim_start().starts_with("Compiling squeeze-fuzz")
        || line.trim_start().starts_with("Finished")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words as strings;

    #[test]
    fn arguments() {
        let all = parse_args(&[]).unwrap();
        assert_eq!(all.runs, 1_000_000);
        assert_eq!(all.seconds, None);
        assert_eq!(all.targets.len(), TARGETS.len());
        let some = parse_args(&strings(&[
            "--runs",
            "500",
            "quiz",
            "--seconds",
            "60",
            "text",
        ]))
        .unwrap();
        assert_eq!(
            some,
            Options {
                runs: 500,
                seconds: Some(60),
                targets: strings(&["quiz", "text"]),
            }
        );
        for bad in [
            &["nope"][..],
            &["--runs"],
            &["--runs", "0"],
            &["--seconds", "x"],
        ] {
            assert!(parse_args(&strings(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn targets_match_the_fuzz_manifest() {
        let manifest = std::fs::read_to_string(project_root().join("fuzz/Cargo.toml")).unwrap();
        let bins: Vec<&str> = manifest
            .lines()
            .filter_map(|l| l.strip_prefix("name = \""))
            .filter_map(|l| l.strip_suffix('"'))
            .filter(|n| *n != "squeeze-fuzz")
            .collect();
        let mut sorted = TARGETS.to_vec();
        sorted.sort_unstable();
        let mut bins_sorted = bins.clone();
        bins_sorted.sort_unstable();
        assert_eq!(sorted, bins_sorted);
    }

    #[test]
    fn reads_a_finished_run() {
        let log = "INFO: Seed: 1\n\
            #2\tINITED cov: 10 ft: 10 corp: 1/1b exec/s: 0 rss: 30Mb\n\
            #65536\tpulse  cov: 900 ft: 2000 corp: 80/3Kb lim: 40 exec/s: 3276 rss: 80Mb\n\
            #1000000\tDONE   cov: 950 ft: 2100 corp: 90/4Kb lim: 4096 exec/s: 3205 rss: 90Mb\n\
            Done 1000000 runs in 312 second(s)\n";
        assert_eq!(
            parse_output(log),
            Outcome {
                executions: 1_000_000,
                exec_per_sec: 3205,
                crash: None,
                done: true,
            }
        );
    }

    #[test]
    fn reads_a_crash() {
        let log = "#4096\tpulse  cov: 9 ft: 9 corp: 1/1b exec/s: 2048 rss: 30Mb\n\
            #5000\tNEW    cov: 10 ft: 11 corp: 2/2b lim: 4 exec/s: 2500 rss: 30Mb L: 1/1 MS: 1 ChangeBit-\n\
            thread '<unnamed>' panicked at src/lib.rs:1:1:\n\
            ==1== ERROR: libFuzzer: deadly signal\n\
            artifact_prefix='/r/fuzz/artifacts/quiz/'; Test unit written to /r/fuzz/artifacts/quiz/crash-ab12\n\
            stat::number_of_executed_units: 5004\n\
            stat::average_exec_per_sec:     2502\n";
        let o = parse_output(log);
        assert_eq!(o.executions, 5004);
        assert_eq!(o.exec_per_sec, 2502);
        assert_eq!(
            o.crash.as_deref(),
            Some("/r/fuzz/artifacts/quiz/crash-ab12")
        );
        assert!(!o.done);
        let t = table(&[("quiz".to_string(), o, None)]);
        assert!(
            t.contains("| quiz | 5,004 | 2,502 | **crash**: /r/fuzz/artifacts/quiz/crash-ab12 |")
        );
    }

    #[test]
    fn exec_rate_from_the_done_line_alone() {
        let o = parse_output("Done 1000 runs in 4 second(s)\n");
        assert_eq!((o.executions, o.exec_per_sec, o.done), (1000, 250, true));
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
    }
}
