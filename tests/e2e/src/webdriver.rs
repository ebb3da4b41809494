//! A minimal W3C WebDriver client for chromedriver, over plain HTTP on loopback.
//!
//! Only the commands the tests use: new session, navigate, refresh, find
//! elements, read attributes, properties and text, click, type, press keys,
//! run a script.
//! Spec: <https://www.w3.org/TR/webdriver2/>. Chromium runs headless with the
//! flags measured in SETUP-NOTES (the machine's network is closed, so its
//! background services are switched off) and a fresh profile per session.

use std::fmt;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::TempDir;

/// Where Debian's Chromium lives (override with `CHROMIUM`).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's chromedriver lives (override with `CHROMEDRIVER`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The W3C key under which an element reference is returned.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Key codes from the spec's keyboard table, for [`Element::send_keys`] and
/// [`Session::press_keys`].
pub mod keys {
    /// Releases all held modifier keys.
    pub const NULL: &str = "\u{E000}";
    /// Backspace.
    pub const BACKSPACE: &str = "\u{E003}";
    /// Tab.
    pub const TAB: &str = "\u{E004}";
    /// Enter.
    pub const ENTER: &str = "\u{E007}";
    /// Control (held until [`NULL`]).
    pub const CONTROL: &str = "\u{E009}";
    /// Space.
    pub const SPACE: &str = "\u{E00D}";
    /// End.
    pub const END: &str = "\u{E010}";
    /// Home.
    pub const HOME: &str = "\u{E011}";
    /// Arrow left.
    pub const ARROW_LEFT: &str = "\u{E012}";
    /// Arrow up.
    pub const ARROW_UP: &str = "\u{E013}";
    /// Arrow right.
    pub const ARROW_RIGHT: &str = "\u{E014}";
    /// Arrow down.
    pub const ARROW_DOWN: &str = "\u{E015}";
}

/// A WebDriver or browser-start failure, as one line.
#[derive(Debug, Clone)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Result of a WebDriver call.
pub type Result<T> = std::result::Result<T, Error>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error(msg.into()))
}

