//! A small static file server for squeeze's built site, run in a thread.
//!
//! `cargo xtask serve` serves `dist/` with it, and the browser tests serve a build with
//! it in the two ways hosts behave ([`Fallback`]):
//!
//! - [`Fallback::AppShell`], a host with rewrites (and `cargo xtask serve`): an unknown
//!   path without an extension (`/lab`, `/learn/quantization`) gets `index.html`, so
//!   deep links work on reload, while a missing asset (`/missing.wasm`) is a real 404.
//! - [`Fallback::NotFoundPage`], a plain host such as GitHub Pages: anything unknown
//!   gets the site's `404.html` with status 404.
//!
//! The site may live below a path ([`Options::base`], e.g. `/squeeze/`, as on GitHub
//! Pages); headers come from rules in the `_headers` format ([`headers_file`]).
//! A test may mount another folder under a path prefix (a fake Hugging Face Hub at
//! `/fake-hub/`: no fallback there) and read which paths were asked for. Every
//! response closes its connection: simple, and fast enough on loopback.

pub mod headers_file;

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use headers_file::Rule;

/// Largest request head we read; browsers send a few hundred bytes.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// What an unknown path inside the site gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// `index.html` (status 200) for a path without an extension; 404 for an asset.
    AppShell,
    /// The site's `404.html` with status 404, for any unknown path (GitHub Pages).
    NotFoundPage,
}

/// How to serve a folder.
#[derive(Clone, Debug)]
pub struct Options {
    /// The folder served.
    pub root: PathBuf,
    /// The URL path the site lives under: `/`, or e.g. `/squeeze/` (starts and ends with `/`).
    pub base: String,
    /// What unknown paths get.
    pub fallback: Fallback,
    /// Header rules (`_headers` format), matched against the path below `base`.
    pub headers: Vec<Rule>,
    /// `(prefix, dir)`: `dir` served under `prefix` (starts and ends with `/`), no fallback.
    pub mounts: Vec<(String, PathBuf)>,
    /// Where to listen; port 0 lets the OS pick.
    pub addr: SocketAddr,
}

