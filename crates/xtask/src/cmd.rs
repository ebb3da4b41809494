//! Running external programs: echo the command, never read stdin (CI has none),
//! and turn a failure into one line naming the command and its exit status.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// The cargo that runs us (`$CARGO`), so nested builds use the same toolchain.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate::project_root());
    cmd
}

/// A command run from the repository root.
pub fn new(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(crate::project_root());
    cmd
}

/// The command as a shell-like line, for echoing and error messages.
pub fn display(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    if let Some(name) = PathBuf::from(&line).file_name() {
        line = name.to_string_lossy().into_owned();
    }
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.contains(' ') || arg.is_empty() {
            line.push_str(&format!(" '{arg}'"));
        } else {
            line.push(' ');
            line.push_str(&arg);
        }
    }
    line
}

/// Runs `cmd` with inherited stdout/stderr and no stdin; an error unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = display(cmd);
    println!("$ {line}");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("cannot start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` quietly and returns its trimmed stdout, or `None` if it cannot
/// start or exits non-zero. For probes such as `trunk --version`.
pub fn probe(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A duration as people read it: `4.2 s`, `3 min 07 s`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        let whole = d.as_secs();
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_arguments_with_spaces() {
        let mut cmd = Command::new("/usr/bin/cargo");
        cmd.args(["clippy", "--", "-D", "warnings", "a b"]);
        assert_eq!(display(&cmd), "cargo clippy -- -D warnings 'a b'");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(4249)), "4.2 s");
        assert_eq!(human(Duration::from_secs(187)), "3 min 07 s");
    }

    #[test]
    fn probe_reports_failure_as_none() {
        assert_eq!(probe(&mut Command::new("true")).as_deref(), Some(""));
        assert_eq!(probe(&mut Command::new("false")), None);
        assert_eq!(probe(&mut Command::new("/no/such/program")), None);
    }
}