/// Path of a browser binary: the environment variable if set, else the default.
pub fn binary(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// A chromedriver process on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn spawn(path: &Path, log: &Path, agent: &ureq::Agent) -> Result<Driver> {
        // Ask the OS for a free port, then hand it to chromedriver. Another process
        // could grab it in between, but on a test machine that does not happen.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Error(format!("cannot find a free port for chromedriver: {e}")))?
            .port();
        let log_file = File::create(log)
            .map_err(|e| Error(format!("cannot create {}: {e}", log.display())))?;
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| Error(format!("cannot start {}: {e}", path.display())))?;
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(value) = call(agent, "GET", &format!("{}/status", driver.url), None) {
                if value["ready"].as_bool() == Some(true) {
                    return Ok(driver);
                }
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                return err(format!(
                    "chromedriver exited at start ({status}); log: {}",
                    log.display()
                ));
            }
            if Instant::now() > deadline {
                return err(format!(
                    "chromedriver did not answer on {} within 30 s; log: {}",
                    driver.url,
                    log.display()
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP round trip; returns the response's `value`, or the WebDriver error.
fn call(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Result<Value> {
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent.post(url).send_json(body.unwrap_or_else(|| json!({}))),
    };
    let mut response = response.map_err(|e| Error(format!("{method} {url}: {e}")))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| Error(format!("{method} {url}: reading the reply: {e}")))?;
    let reply: Value = serde_json::from_str(&text).map_err(|e| {
        Error(format!(
            "{method} {url}: reply is not JSON ({e}): {}",
            short(&text)
        ))
    })?;
    let value = reply.get("value").cloned().unwrap_or(Value::Null);
    if status >= 400 || value.get("error").is_some_and(|e| e.is_string()) {
        return err(format!(
            "{method} {url}: {} ({status}): {}",
            value["error"].as_str().unwrap_or("error"),
            short(value["message"].as_str().unwrap_or(&text))
        ));
    }
    Ok(value)
}

fn short(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    line.chars().take(300).collect()
}

/// A browser session: headless Chromium driven through its own chromedriver.
/// Dropping it closes the browser, stops the driver and deletes the profile.
pub struct Session {
    agent: ureq::Agent,
    base: String,
    // Field order matters for Drop: the session is deleted in `drop`, then the
    // driver is killed, then the profile directory is removed. The driver is
    // only held so that it lives exactly as long as the session.
    _driver: Driver,
    profile: TempDir,
}

impl Session {
    /// Starts headless Chromium (`CHROMIUM`, default /usr/bin/chromium) through
    /// chromedriver (`CHROMEDRIVER`, default /usr/bin/chromedriver).
    pub fn start() -> Result<Session> {
        let chromium = binary("CHROMIUM", CHROMIUM);
        let chromedriver = binary("CHROMEDRIVER", CHROMEDRIVER);
        for (what, path) in [("chromium", &chromium), ("chromedriver", &chromedriver)] {
            if !path.is_file() {
                return err(format!(
                    "{what} not found at {}: `cargo xtask test` installs it \
                     (apt-get install chromium chromium-driver)",
                    path.display()
                ));
            }
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let profile = TempDir::new("e2e-chromium")
            .map_err(|e| Error(format!("cannot create a browser profile dir: {e}")))?;
        let driver = Driver::spawn(
            &chromedriver,
            &profile.path().join("chromedriver.log"),
            &agent,
        )?;
        let user_data = profile.path().join("user-data");
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads)
            .map_err(|e| Error(format!("cannot create the downloads dir: {e}")))?;
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                        "--disable-quic",
                        "--disable-dev-shm-usage",
                        "--window-size=1280,900",
                        format!("--user-data-dir={}", user_data.display()),
                    ],
                    // What the page offers as a download lands here, unasked.
                    "prefs": {
                        "download.default_directory": downloads,
                        "download.prompt_for_download": false,
                        "download.directory_upgrade": true,
                    },
                },
                "goog:loggingPrefs": { "browser": "ALL" },
            }}
        });
        let value = call(
            &agent,
            "POST",
            &format!("{}/session", driver.url),
            Some(capabilities),
        )?;
        let Some(id) = value["sessionId"].as_str() else {
            return err(format!("new session reply has no sessionId: {value}"));
        };
        let session = Session {
            base: format!("{}/session/{id}", driver.url),
            agent,
            _driver: driver,
            profile,
        };
        session.post(
            "/timeouts",
            json!({ "pageLoad": 60_000, "script": 60_000, "implicit": 0 }),
        )?;
        Ok(session)
    }

    /// Where the browser saves downloads (empty at the start of the session).
    pub fn downloads_dir(&self) -> PathBuf {
        self.profile.path().join("downloads")
    }

    /// Waits until a download named `name` has finished in [`Session::downloads_dir`]
    /// (no `.crdownload` left) and returns its bytes.
    pub fn wait_download(&self, name: &str, timeout: Duration) -> Result<Vec<u8>> {
        let path = self.downloads_dir().join(name);
        let start = std::time::Instant::now();
        loop {
            let partial = std::fs::read_dir(self.downloads_dir())
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"))
                })
                .unwrap_or(false);
            if path.is_file() && !partial {
                return std::fs::read(&path)
                    .map_err(|e| Error(format!("cannot read {}: {e}", path.display())));
            }
            if start.elapsed() > timeout {
                let seen: Vec<String> = std::fs::read_dir(self.downloads_dir())
                    .map(|d| {
                        d.flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                return err(format!(
                    "no download {name} after {timeout:?}; the folder holds {seen:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn get(&self, path: &str) -> Result<Value> {
        call(&self.agent, "GET", &format!("{}{path}", self.base), None)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value> {
        call(
            &self.agent,
            "POST",
            &format!("{}{path}", self.base),
            Some(body),
        )
    }

    /// Navigates to `url` and waits for the page load.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).map(drop)
    }

    /// Reloads the current page.
    pub fn refresh(&self) -> Result<()> {
        self.post("/refresh", json!({})).map(drop)
    }

    /// The current URL.
    pub fn current_url(&self) -> Result<String> {
        let value = self.get("/url")?;
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error(format!("current url is not a string: {value}")))
    }

    /// All elements matching a CSS selector (possibly none).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let value = self.post(
            "/elements",
            json!({ "using": "css selector", "value": css }),
        )?;
        let list = value.as_array().cloned().unwrap_or_default();
        list.iter()
            .map(|v| match v[ELEMENT_KEY].as_str() {
                Some(id) => Ok(Element {
                    session: self,
                    id: id.to_string(),
                }),
                None => err(format!("element reference without an id: {v}")),
            })
            .collect()
    }

    /// The first element matching `css`, if any.
    pub fn try_find(&self, css: &str) -> Result<Option<Element<'_>>> {
        Ok(self.find_all(css)?.into_iter().next())
    }

    /// The first element matching `css`; an error names the selector when there is none.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        self.try_find(css)?.ok_or_else(|| {
            Error(format!(
                "no element matches `{css}` on {}",
                self.url_or_unknown()
            ))
        })
    }

    /// Polls `probe` every 100 ms until it returns `Some`, or fails after `timeout`
    /// with `what` and the last lines of the browser console.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut(&Session) -> Result<Option<T>>,
    ) -> Result<T> {
        let start = Instant::now();
        loop {
            // Stale elements and the like are normal while the page re-renders:
            // only the last error counts, and only if time runs out.
            let last = match probe(self) {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => None,
                Err(e) => Some(e),
            };
            if start.elapsed() > timeout {
                let mut msg = format!(
                    "timed out after {:.0} s waiting for {what} on {}",
                    timeout.as_secs_f64(),
                    self.url_or_unknown()
                );
                if let Some(e) = last {
                    msg.push_str(&format!("; last error: {e}"));
                }
                let console = self.browser_log();
                if !console.is_empty() {
                    msg.push_str("; browser console:\n  ");
                    msg.push_str(&console.join("\n  "));
                }
                return err(msg);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until an element matches `css` and returns it.
    pub fn wait_for_element(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        let id = self.wait_for(&format!("`{css}`"), timeout, |s| {
            Ok(s.try_find(css)?.map(|e| e.id))
        })?;
        Ok(Element { session: self, id })
    }

    /// Presses and releases each key of `keys` in turn (see [`keys`]) on whatever
    /// has the focus, as a keyboard would: unlike [`Element::send_keys`], this
    /// does not move the focus to an element first.
    pub fn press_keys(&self, keys: &str) -> Result<()> {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                let k = k.to_string();
                [
                    json!({ "type": "keyDown", "value": k }),
                    json!({ "type": "keyUp", "value": k }),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
        )?;
        // Release the input state so the next call starts from no keys held.
        call(
            &self.agent,
            "DELETE",
            &format!("{}/actions", self.base),
            None,
        )
        .map(drop)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
    }

    /// Resizes the browser window to `width × height` pixels (headless windows may be
    /// taller than any screen, so one screenshot can hold a whole page).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .map(drop)
    }

    /// A PNG screenshot of the window.
    pub fn screenshot_png(&self) -> Result<Vec<u8>> {
        let value = self.get("/screenshot")?;
        let text = value
            .as_str()
            .ok_or_else(|| Error(format!("screenshot reply is not a string: {value}")))?;
        decode_base64(text).ok_or_else(|| Error("screenshot reply is not base64".into()))
    }

    /// Chromium's console messages so far (drained), for failure reports.
    pub fn browser_log(&self) -> Vec<String> {
        // `se/log` is chromedriver's own endpoint (not W3C); best effort only.
        match self.post("/se/log", json!({ "type": "browser" })) {
            Ok(Value::Array(entries)) => entries
                .iter()
                .filter_map(|e| {
                    Some(format!(
                        "[{}] {}",
                        e["level"].as_str()?,
                        e["message"].as_str()?
                    ))
                })
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Every console entry Chromium logged since the last call (drained), as
    /// `(level, message)`: `SEVERE` for errors, CSP violations, failed loads and
    /// uncaught exceptions.
    pub fn console_entries(&self) -> Result<Vec<(String, String)>> {
        let value = self.post("/se/log", json!({ "type": "browser" }))?;
        let Value::Array(entries) = value else {
            return err(format!("the browser log is not a list: {value}"));
        };
        Ok(entries
            .iter()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or("?").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect())
    }

    /// Runs a Chrome DevTools Protocol command on the page (chromedriver's `goog/cdp/execute`).
    pub fn cdp(&self, command: &str, params: Value) -> Result<Value> {
        self.post(
            "/goog/cdp/execute",
            json!({ "cmd": command, "params": params }),
        )
    }

    /// Switches Chromium's network emulation: offline (no request leaves the page) or back.
    pub fn set_offline(&self, offline: bool) -> Result<()> {
        self.post(
            "/chromium/network_conditions",
            json!({ "network_conditions": {
                "offline": offline,
                "latency": 0,
                "download_throughput": -1,
                "upload_throughput": -1,
            }}),
        )
        .map(drop)
    }

    fn url_or_unknown(&self) -> String {
        self.current_url()
            .unwrap_or_else(|_| "<unknown url>".into())
    }

    /// The profile directory of this browser (holds chromedriver.log).
    pub fn profile_dir(&self) -> &Path {
        self.profile.path()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closes Chromium; the driver and profile go with the fields after this.
        let _ = call(&self.agent, "DELETE", &self.base, None);
    }
}

/// A reference to one element of the current page.
pub struct Element<'s> {
    session: &'s Session,
    id: String,
}

impl Element<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// An HTML attribute (`None` when absent).
    pub fn attr(&self, name: &str) -> Result<Option<String>> {
        let value = self
            .session
            .get(&self.path(&format!("/attribute/{name}")))?;
        Ok(value.as_str().map(str::to_string))
    }

    /// A DOM property, e.g. `value` of a textarea (`Null` when absent).
    pub fn property(&self, name: &str) -> Result<Value> {
        self.session.get(&self.path(&format!("/property/{name}")))
    }

    /// The rendered text.
    pub fn text(&self) -> Result<String> {
        let value = self.session.get(&self.path("/text"))?;
        Ok(value.as_str().unwrap_or("").to_string())
    }

    /// Whether the element is enabled (form controls).
    pub fn is_enabled(&self) -> Result<bool> {
        Ok(self.session.get(&self.path("/enabled"))?.as_bool() == Some(true))
    }

    /// Clicks it as a user would (scrolls into view first).
    pub fn click(&self) -> Result<()> {
        self.session.post(&self.path("/click"), json!({})).map(drop)
    }

    /// A PNG screenshot of just this element (scrolled into view first).
    pub fn screenshot_png(&self) -> Result<Vec<u8>> {
        let value = self.session.get(&self.path("/screenshot"))?;
        let text = value
            .as_str()
            .ok_or_else(|| Error(format!("screenshot reply is not a string: {value}")))?;
        decode_base64(text).ok_or_else(|| Error("screenshot reply is not base64".into()))
    }

    /// Types `text` into it (see [`keys`] for special keys).
    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.session
            .post(&self.path("/value"), json!({ "text": text }))
            .map(drop)
    }

    /// Empties a text field the way a user does (select all, backspace), so the
    /// page sees real `input` events, unlike WebDriver's own "clear".
    pub fn select_all_and_delete(&self) -> Result<()> {
        self.send_keys(&format!(
            "{}a{}{}",
            keys::CONTROL,
            keys::NULL,
            keys::BACKSPACE
        ))
    }
}

/// Standard base64 (with `=` padding) to bytes; `None` on any other character.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let body = bytes
        .strip_suffix(b"==")
        .or_else(|| bytes.strip_suffix(b"="))
        .unwrap_or(&bytes);
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGV5").unwrap(), b"hey");
        assert_eq!(decode_base64("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert!(decode_base64("a*b=").is_none());
    }
}