impl Options {
    /// `root` at `/` on 127.0.0.1 (a free port), with the app-shell fallback, no
    /// headers and no mounts.
    pub fn new(root: impl Into<PathBuf>) -> Options {
        Options {
            root: root.into(),
            base: "/".into(),
            fallback: Fallback::AppShell,
            headers: Vec::new(),
            mounts: Vec::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// A running server; it stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    base: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `root` on 127.0.0.1 at a port the OS picks ([`Options::new`]).
    pub fn start(root: impl Into<PathBuf>) -> io::Result<StaticServer> {
        StaticServer::serve(Options::new(root))
    }

    /// Serves `root`, and each `(prefix, dir)` of `mounts` under `prefix`; every
    /// response also carries each `(name, value)` of `headers`.
    pub fn start_with(
        root: impl Into<PathBuf>,
        mounts: Vec<(String, PathBuf)>,
        headers: Vec<(String, String)>,
    ) -> io::Result<StaticServer> {
        StaticServer::serve(Options {
            mounts,
            headers: vec![Rule {
                pattern: "/*".into(),
                headers,
            }],
            ..Options::new(root)
        })
    }

    /// Serves as `options` say.
    pub fn serve(options: Options) -> io::Result<StaticServer> {
        if !options.root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("static root {} is not a directory", options.root.display()),
            ));
        }
        if !options.base.starts_with('/') || !options.base.ends_with('/') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the base path `{}` must start and end with `/`",
                    options.base
                ),
            ));
        }
        let listener = TcpListener::bind(options.addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let base = options.base.clone();
        let shared = Arc::new(Shared {
            options,
            log: Mutex::new(Vec::new()),
        });
        let for_threads = Arc::clone(&shared);
        let accept_thread =
            thread::Builder::new()
                .name("static-server".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop_flag.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let shared = Arc::clone(&for_threads);
                        // One thread per connection: the browser opens several at once
                        // and a slow one (the 5 MB wasm) must not block the others.
                        let _ =
                            thread::Builder::new()
                                .name("static-conn".into())
                                .spawn(move || {
                                    let _ = handle(stream, &shared);
                                });
                    }
                })?;
        Ok(StaticServer {
            addr,
            base,
            shared,
            stop,
            accept_thread: Some(accept_thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request targets (path and query) served so far, in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// An absolute URL for `path` (which starts with `/`) on this server, outside the base path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The site's URL: `http://<addr><base>`, ending in `/`.
    pub fn site_url(&self) -> String {
        self.url(&self.base)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

/// What every connection thread reads: how to serve, and the request log.
struct Shared {
    options: Options,
    log: Mutex<Vec<String>>,
}

/// What a request resolves to.
#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    /// A file, served with status 200.
    File(PathBuf),
    /// The app shell or 404 page standing in for an unknown path, with its status.
    Fallback(PathBuf, u16),
    /// Redirect to this location (the base path without its trailing `/`).
    Redirect(String),
    NotFound,
    Forbidden,
}

fn handle(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    // Read the request line and headers; the body (there is none for GET) is ignored.
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line == b"\r\n" || line == b"\n" {
            break;
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD_BYTES {
            return respond(
                stream,
                431,
                "text/plain",
                b"request head too large",
                true,
                &[],
            );
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let with_body = match method {
        "GET" => true,
        "HEAD" => false,
        _ => return respond(stream, 405, "text/plain", b"method not allowed", true, &[]),
    };
    if let Ok(mut log) = shared.log.lock() {
        log.push(target.to_string());
    }
    let options = &shared.options;
    let resolved = route(options, target);
    let site_path = |file: &Path| -> String {
        let rel = file.strip_prefix(&options.root).unwrap_or(file);
        format!("/{}", rel.to_string_lossy().replace('\\', "/"))
    };
    let (status, file) = match resolved {
        Resolved::File(file) => (200, file),
        Resolved::Fallback(file, status) => (status, file),
        Resolved::Redirect(location) => {
            let headers = [("Location".to_string(), location)];
            return respond(stream, 301, "text/plain", b"moved", with_body, &headers);
        }
        Resolved::NotFound => {
            return respond(stream, 404, "text/plain", b"not found", with_body, &[])
        }
        Resolved::Forbidden => {
            return respond(stream, 403, "text/plain", b"forbidden", with_body, &[])
        }
    };
    let headers = headers_file::headers_for(&options.headers, &site_path(&file));
    match fs::read(&file) {
        Ok(bytes) => respond(
            stream,
            status,
            mime_type(&file),
            &bytes,
            with_body,
            &headers,
        ),
        Err(_) => respond(stream, 404, "text/plain", b"not found", with_body, &[]),
    }
}

/// What `target` gets: a mount's file, a file of the site, its fallback, or an error.
fn route(options: &Options, target: &str) -> Resolved {
    let mounted = options
        .mounts
        .iter()
        .find_map(|(prefix, dir)| Some((target.strip_prefix(prefix.as_str())?, dir)));
    if let Some((rest, dir)) = mounted {
        // A mount has no fallback: what is not there is a 404.
        return match resolve(dir, &format!("/{rest}")) {
            Resolved::File(f) if f.starts_with(dir) && f != dir.join("index.html") => {
                Resolved::File(f)
            }
            Resolved::Forbidden => Resolved::Forbidden,
            _ => Resolved::NotFound,
        };
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(rest) = path.strip_prefix(options.base.as_str()) else {
        // `/squeeze` → `/squeeze/`, as hosts do for a folder.
        if path == options.base.trim_end_matches('/') {
            return Resolved::Redirect(options.base.clone());
        }
        return Resolved::NotFound;
    };
    match resolve(&options.root, &format!("/{rest}")) {
        Resolved::NotFound => fallback(options, rest),
        other => other,
    }
}

/// The stand-in for an unknown path `rest` (below the base), as [`Options::fallback`] says.
fn fallback(options: &Options, rest: &str) -> Resolved {
    let last = rest.rsplit('/').next().unwrap_or("");
    let (page, status) = match options.fallback {
        // A route such as `/lab` (no extension) is the app's business: give it index.html.
        // A path with an extension names an asset, and a missing asset is an error.
        Fallback::AppShell if last.contains('.') => return Resolved::NotFound,
        Fallback::AppShell => ("index.html", 200),
        Fallback::NotFoundPage => ("404.html", 404),
    };
    let file = options.root.join(page);
    if file.is_file() {
        Resolved::Fallback(file, status)
    } else {
        Resolved::NotFound
    }
}

fn respond(
    mut stream: TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    with_body: bool,
    extra: &[(String, String)],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        301 => "Moved Permanently",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    // no-store: every test run must see the build it was given, never a cached one
    // (the site's service worker keeps its own copy for offline use).
    let extra: String = extra
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// Maps a request path (below the site's root) to a file under `root`: the file, a
/// folder's `index.html`, or not found; never anything outside `root`.
fn resolve(root: &Path, target: &str) -> Resolved {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(decoded) = percent_decode(path) else {
        return Resolved::Forbidden;
    };
    let mut file = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => continue,
            // Never leave the root, whatever the browser (or a test) asks for.
            ".." => return Resolved::Forbidden,
            s if s.contains('\\') || s.contains('\0') => return Resolved::Forbidden,
            s => file.push(s),
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    if file.is_file() {
        Resolved::File(file)
    } else {
        Resolved::NotFound
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type for a file, by extension. Browsers insist on two of these:
/// `application/wasm` for streaming compilation and a JavaScript type for modules.
pub fn mime_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "toml" => "application/toml",
        "tsv" => "text/tab-separated-values; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// A fresh folder under the temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(prefix: &str) -> io::Result<TempDir> {
            static N: AtomicU32 = AtomicU32::new(0);
            let n = N.fetch_add(1, Ordering::SeqCst);
            let path = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path)?;
            Ok(TempDir(path))
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn site() -> TempDir {
        let dir = TempDir::new("e2e-server-test").unwrap();
        fs::write(dir.path().join("index.html"), "<!doctype html><p>home</p>").unwrap();
        fs::write(dir.path().join("app.js"), "export const x = 1;").unwrap();
        fs::write(dir.path().join("app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
        fs::create_dir_all(dir.path().join("models/default")).unwrap();
        fs::write(
            dir.path().join("models/default/config.json"),
            "{\"dim\": 32}",
        )
        .unwrap();
        dir
    }

    fn get(server: &StaticServer, path: &str) -> (u16, String, Vec<u8>) {
        get_header(server, path, "content-type")
    }

    /// Status, the value of header `name` (empty when absent) and the body.
    fn get_header(server: &StaticServer, path: &str, name: &str) -> (u16, String, Vec<u8>) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let mut resp = agent.get(&server.url(path)).call().unwrap();
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = resp.body_mut().read_to_vec().unwrap();
        (status, ctype, body)
    }

    #[test]
    fn serves_files_with_their_mime_types() {
        let dir = site();
        let server = StaticServer::start(dir.path()).unwrap();
        let (status, ctype, body) = get(&server, "/app_bg.wasm");
        assert_eq!((status, ctype.as_str()), (200, "application/wasm"));
        assert_eq!(body, b"\0asm\x01\0\0\0");
        let (status, ctype, body) = get(&server, "/app.js");
        assert_eq!(
            (status, ctype.as_str()),
            (200, "text/javascript; charset=utf-8")
        );
        assert_eq!(body, b"export const x = 1;");
        let (status, ctype, body) = get(&server, "/models/default/config.json?v=2");
        assert_eq!((status, ctype.as_str()), (200, "application/json"));
        assert_eq!(body, b"{\"dim\": 32}");
    }

    #[test]
    fn root_and_routes_fall_back_to_index_html() {
        let dir = site();
        let server = StaticServer::start(dir.path()).unwrap();
        for path in [
            "/",
            "/lab",
            "/lab?text=I%20love%20it",
            "/lessons/quantization",
        ] {
            let (status, ctype, body) = get(&server, path);
            assert_eq!(status, 200, "{path}");
            assert_eq!(ctype, "text/html; charset=utf-8", "{path}");
            assert_eq!(body, b"<!doctype html><p>home</p>", "{path}");
        }
    }

    #[test]
    fn missing_assets_are_404_and_escapes_are_refused() {
        let dir = site();
        let server = StaticServer::start(dir.path()).unwrap();
        assert_eq!(get(&server, "/missing.wasm").0, 404);
        assert_eq!(get(&server, "/models/default/model.safetensors").0, 404);
        assert_eq!(get(&server, "/../Cargo.toml").0, 403);
        assert_eq!(get(&server, "/%2e%2e/Cargo.toml").0, 403);
        assert_eq!(get(&server, "/bad%zzescape").0, 403);
    }

    #[test]
    fn resolve_maps_paths_without_a_socket() {
        let dir = site();
        let root = dir.path();
        assert_eq!(
            resolve(root, "/app.js"),
            Resolved::File(root.join("app.js"))
        );
        assert_eq!(resolve(root, "/"), Resolved::File(root.join("index.html")));
        assert_eq!(resolve(root, "/quiz/1#q2"), Resolved::NotFound);
        assert_eq!(
            route(&Options::new(root), "/quiz/1#q2"),
            Resolved::Fallback(root.join("index.html"), 200)
        );
        assert_eq!(route(&Options::new(root), "/nope.css"), Resolved::NotFound);
        assert_eq!(percent_decode("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn mounts_serve_their_folder_and_requests_are_logged() {
        let dir = site();
        let hub = TempDir::new("e2e-server-mount").unwrap();
        fs::create_dir_all(hub.path().join("m/resolve/main")).unwrap();
        fs::write(hub.path().join("m/resolve/main/config.json"), "{}").unwrap();
        let server = StaticServer::start_with(
            dir.path(),
            vec![("/fake-hub/".to_string(), hub.path().to_path_buf())],
            vec![("X-Site-Policy".to_string(), "yes".to_string())],
        )
        .unwrap();
        // The site's headers come with every file, the index fallback included.
        for path in ["/app.js", "/lab", "/fake-hub/m/resolve/main/config.json"] {
            assert_eq!(
                get_header(&server, path, "x-site-policy").1,
                "yes",
                "{path}"
            );
        }
        let (status, _, body) = get(&server, "/fake-hub/m/resolve/main/config.json");
        assert_eq!((status, body.as_slice()), (200, b"{}".as_slice()));
        // No index fallback under a mount, and no escape from it.
        assert_eq!(
            get(&server, "/fake-hub/nope/resolve/main/config.json").0,
            404
        );
        assert_eq!(get(&server, "/fake-hub/m").0, 404);
        assert_eq!(get(&server, "/fake-hub/../app.js").0, 403);
        assert_eq!(get(&server, "/app.js").0, 200);
        let log = server.requests();
        assert_eq!(log.len(), 8, "{log:?}");
        assert_eq!(log[3], "/fake-hub/m/resolve/main/config.json");
    }

    #[test]
    fn start_refuses_a_missing_root() {
        let err = StaticServer::start("/definitely/not/here").err().unwrap();
        assert!(err.to_string().contains("/definitely/not/here"), "{err}");
    }

    #[test]
    fn a_site_below_a_base_path_with_a_404_page_behaves_like_github_pages() {
        let dir = site();
        fs::write(dir.path().join("404.html"), "<p>lost</p>").unwrap();
        let server = StaticServer::serve(Options {
            base: "/squeeze/".into(),
            fallback: Fallback::NotFoundPage,
            headers: headers_file::parse("/*\n  X-Site: yes\n").unwrap(),
            ..Options::new(dir.path())
        })
        .unwrap();
        assert_eq!(server.site_url(), server.url("/squeeze/"));
        let (status, _, body) = get(&server, "/squeeze/app.js");
        assert_eq!(
            (status, body.as_slice()),
            (200, b"export const x = 1;".as_slice())
        );
        let (status, ctype, body) = get(&server, "/squeeze/");
        assert_eq!((status, ctype.as_str()), (200, "text/html; charset=utf-8"));
        assert_eq!(body, b"<!doctype html><p>home</p>");
        // Deep links and missing assets alike get the 404 page with status 404.
        for path in [
            "/squeeze/lab",
            "/squeeze/learn/quantization?x=1",
            "/squeeze/nope.wasm",
        ] {
            let (status, ctype, body) = get(&server, path);
            assert_eq!(
                (status, ctype.as_str()),
                (404, "text/html; charset=utf-8"),
                "{path}"
            );
            assert_eq!(body, b"<p>lost</p>", "{path}");
            assert_eq!(get_header(&server, path, "x-site").1, "yes", "{path}");
        }
        // Outside the base path there is no site; the bare base redirects into it.
        assert_eq!(get(&server, "/app.js").0, 404);
        assert_eq!(get(&server, "/lab").0, 404);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .build()
            .into();
        let resp = agent.get(&server.url("/squeeze")).call().unwrap();
        assert_eq!(resp.status().as_u16(), 301);
        assert_eq!(resp.headers().get("location").unwrap(), "/squeeze/");
    }

    #[test]
    fn a_bad_base_path_is_refused() {
        let dir = site();
        for base in ["squeeze/", "/squeeze", ""] {
            let options = Options {
                base: base.into(),
                ..Options::new(dir.path())
            };
            assert!(StaticServer::serve(options).is_err(), "{base}");
        }
    }
}
