//! The real `cargo xtask serve`, run as a learner runs it (from the repository root),
//! on a free port, in a process group of its own so that stopping it also stops
//! whatever it started (a rebuild's trunk and cargo).

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{repo_root, Error, Result, TempDir};

/// How long `cargo xtask serve` may take to answer: its installs are done and the
/// site was built by the step before, so this is a no-op build plus the server.
pub const START_TIMEOUT: Duration = Duration::from_secs(600);

/// A running `cargo xtask serve --port P`; stopped (the whole process group) on drop.
pub struct ServeProcess {
    child: Child,
    url: String,
    log: PathBuf,
    _log_dir: TempDir,
}

impl ServeProcess {
    /// Starts `cargo xtask serve --port <free port>` and waits until the site answers.
    pub fn start() -> Result<ServeProcess> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Error(format!("cannot find a free port: {e}")))?
            .port();
        let log_dir = TempDir::new("e2e-xtask-serve")
            .map_err(|e| Error(format!("cannot make a log dir: {e}")))?;
        let log = log_dir.path().join("serve.log");
        let out = File::create(&log).map_err(|e| Error(format!("cannot create the log: {e}")))?;
        let err = out
            .try_clone()
            .map_err(|e| Error(format!("cannot share the log: {e}")))?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let child = Command::new(cargo)
            .args(["xtask", "serve", "--port", &port.to_string()])
            .current_dir(repo_root())
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Error(format!("cannot start `cargo xtask serve`: {e}")))?;
        let mut process = ServeProcess {
            child,
            url: format!("http://127.0.0.1:{port}/"),
            log,
            _log_dir: log_dir,
        };
        process.wait_until_up()?;
        Ok(process)
    }

    /// The site's URL, ending in `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until_up(&mut self) -> Result<()> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let start = Instant::now();
        loop {
            if let Ok(resp) = agent.get(&self.url).call() {
                if resp.status().as_u16() == 200 {
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error(format!(
                    "`cargo xtask serve` exited ({status}) before serving; it printed:\n{}",
                    self.output()
                )));
            }
            if start.elapsed() > START_TIMEOUT {
                return Err(Error(format!(
                    "`cargo xtask serve` did not answer at {} within {} s; it printed:\n{}",
                    self.url,
                    START_TIMEOUT.as_secs(),
                    self.output()
                )));
            }
            thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        // The group id is the child's pid (process_group(0)): SIGTERM to all of it.
        let group = format!("-{}", self.child.id());
        let signalled = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if signalled.is_err() {
            // No `kill` program: stop cargo at least (its child then loses its parent).
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
